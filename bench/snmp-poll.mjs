#!/usr/bin/env node
// Benchmark (issue 7, flow 7): SNMP polling.
//  1. CPEs polled per second for the WHOLE poll (request, parse, store in PostgreSQL, per-site metrics) by RGZ's
//     `snmp.poll` job, against the speed peer Debian `prometheus-snmp-exporter` 0.21 scraping the same simulated CPEs
//     in the same run (scrape = request + parse + exposition; Prometheus would store), printed as a ratio. The CPEs
//     are Net-SNMP `snmpd` listening on many 127.0.0.1 ports (shared/specs/snmp.md: snmpsim is too slow to be the
//     speed peer), made to look like airMAX radios with `override` (sysObjectID, UBNT-AirMAX-MIB signal, CCQ, noise,
//     rates, airtime, CPU, temperature) over the host's real IF-MIB; both sides fetch the same OIDs: the airMAX
//     profile's plan (its gets and walk roots), which the exporter module below is generated from.
//  2. One poll of a fleet where 10 % of the CPEs do not answer (127.3.x.y, nothing listening), with its duration:
//     the first poll (which detects every profile) and a steady-state one. Default 1 000 CPEs; --full for 10 000.
// Only 127.0.0.0/8 addresses are used. Nothing is written to docs/: figures go to the console and bench/out/.
// Usage: node bench/snmp-poll.mjs [--cpes 1000] [--fleet 1000 | --full] [--rounds 3] [--concurrency 200]
//                                 [--timeout-ms 2000] [--retries 1] [--embedded] [--cpu-prof] [--rgz-only]
// --rgz-only skips the exporter's rounds (no ratio): for profiling RGZ's side quickly.
// --cpu-prof writes a CPU profile of RGZ's measured ratio rounds only (not the set-up, not the exporter's rounds) to
// bench/out/prof-snmp/rgz-rounds.cpuprofile (open it in Chrome DevTools or speedscope).
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

// The plugins are TypeScript sources (the `@rgz/source` export condition): run under tsx, as `npm run dev` does.
if (!process.env.RGZ_BENCH_TSX) {
  const r = spawnSync(process.execPath, ['--conditions=@rgz/source', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, RGZ_BENCH_TSX: '1' },
  });
  process.exit(r.status ?? 1);
}

const { ensureDebian, fmt } = await import('./lib.mjs');
const { values } = parseArgs({
  options: {
    cpes: { type: 'string', default: '1000' },
    fleet: { type: 'string', default: '1000' },
    full: { type: 'boolean' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '200' },
    'timeout-ms': { type: 'string', default: '2000' },
    retries: { type: 'string', default: '1' },
    embedded: { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
    'rgz-only': { type: 'boolean' },
  },
});
const CPES = Number(values.cpes);
const FLEET = values.full ? 10_000 : Number(values.fleet);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const TIMEOUT_MS = Number(values['timeout-ms']);
const RETRIES = Number(values.retries);
// snmpd select()s over all its sockets for every request: many small processes answer faster than one with thousands.
const PORTS_PER_SNMPD = 250;

ensureDebian('snmpd', 'snmpd');
ensureDebian('prometheus-snmp-exporter', 'prometheus-snmp-exporter');

const { createKernel, parseServerConfig, sql } = await import('@rgz/core');
const { default: inventory } = await import('@rgz/plugin-inventory');
const { default: snmp } = await import('@rgz/plugin-snmp');
const { default: airmax, airMaxPlan } = await import('@rgz/cpe-ubiquiti-airmax');

const children = [];
const cleanup = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

// --- simulated CPEs ------------------------------------------------------------------------------------------
/**
 * `n` distinct UDP ports free on 127.0.0.1, taken below the kernel's ephemeral range (32768+) so that no other
 * process's outgoing socket grabs one between this check and snmpd binding it.
 */
let nextPort = 12_000;
async function freePorts(n) {
  const ports = [];
  while (ports.length < n) {
    if (nextPort >= 32_000) throw new Error('not enough free UDP ports below 32000');
    const port = nextPort++;
    const s = createSocket('udp4');
    const ok = await new Promise((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      ports.push(port);
      await new Promise((r) => s.close(r));
    }
  }
  return ports;
}

const A = '1.3.6.1.4.1.41112.1.4';
const OVERRIDES = [
  ['1.3.6.1.2.1.1.2.0', 'object_id', '.1.3.6.1.4.1.10002.1'],
  [`${A}.1.1.4.1`, 'integer', '5780'],
  [`${A}.1.1.6.1`, 'integer', '24'],
  [`${A}.5.1.5.1`, 'integer', '-63'],
  [`${A}.5.1.7.1`, 'integer', '91'],
  [`${A}.5.1.8.1`, 'integer', '-95'],
  [`${A}.5.1.9.1`, 'integer', '130000000'],
  [`${A}.5.1.10.1`, 'integer', '86700000'],
  [`${A}.5.1.15.1`, 'uinteger', '1'],
  [`${A}.6.1.4.1`, 'integer', '60'],
  [`${A}.6.1.7.1`, 'integer', '253'],
  [`${A}.8.3.0`, 'integer', '1250'],
  [`${A}.8.4.0`, 'integer', '54'],
];

async function waitForAgent(port, proc) {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (proc.exitCode !== null) return false;
    const r = spawnSync('snmpget', ['-v2c', '-c', 'litebeam', '-t', '0.3', '-r', '0', '-On', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.3.0'], {
      encoding: 'utf8',
      env: { ...process.env, MIBS: '' },
    });
    if (r.status === 0) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`snmpd on 127.0.0.1:${port} did not answer`);
}

/**
 * snmpd processes listening on `n` loopback ports (PORTS_PER_SNMPD per process). snmpd exits if one endpoint is
 * taken (another process may bind a port between the check and snmpd): then that chunk gets fresh ports.
 */
async function startCpes(n) {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-snmpd-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  // Not snmpd.conf: snmpd rewrites $SNMP_PERSISTENT_DIR/snmpd.conf with its persistent state at start-up.
  const conf = join(dir, 'agent.conf');
  writeFileSync(
    conf,
    ['rocommunity litebeam 127.0.0.1', 'dontLogTCPWrappersConnects yes', ...OVERRIDES.map(([o, t, v]) => `override .${o} ${t} ${v}`)].join('\n') + '\n',
  );
  const procs = [];
  const ports = [];
  for (let left = n; left > 0; left -= PORTS_PER_SNMPD) {
    const want = Math.min(PORTS_PER_SNMPD, left);
    for (let attempt = 1; ; attempt++) {
      const chunk = await freePorts(want);
      const proc = spawn('snmpd', ['-f', '-Lf', '/dev/null', '-C', '-c', conf, '-r', '-I', '-smux', ...chunk.map((p) => `udp:127.0.0.1:${p}`)], {
        stdio: 'ignore',
        env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '', MIBDIRS: dir },
      });
      children.push(proc);
      if ((await waitForAgent(chunk[0], proc)) && (await waitForAgent(chunk[chunk.length - 1], proc))) {
        procs.push(proc);
        ports.push(...chunk);
        break;
      }
      if (attempt === 5) throw new Error('snmpd could not bind its ports five times');
      console.error(`[bench] snmpd could not bind one of ${chunk.length} ports; retrying with others`);
    }
  }
  return {
    ports,
    /** CPU seconds the snmpd processes have used so far (utime + stime, /proc). */
    cpuSeconds: () =>
      procs.reduce((sum, p) => {
        const fields = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return sum + (Number(fields[11]) + Number(fields[12])) / 100;
      }, 0),
    stop: async () => {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
    },
  };
}

// --- RGZ ---------------------------------------------------------------------------------------------------------
async function startRgz() {
  let dbName;
  let database = { embeddedDataDir: 'memory://' };
  if (!values.embedded) {
    dbName = `rgz_bench_snmp_${process.pid}`;
    spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `drop database if exists ${dbName}`, '-c', `create database ${dbName}`], {
      stdio: 'ignore',
    });
    database = { url: `postgres://postgres@127.0.0.1:5432/${dbName}`, poolMax: 10 };
    cleanup.push(() =>
      spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', `drop database if exists ${dbName} with (force)`], { stdio: 'ignore' }),
    );
  }
  const config = parseServerConfig({ log: { level: 'warn' }, database, plugins: [] }, {});
  const kernel = await createKernel({
    config,
    plugins: [
      { plugin: inventory },
      { plugin: snmp, config: { concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, retries: RETRIES, jobTimeoutSeconds: 600 } },
      { plugin: airmax },
    ],
  });
  await kernel.start({ worker: false, scheduler: false });
  const sites = [];
  for (let i = 0; i < 50; i++) {
    sites.push(
      (
        await kernel.db
          .insertInto('inventory_sites')
          .values({ name: `site-${i}`, capacity_down_kbps: 200_000 })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
  }
  return { kernel, sites, backend: values.embedded ? 'PGlite (embedded)' : 'PostgreSQL' };
}

async function setDevices(rgz, endpoints) {
  const db = rgz.kernel.db;
  await sql`truncate inventory_devices, snmp_device_state`.execute(db);
  const rows = endpoints.map(([address, port], i) => ({
    name: `cpe-${i}`,
    kind: 'cpe',
    site_id: rgz.sites[i % rgz.sites.length],
    address,
    port,
    profile: 'auto',
    snmp_version: '2c',
    snmp_community: 'litebeam',
  }));
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('inventory_devices')
      .values(rows.slice(i, i + 1000))
      .execute();
}

async function rgzPoll(rgz) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const out = await rgz.kernel.scheduler.trigger('snmp.poll');
  const seconds = (performance.now() - t0) / 1000;
  // CPU of this process (RGZ; the CPEs and PostgreSQL are other processes): steadier than seconds on a shared machine.
  const cpu = process.cpuUsage(cpu0);
  if (out.status !== 'succeeded') throw new Error(`snmp.poll ${out.status}: ${out.error}`);
  return { seconds, cpuMs: (cpu.user + cpu.system) / 1000, summary: out.result };
}

// --- prometheus-snmp-exporter ------------------------------------------------------------------------------------
const STRING_COLUMNS = new Set([
  '1.3.6.1.2.1.2.2.1.2',
  '1.3.6.1.2.1.31.1.1.1.1',
  `${A}.5.1.2`,
  `${A}.5.1.4`,
  `${A}.7.1.2`,
  '1.2.840.10036.3.1.2.1.3',
  '1.2.840.10036.3.1.2.1.4',
]);
const COUNTER_COLUMNS = new Set([
  '1.3.6.1.2.1.2.2.1.10',
  '1.3.6.1.2.1.2.2.1.16',
  '1.3.6.1.2.1.31.1.1.1.6',
  '1.3.6.1.2.1.31.1.1.1.10',
  '1.3.6.1.2.1.2.2.1.13',
  '1.3.6.1.2.1.2.2.1.14',
  '1.3.6.1.2.1.2.2.1.20',
]);

/** The exporter module for the same OIDs as RGZ's airMAX profile plan (its gets and walk roots). */
function exporterModule() {
  const name = (oid) => `m_${oid.replaceAll('.', '_')}`;
  const metrics = [
    ...airMaxPlan.get.map((oid) => `  - {name: ${name(oid)}, oid: ${oid}, type: gauge}`),
    ...airMaxPlan.walk.map(
      (oid) =>
        `  - {name: ${name(oid)}, oid: ${oid}, type: ${STRING_COLUMNS.has(oid) ? 'DisplayString' : COUNTER_COLUMNS.has(oid) ? 'counter' : 'gauge'}, indexes: [{labelname: index, type: gauge}]}`,
    ),
  ];
  return [
    'wisp_cpe:',
    '  version: 2',
    '  auth: {community: litebeam}',
    `  timeout: ${TIMEOUT_MS / 1000}s`,
    `  retries: ${RETRIES}`,
    `  max_repetitions: ${airMaxPlan.maxRepetitions ?? 20}`,
    `  get: [${airMaxPlan.get.join(', ')}]`,
    `  walk: [${airMaxPlan.walk.join(', ')}]`,
    '  metrics:',
    ...metrics,
  ].join('\n');
}

async function startExporter() {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-exporter-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'snmp.yml'), `${exporterModule()}\n`);
  const check = spawnSync('prometheus-snmp-exporter', [`--config.file=${join(dir, 'snmp.yml')}`, '--dry-run'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`exporter config rejected: ${check.stderr}`);
  const [port] = await freePorts(1);
  const proc = spawn('prometheus-snmp-exporter', [`--config.file=${join(dir, 'snmp.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'], {
    stdio: 'ignore',
  });
  children.push(proc);
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => proc.kill('SIGTERM') };
}

async function exporterRound(exporter, ports) {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, ports.length) }, async () => {
      while (next < ports.length) {
        const port = ports[next++];
        // identity: the scraping client must not become the bottleneck by gunzipping 200 answers at once in one thread.
        const res = await fetch(`http://127.0.0.1:${exporter.port}/snmp?target=127.0.0.1:${port}&module=wisp_cpe`, {
          headers: { 'accept-encoding': 'identity' },
        });
        const body = await res.text();
        if (!res.ok || !body.includes(`m_${A.replaceAll('.', '_')}_5_1_5{index="1"} -63`)) failed++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, failed };
}

/** Profiles `fn` with the in-process inspector when --cpu-prof is given (only the RGZ rounds, not the set-up). */
async function profiled(name, fn) {
  if (!values['cpu-prof']) return fn();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const dir = join(root, 'bench/out/prof-snmp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
    console.error(`[bench] CPU profile: ${join(dir, `${name}.cpuprofile`)}`);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// --- run -----------------------------------------------------------------------------------------------------------
const results = { at: new Date().toISOString(), cpes: CPES, fleet: FLEET, rounds: ROUNDS, concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, retries: RETRIES };
try {
  const rgz = await startRgz();
  results.backend = rgz.backend;

  // 1. Ratio, on CPES answering CPEs (skipped with --cpes 0).
  if (CPES > 0) {
    console.error(`[bench] ${CPES} simulated airMAX CPEs (snmpd on ${CPES} loopback ports)`);
    const cpes = await startCpes(CPES);
    await setDevices(
      rgz,
      cpes.ports.map((p) => ['127.0.0.1', p]),
    );
    const warm = await rgzPoll(rgz); // detects every profile, sets the counter baselines
    if (warm.summary.results.ok !== CPES) throw new Error(`warm-up poll: ${JSON.stringify(warm.summary.results)}`);
    const rgzRounds = [];
    const snmpdCpu0 = cpes.cpuSeconds();
    await profiled('rgz-rounds', async () => {
      for (let i = 0; i < ROUNDS; i++) rgzRounds.push(await rgzPoll(rgz));
    });
    const snmpdCpuPerCpe = ((cpes.cpuSeconds() - snmpdCpu0) * 1000) / (CPES * ROUNDS);
    const expRounds = [];
    if (!values['rgz-only']) {
      const exporter = await startExporter();
      await exporterRound(exporter, cpes.ports);
      for (let i = 0; i < ROUNDS; i++) expRounds.push(await exporterRound(exporter, cpes.ports));
      exporter.stop();
    }
    await cpes.stop();
    const rgzSeconds = median(rgzRounds.map((r) => r.seconds));
    const expSeconds = expRounds.length ? median(expRounds.map((r) => r.seconds)) : Number.NaN;
    const r = {
      rgz: {
        seconds: rgzRounds.map((x) => x.seconds),
        cpesPerSecond: CPES / rgzSeconds,
        requestsPerPoll: rgzRounds[0].summary.requests / CPES,
        cpuMsPerCpe: median(rgzRounds.map((x) => x.cpuMs / CPES)),
        snmpdCpuMsPerCpe: snmpdCpuPerCpe,
        ok: rgzRounds.map((x) => x.summary.results.ok),
        phasesMs: rgzRounds.map((x) => x.summary.phasesMs),
      },
      exporter: { seconds: expRounds.map((x) => x.seconds), cpesPerSecond: CPES / expSeconds, failed: expRounds.map((x) => x.failed) },
    };
    r.ratio = r.rgz.cpesPerSecond / r.exporter.cpesPerSecond;
    results.ratio = r;
    console.log(
      `\nSNMP polling, ${CPES} simulated airMAX CPEs (snmpd, 127.0.0.1), concurrency ${CONCURRENCY}, timeout ${TIMEOUT_MS} ms × ${RETRIES + 1}, median of ${ROUNDS}; RGZ on ${rgz.backend}\n`,
    );
    console.log('| poller | work per CPE | seconds | CPEs/s | ratio |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| RGZ snmp.poll job | request + parse + store + metrics (${fmt(r.rgz.requestsPerPoll, 1)} SNMP requests) | ${fmt(rgzSeconds, 2)} | ${fmt(r.rgz.cpesPerSecond, 0)} | ${fmt(r.ratio, 2)} |`,
    );
    if (expRounds.length)
      console.log(
        `| prometheus-snmp-exporter 0.21 (peer) | request + parse + exposition | ${fmt(expSeconds, 2)} | ${fmt(r.exporter.cpesPerSecond, 0)} | 1.00 |`,
      );
    console.log(
      `RGZ rounds, s: ${r.rgz.seconds.map((x) => fmt(x, 2)).join(', ')}; RGZ process CPU per CPE (median): ${fmt(r.rgz.cpuMsPerCpe, 3)} ms; snmpd CPU per CPE polled by RGZ: ${fmt(r.rgz.snmpdCpuMsPerCpe, 3)} ms`,
    );
    if (r.exporter.failed.some((n) => n > 0)) console.log(`(exporter scrapes without the expected values: ${r.exporter.failed.join(', ')})`);
  }

  // 2. Fleet with 10 % not answering (skipped with --fleet 0).
  if (FLEET > 0) {
    const dead = Math.round(FLEET * 0.1);
    console.error(`[bench] fleet of ${FLEET} CPEs, ${dead} not answering`);
    const fleet = await startCpes(FLEET - dead);
    const endpoints = fleet.ports.map((p) => ['127.0.0.1', p]);
    for (let i = 0; i < dead; i++) endpoints.push([`127.3.${Math.floor(i / 250)}.${(i % 250) + 1}`, 1]);
    await setDevices(rgz, endpoints);
    const first = await rgzPoll(rgz);
    const steady = await rgzPoll(rgz);
    await fleet.stop();
    results.fleet = {
      cpes: FLEET,
      dead,
      first: { seconds: first.seconds, results: first.summary.results, phasesMs: first.summary.phasesMs },
      steady: { seconds: steady.seconds, results: steady.summary.results, phasesMs: steady.summary.phasesMs },
    };
    const phases = (p) => `${fmt(p.prepare / 1000, 1)} / ${fmt(p.poll / 1000, 1)} / ${fmt(p.storeTail / 1000, 1)} (writing ${fmt(p.writing / 1000, 1)})`;
    console.log(
      `\nFleet poll: ${FLEET} CPEs, ${dead} (10 %) not answering (127.3.x.y, nothing listening); concurrency ${CONCURRENCY}, timeout ${TIMEOUT_MS} ms × ${RETRIES + 1} (× 1 once known down); RGZ on ${rgz.backend}\n`,
    );
    console.log('| poll | seconds | ok | timeout | prepare / poll / store tail, s |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| first (detects every profile) | ${fmt(first.seconds, 1)} | ${first.summary.results.ok} | ${first.summary.results.timeout} | ${phases(first.summary.phasesMs)} |`,
    );
    console.log(
      `| steady state | ${fmt(steady.seconds, 1)} | ${steady.summary.results.ok} | ${steady.summary.results.timeout} | ${phases(steady.summary.phasesMs)} |`,
    );
  }
  await rgz.kernel.stop();
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/snmp-poll.json'), JSON.stringify(results, null, 2));
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const f of cleanup) f();
}
process.exit(0);
