/**
 * Test harness: the backup plugin in the real kernel on a fresh database (real PostgreSQL or an embedded PGlite whose
 * `dumpDataDir()` the test can reach), age keys on disk, a recording IncidentSink, CLI runs with captured output,
 * and a small shop schema with awkward values to back up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createKernel,
  type Database,
  definePlugin,
  type IncidentEvent,
  type IncidentSink,
  IncidentSinks,
  type Kernel,
  type Kysely,
  type PluginLoad,
  parseServerConfig,
  type RgzPlugin,
  sql,
} from '@rgz/core';
import { createTestDatabase, type TestDatabase } from '@rgz/core/testing';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { embeddedDatabaseAccess } from '../backup.js';
import backup from '../index.js';

export class RecordingIncidentSink implements IncidentSink {
  readonly provider = 'recording';
  readonly accepts = ['opened'] as const;
  readonly events: IncidentEvent[] = [];
  constructor(readonly id = 'recording-incidents') {}
  async notify(event: IncidentEvent): Promise<void> {
    if (!this.events.some((e) => e.eventId === event.eventId)) this.events.push(event);
  }
}

export function incidentSinkPlugin(sink: IncidentSink): RgzPlugin {
  return definePlugin({
    name: 'test-incidents',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(IncidentSinks, sink);
    },
  });
}

export interface AgeKey {
  identity: string;
  recipient: string;
  file: string;
}

/** A fresh X25519 age key pair, the identity written to a key file as age-keygen does. */
export async function ageKey(dir: string, name = 'key'): Promise<AgeKey> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const file = join(dir, `${name}.txt`);
  await writeFile(file, `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient, file };
}

export const hasAge = spawnSync('age', ['--version']).status === 0;

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface Node {
  kernel: Kernel;
  db: Kysely<any>;
  nocToken: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** `rgz backup …` in process: exit code and output. */
  cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }>;
  stop(): Promise<void>;
}

/** Boot the backup plugin (and optionally more plugins) on `database`. */
export async function bootBackup(
  database: Database,
  backupConfig: Record<string, unknown>,
  options: { plugins?: Array<RgzPlugin | PluginLoad>; embedded?: { dumpDataDir(): Promise<Blob> } } = {},
): Promise<Node> {
  const config = parseServerConfig({ log: { level: 'silent' }, plugins: [] }, {});
  const kernel = await createKernel({
    config,
    plugins: [{ plugin: backup, config: backupConfig }, ...(options.plugins ?? []).map((p) => ('plugin' in p ? p : { plugin: p }))],
    database,
    ...(options.embedded ? { overrides: [[embeddedDatabaseAccess, options.embedded]] as Array<[typeof embeddedDatabaseAccess, unknown]> } : {}),
  });
  try {
    await kernel.start({ worker: false, scheduler: false });
  } catch (err) {
    await kernel.stop();
    throw err;
  }
  const noc = await kernel.tokens.issue({ role: 'noc', name: 'test' });
  return {
    kernel,
    db: kernel.db as unknown as Kysely<any>,
    nocToken: noc.token,
    request: (path, init) =>
      Promise.resolve(
        kernel.app.request(path, { ...init, headers: { authorization: `Bearer ${noc.token}`, ...(init?.headers as Record<string, string> | undefined) } }),
      ),
    async cli(...argv) {
      const out: string[] = [];
      const err: string[] = [];
      const cmd = kernel.commands.get('backup');
      if (!cmd) throw new Error('no backup command');
      const code = await cmd.run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err };
    },
    stop: () => kernel.stop(),
  };
}

/** A shop schema with values whose text form is easy to get wrong: NULLs, quotes, newlines, bytea, jsonb, floats. */
export async function fillShop(db: Kysely<any>, rows = 500): Promise<void> {
  await sql`create schema shop`.execute(db);
  await sql`create table shop.customers (id bigint primary key, name text not null, phone text, created_at timestamptz not null)`.execute(db);
  await sql`insert into shop.customers select g, 'Client ' || g || E' "quoted"\n line', case when g % 7 = 0 then null else '+22901' || lpad(g::text, 8, '0') end,
      timestamptz '2026-01-01 00:00:00+01' + g * interval '37 minutes' from generate_series(1, ${rows}) g`.execute(db);
  await sql`create table payments (id bigint generated always as identity primary key, customer_id bigint references shop.customers(id),
      amount numeric(12,0) not null, fee double precision, ref bytea, meta jsonb, paid_at timestamptz)`.execute(db);
  await sql`insert into payments (customer_id, amount, fee, ref, meta, paid_at)
      select 1 + (g % ${rows}), 100 * g, g / 3.0, decode(md5(g::text), 'hex'), jsonb_build_object('g', g, 'op', case when g % 2 = 0 then 'mtn' else 'moov' end),
      timestamptz '2026-02-01 08:00:00+01' + g * interval '1 minute' from generate_series(1, ${rows * 2}) g`.execute(db);
  // No primary key, and a column named like the checksum query's alias.
  await sql`create table events_log (r text, at date)`.execute(db);
  await sql`insert into events_log select 'event ' || g, date '2026-03-01' + g from generate_series(1, 50) g`.execute(db);
  await sql`create table empty_table (id int)`.execute(db);
}

export interface RealWorld {
  tdb: TestDatabase;
  url: string;
  close(): Promise<void>;
}

export async function realDatabase(): Promise<RealWorld> {
  const tdb = await createTestDatabase('real');
  return { tdb, url: tdb.url as string, close: () => tdb.drop() };
}
