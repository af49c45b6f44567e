#!/usr/bin/env node
// Benchmark (issue 4, flow 1): RADIUS Access-Request/s and p50/p99 of RGZ's whole auth path (NAS check, subscriber,
// portal session in Redis, active plan and quota usage in PostgreSQL, MikroTik reply) and Accounting-Request/s stored
// durably, against Debian's FreeRADIUS 3.2 in the same run: `files`, `rlm_sql` (rlm_sql_postgresql over views of the
// same RGZ tables) and `rlm_rest` → RGZ's REST backend (when plugin-radius has one). Ratios printed against each.
// The load generator is bench/radius/loadgen.mjs in a worker thread (precomputed packets, many sockets; see there).
// Usage: node bench/radius-auth.mjs [--subscribers 10000] [--seconds 8] [--concurrency 200] [--rate 10000]
//                                   [--sockets 128] [--pool-max 10] [--only files,sql,rgz,rest] [--keep] [--cpu-prof]
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ensureDebian, fmt, runOnTypeScriptSources } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_CONDITION = '--conditions=@rgz/source';

runOnTypeScriptSources();

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '8' },
    concurrency: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10000' },
    sockets: { type: 'string', default: '128' },
    'max-packets': { type: 'string', default: '200000' },
    'pool-max': { type: 'string', default: '10' },
    only: { type: 'string', default: 'files,sql,rgz,rest' },
    keep: { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
  },
});
const N = Number(values.subscribers);
const SECONDS = Math.min(20, Number(values.seconds));
const K = Number(values.concurrency);
const RATE = Number(values.rate);
const SOCKETS = Number(values.sockets);
const MAX_PACKETS = Number(values['max-packets']);
const ONLY = new Set(values.only.split(','));
const SECRET = 'bench-radius-secret-0123456789';
// radclient's default timeout: an answer later than this counts as lost, as a NAS would retransmit by then.
const TIMEOUT_MS = 3000;
const PLAN = 'DAY100MB';

ensureDebian('freeradius', 'freeradius');
if (!existsSync('/usr/lib/freeradius/rlm_sql_postgresql.so')) {
  console.error('[bench] installing freeradius-postgresql (Debian)');
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'freeradius-postgresql'], { stdio: 'ignore' }).status !== 0)
    throw new Error('cannot install freeradius-postgresql');
}

const { activateSubscription, createKernel, kvKeys, parseServerConfig, sql } = await import('@rgz/core');
const { accessRequests, accountingStarts, oneAccessRequest, NAS_IDENTIFIER } = await import('./radius/packets.mjs');
const { sqlPeerSchema, startFreeradius, writeRaddb } = await import('./radius/freeradius.mjs');

const children = [];
const cleanup = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const psql = (db, args, input) =>
  spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-q', ...args], { encoding: 'utf8', input });

/** Free UDP ports below the ephemeral range (nothing else grabs them between the check and the bind). */
let nextPort = 21_000;
async function freePort() {
  for (;;) {
    const port = nextPort++;
    const s = createSocket('udp4');
    const ok = await new Promise((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      await new Promise((r) => s.close(r));
      return port;
    }
  }
}

/** Sends one request until something answers (start-up); returns the reply's code. */
async function probe(port, packet, timeoutMs = 30_000) {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const until = Date.now() + timeoutMs;
  try {
    while (Date.now() < until) {
      const reply = await new Promise((resolve) => {
        const got = (m) => {
          clearTimeout(t);
          resolve(m);
        };
        const t = setTimeout(() => {
          s.removeListener('message', got);
          resolve(undefined);
        }, 300);
        s.once('message', got);
        s.send(packet, port, '127.0.0.1');
      });
      if (reply) return reply[0];
    }
    throw new Error(`nothing answered on 127.0.0.1:${port}`);
  } finally {
    s.close();
  }
}

function load(port, set, { mode, from = 0, to = set.count }) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./radius/loadgen.mjs', import.meta.url), {
      execArgv: [],
      workerData: {
        host: '127.0.0.1',
        port,
        sockets: SOCKETS,
        mode,
        concurrency: K,
        rate: RATE,
        seconds: SECONDS,
        timeoutMs: TIMEOUT_MS,
        packets: set.packets,
        offsets: set.offsets,
        from,
        to,
      },
    });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

// --- database, RGZ -------------------------------------------------------------------------------------------------
const dbName = `rgz_bench_radius_${process.pid}`;
const prefix = `bench:radius:${process.pid}:`;
psql('test', ['-c', `drop database if exists ${dbName}`, '-c', `create database ${dbName}`]);
cleanup.push(() => psql('test', ['-c', `drop database if exists ${dbName} with (force)`]));
const dbUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const work = mkdtempSync(join(tmpdir(), 'rgz-bench-radius-'));
if (values.keep) console.error(`[bench] keeping ${work}`);
else cleanup.push(() => rmSync(work, { recursive: true, force: true }));

const ports = { rgzAuth: await freePort(), rgzAcct: await freePort(), frAuth: await freePort(), frAcct: await freePort() };
const restToken = `bench-rest-${process.pid}-0123456789abcdef`;

async function startRgz() {
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
      "  - '@rgz/nas-mikrotik'",
      "  - package: '@rgz/plugin-radius'",
      '    config:',
      `      auth: { host: 127.0.0.1, port: ${ports.rgzAuth} }`,
      `      acct: { host: 127.0.0.1, port: ${ports.rgzAcct} }`,
      `      nas: [{ identifier: ${NAS_IDENTIFIER}, address: 127.0.0.1, secret: ${SECRET}, vendor: mikrotik }]`,
      ...(restAvailable() ? [`      rest: { enabled: true, token: ${restToken} }`] : []),
      '',
    ].join('\n'),
  );
  // Output to a file, not a pipe: the bench process must not spend its CPU reading one log line per request.
  const logPath = join(work, 'rgz.log');
  const out = openSync(logPath, 'w');
  const prof = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/out/prof')}`] : [];
  const proc = spawn(process.execPath, [...prof, SOURCE_CONDITION, '--import', import.meta.resolve('tsx'), join(root, 'apps/server/src/bin/rgz.ts'), 'start'], {
    cwd: work,
    env: {
      ...process.env,
      RGZ_BENCH_TSX: '',
      RGZ_CONFIG: config,
      PORT: '0',
      DATABASE_URL: dbUrl,
      REDIS_URL: 'redis://127.0.0.1:6379',
      RGZ_REDIS__KEY_PREFIX: prefix,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  children.push(proc);
  const until = Date.now() + 90_000;
  for (;;) {
    const text = readFileSync(logPath, 'utf8');
    const m = /RGZ listening on port (\d+)/.exec(text);
    if (m) return { proc, httpPort: Number(m[1]), log: () => readFileSync(logPath, 'utf8').slice(-3000) };
    if (proc.exitCode !== null || Date.now() > until) throw new Error(`RGZ did not start:\n${text.slice(-3000)}`);
    await sleep(200);
  }
}

/** The rlm_rest backend of plugin-radius and its FreeRADIUS files (they arrived while this bench was written). */
const REST_DIR = join(root, 'packages/plugin-radius/freeradius');
function restAvailable() {
  return existsSync(join(REST_DIR, 'mods-available/rgz_rest')) && existsSync(join(root, 'packages/plugin-radius/src/rest'));
}

// --- run -----------------------------------------------------------------------------------------------------------
const results = { at: new Date().toISOString(), subscribers: N, seconds: SECONDS, concurrency: K, rate: RATE, sockets: SOCKETS, loadavg: [], rows: {} };
try {
  console.error(`[bench] starting RGZ (PostgreSQL ${dbName}, Redis prefix ${prefix})`);
  const rgz = await startRgz();

  // Seed through core's own API: subscribers, a subscription to the plan, a portal session in KV.
  console.error(`[bench] seeding ${N} subscribers with plan ${PLAN}`);
  const kernel = await createKernel({
    config: parseServerConfig(
      { log: { level: 'warn' }, database: { url: dbUrl }, redis: { url: 'redis://127.0.0.1:6379', keyPrefix: prefix }, plugins: [] },
      {},
    ),
    plugins: [],
  });
  await kernel.start({ worker: false, scheduler: false, serve: false });
  const db = kernel.db;
  const plan = await db.selectFrom('plans').selectAll().where('code', '=', PLAN).where('reseller_id', 'is', null).executeTakeFirstOrThrow();
  const rate = `${plan.rate_up_kbps}k/${plan.rate_down_kbps}k`;
  const users = [];
  for (let i = 0; i < N; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({
      subscriber_ref: `RGZ-B${String(i + k).padStart(6, '0')}`,
      msisdn: `+22901${String(90_000_000 + i + k)}`,
    }));
    const inserted = await db.insertInto('subscribers').values(rows).returning(['id', 'subscriber_ref']).execute();
    for (const r of inserted) {
      const n = users.length;
      const mac = `02-00-${[(n >> 16) & 255, (n >> 8) & 255, n & 255, 1].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('-')}`;
      users.push({ id: r.id, ref: r.subscriber_ref, token: Math.random().toString(36).slice(2, 10).padEnd(8, 'x') + String(n).padStart(8, '0'), mac, rate });
    }
  }
  let at = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (at < users.length) {
        const u = users[at++];
        await activateSubscription(db, { subscriberId: u.id, planId: plan.id, source: 'grant', sourceRef: `bench-${u.ref}` });
        await kernel.kv.set(kvKeys.session(u.id), JSON.stringify({ token: u.token, mac: null, issued_at: new Date().toISOString() }), 86_400);
      }
    }),
  );
  const schema = psql(dbName, ['-f', '-'], sqlPeerSchema());
  if (schema.status !== 0) throw new Error(`rlm_sql schema: ${schema.stderr}`);
  for (let i = 0; i < users.length; i += 1000) {
    const chunk = users.slice(i, i + 1000);
    await sql`insert into freeradius.bench_tokens (subscriber_id, token) values ${sql.join(chunk.map((u) => sql`(${u.id}, ${u.token})`))}`.execute(db);
  }
  await sql`analyze`.execute(db);

  const authCount = Math.min(MAX_PACKETS, Math.max(50_000, K * 400 * SECONDS));
  const openCount = Math.ceil(RATE * SECONDS * 1.05);
  const acctCount = Math.min(MAX_PACKETS, 20_000 * SECONDS);
  console.error(`[bench] precomputing ${authCount + openCount} Access-Requests and ${2 * acctCount} Accounting-Requests with RGZ's codec`);
  const auth = accessRequests(authCount + openCount, users, SECRET, SOCKETS);
  const acct = accountingStarts(2 * acctCount, users, SECRET, SOCKETS, `b${process.pid}`);
  const sanity = () => oneAccessRequest(users[0], SECRET);

  /** Waits until the server has worked through its backlog (a probe is answered after everything queued before it). */
  async function drain(port) {
    await sleep(500);
    await probe(port, sanity(), 60_000);
  }

  async function phases(name, authPort, acctPort, { acctStored, acctFrom = 0 }) {
    const code = await probe(authPort, sanity());
    if (code !== 2) throw new Error(`${name}: the probe Access-Request got code ${code}, not Access-Accept`);
    results.loadavg.push(loadavg()[0]);
    console.error(`[bench] ${name}: auth, closed loop K=${K}`);
    const closed = await load(authPort, auth, { mode: 'closed', from: 0, to: authCount });
    await drain(authPort);
    console.error(`[bench] ${name}: auth, open loop ${RATE}/s`);
    const open = await load(authPort, auth, { mode: 'open', from: authCount, to: authCount + openCount });
    await drain(authPort);
    console.error(`[bench] ${name}: accounting Start, closed loop K=${K}`);
    const accounting = await load(acctPort, acct, { mode: 'closed', from: acctFrom, to: acctFrom + acctCount });
    const stored = acctStored ? await acctStored() : null;
    results.rows[name] = { closed, open, accounting, stored };
    console.error(
      `[bench] ${name}: ${fmt(closed.rps, 0)} auth/s (p99 ${fmt(closed.p99Ms, 2)} ms, lost ${closed.lost}); at ${RATE}/s p99 ${fmt(open.p99Ms, 2)} ms lost ${open.lost}; ${fmt(accounting.rps, 0)} acct/s`,
    );
  }

  const countRows = (table, like) => async () =>
    Number((await sql`select count(*)::int as n from ${sql.table(table)} where ${sql.ref(like[0])} like ${like[1]}`.execute(db)).rows[0].n);

  if (ONLY.has('files') || ONLY.has('sql')) {
    for (const backend of ['files', 'sql']) {
      if (!ONLY.has(backend)) continue;
      const dir = writeRaddb(join(work, `raddb-${backend}`), { backend, authPort: ports.frAuth, acctPort: ports.frAcct, secret: SECRET, users, db: dbName });
      const fr = startFreeradius(dir);
      children.push(fr.proc);
      try {
        await phases(`freeradius-${backend}`, ports.frAuth, ports.frAcct, {
          acctStored: backend === 'sql' ? countRows('freeradius.radacct', ['acctsessionid', `b${process.pid}-%`]) : undefined,
        });
      } catch (err) {
        console.error(fr.errors());
        throw err;
      } finally {
        await fr.stop();
      }
    }
  }
  if (ONLY.has('rgz')) {
    await phases('rgz', ports.rgzAuth, ports.rgzAcct, { acctStored: countRows('radius_sessions', ['acct_session_id', `b${process.pid}-%`]) });
  }
  if (ONLY.has('rest')) {
    if (!restAvailable()) {
      console.log('\nrlm_rest: not available (plugin-radius has no REST backend in this tree)');
      results.rows['freeradius-rest'] = 'not available';
    } else {
      const env = { RGZ_URL: `http://127.0.0.1:${rgz.httpPort}`, RGZ_REST_TOKEN: restToken };
      const dir = writeRaddb(join(work, 'raddb-rest'), {
        backend: 'rest',
        authPort: ports.frAuth,
        acctPort: ports.frAcct,
        secret: SECRET,
        users,
        db: dbName,
        rest: { dir: REST_DIR },
        env,
      });
      const fr = startFreeradius(dir, env);
      children.push(fr.proc);
      try {
        await phases('freeradius-rest', ports.frAuth, ports.frAcct, {
          acctFrom: acctCount,
          acctStored: async () => (await countRows('radius_sessions', ['acct_session_id', `b${process.pid}-%`])()) - (results.rows.rgz?.stored ?? 0),
        });
      } catch (err) {
        console.error(fr.errors());
        throw err;
      } finally {
        await fr.stop();
      }
    }
  }
  await kernel.stop();
  rgz.proc.kill('SIGTERM');
  await new Promise((r) => (rgz.proc.exitCode === null ? rgz.proc.once('exit', r) : r()));

  // --- report --------------------------------------------------------------------------------------------------
  const rows = results.rows;
  const files = rows['freeradius-files'];
  const sqlRow = rows['freeradius-sql'];
  const ratio = (a, b) => (a && b ? fmt(a / b, 2) : 'n/a');
  console.log(
    `\nRADIUS on 127.0.0.1, ${N} subscribers with plan ${PLAN}, PAP + Message-Authenticator; Node load generator in a worker thread (${SOCKETS} sockets, precomputed packets), ${SECONDS} s per phase; load average ${results.loadavg.map((l) => fmt(l, 1)).join(' / ')}\n`,
  );
  console.log(
    '| server | auth/s (closed, K=' +
      K +
      ') | p50 / p99 ms | lost | at ' +
      RATE +
      '/s offered: p50 / p99 ms | lost | acct Start/s | stored rows | auth vs files | auth vs rlm_sql |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(rows)) {
    if (typeof r === 'string') {
      console.log(`| ${name} | ${r} | | | | | | | | |`);
      continue;
    }
    const rejects = (r.closed.codes[3] ?? 0) + (r.open.codes[3] ?? 0);
    console.log(
      `| ${name} | ${fmt(r.closed.rps, 0)}${r.closed.exhausted ? ' (packets exhausted)' : ''}${rejects ? ` (${rejects} rejects)` : ''} | ${fmt(r.closed.p50Ms, 2)} / ${fmt(r.closed.p99Ms, 2)} | ${r.closed.lost} | ${fmt(r.open.offeredRps, 0)}: ${fmt(r.open.p50Ms, 2)} / ${fmt(r.open.p99Ms, 2)} | ${r.open.lost} | ${fmt(r.accounting.rps, 0)} | ${r.stored ?? 'not stored'} | ${ratio(r.closed.rps, files?.closed.rps)} | ${ratio(r.closed.rps, sqlRow?.closed.rps)} |`,
    );
  }
  const g = rows.rgz;
  if (g) {
    const t = (ok) => (ok ? 'met' : 'NOT met');
    console.log('\nTargets (issue 4):');
    if (files) console.log(`- auth ≥ 0.5× FreeRADIUS-files: ${fmt(g.closed.rps / files.closed.rps, 2)}× — ${t(g.closed.rps >= 0.5 * files.closed.rps)}`);
    if (sqlRow) console.log(`- auth ≥ 1× FreeRADIUS+rlm_sql: ${fmt(g.closed.rps / sqlRow.closed.rps, 2)}× — ${t(g.closed.rps >= sqlRow.closed.rps)}`);
    console.log(
      `- p99 < 10 ms at ${RATE}/s, none lost: p99 ${fmt(g.open.p99Ms, 2)} ms, ${g.open.lost} lost of ${g.open.sent} (offered ${fmt(g.open.offeredRps, 0)}/s) — ${t(g.open.p99Ms < 10 && g.open.lost === 0 && g.open.offeredRps >= 0.95 * RATE)}`,
    );
    console.log(
      `- accounting ≥ 10,000/s stored: ${fmt(g.accounting.rps, 0)}/s, ${g.stored} rows for ${g.accounting.codes[5] ?? 0} answers — ${t(g.accounting.rps >= 10_000 && g.stored >= (g.accounting.codes[5] ?? 0))}`,
    );
  }
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/radius-auth.json'), JSON.stringify(results, null, 2));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await sleep(300);
  for (const f of cleanup) f();
}
process.exit(0);
