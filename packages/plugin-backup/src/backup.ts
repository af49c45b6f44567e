/**
 * Making a backup: dump → encrypt → local work file (sha256 and size measured on the way) → every target → manifest.
 *
 * PostgreSQL: one connection of the server's pool opens a REPEATABLE READ, READ ONLY transaction and exports its
 * snapshot (`pg_export_snapshot()`); `pg_dump --snapshot` dumps exactly that snapshot while the same transaction
 * counts and checksums every table, so the manifest describes the very data in the dump. Importing the snapshot
 * also proves that `database.url` reaches the server's own database: PostgreSQL refuses a snapshot from another
 * database. pg_dump's custom format is already compressed (zlib, its default level), so no gzip is added; the stream
 * goes pg_dump stdout → age (64 KiB chunks) → file, never held whole in memory.
 *
 * Embedded (PGlite): the data directory as a gzip tarball from PGlite's `dumpDataDir()`, taken between two queries
 * while this job holds the only connection of the embedded pool (nothing else can write), with table stats taken just
 * before and re-checked after. The tarball is built in memory by PGlite (embedded databases are small); the
 * encryption streams it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BackupTarget, type EmbeddedDatabaseAccess, type Kysely, type Logger, RgzError, sql } from '@rgz/core';
import { encryptStream, webToNode } from './age.js';
import { type BackupFormat, dataKey, type Manifest, manifestKey } from './manifest.js';
import { connectionArgs, findPgTool, redactUrl, start } from './pgtools.js';
import { CHECKSUM_ALGORITHM, collectStats, pinOutputSettings, type TableStat } from './stats.js';

// The embedded database's dump comes through core's `embeddedDatabaseAccess` token (bound when core runs on PGlite).
export { embeddedDatabaseAccess, type EmbeddedDatabaseAccess } from '@rgz/core';

export const ADVISORY_LOCK_CLASS = 0x52475a42; // "RGZB"

export interface ServerInfo {
  kind: 'postgres' | 'embedded';
  name: string;
  serverVersion: string;
  serverVersionNum: number;
  major: number;
}

export async function serverInfo(db: Kysely<any>): Promise<ServerInfo> {
  const r = await sql<{ version: string; num: string; v: string; name: string }>`
    select version() as version, current_setting('server_version_num') as num, current_setting('server_version') as v, current_database() as name`.execute(db);
  const row = r.rows[0] as { version: string; num: string; v: string; name: string };
  const num = Number(row.num);
  return {
    kind: /PGlite/i.test(row.version) ? 'embedded' : 'postgres',
    name: row.name,
    serverVersion: row.v,
    serverVersionNum: num,
    major: Math.floor(num / 10_000),
  };
}

/**
 * The URL pg_dump connects with: the configured one, else DATABASE_URL, else one built from the live connection
 * (its user, server address or socket folder, port and database; libpq then takes the password from PGPASSWORD or
 * ~/.pgpass).
 */
export async function resolveDumpUrl(db: Kysely<any>, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const r = await sql<{ usr: string; addr: string | null; port: number | null; db: string; sockets: string }>`
    select current_user as usr, host(inet_server_addr()) as addr, inet_server_port() as port, current_database() as db,
      current_setting('unix_socket_directories') as sockets`.execute(db);
  const row = r.rows[0] as { usr: string; addr: string | null; port: number | null; db: string; sockets: string };
  const u = new URL('postgresql://localhost');
  u.username = encodeURIComponent(row.usr);
  u.pathname = `/${encodeURIComponent(row.db)}`;
  if (row.addr) {
    u.hostname = row.addr.includes(':') ? `[${row.addr}]` : row.addr;
    if (row.port) u.port = String(row.port);
  } else {
    // A Unix socket connection: libpq takes the folder as `host`.
    u.hostname = '';
    u.searchParams.set('host', row.sockets.split(',')[0]?.trim() || '/var/run/postgresql');
    if (row.port) u.searchParams.set('port', String(row.port));
  }
  return u.toString();
}

export interface DumpOptions {
  id: string;
  createdAt: Date;
  db: Kysely<any>;
  recipients: readonly string[];
  workDir: string;
  checksumMaxRows: number;
  log: Logger;
  signal: AbortSignal;
  database: { url?: string | undefined; binDir?: string | undefined };
  embedded?: EmbeddedDatabaseAccess | undefined;
}

export interface DumpFile {
  file: string;
  format: BackupFormat;
  manifest: Manifest;
}

/** Counts and hashes what passes through. */
function meter(): { transform: Transform; sha256: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  let digest: string | undefined;
  return { transform, sha256: () => (digest ??= hash.digest('hex')), bytes: () => bytes };
}

function counter(): { transform: Transform; bytes: () => number } {
  let bytes = 0;
  return {
    transform: new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb(null, chunk);
      },
    }),
    bytes: () => bytes,
  };
}

/** Encrypt `plaintext` into `file`; returns the plaintext size, ciphertext size and ciphertext sha256. */
async function encryptToFile(
  plaintext: Readable,
  recipients: readonly string[],
  file: string,
  signal: AbortSignal,
): Promise<{ plain: number; size: number; sha256: string }> {
  const plain = counter();
  const cipher = meter();
  const counted = plaintext.pipe(plain.transform);
  plaintext.once('error', (e) => counted.destroy(e));
  const encrypted = await encryptStream(counted, recipients);
  await pipeline(encrypted, cipher.transform, createWriteStream(file, { flags: 'w' }), { signal });
  return { plain: plain.bytes(), size: cipher.bytes(), sha256: cipher.sha256() };
}

/** Dump the running PostgreSQL database into an encrypted work file, with its manifest. */
export async function dumpPostgres(o: DumpOptions): Promise<DumpFile> {
  const info = await serverInfo(o.db);
  const pgDump = await findPgTool('pg_dump', info.major, o.database.binDir);
  const url = await resolveDumpUrl(o.db, o.database.url);
  const { dbname, env } = connectionArgs(url);
  await mkdir(o.workDir, { recursive: true });
  const file = join(o.workDir, `${o.id}.dump.age.partial`);
  const started = Date.now();
  try {
    return await o.db.connection().execute(async (conn) => {
      const locked = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${ADVISORY_LOCK_CLASS}, 1) as ok`.execute(conn);
      if (!locked.rows[0]?.ok) throw new RgzError('backup_running', 'another backup of this database is running (on this or another replica)', { status: 409 });
      try {
        await sql`begin transaction isolation level repeatable read, read only`.execute(conn);
        try {
          await pinOutputSettings(conn, true);
          const snapshot = (await sql<{ s: string }>`select pg_export_snapshot() as s`.execute(conn)).rows[0]?.s as string;
          const child = start(pgDump.path, ['--format=custom', '--no-password', `--snapshot=${snapshot}`, `--dbname=${dbname}`], { env, signal: o.signal });
          const stdout = child.child.stdout as Readable;
          let encryption: Promise<{ plain: number; size: number; sha256: string }>;
          let tables: TableStat[];
          try {
            encryption = encryptToFile(stdout, o.recipients, file, o.signal);
            // Same snapshot as pg_dump: the counts describe the dump exactly.
            const statsP = collectStats(conn, o.checksumMaxRows, o.signal);
            // Whichever fails first is reported; the other's later rejection is not an unhandled one.
            encryption.catch(() => {});
            statsP.catch(() => {});
            [tables] = await Promise.all([statsP, encryption]);
          } catch (err) {
            child.child.kill('SIGTERM');
            await child.done;
            throw err;
          }
          const exit = await child.done;
          if (exit.code !== 0) {
            const hint = /snapshot/i.test(exit.stderr) ? ` (database.url ${redactUrl(url)} must reach the server's own database)` : '';
            throw new RgzError('backup_dump_failed', `pg_dump failed (${exit.signal ?? `exit ${exit.code}`}): ${exit.stderr || 'no message'}${hint}`);
          }
          const enc = await encryption;
          const manifest: Manifest = {
            manifest_version: 1,
            id: o.id,
            created_at: o.createdAt.toISOString(),
            database_kind: 'postgres',
            format: 'pg_dump-custom',
            compression: 'pg_dump custom format (zlib, pg_dump default level); no extra gzip',
            encryption: { scheme: 'age-v1', recipients: [...o.recipients] },
            object: { key: dataKey(o.id, 'pg_dump-custom'), size_bytes: enc.size, sha256: enc.sha256 },
            plaintext_size_bytes: enc.plain,
            database: { name: info.name, server_version: info.serverVersion, server_version_num: info.serverVersionNum },
            tool: pgDump.version,
            consistency: 'pg_dump --snapshot of an exported REPEATABLE READ snapshot; table stats taken in the same snapshot',
            checksum_algorithm: CHECKSUM_ALGORITHM,
            tables,
            dump_duration_ms: Date.now() - started,
          };
          return { file, format: 'pg_dump-custom' as const, manifest };
        } finally {
          await sql`rollback`.execute(conn).catch(() => {});
        }
      } finally {
        await sql`select pg_advisory_unlock(${ADVISORY_LOCK_CLASS}, 1)`.execute(conn).catch(() => {});
      }
    });
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

function sameStats(a: TableStat[], b: TableStat[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Dump the embedded database (PGlite data directory tarball) into an encrypted work file, with its manifest. */
export async function dumpEmbedded(o: DumpOptions): Promise<DumpFile> {
  if (!o.embedded) {
    throw new RgzError(
      'backup_embedded_unavailable',
      "the embedded database (PGlite) can only be dumped through core's embeddedDatabaseAccess, which this server does not provide (it is bound when core runs on PGlite); stop the server and copy the data folder (database.embeddedDataDir) instead",
    );
  }
  const info = await serverInfo(o.db);
  await mkdir(o.workDir, { recursive: true });
  const file = join(o.workDir, `${o.id}.pglite.tar.gz.age.partial`);
  const started = Date.now();
  try {
    // Holding the embedded pool's only connection: no other query of this server runs until the dump is taken.
    const { blob, tables } = await o.db.connection().execute(async (conn) => {
      for (let attempt = 1; ; attempt++) {
        // READ COMMITTED: each stats pass sees the data as it is then.
        await sql`begin`.execute(conn);
        let before: TableStat[];
        let after: TableStat[];
        let dumped: Blob;
        try {
          await pinOutputSettings(conn, true);
          before = await collectStats(conn, o.checksumMaxRows, o.signal);
          dumped = await (o.embedded as EmbeddedDatabaseAccess).dumpDataDir();
          after = await collectStats(conn, o.checksumMaxRows, o.signal);
        } finally {
          await sql`rollback`.execute(conn).catch(() => {});
        }
        if (sameStats(before, after)) return { blob: dumped, tables: before };
        if (attempt === 3) throw new RgzError('backup_unstable', 'the embedded database kept changing during the dump (3 attempts)');
        o.log.warn({ attempt }, 'embedded database changed during the dump; taking it again');
      }
    });
    o.signal.throwIfAborted();
    const enc = await encryptToFile(webToNode(blob.stream() as ReadableStream<Uint8Array>), o.recipients, file, o.signal);
    const manifest: Manifest = {
      manifest_version: 1,
      id: o.id,
      created_at: o.createdAt.toISOString(),
      database_kind: 'embedded',
      format: 'pglite-datadir-tar-gz',
      compression: 'gzip (PGlite dumpDataDir)',
      encryption: { scheme: 'age-v1', recipients: [...o.recipients] },
      object: { key: dataKey(o.id, 'pglite-datadir-tar-gz'), size_bytes: enc.size, sha256: enc.sha256 },
      plaintext_size_bytes: enc.plain,
      database: { name: info.name, server_version: info.serverVersion, server_version_num: info.serverVersionNum },
      tool: `PGlite dumpDataDir (${info.serverVersion})`,
      consistency: 'PGlite dumpDataDir between two queries while holding the only connection; table stats identical before and after',
      checksum_algorithm: CHECKSUM_ALGORITHM,
      tables,
      dump_duration_ms: Date.now() - started,
    };
    return { file, format: 'pglite-datadir-tar-gz', manifest };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

export interface UploadResult {
  target: string;
  ok: boolean;
  error?: string;
}

/** Upload the work file then the manifest to every target (the manifest only where the data arrived whole). */
export async function uploadEverywhere(dump: DumpFile, targets: readonly BackupTarget[], signal: AbortSignal, log: Logger): Promise<UploadResult[]> {
  const results: UploadResult[] = [];
  const { manifest } = dump;
  for (const target of targets) {
    try {
      const info = await target.put(manifest.object.key, createReadStream(dump.file), {
        signal,
        sizeBytes: manifest.object.size_bytes,
        metadata: { 'backup-id': manifest.id, sha256: manifest.object.sha256, format: manifest.format },
      });
      if (info.sizeBytes !== manifest.object.size_bytes) throw new Error(`the target stored ${info.sizeBytes} bytes instead of ${manifest.object.size_bytes}`);
      await target.put(manifestKey(manifest.id), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), { signal, metadata: { 'backup-id': manifest.id } });
      results.push({ target: target.id, ok: true });
    } catch (err) {
      if (signal.aborted) throw err;
      const message = (err as Error).message;
      log.error({ err, target: target.id, backup_id: manifest.id }, 'backup upload failed');
      results.push({ target: target.id, ok: false, error: message });
    }
  }
  return results;
}
