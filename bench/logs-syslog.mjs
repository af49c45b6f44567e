#!/usr/bin/env node
// Benchmark (issue 8, Flux 5): syslog lines/s parsed and shipped by one RGZ process (the real server with
// @rgz/plugin-logs and the three vendor parsers, embedded PGlite), to the wire-compatible bulk test server in another
// process; then memory and accounting under a UDP flood.
//   A. throughput: TCP senders push N mixed lines (airOS hostapd RFC 3164, FreeRADIUS auth RFC 5424, unknown lines);
//      timed until the bulk server holds all N documents (parsed, batched, shipped, acknowledged). TCP is lossless
//      (back-pressure), so this is the pipeline's ceiling.
//   B. flood: a UDP blaster sends as fast as it can for S seconds; RSS is sampled; every datagram is accounted for
//      (processed, dropped by the bounded queue, dropped by the kernel's socket buffer).
// Usage: node bench/logs-syslog.mjs [--lines 300000] [--flood-seconds 10] [--connections 1] [--no-build]
// On a 2-vCPU machine the sender, the RGZ process and the bulk peer share the CPUs: one sender connection is the
// default so the sender does not starve the measured process.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, rssMb, startProcess } from './lib.mjs';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '300000' },
    'flood-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '1' },
    'no-build': { type: 'boolean' },
  },
});
const N = Number(values.lines);
const floodSeconds = Number(values['flood-seconds']);
const connections = Number(values.connections);
const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'apps/server/dist/bin/rgz.js');

if (!values['no-build']) {
  const filters = [
    '@rgz/server...',
    '@rgz/plugin-logs...',
    '@rgz/logparser-freeradius',
    '@rgz/logparser-ubiquiti-airos',
    '@rgz/logparser-cambium-epmp',
  ].flatMap((f) => ['--filter', f]);
  const b = spawnSync('npx', ['turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (b.status !== 0) process.exit(1);
}

async function freePort(type) {
  if (type === 'udp') {
    const s = createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    const p = s.address().port;
    await new Promise((r) => s.close(r));
    return p;
  }
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

const bulk = await startProcess(process.execPath, [join(root, 'bench/peer-bulk-server.mjs')], { readyPattern: /BULK listening on port (\d+)/ });
const bulkUrl = `http://127.0.0.1:${bulk.match[1]}`;
const count = async () => (await (await fetch(`${bulkUrl}/_count`)).json()).count ?? 0;

const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-logs-'));
const syslogPort = await freePort('tcp');
const pkg = (name) => join(root, 'packages', name, 'dist/index.js');
writeFileSync(
  join(dir, 'rgz.config.yaml'),
  `http:
  host: 127.0.0.1
log:
  level: warn
database:
  embeddedDataDir: ${join(dir, 'pglite')}
plugins:
  - package: ${pkg('logparser-freeradius')}
  - package: ${pkg('logparser-ubiquiti-airos')}
  - package: ${pkg('logparser-cambium-epmp')}
  - package: ${pkg('plugin-logs')}
    config:
      dataDir: ${join(dir, 'logs')}
      syslog: { host: 127.0.0.1, udpPort: ${syslogPort}, tcpPort: ${syslogPort}, recvBufferSize: 8388608 }
      netflow: { attribution: { enabled: false } }
      cluster: { url: ${bulkUrl}, batch: { maxDocs: 2000, flushMs: 200 }, maxInFlight: 2 }
`,
);
mkdirSync(join(dir, 'logs'), { recursive: true });
const server = await startProcess(process.execPath, [bin, 'start'], {
  env: { PORT: '0', RGZ_CONFIG: join(dir, 'rgz.config.yaml') },
  readyPattern: /RGZ listening on port (\d+)/,
});
const httpPort = Number(server.match[1]);
const pid = server.proc.pid;
// Let start-up work (migrations, the embedded database's first checkpoint) settle before measuring.
await new Promise((r) => setTimeout(r, 10_000));
const idleRss = rssMb(pid);

const metric = async (name, labels = {}) => {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
};

// Peak RSS (whole process, embedded PGlite included) and peak JS heap in use (the pipeline's own memory).
const sampler = (ms = 100) => {
  let peak = 0;
  let heap = 0;
  let n = 0;
  const t = setInterval(async () => {
    try {
      peak = Math.max(peak, rssMb(pid));
      if (n++ % 5 === 0) heap = Math.max(heap, (await metric('nodejs_heap_size_used_bytes')) / 1024 / 1024);
    } catch {}
  }, ms);
  return {
    stop: () => {
      clearInterval(t);
      return { rss: peak, heap };
    },
  };
};

// The sender's code, run in child processes (the measured process only receives).
const LINES = `
  const hex = (n) => (n & 255).toString(16).padStart(2, '0');
  const line = (i) => {
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        return '<14>Nov 25 13:05:02 LBE-5AC-' + (i % 200) + ' hostapd: ath0: STA 24:a4:3c:' + hex(i >> 16) + ':' + hex(i >> 8) + ':' + hex(i) + ' IEEE 802.11: associated';
      case 4: case 5: case 6:
        return '<38>1 2026-11-25T13:05:02.123456+00:00 radius1 freeradius 812 - - Auth: (' + i + ') Login OK: [RGZ-' + i + '] (from client nas-' + (i % 20) + ' port ' + (i % 64) + ' cli 24-A4-3C-' + hex(i >> 16) + '-' + hex(i >> 8) + '-' + hex(i) + ')';
      default:
        return '<30>Nov 25 13:05:02 gw-' + (i % 5) + ' dnsmasq[911]: query[A] host-' + i + '.example.com from 10.100.' + hex(i >> 8) + '.' + (i & 255);
    }
  };`;

function tcpSender(port, from, to) {
  const code = `${LINES}
    const s = require('node:net').connect(${port}, '127.0.0.1');
    let i = ${from};
    const write = () => {
      while (i < ${to}) {
        let chunk = '';
        for (let k = 0; k < 256 && i < ${to}; k++) chunk += line(i++) + '\\n';
        if (!s.write(chunk)) return s.once('drain', write);
      }
      s.end();
    };
    s.on('connect', write);`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}`))));
  });
}

function udpBlaster(port, seconds) {
  const code = `${LINES}
    const s = require('node:dgram').createSocket('udp4');
    let i = 0, sent = 0;
    const end = Date.now() + ${seconds * 1000};
    const burst = () => {
      for (let k = 0; k < 200; k++) { s.send(line(i++), ${port}, '127.0.0.1'); sent++; }
      if (Date.now() < end) setImmediate(burst); else setTimeout(() => { console.log('SENT ' + sent); s.close(); }, 200);
    };
    burst();`;
  return new Promise((resolve, reject) => {
    let out = '';
    const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(Number(/SENT (\d+)/.exec(out)?.[1] ?? 0)) : reject(new Error(`blaster exited ${code}`))));
  });
}

async function waitCount(target, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await count();
    if (c >= target) return c;
    if (Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const idleHeap = (await metric('nodejs_heap_size_used_bytes')) / 1024 / 1024;

// --- A. throughput ------------------------------------------------------------------------------------------
await tcpSender(syslogPort, 0, 20_000); // warm-up (JIT, first indices)
await waitCount(20_000, 60_000);
const base = await count();
const rssA = sampler();
const t0 = performance.now();
const per = Math.ceil(N / connections);
await Promise.all(Array.from({ length: connections }, (_, k) => tcpSender(syslogPort, 20_000 + k * per, 20_000 + Math.min(N, (k + 1) * per))));
const sentAt = performance.now();
const shipped = (await waitCount(base + N, 300_000)) - base;
const seconds = (performance.now() - t0) / 1000;
const peakA = rssA.stop();
const throughput = {
  lines: N,
  shipped,
  seconds,
  linesPerSecond: shipped / seconds,
  receiveSeconds: (sentAt - t0) / 1000,
  peakRssMb: peakA.rss,
  peakHeapMb: peakA.heap,
  spooled: await metric('logs_records_total', { outcome: 'spooled' }),
  bulkRequests: await metric('logs_bulk_requests_total'),
};

// --- B. UDP flood -------------------------------------------------------------------------------------------
const before = {
  received: await metric('logs_lines_received_total', { source: 'syslog_udp' }),
  queueDrops: await metric('logs_records_dropped_total', { reason: 'queue_full' }),
  shipped: await count(),
};
const rssB = sampler(50);
const offered = await udpBlaster(syslogPort, floodSeconds);
const peakB = rssB.stop();
await new Promise((r) => setTimeout(r, 6000)); // let the last batches go and the gauges refresh
const received = (await metric('logs_lines_received_total', { source: 'syslog_udp' })) - before.received;
const queueDrops = (await metric('logs_records_dropped_total', { reason: 'queue_full' })) - before.queueDrops;
const kernelDrops = await metric('logs_udp_kernel_drops', { listener: 'syslog' });
const floodShipped = (await waitCount(before.shipped + received - queueDrops, 60_000)) - before.shipped;
const flood = {
  seconds: floodSeconds,
  offered,
  offeredPerSecond: offered / floodSeconds,
  received,
  queueDrops,
  kernelDrops,
  shipped: floodShipped,
  peakRssMb: peakB.rss,
  peakHeapMb: peakB.heap,
};

server.proc.kill('SIGTERM');
await new Promise((r) => server.proc.once('exit', r));
bulk.proc.kill('SIGTERM');

const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  idleRssMb: idleRss,
  idleHeapMb: idleHeap,
  throughput,
  flood,
};
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/logs-syslog.json'), `${JSON.stringify(result, null, 2)}\n`);

console.log(
  `\nlogs-syslog — one RGZ process (plugin-logs + 3 parsers, embedded PGlite) → bulk test server (other process); ${result.cpus} CPUs, Node ${process.version}`,
);
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| TCP: lines parsed and shipped (acknowledged by _bulk) | ${N.toLocaleString('en')} in ${fmt(seconds, 2)} s |`);
console.log(`| TCP: lines/s end to end | ${fmt(throughput.linesPerSecond, 0)} |`);
console.log(
  `| TCP: peak RSS / peak JS heap used | ${fmt(peakA.rss)} MB / ${fmt(peakA.heap)} MB (idle RSS ${fmt(idleRss)} MB: embedded PGlite is most of it) |`,
);
console.log(`| TCP: bulk requests / records that overflowed to the spool | ${throughput.bulkRequests} / ${throughput.spooled} |`);
console.log(`| UDP flood: offered | ${offered.toLocaleString('en')} in ${floodSeconds} s (${fmt(flood.offeredPerSecond, 0)}/s) |`);
console.log(`| UDP flood: received / shipped | ${received.toLocaleString('en')} / ${floodShipped.toLocaleString('en')} |`);
console.log(
  `| UDP flood: dropped by the bounded queue / by the kernel socket buffer | ${queueDrops.toLocaleString('en')} / ${kernelDrops.toLocaleString('en')} |`,
);
console.log(`| UDP flood: peak RSS / peak JS heap used | ${fmt(peakB.rss)} MB / ${fmt(peakB.heap)} MB |`);
