/**
 * Verification and restore. Both fetch a backup from a target into a local work file, checking its size and sha256
 * against the manifest, then decrypt it (age) and restore it: pg_restore (stdin, streamed) into a database, or
 * PGlite's loadDataDir for an embedded backup. Verification restores into a scratch database
 * (`rgz_verify_<random>`, created with the admin URL on the same server, always dropped afterwards) and compares
 * every table's row count and checksum with the manifest; any difference, and any failure on the way, is a failed
 * verification — reported with its stage and reason, never thrown away.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BackupTarget, type Logger, openDatabase, RgzError, sql } from '@rgz/core';
import { decryptStream } from './age.js';
import { serverInfo } from './backup.js';
import { idTime, type Manifest, readManifest } from './manifest.js';
import { connectionArgs, findPgTool, redactUrl, start, withDatabase } from './pgtools.js';
import { CHECKSUM_ALGORITHM, compareWithManifest, pinOutputSettings, type TableComparison } from './stats.js';

export type VerifyStage = 'locate' | 'download' | 'integrity' | 'decrypt' | 'restore' | 'compare' | 'done';

export interface VerifyReport {
  id: string;
  target: string | null;
  outcome: 'passed' | 'failed';
  /** Where it stopped (`done` when every step ran). */
  stage: VerifyStage;
  problems: string[];
  tables: TableComparison[];
  sizeBytes: number | null;
  durationMs: number;
}

export interface FetchOptions {
  targets: readonly BackupTarget[];
  /** Read from this target only. */
  targetId?: string | undefined;
  identities: readonly string[];
  workDir: string;
  log: Logger;
  signal: AbortSignal;
}

class StageError extends Error {
  constructor(
    readonly stage: VerifyStage,
    message: string,
  ) {
    super(message);
  }
}

/** The first target (or the named one) holding the backup's manifest. */
async function locate(o: FetchOptions, id: string): Promise<{ target: BackupTarget; manifest: Manifest }> {
  idTime(id); // validates the id
  const candidates = o.targetId ? o.targets.filter((t) => t.id === o.targetId) : o.targets;
  if (o.targetId && candidates.length === 0) {
    throw new RgzError('backup_target_unknown', `no target "${o.targetId}"; configured: ${o.targets.map((t) => t.id).join(', ')}`, { status: 404 });
  }
  const misses: string[] = [];
  for (const target of candidates) {
    try {
      const manifest = await readManifest(target, id, o.signal);
      if (manifest) return { target, manifest };
      misses.push(`${target.id}: no manifest`);
    } catch (err) {
      if (o.signal.aborted) throw err;
      misses.push(`${target.id}: ${(err as Error).message}`);
    }
  }
  throw new StageError('locate', `backup ${id} not found (${misses.join('; ')})`);
}

/** Download the archive to `file`, checking size and sha256 against the manifest. */
async function download(target: BackupTarget, manifest: Manifest, file: string, signal: AbortSignal): Promise<void> {
  const object = await target.get(manifest.object.key, { signal });
  if (!object) throw new StageError('download', `${target.id}: the archive ${manifest.object.key} is missing (the manifest is there)`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(object.body, meter, createWriteStream(file), { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new StageError('download', `${target.id}: download of ${manifest.object.key} failed: ${(err as Error).message}`);
  }
  const sha = hash.digest('hex');
  if (size !== manifest.object.size_bytes || sha !== manifest.object.sha256) {
    throw new StageError(
      'integrity',
      `${target.id}: the archive is corrupted or altered: ${size} bytes with sha256 ${sha}, the manifest says ${manifest.object.size_bytes} bytes with sha256 ${manifest.object.sha256}`,
    );
  }
}

/** Decrypt the work file and stream it into pg_restore. */
async function pgRestore(
  file: string,
  identities: readonly string[],
  url: string,
  binDir: string | undefined,
  extraArgs: string[],
  signal: AbortSignal,
): Promise<void> {
  const admin = await openDatabase({ url, poolMax: 1 });
  let major: number;
  try {
    major = (await serverInfo(admin.db)).major;
  } finally {
    await admin.close();
  }
  const tool = await findPgTool('pg_restore', major, binDir);
  let plaintext: Awaited<ReturnType<typeof decryptStream>>;
  try {
    plaintext = await decryptStream(createReadStream(file), identities);
  } catch (err) {
    throw new StageError('decrypt', (err as Error).message);
  }
  const { dbname, env } = connectionArgs(url);
  const child = start(tool.path, ['--no-owner', '--no-privileges', '--exit-on-error', '--no-password', ...extraArgs, `--dbname=${dbname}`], {
    env,
    signal,
    stdin: 'pipe',
  });
  let streamError: Error | undefined;
  try {
    await pipeline(plaintext, child.child.stdin as Writable, { signal });
  } catch (err) {
    streamError = err as Error;
    if (signal.aborted) {
      child.child.kill('SIGTERM');
      await child.done;
      throw err;
    }
  }
  if (streamError && !('code' in streamError && streamError.code === 'EPIPE')) {
    // The decryption failed part way (a damaged chunk): pg_restore must not finish on a truncated archive.
    child.child.kill('SIGTERM');
    await child.done;
    throw new StageError('decrypt', `cannot decrypt the backup: ${streamError.message}`);
  }
  const exit = await child.done;
  if (exit.code !== 0) throw new StageError('restore', `pg_restore failed (${exit.signal ?? `exit ${exit.code}`}): ${exit.stderr || 'no message'}`);
  if (streamError) throw new StageError('restore', `pg_restore stopped reading its input: ${streamError.message}`);
}

/** Decrypt an embedded backup into memory (PGlite loads a data directory from a Blob). */
async function decryptToBlob(file: string, identities: readonly string[]): Promise<Blob> {
  let plaintext: Awaited<ReturnType<typeof decryptStream>>;
  try {
    plaintext = await decryptStream(createReadStream(file), identities);
  } catch (err) {
    throw new StageError('decrypt', (err as Error).message);
  }
  const chunks: Buffer[] = [];
  try {
    for await (const c of plaintext) chunks.push(c as Buffer);
  } catch (err) {
    throw new StageError('decrypt', `cannot decrypt the backup: ${(err as Error).message}`);
  }
  return new Blob(chunks);
}

/** Open an embedded backup (optionally persisting it to `dataDir`) and compare it with the manifest. */
async function loadEmbedded(blob: Blob, manifest: Manifest, dataDir: string, signal: AbortSignal): Promise<TableComparison[]> {
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase({ embeddedDataDir: dataDir, embeddedLoadDataDir: blob });
  } catch (err) {
    throw new StageError('restore', `PGlite cannot load the backup: ${(err as Error).message}`);
  }
  try {
    return await compareOn(database.db, manifest, signal);
  } finally {
    await database.close();
  }
}

async function compareOn(db: Awaited<ReturnType<typeof openDatabase>>['db'], manifest: Manifest, signal: AbortSignal): Promise<TableComparison[]> {
  // A manifest from a version with another checksum algorithm can only be compared by row counts.
  const expected = manifest.checksum_algorithm === CHECKSUM_ALGORITHM ? manifest.tables : manifest.tables.map((t) => ({ ...t, checksum: null }));
  return db.connection().execute(async (conn) => {
    await pinOutputSettings(conn, false);
    return compareWithManifest(conn, expected, signal);
  });
}

function workFile(workDir: string, id: string): string {
  return join(workDir, `${id}.${randomBytes(4).toString('hex')}.download`);
}

export interface VerifyOptions extends FetchOptions {
  /** Role allowed to CREATE DATABASE on the server, for the scratch database (PostgreSQL backups). */
  adminUrl?: string | undefined;
  binDir?: string | undefined;
}

/** Verify a backup. Never throws for a bad backup: the report says what failed and where. */
export async function verifyBackup(id: string, o: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const report: VerifyReport = { id, target: null, outcome: 'failed', stage: 'locate', problems: [], tables: [], sizeBytes: null, durationMs: 0 };
  await mkdir(o.workDir, { recursive: true });
  const file = workFile(o.workDir, id);
  try {
    const { target, manifest } = await locate(o, id);
    report.target = target.id;
    report.sizeBytes = manifest.object.size_bytes;
    report.stage = 'download';
    await download(target, manifest, file, o.signal);
    if (manifest.format === 'pg_dump-custom') {
      if (!o.adminUrl) throw new StageError('restore', 'no admin URL to create the scratch database (database.adminUrl)');
      const scratch = `rgz_verify_${randomBytes(6).toString('hex')}`;
      const admin = await openDatabase({ url: o.adminUrl, poolMax: 1 });
      try {
        await sql`create database ${sql.id(scratch)} template template0`.execute(admin.db);
        o.log.info({ backup_id: id, scratch }, 'restoring into a scratch database');
        try {
          const url = withDatabase(o.adminUrl, scratch);
          report.stage = 'decrypt';
          await pgRestore(file, o.identities, url, o.binDir, [], o.signal);
          report.stage = 'compare';
          const restored = await openDatabase({ url, poolMax: 1 });
          try {
            report.tables = await compareOn(restored.db, manifest, o.signal);
          } finally {
            await restored.close();
          }
        } finally {
          await sql`drop database if exists ${sql.id(scratch)} with (force)`
            .execute(admin.db)
            .catch((err) => o.log.error({ err, scratch }, 'cannot drop the scratch database'));
        }
      } finally {
        await admin.close();
      }
    } else {
      report.stage = 'decrypt';
      const blob = await decryptToBlob(file, o.identities);
      report.stage = 'restore';
      const tables = await loadEmbedded(blob, manifest, 'memory://', o.signal);
      report.stage = 'compare';
      report.tables = tables;
    }
    const bad = report.tables.filter((t) => !t.ok);
    for (const t of bad) report.problems.push(`${t.table}: ${t.problem}`);
    if (bad.length === 0) {
      report.stage = 'done';
      report.outcome = 'passed';
    }
  } catch (err) {
    if (o.signal.aborted) throw err;
    if (err instanceof StageError) {
      report.stage = err.stage;
      report.problems.push(err.message);
    } else if (err instanceof RgzError && err.status < 500) {
      throw err;
    } else {
      report.problems.push((err as Error).message);
    }
  } finally {
    await rm(file, { force: true });
    report.durationMs = Date.now() - started;
  }
  return report;
}

export interface RestoreOptions extends FetchOptions {
  /** postgres:// URL (pg_dump backups) or a folder for the PGlite data directory (embedded backups). */
  into: string;
  force: boolean;
  binDir?: string | undefined;
}

export interface RestoreReport {
  id: string;
  target: string;
  into: string;
  tables: TableComparison[];
  /** Tables of the backup that differ after the restore (none: the restore is complete). */
  problems: string[];
  /** Tables found in the database that the backup does not have (a --force restore over other data). */
  extraTables: string[];
  movedAside?: string;
}

async function userRelations(url: string): Promise<number> {
  const database = await openDatabase({ url, poolMax: 1 });
  try {
    const r = await sql<{ n: number | string }>`
      select count(*)::bigint as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r','p','v','m','S','f')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp\\_%'`.execute(
      database.db,
    );
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await database.close();
  }
}

/** Restore a backup into a database (or PGlite folder). Refuses a non-empty one unless `force`. */
export async function restoreBackup(id: string, o: RestoreOptions): Promise<RestoreReport> {
  await mkdir(o.workDir, { recursive: true });
  const file = workFile(o.workDir, id);
  try {
    const { target, manifest } = await locate(o, id).catch(rethrowStage);
    const isUrl = /^postgres(ql)?:\/\//i.test(o.into);
    let report: RestoreReport;
    if (manifest.format === 'pg_dump-custom') {
      if (!isUrl) throw new RgzError('usage', `backup ${id} is a PostgreSQL dump: --into takes a postgres:// URL`, { status: 400 });
      const existing = await userRelations(o.into);
      if (existing > 0 && !o.force) {
        throw new RgzError(
          'backup_restore_not_empty',
          `${redactUrl(o.into)} is not empty (${existing} tables, views or sequences); restore into a new database, or add --force to replace the objects the backup contains`,
          { status: 409 },
        );
      }
      await download(target, manifest, file, o.signal).catch(rethrowStage);
      await pgRestore(file, o.identities, o.into, o.binDir, o.force ? ['--clean', '--if-exists'] : [], o.signal).catch(rethrowStage);
      const restored = await openDatabase({ url: o.into, poolMax: 1 });
      try {
        report = { id, target: target.id, into: redactUrl(o.into), tables: await compareOn(restored.db, manifest, o.signal), problems: [], extraTables: [] };
      } finally {
        await restored.close();
      }
    } else {
      if (isUrl)
        throw new RgzError('usage', `backup ${id} is an embedded (PGlite) backup: --into takes a folder for the data directory, not a URL`, { status: 400 });
      let movedAside: string | undefined;
      const entries = await readdir(o.into).catch(() => [] as string[]);
      if (entries.length > 0) {
        if (!o.force)
          throw new RgzError(
            'backup_restore_not_empty',
            `${o.into} is not empty; give an empty or new folder, or add --force (the folder is then renamed aside, not deleted)`,
            { status: 409 },
          );
        movedAside = `${o.into}.replaced-${new Date().toISOString().replace(/[-:.]/g, '')}`;
        await rename(o.into, movedAside);
      }
      await download(target, manifest, file, o.signal).catch(rethrowStage);
      const blob = await decryptToBlob(file, o.identities).catch(rethrowStage);
      await mkdir(o.into, { recursive: true });
      const tables = await loadEmbedded(blob, manifest, o.into, o.signal).catch(rethrowStage);
      report = { id, target: target.id, into: o.into, tables, problems: [], extraTables: [], ...(movedAside ? { movedAside } : {}) };
    }
    for (const t of report.tables) {
      if (t.ok) continue;
      if (t.problem === 'not in the manifest') report.extraTables.push(t.table);
      else report.problems.push(`${t.table}: ${t.problem}`);
    }
    return report;
  } finally {
    await rm(file, { force: true });
  }
}

function rethrowStage(err: unknown): never {
  if (err instanceof StageError) throw new RgzError(`backup_${err.stage}_failed`, err.message);
  throw err;
}
