/**
 * What a backup is checked against: every user table's row count and a content checksum, taken in the dump's own
 * snapshot and recomputed on the restored copy.
 *
 * Checksum (`rowhash-sum64-v1`): for every row, md5 of its text form (`row(r.*)::text`); the table's checksum is the
 * sum over rows of the first 64 bits of those hashes (a bigint sum: PostgreSQL accumulates it without overflow),
 * hashed with the row count. The sum does not depend on row order, so it needs no primary key, no ORDER BY and no
 * sort, and it runs in constant memory (an `md5(string_agg(… order by pk))` would build one string per table and hit
 * PostgreSQL's 1 GB value limit around ten million rows). It changes when any row is added, removed or altered,
 * except with odds of about 2^-64 that the changes cancel out: a check against damage and mistakes, not against
 * someone forging rows (the sha256 of the encrypted archive and age's authentication cover tampering). It costs one
 * sequential scan and one md5 per row — about 3 to 8 s per million rows depending on the row width (bench/) —
 * and runs while pg_dump runs; tables estimated above `checksumMaxRows` get a row count only, which the manifest records.
 * Text forms depend on session settings, so both sides pin them (UTC, ISO dates, hex bytea, shortest floats).
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from '@rgz/core';

export const CHECKSUM_ALGORITHM = 'rowhash-sum64-v1';

export interface TableStat {
  schema: string;
  name: string;
  rows: number;
  /** null: not computed (table above checksumMaxRows). */
  checksum: string | null;
}

/** Settings that fix the text form of values; `set local` inside a transaction, plain `set` otherwise. */
export async function pinOutputSettings(db: Kysely<any>, local: boolean): Promise<void> {
  const scope = local ? sql.raw('local') : sql.raw('session');
  await sql`set ${scope} timezone = 'UTC'`.execute(db);
  await sql`set ${scope} datestyle = 'ISO, YMD'`.execute(db);
  await sql`set ${scope} intervalstyle = 'postgres'`.execute(db);
  await sql`set ${scope} extra_float_digits = 1`.execute(db);
  await sql`set ${scope} bytea_output = 'hex'`.execute(db);
}

/**
 * User tables (ordinary tables and partitions, every schema but the system ones, not owned by an extension): the
 * tables whose data pg_dump writes.
 */
export async function listTables(db: Kysely<any>): Promise<Array<{ schema: string; name: string; estimate: number }>> {
  const r = await sql<{ schema: string; name: string; estimate: string | number }>`
    select n.nspname as schema, c.relname as name,
      (case when c.reltuples >= 0 then c.reltuples else pg_relation_size(c.oid) / 64 end)::bigint as estimate
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r'
      and n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'
      and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
    order by n.nspname, c.relname`.execute(db);
  return r.rows.map((t) => ({ schema: t.schema, name: t.name, estimate: Number(t.estimate) }));
}

function qualified(schema: string, name: string) {
  return sql`${sql.id(schema)}.${sql.id(name)}`;
}

/** Row count and checksum of one table (count only when `withChecksum` is false). */
export async function tableStat(db: Kysely<any>, schema: string, name: string, withChecksum: boolean): Promise<TableStat> {
  if (!withChecksum) {
    const r = await sql<{ n: string | number }>`select count(*)::bigint as n from ${qualified(schema, name)}`.execute(db);
    return { schema, name, rows: Number(r.rows[0]?.n ?? 0), checksum: null };
  }
  const r = await sql<{ n: string | number; s: string }>`
    select count(*)::bigint as n, coalesce(sum(('x' || left(md5(row(r.*)::text), 16))::bit(64)::bigint), 0)::text as s
    from ${qualified(schema, name)} as r`.execute(db);
  const row = r.rows[0] ?? { n: 0, s: '0' };
  return { schema, name, rows: Number(row.n), checksum: createHash('sha256').update(`${CHECKSUM_ALGORITHM}:${row.n}:${row.s}`).digest('hex').slice(0, 32) };
}

/** Stats of every user table; checksums for those estimated at or under `checksumMaxRows`. */
export async function collectStats(db: Kysely<any>, checksumMaxRows: number, signal?: AbortSignal): Promise<TableStat[]> {
  const out: TableStat[] = [];
  for (const t of await listTables(db)) {
    signal?.throwIfAborted();
    out.push(await tableStat(db, t.schema, t.name, t.estimate <= checksumMaxRows));
  }
  return out;
}

/** Stats of the given tables (verification: the manifest decides which get a checksum). */
export async function statsLike(db: Kysely<any>, expected: readonly TableStat[], signal?: AbortSignal): Promise<Map<string, TableStat>> {
  const present = new Set((await listTables(db)).map((t) => `${t.schema}.${t.name}`));
  const out = new Map<string, TableStat>();
  for (const t of expected) {
    signal?.throwIfAborted();
    if (!present.has(`${t.schema}.${t.name}`)) continue;
    out.set(`${t.schema}.${t.name}`, await tableStat(db, t.schema, t.name, t.checksum !== null));
  }
  return out;
}

export interface TableComparison {
  table: string;
  expectedRows: number;
  actualRows: number | null;
  expectedChecksum: string | null;
  actualChecksum: string | null;
  ok: boolean;
  problem?: string;
}

/** Compare a restored copy's tables with the manifest; extra tables in the copy are problems too. */
export async function compareWithManifest(db: Kysely<any>, expected: readonly TableStat[], signal?: AbortSignal): Promise<TableComparison[]> {
  const actual = await statsLike(db, expected, signal);
  const rows: TableComparison[] = expected.map((t) => {
    const key = `${t.schema}.${t.name}`;
    const a = actual.get(key);
    if (!a)
      return {
        table: key,
        expectedRows: t.rows,
        actualRows: null,
        expectedChecksum: t.checksum,
        actualChecksum: null,
        ok: false,
        problem: 'missing from the restored copy',
      };
    const problems: string[] = [];
    if (a.rows !== t.rows) problems.push(`${a.rows} rows instead of ${t.rows}`);
    if (t.checksum !== null && a.checksum !== t.checksum) problems.push('checksum differs');
    return {
      table: key,
      expectedRows: t.rows,
      actualRows: a.rows,
      expectedChecksum: t.checksum,
      actualChecksum: a.checksum,
      ok: problems.length === 0,
      ...(problems.length ? { problem: problems.join(', ') } : {}),
    };
  });
  const known = new Set(expected.map((t) => `${t.schema}.${t.name}`));
  for (const t of await listTables(db)) {
    const key = `${t.schema}.${t.name}`;
    if (!known.has(key))
      rows.push({ table: key, expectedRows: 0, actualRows: null, expectedChecksum: null, actualChecksum: null, ok: false, problem: 'not in the manifest' });
  }
  return rows;
}
