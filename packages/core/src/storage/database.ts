/**
 * One SQL dialect everywhere: Kysely over node-postgres, talking either to a real PostgreSQL
 * (DATABASE_URL) or to embedded PostgreSQL (PGlite) through PGlite's node-postgres adapter.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { CoreDatabase } from '../domain/schema.js';
import { RgzError } from '../errors/rgz-error.js';

// bigint columns (bytes, Gigawords) come back as strings by default; counters here stay below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface Database {
  readonly db: Kysely<CoreDatabase>;
  readonly kind: 'postgres' | 'embedded';
  /** Answers `SELECT 1` within the timeout; used by /ready. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** Live connections checked out of the pool (for db_connections_active). */
  activeConnections(): number;
  /** Embedded only: PGlite's own dump of its data directory (a .tar.gz), for backups. */
  dumpDataDir?(): Promise<Blob>;
  /**
   * LISTEN on a channel: `onNotify` runs for each NOTIFY (sent by `pg_notify` in any session, delivered when that
   * session's transaction commits). Resolves once listening; the returned function stops. Best effort: a lost
   * listener connection is re-established, and callers keep polling as the safety net.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  url?: string | undefined;
  poolMax?: number;
  embeddedDataDir?: string;
  /** Start the embedded database from a `dumpDataDir()` tarball instead of running initdb (tests: much faster). */
  embeddedLoadDataDir?: Blob;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolMax ?? 10 });
    pool.on('error', () => {
      /* idle client errors surface on the next query; never crash the process */
    });
    // A connection lost while checked out (mid-transaction) emits 'error' on the client; without a listener that
    // kills the process. The failure still reaches the caller as the query's rejection.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool }) });
    const listeners = new Set<() => Promise<void>>();
    const base = wrap(
      db,
      'postgres',
      () => pool.totalCount - pool.idleCount,
      async () => {
        await Promise.all([...listeners].map((stop) => stop()));
        await db.destroy();
      },
    );
    const url = options.url;
    return {
      ...base,
      async listen(channel, onNotify) {
        const stop = await listenOnDedicatedConnection(url, channel, onNotify);
        const tracked = async () => {
          listeners.delete(tracked);
          await stop();
        };
        listeners.add(tracked);
        return tracked;
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const dataDir = options.embeddedDataDir ?? 'memory://';
  let unlock = () => {};
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let pglite: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    pglite = await PGlite.create({ dataDir, ...(options.embeddedLoadDataDir ? { loadDataDir: options.embeddedLoadDataDir } : {}) });
  } catch (err) {
    unlock();
    throw err;
  }
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
  const db = new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  const embedded = wrap(
    db,
    'embedded',
    () => pool.totalCount - pool.idleCount,
    async () => {
      await db.destroy();
      await pglite.close();
      unlock();
    },
  );
  return {
    ...embedded,
    dumpDataDir: () => pglite.dumpDataDir('gzip'),
    async listen(channel, onNotify) {
      const unsubscribe = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await unsubscribe();
      };
    },
  };
}

/**
 * A LISTEN needs its own connection (a pooled one goes back to the pool). If it drops, reconnect with a growing
 * delay until stopped; notifications sent meanwhile are lost, which callers tolerate (they also poll).
 */
async function listenOnDedicatedConnection(url: string, channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delayMs = 500;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    });
    c.on('error', () => {
      if (stopped || client !== c) return;
      client = undefined;
      c.end().catch(() => {});
      retry = setTimeout(() => void connect().catch(() => {}), delayMs);
      retry.unref();
      delayMs = Math.min(delayMs * 2, 30_000);
    });
    await c.connect();
    await c.query(`LISTEN ${pgIdentifier(channel)}`);
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delayMs = 500;
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}

function pgIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Embedded PostgreSQL lives inside one process: a second process opening the same folder (say `rgz admin create`
 * while the server runs) would write pages the first never sees, or corrupt them. A lock file holding the owner's
 * pid refuses that with a clear error; a lock left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, 'rgz.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new RgzError(
          'embedded_database_in_use',
          `the embedded database in ${dataDir} is in use by process ${owner}; stop that process first, or set DATABASE_URL to share a PostgreSQL server`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new RgzError('embedded_database_in_use', `cannot lock the embedded database in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function wrap(db: Kysely<CoreDatabase>, kind: Database['kind'], active: () => number, close: () => Promise<void>): Omit<Database, 'listen'> {
  let closed = false;
  return {
    db,
    kind,
    activeConnections: active,
    async ping(timeoutMs = 2000) {
      try {
        await withTimeout(sql`select 1`.execute(db), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
