/**
 * Test helpers for RGZ and for plugin authors: fresh databases on both backends (a new PostgreSQL database per
 * call, or an in-memory PGlite), isolated KV namespaces on Redis or in process, and `startTestServer`, which
 * boots the real composition and drives it with `app.request()`.
 * Real services: RGZ_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) and
 * RGZ_TEST_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { parseServerConfig, type ServerConfigInput } from '../config/server-config.js';
import type { Kv } from '../kv/kv.js';
import { createMemoryKv } from '../kv/memory-kv.js';
import { createRedisKv } from '../kv/redis-kv.js';
import type { RgzPlugin } from '../plugin/define-plugin.js';
import type { Point, Token } from '../plugin/tokens.js';
import { createKernel, type Kernel, type PluginLoad } from '../runtime/kernel.js';
import { type Database, openDatabase } from '../storage/database.js';

export * from './contracts/index.js';
export * as librenms from './librenms.js';
export { radiusWire, radiusWireHex } from './nas-wire.js';
export * from './payments.js';
export { deferred, sleep, type WaitForOptions, waitFor } from './wait.js';

export type Backend = 'embedded' | 'real';
export const BACKENDS: readonly Backend[] = ['embedded', 'real'];

/**
 * Where this module was loaded from. In this repository's tests it must be `src/testing/index.ts`: a test that
 * ran against another package's `dist/` would test stale code whenever that package was not rebuilt.
 */
export const TESTING_MODULE_URL = import.meta.url;

export const TEST_DATABASE_URL = process.env.RGZ_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.RGZ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  database: Database;
  /** postgres:// URL of the fresh database (real backend only), for child processes. */
  url: string | null;
  drop(): Promise<void>;
}

let pgliteTemplate: Promise<Blob | undefined> | undefined;

/**
 * An empty PGlite data directory as a tarball, so each embedded test database loads it (~0.5 s) instead of
 * running initdb (~2.5 s). Cached in the process and, keyed by the PGlite version, in the OS temp folder.
 */
function embeddedTemplate(): Promise<Blob | undefined> {
  pgliteTemplate ??= (async () => {
    try {
      const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
      const version = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
      const file = join(tmpdir(), `rgz-pglite-template-${version}.tar`);
      if (existsSync(file)) return new Blob([readFileSync(file)]);
      const { PGlite } = await import('@electric-sql/pglite');
      const fresh = await PGlite.create('memory://');
      const dump = (await fresh.dumpDataDir('none')) as Blob;
      await fresh.close();
      // Write then rename: concurrent test processes never read a half-written file.
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, file);
      return dump;
    } catch {
      return undefined;
    }
  })();
  return pgliteTemplate;
}

/** A fresh, empty database: PGlite in memory, or a new PostgreSQL database dropped afterwards. */
export async function createTestDatabase(backend: Backend): Promise<TestDatabase> {
  if (backend === 'embedded') {
    const template = await embeddedTemplate();
    let database: Database;
    try {
      database = await openDatabase({ embeddedDataDir: 'memory://', ...(template ? { embeddedLoadDataDir: template } : {}) });
    } catch (err) {
      if (!template) throw err;
      // A damaged cached template: fall back to initdb.
      database = await openDatabase({ embeddedDataDir: 'memory://' });
    }
    return { database, url: null, drop: () => database.close() };
  }
  const name = `rgz_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolMax: 10 });
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      const a = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export interface TestKv {
  kv: Kv;
  /** Key prefix isolating this test on a shared Redis (real backend). */
  prefix: string;
  close(): Promise<void>;
}

export async function createTestKv(backend: Backend): Promise<TestKv> {
  if (backend === 'embedded') {
    const kv = createMemoryKv();
    return { kv, prefix: '', close: () => kv.close() };
  }
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  const kv = await createRedisKv({ url: TEST_REDIS_URL, keyPrefix: prefix });
  return {
    kv,
    prefix,
    async close() {
      const keys: string[] = [];
      for await (const k of kv.scan('')) keys.push(k);
      if (keys.length) await kv.del(...keys);
      await kv.close();
    },
  };
}

export interface TestServer {
  kernel: Kernel;
  /** In-process request, no port. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Bearer token of a NOC admin created for the test. */
  nocToken: string;
  /** `Authorization` header for a token. */
  auth(token: string): Record<string, string>;
  get<T>(token: Token<T>): T;
  collect<T>(point: Point<T>): ReadonlyMap<string, T>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  plugins?: Array<RgzPlugin | PluginLoad>;
  config?: ServerConfigInput;
  backend?: Backend;
  overrides?: Array<[Token<any>, unknown]>;
  /** Start the task worker and scheduler (default: worker on, scheduler off). */
  worker?: boolean;
  scheduler?: boolean;
  /** Run the plugins' serve hooks, their network listeners (default true); false starts as a CLI command does. */
  serve?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const backend = options.backend ?? 'embedded';
  const tdb = await createTestDatabase(backend);
  const tkv = await createTestKv(backend);
  const config = parseServerConfig({ log: { level: 'silent' }, ...options.config, plugins: [] }, {});
  const plugins = (options.plugins ?? []).map((p) => ('plugin' in p ? p : { plugin: p }));
  let kernel: Kernel;
  try {
    kernel = await createKernel({ config, plugins, database: tdb.database, kv: tkv.kv, ...(options.overrides ? { overrides: options.overrides } : {}) });
    await kernel.start({ worker: options.worker ?? true, scheduler: options.scheduler ?? false, serve: options.serve ?? true });
  } catch (err) {
    await tkv.close();
    await tdb.drop();
    throw err;
  }
  const noc = await kernel.tokens.issue({ role: 'noc', name: 'test-admin' });
  return {
    kernel,
    nocToken: noc.token,
    request: (path, init) => Promise.resolve(kernel.app.request(path, init)),
    auth: (token) => ({ authorization: `Bearer ${token}` }),
    get: (t) => kernel.get(t),
    collect: (p) => kernel.collect(p),
    async close() {
      await kernel.stop();
      await tkv.close();
      await tdb.drop();
    },
  };
}
