#!/usr/bin/env node
// Benchmark (issue 4, flow 1): the portal's OTP login over HTTP on PostgreSQL + Redis. POST /portal/otp/request then
// POST /portal/otp/verify (with the code the SMS carried) for many distinct phones, each at a fixed arrival rate (open
// loop, bench/portal/loadgen.mjs), reporting p50/p95/p99; against the peer bench/portal/peer-otp.mjs (bare hono doing
// the same Redis and PostgreSQL work) in the same run. RGZ runs `rgz start` with the portal and the example
// `rgz-plugin-sms-file` sender (codes appended to a file, where the bench reads them back); rate limits are
// configured so that the bench measures logins, not 429s.
// Usage: node bench/portal-otp.mjs [--rate 500] [--seconds 10] [--connections 128] [--pool-max 10] [--keep] [--cpu-prof]
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, startProcess } from './lib.mjs';
import { openLoop } from './portal/loadgen.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '128' },
    'pool-max': { type: 'string', default: '10' },
    keep: { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Math.min(20, Number(values.seconds));
const CONNECTIONS = Number(values.connections);
const COUNT = Math.round(RATE * SECONDS);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const psql = (db, args) => spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-q', ...args], { encoding: 'utf8' });

const children = [];
const cleanup = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const dbName = `rgz_bench_portal_${process.pid}`;
psql('test', ['-c', `drop database if exists ${dbName}`, '-c', `create database ${dbName}`]);
cleanup.push(() => psql('test', ['-c', `drop database if exists ${dbName} with (force)`]));
const dbUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const work = mkdtempSync(join(tmpdir(), 'rgz-bench-portal-'));
if (values.keep) console.error(`[bench] keeping ${work}`);
else cleanup.push(() => rmSync(work, { recursive: true, force: true }));

/** `n` distinct Bénin mobile numbers (+229 01 97 …), offset so the RGZ and peer runs use different ones. */
const phones = (n, offset) => Array.from({ length: n }, (_, i) => `+2290197${String(offset + i).padStart(6, '0')}`);

async function startRgz(prefix) {
  const smsPath = join(work, 'sms.jsonl');
  const config = join(work, 'rgz.config.yaml');
  writeFileSync(
    config,
    [
      'service: rgz-bench',
      'http:',
      '  host: 127.0.0.1',
      'database:',
      `  poolMax: ${Number(values['pool-max'])}`,
      'plugins:',
      '  - package: rgz-plugin-sms-file',
      '    config:',
      `      path: ${smsPath}`,
      '      senderId: RGZ',
      "  - package: '@rgz/plugin-portal'",
      '    config:',
      `      secret: bench-portal-secret-${process.pid}-0123456789abcdef`,
      '      rateLimit:',
      // Every request comes from 127.0.0.1 with a new phone: the per-IP limit is raised to its maximum (config, not code).
      '        perIpPerMinute: 100000',
      '        perPhonePerDay: 1000',
      '',
    ].join('\n'),
  );
  const logPath = join(work, 'rgz.log');
  const out = openSync(logPath, 'w');
  const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/out/prof-portal')}`] : [];
  const proc = spawn(
    process.execPath,
    [...prof, '--conditions=@rgz/source', '--import', import.meta.resolve('tsx'), join(root, 'apps/server/src/bin/rgz.ts'), 'start'],
    {
      cwd: work,
      env: { ...process.env, RGZ_CONFIG: config, PORT: '0', DATABASE_URL: dbUrl, REDIS_URL: 'redis://127.0.0.1:6379', RGZ_REDIS__KEY_PREFIX: prefix },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  children.push(proc);
  const until = Date.now() + 90_000;
  for (;;) {
    const text = readFileSync(logPath, 'utf8');
    const m = /RGZ listening on port (\d+)/.exec(text);
    if (m) return { proc, port: Number(m[1]), smsPath, log: () => readFileSync(logPath, 'utf8').slice(-3000) };
    if (proc.exitCode !== null || Date.now() > until) throw new Error(`RGZ did not start:\n${text.slice(-3000)}`);
    await sleep(200);
  }
}

/** Waits until every phone of `want` has its code in the SMS file (the send-otp tasks run in the server's worker). */
async function codesFromSms(path, want) {
  const until = Date.now() + 120_000;
  for (;;) {
    const codes = new Map();
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {}
    for (const line of text.split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line);
      const m = /(\d{6})/.exec(r.text);
      if (m) codes.set(r.to, m[1]);
    }
    if (want.every((p) => codes.has(p)) || Date.now() > until) return codes;
    await sleep(500);
  }
}

async function stop(proc) {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

/** One route on one server: open loop over `list`'s bodies; prints its statuses as it goes. */
async function phase(name, origin, path, bodies) {
  const r = await openLoop({ origin, path, rate: RATE, seconds: SECONDS, bodies, connections: CONNECTIONS });
  r.loadavg = loadavg()[0];
  console.error(`[bench] ${name} ${path}: ${JSON.stringify(r.statuses)} p95 ${fmt(r.p95Ms, 1)} ms, load ${fmt(r.loadavg, 1)}`);
  return r;
}

const warm = new Map([
  ['rgz', phones(100, 900_000)],
  ['peer', phones(100, 950_000)],
]);
const results = { at: new Date().toISOString(), rate: RATE, seconds: SECONDS, connections: CONNECTIONS, rgz: {}, peer: {} };
try {
  // Both servers up at once (the idle one costs nothing), phases interleaved, so that a change in the machine's load
  // during the run hits both sides alike. The peer uses its own schema in the same database and its own Redis prefix.
  const peerProc = await startProcess(process.execPath, [join(root, 'bench/portal/peer-otp.mjs')], {
    env: { DATABASE_URL: dbUrl, REDIS_URL: 'redis://127.0.0.1:6379', PREFIX: `bench:portal-peer:${process.pid}:` },
    readyPattern: /PEER listening on port (\d+)/,
  });
  children.push(peerProc.proc);
  console.error('[bench] starting RGZ');
  const rgz = await startRgz(`bench:portal:${process.pid}:`);
  const servers = {
    peer: {
      origin: `http://127.0.0.1:${peerProc.match[1]}`,
      list: phones(COUNT, 500_000),
      codes: async () => {
        const rows = psql(dbName, ['-At', '-c', "select payload->>'phone', payload->>'code' from peer_otp.tasks"]).stdout.trim().split('\n');
        return new Map(rows.map((r) => r.split('|')));
      },
    },
    rgz: { origin: `http://127.0.0.1:${rgz.port}`, list: phones(COUNT, 0), codes: () => codesFromSms(rgz.smsPath, servers.rgz.list) },
  };
  // Warm-up: JIT, connection pools, the first task poll (not counted; its phones are not reused).
  for (const [name, s] of Object.entries(servers)) {
    await openLoop({
      origin: s.origin,
      path: '/portal/otp/request',
      rate: 50,
      seconds: 2,
      bodies: warm.get(name).map((phone) => JSON.stringify({ phone })),
      connections: CONNECTIONS,
    });
  }
  for (const [name, s] of Object.entries(servers)) {
    results[name].request = await phase(
      name,
      s.origin,
      '/portal/otp/request',
      s.list.map((phone) => JSON.stringify({ phone })),
    );
    await sleep(2000);
  }
  for (const [name, s] of Object.entries(servers)) {
    const got = await s.codes();
    results[name].codesKnown = s.list.filter((p) => got.has(p)).length;
    const bodies = s.list.map((phone) => JSON.stringify({ phone, code: got.get(phone) ?? '000000', mac: 'AA-BB-CC-DD-EE-FF' }));
    results[name].verify = await phase(name, s.origin, '/portal/otp/verify', bodies);
    await sleep(2000);
  }
  await stop(peerProc.proc);
  await stop(rgz.proc);

  const line = (name, r, budget) =>
    `| ${name} | ${fmt(r.offeredRps, 0)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p95Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${Object.entries(r.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')}${r.errors ? ` errors×${r.errors}` : ''} | ${budget} |`;
  console.log(
    `\nOTP login over HTTP, PostgreSQL + Redis, open loop ${RATE} req/s for ${SECONDS} s per route (undici, ${CONNECTIONS} connections), ${COUNT} distinct phones; load average after each phase (peer/RGZ request, peer/RGZ verify) ${[results.peer.request, results.rgz.request, results.peer.verify, results.rgz.verify].map((r) => fmt(r.loadavg, 1)).join(' / ')}\n`,
  );
  console.log('| route / server | offered req/s | p50 ms | p95 ms | p99 ms | statuses | budget (p95) |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(line('request — bare hono (peer)', results.peer.request, ''));
  console.log(line('request — RGZ', results.rgz.request, `< 100 ms: ${results.rgz.request.p95Ms < 100 ? 'met' : 'NOT met'}`));
  console.log(line('verify — bare hono (peer)', results.peer.verify, ''));
  console.log(line('verify — RGZ', results.rgz.verify, `< 150 ms: ${results.rgz.verify.p95Ms < 150 ? 'met' : 'NOT met'}`));
  console.log(`\n(codes read back: RGZ ${results.rgz.codesKnown}/${COUNT} from the SMS file, peer ${results.peer.codesKnown}/${COUNT})`);
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/portal-otp.json'), JSON.stringify(results, null, 2));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await sleep(300);
  for (const f of cleanup) f();
}
process.exit(0);
