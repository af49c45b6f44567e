#!/usr/bin/env node
// Benchmark (issue: foundation): requests/s and p50/p99 of a trivial authenticated route
// (GET /api/core/whoami, bearer token) with every core service loaded, and server RSS at idle — on the
// embedded default and on real PostgreSQL + Redis — against the peer: bare hono serving the same route.
// Usage: node bench/http-core.mjs [--seconds 10] [--connections 50]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDebian, fmt, rssMb, startProcess, wrk } from './lib.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' }, 'no-build': { type: 'boolean' } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'apps/server/dist/bin/rgz.js');
ensureDebian('wrk', 'wrk');

if (!values['no-build']) {
  const b = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@rgz/server...', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (b.status !== 0) process.exit(1);
}

async function measureRgz(backend) {
  const dir = mkdtempSync(join(tmpdir(), `rgz-bench-${backend}-`));
  writeFileSync(join(dir, 'rgz.config.yaml'), `http:\n  host: 127.0.0.1\ndatabase:\n  embeddedDataDir: ${join(dir, 'pglite')}\n`);
  const env = { PORT: '0' };
  let dbName;
  if (backend === 'real') {
    dbName = `rgz_bench_${process.pid}`;
    spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `drop database if exists ${dbName}`, '-c', `create database ${dbName}`], {
      stdio: 'ignore',
    });
    Object.assign(env, { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`, REDIS_URL: 'redis://127.0.0.1:6379', RGZ_REDIS__KEY_PREFIX: 'bench:' });
  }
  const admin = spawnSync(process.execPath, [bin, 'admin', 'create', '--name', 'bench'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  const token = admin.stdout.trim().split('\n').pop();
  if (!token?.startsWith('rgz_noc_')) throw new Error(`admin create failed: ${admin.stderr}`);
  const server = await startProcess(process.execPath, [bin, 'start'], {
    env: { ...env, RGZ_CONFIG: join(dir, 'rgz.config.yaml') },
    readyPattern: /RGZ listening on port (\d+)/,
  });
  const port = Number(server.match[1]);
  await new Promise((r) => setTimeout(r, 5000));
  const idleRss = rssMb(server.proc.pid);
  const url = `http://127.0.0.1:${port}/api/core/whoami`;
  const headers = { authorization: `Bearer ${token}` };
  wrk(url, { connections, seconds: 3, headers }); // warm-up
  const result = wrk(url, { connections, seconds, headers });
  const loadedRss = rssMb(server.proc.pid);
  server.proc.kill('SIGTERM');
  await new Promise((r) => server.proc.once('exit', r));
  if (dbName)
    spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `drop database if exists ${dbName} with (force)`], { stdio: 'ignore' });
  return { ...result, idleRss, loadedRss };
}

async function measurePeer() {
  const peer = await startProcess(process.execPath, [join(root, 'bench/peer-bare-hono.mjs')], {
    env: { TOKEN: 'bench' },
    readyPattern: /PEER listening on port (\d+)/,
  });
  const url = `http://127.0.0.1:${peer.match[1]}/api/core/whoami`;
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMb(peer.proc.pid);
  const headers = { authorization: 'Bearer bench' };
  wrk(url, { connections, seconds: 3, headers });
  const result = wrk(url, { connections, seconds, headers });
  peer.proc.kill('SIGTERM');
  return { ...result, idleRss, loadedRss: Number.NaN };
}

const peer = await measurePeer();
const embedded = await measureRgz('embedded');
const real = await measureRgz('real');
const rows = [
  ['bare hono (peer)', peer],
  ['RGZ, embedded (PGlite + in-process KV)', embedded],
  ['RGZ, PostgreSQL + Redis', real],
];
console.log(`\nGET /api/core/whoami with a bearer token; wrk -t1 -c${connections} -d${seconds}s on the same 2-core machine\n`);
console.log('| server | req/s | p50 ms | p99 ms | errors | RSS idle MB | ratio vs peer |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, r] of rows)
  console.log(`| ${name} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${fmt(r.idleRss, 0)} | ${fmt(r.rps / peer.rps, 2)} |`);
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(
  join(root, 'bench/out/http-core.json'),
  JSON.stringify({ at: new Date().toISOString(), seconds, connections, peer, embedded, real }, (k, v) => (k === 'raw' ? undefined : v), 2),
);
