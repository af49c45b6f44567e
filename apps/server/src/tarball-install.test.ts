/**
 * The release as a user receives it: every workspace package built and packed by scripts/pack-all.mjs, the
 * tarballs (not the workspace) installed with npm into an empty folder, and that folder's `rgz start` loading
 * plugins by package name, including the third-party example plugin from examples/ — once on the embedded
 * default (PGlite, in-process KV) and once on PostgreSQL and Redis.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const MINUTE = 60_000;

interface Packed {
  name: string;
  version: string;
  file: string;
  size: number;
  files: number;
}

// One route per loaded plugin, called with a NOC token; `status` is what a working plugin answers.
const PLUGIN_ROUTES: { plugin: string; method: 'GET' | 'POST'; path: string; status: number; noc: boolean }[] = [
  { plugin: 'sms-file', method: 'GET', path: '/api/sms-file/messages', status: 200, noc: true },
  { plugin: 'portal', method: 'GET', path: '/portal/', status: 200, noc: false },
  { plugin: 'radius', method: 'GET', path: '/api/radius/nas', status: 200, noc: true },
  { plugin: 'billing', method: 'GET', path: '/api/billing/providers', status: 200, noc: true },
  // KKiaPay's webhook refuses a post without its secret: the provider is mounted and checking.
  { plugin: 'payment-kkiapay', method: 'POST', path: '/hooks/payment/kkiapay', status: 401, noc: false },
  { plugin: 'inventory', method: 'GET', path: '/api/inventory/sites', status: 200, noc: true },
  { plugin: 'incidents', method: 'GET', path: '/api/incidents', status: 200, noc: true },
  { plugin: 'vouchers', method: 'GET', path: '/api/vouchers/batches', status: 200, noc: true },
  { plugin: 'sla', method: 'GET', path: '/api/sla/targets', status: 200, noc: true },
  { plugin: 'dba', method: 'GET', path: '/api/dba/runs', status: 200, noc: true },
];

const CONFIG = `# Written by tarball-install.test.ts: plugins by package name, listeners on loopback, ports chosen by the system.
service: rgz-tarball
http:
  host: 127.0.0.1
  port: 0
database:
  embeddedDataDir: data/pglite
plugins:
  - package: rgz-plugin-sms-file
    config: { path: data/sms.jsonl, senderId: RGZ }
  - package: '@rgz/plugin-portal'
    config: { secret: tarball-test-portal-secret-0123456789-abcdefghijklmnop }
  - '@rgz/nas-mikrotik'
  - package: '@rgz/plugin-radius'
    config: { auth: { host: 127.0.0.1, port: 0 }, acct: { host: 127.0.0.1, port: 0 } }
  - package: '@rgz/plugin-kkiapay'
    config: { sandbox: true, publicKey: pk_test, privateKey: tpk_test, secret: tsk_test, webhookSecret: tarball-test-webhook-secret-0123 }
  - package: '@rgz/plugin-billing'
    config: { defaultProvider: kkiapay }
  - '@rgz/plugin-inventory'
  - package: '@rgz/plugin-incidents'
    config: { webhookToken: tarball-test-alertmanager-token-0123456789 }
  - package: '@rgz/plugin-vouchers'
    config: { secret: tarball-test-voucher-secret-0123456789-abcdefghijklmnop }
  - '@rgz/plugin-sla'
  - '@rgz/plugin-dba'
`;

let work: string;
let app: string;
let packed: Packed[] = [];
let packProblems = '';

function run(cmd: string, args: string[], cwd: string, timeout: number, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}\n${r.stderr}`);
  return r;
}

/** The environment of an operator's shell: nothing inherited from vitest (no NODE_OPTIONS, no export conditions). */
function operatorEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', LOG_LEVEL: 'info', ...extra };
}

interface Server {
  proc: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawn(join(app, 'node_modules', '.bin', 'rgz'), ['start', '-c', 'rgz.config.yaml'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`rgz start did not listen within 3 minutes:\n${out}`));
    }, 3 * MINUTE);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /RGZ listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), output: () => out, exited });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`rgz start exited with ${code} before listening:\n${out}`));
    });
  });
}

async function stopServer(server: Server): Promise<number | null> {
  server.proc.kill('SIGTERM');
  const killer = setTimeout(() => server.proc.kill('SIGKILL'), MINUTE);
  const code = await server.exited;
  clearTimeout(killer);
  return code;
}

function adminToken(env: NodeJS.ProcessEnv): string {
  const r = run(join(app, 'node_modules', '.bin', 'rgz'), ['admin', 'create', '--name', 'tarball-test', '-c', 'rgz.config.yaml'], app, 3 * MINUTE, env);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** Starts the installed server, calls the core endpoints and one route of every plugin, and stops it cleanly. */
async function exerciseServer(env: NodeJS.ProcessEnv): Promise<void> {
  const token = adminToken(env);
  expect(token).toMatch(/^rgz_noc_/);
  const server = await startServer(env);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: true, kv: true });

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^# TYPE \S+ (counter|gauge|histogram)$/m);
    // The /health call above went through the HTTP middleware, so some request metric counts it.
    expect(text).toMatch(/^api_requests_total\{method="GET",route="\/health",status="200"\} [1-9]/m);

    const auth = { authorization: `Bearer ${token}` };
    const plugins = await fetch(`${base}/api/core/plugins`, { headers: auth });
    expect(plugins.status).toBe(200);
    const items = ((await plugins.json()) as { items: { name: string; version: string; source: string }[] }).items;
    // Every plugin named in the config is loaded, and reports the version of the tarball it was installed from.
    const configured = [...CONFIG.matchAll(/^ {2}- (?:package: )?'?([@\w/.-]+)'?$/gm)].map((m) => m[1]);
    expect(items.map((i) => i.source).sort()).toEqual([...configured].sort());
    for (const item of items) expect(item.version, item.source).toBe(packed.find((p) => p.name === item.source)?.version);
    for (const r of PLUGIN_ROUTES) expect(items.map((i) => i.name)).toContain(r.plugin);

    for (const r of PLUGIN_ROUTES) {
      const res = await fetch(`${base}${r.path}`, { method: r.method, headers: r.noc ? auth : {}, ...(r.method === 'POST' ? { body: '{}' } : {}) });
      expect(`${r.plugin} ${r.method} ${r.path} → ${res.status}`).toBe(`${r.plugin} ${r.method} ${r.path} → ${r.status}`);
      await res.arrayBuffer();
    }
    const providers = (await (await fetch(`${base}/api/billing/providers`, { headers: auth })).json()) as unknown;
    expect(JSON.stringify(providers)).toContain('kkiapay');
  } finally {
    const code = await stopServer(server);
    expect(code, server.output()).toBe(0);
  }
}

describe('release tarballs installed into an empty folder', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'rgz-tarball-'));
    // A clean build of a copy of the checkout (--fresh: the working tree's dist/ may hold stale files, and other
    // tests may be building it), packed and checked. RGZ_TEST_PACK_PREBUILT=1 packs the working tree's dist/ as it
    // is instead (right after `npm run build`, to iterate faster).
    const fresh = process.env.RGZ_TEST_PACK_PREBUILT === '1' ? [] : ['--fresh'];
    const pack = run(
      process.execPath,
      [join(repo, 'scripts', 'pack-all.mjs'), ...fresh, '--check', '--json', '--out', join(work, 'tarballs')],
      repo,
      30 * MINUTE,
    );
    packed = JSON.parse(pack.stdout.trim().split('\n').at(-1) || '[]') as Packed[];
    // stderr also carries the build's progress; the problems are the paragraph pack-all ends with.
    const marker = pack.stderr.search(/\d+ package\(s\) are not fit to publish/);
    packProblems = pack.status === 0 ? '' : marker >= 0 ? pack.stderr.slice(marker) : pack.stderr;
    expect(packed.length, pack.stderr).toBeGreaterThan(5);

    app = join(work, 'app');
    mkdirSync(join(app, 'data'), { recursive: true });
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'rgz-tarball-install', private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(app, 'rgz.config.yaml'), CONFIG);
    // Every tarball at once, so @rgz/* dependencies between them resolve to the tarballs and never to a registry;
    // third-party dependencies come from the npm cache (the registry only for what the cache lacks).
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packed.map((p) => p.file)], app, 15 * MINUTE, {
      ...process.env,
      NODE_OPTIONS: '',
    });
    expect(install.status, install.stderr).toBe(0);
  }, 45 * MINUTE);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('every tarball is fit to publish: README, built entry points, no sources or tests, exactly the imported dependencies', () => {
    expect(packProblems).toBe('');
    const names = packed.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@rgz/core', '@rgz/server', 'rgz-plugin-sms-file', '@rgz/plugin-radius']));
  });

  it('installs the tarballs, not the workspace: real folders without TypeScript sources, one @rgz/core', () => {
    for (const name of ['@rgz/core', '@rgz/server', '@rgz/plugin-portal', 'rgz-plugin-sms-file']) {
      const dir = join(app, 'node_modules', name);
      expect(realpathSync(dir).startsWith(realpathSync(app)), name).toBe(true);
      expect(existsSync(join(dir, 'src')), `${name} ships src/`).toBe(false);
      expect(existsSync(join(dir, 'dist', 'index.js')), name).toBe(true);
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
      expect(version).toBe(packed.find((p) => p.name === name)?.version);
      // src/ is not shipped, so a map must carry its sources (a stack trace under --enable-source-maps shows the
      // TypeScript line) and no declaration map may point an editor at a file that is not there.
      const map = JSON.parse(readFileSync(join(dir, 'dist', 'index.js.map'), 'utf8')) as { sourcesContent?: unknown[] };
      expect(map.sourcesContent?.length, `${name} dist/index.js.map without sourcesContent`).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'dist', 'index.d.ts.map')), `${name} ships a declaration map`).toBe(false);
    }
    // A plugin's peer @rgz/core is the server's: no nested copy anywhere.
    const ls = run('npm', ['ls', '@rgz/core', '--all', '--parseable'], app, MINUTE);
    const copies = new Set(ls.stdout.split('\n').filter((l) => l.endsWith(join('node_modules', '@rgz', 'core'))));
    expect([...copies]).toEqual([join(realpathSync(app), 'node_modules', '@rgz', 'core')]);
  });

  it(
    'starts on the embedded default: /health, /metrics and one route of each plugin',
    async () => {
      await exerciseServer(operatorEnv({}));
      expect(existsSync(join(app, 'data', 'pglite'))).toBe(true);
    },
    15 * MINUTE,
  );

  it(
    'starts on PostgreSQL and Redis: /health, /metrics and one route of each plugin',
    async () => {
      let db: TestDatabase | undefined;
      try {
        db = await createTestDatabase('real');
        const redisUrl = process.env.RGZ_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
        await exerciseServer(
          operatorEnv({ DATABASE_URL: db.url as string, REDIS_URL: redisUrl, RGZ_REDIS__KEY_PREFIX: `rgz-tarball-${randomBytes(4).toString('hex')}:` }),
        );
      } finally {
        await db?.drop();
      }
    },
    15 * MINUTE,
  );
});
