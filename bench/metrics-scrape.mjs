#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// Benchmark (issue 6): the cost of a Prometheus scrape of a server with EVERY plugin of the repository loaded (dummy
// but valid config, every listener on 127.0.0.1 with a port chosen by the system) on PostgreSQL + Redis: /metrics
// response time (p50/p95 over N sequential scrapes, as Prometheus scrapes one target), the size of the exposition,
// and the server's RSS idle and after the scrapes, from /proc/<pid>/status. Peer: a bare prom-client registry with
// the same number of series served by node:http (bench/peer-metrics.mjs); the ratio is what RGZ adds.
// Figures go to the console and bench/out/metrics-scrape.json; docs/benchmarks.md records a run.
// Usage: node bench/metrics-scrape.mjs [--scrapes 200] [--max-seconds 120] [--no-build]
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDebian, fmt, rssMb, startProcess } from './lib.mjs';

const { values } = parseArgs({
  options: { scrapes: { type: 'string', default: '200' }, 'max-seconds': { type: 'string', default: '120' }, 'no-build': { type: 'boolean' } },
});
const SCRAPES = Number(values.scrapes);
const MAX_MS = Number(values['max-seconds']) * 1000;
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'apps/server/dist/bin/rgz.js');
ensureDebian('age', 'age-keygen');

if (!values['no-build']) {
  const b = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (b.status !== 0) process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-metrics-'));
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
const ageKey = spawnSync('age-keygen', ['-o', join(dir, 'backup-key.txt')], { encoding: 'utf8' });
const ageRecipient = /age1[0-9a-z]+/.exec(`${ageKey.stdout}${ageKey.stderr}`)?.[0];
if (!ageRecipient) throw new Error(`age-keygen gave no recipient: ${ageKey.stderr}`);
const secret = (label) => `bench-${label}-secret-0123456789-abcdefghijklmnopqrstuvwxyz`;
const loopback = { host: '127.0.0.1', port: 0 };

// Dummy but valid config for each plugin that needs one; every other plugin is loaded with `{}`.
const PLUGIN_CONFIG = {
  'rgz-plugin-sms-file': { path: join(dir, 'sms.jsonl'), senderId: 'RGZ' },
  '@rgz/plugin-letexto': { apiKey: 'bench-letexto-key', senderId: 'RGZ', baseUrl: 'http://127.0.0.1:9/' },
  '@rgz/plugin-portal': { secret: secret('portal') },
  '@rgz/plugin-radius': { auth: loopback, acct: loopback },
  '@rgz/plugin-dns-sinkhole': { host: '127.0.0.1', port: 0, portalIpv4: '127.0.0.1', upstreams: ['127.0.0.1:9'] },
  '@rgz/plugin-kkiapay': { sandbox: true, publicKey: 'pk', privateKey: 'tpk', secret: 'tsk', webhookSecret: secret('kkiapay'), baseUrl: 'http://127.0.0.1:9/' },
  '@rgz/plugin-fedapay': { sandbox: true, secretKey: 'sk_sandbox_bench', webhookSecret: 'wh_sandbox_bench', baseUrl: 'http://127.0.0.1:9/' },
  '@rgz/plugin-billing': { defaultProvider: 'kkiapay' },
  '@rgz/plugin-incidents': { webhookToken: secret('alertmanager') },
  '@rgz/plugin-notify': { channels: [{ id: 'noc-webhook', kind: 'webhook', url: 'http://127.0.0.1:9/hook' }] },
  '@rgz/plugin-vouchers': { secret: secret('vouchers') },
  '@rgz/plugin-logs': {
    dataDir: join(dir, 'logs'),
    syslog: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 },
  },
  '@rgz/plugin-backup': {
    recipients: [ageRecipient],
    targets: [{ id: 'local', kind: 'folder', path: join(dir, 'backups') }],
    verify: { identityFile: join(dir, 'backup-key.txt') },
  },
  '@rgz/plugin-reports': {
    operator: { name: 'Bench SARL', address: 'Cotonou', rccm: 'RB/COT/00', ifu: '0000000000000', phone: '+229 01 00 00 00 00', email: 'bench@example.bj' },
    signing: { privateKeyPem: signingKey },
    archive: { folder: join(dir, 'invoices') },
  },
  '@rgz/plugin-arcep': { operator: { legalName: 'Bench SARL' }, signing: { privateKeyPem: signingKey }, delivery: { folder: join(dir, 'arcep') } },
};

/** Every workspace package that is a plugin: it peers on @rgz/core and its entry default-exports a plugin. */
function pluginPackages() {
  const found = [];
  for (const parent of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, parent)).sort()) {
      const pkgFile = join(root, parent, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      const entry = join(root, parent, name, 'src', 'index.ts');
      if (!pkg.peerDependencies?.['@rgz/core'] || !existsSync(entry) || !/export default definePlugin\(/.test(readFileSync(entry, 'utf8'))) continue;
      found.push(pkg.name);
    }
  }
  return found;
}

const packages = pluginPackages();
// Providers of points (NAS dialects, log parsers, CPE profiles, payment providers, SMS senders) load first.
const order = (n) => (/\/(nas|cpe|logparser)-|kkiapay|fedapay|letexto|sms-file/.test(n) ? 0 : 1);
packages.sort((a, b) => order(a) - order(b));
async function scrape(url) {
  const times = [];
  let bytes = 0;
  let body = '';
  const started = Date.now();
  for (let i = 0; i < SCRAPES && Date.now() - started < MAX_MS; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(url);
    body = await res.text();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    bytes = body.length;
  }
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
  const lines = body.split('\n');
  return {
    scrapes: times.length,
    p50Ms: pct(50),
    p95Ms: pct(95),
    maxMs: times[times.length - 1],
    bytes,
    series: lines.filter((l) => l && !l.startsWith('#')).length,
    families: lines.filter((l) => l.startsWith('# TYPE ')).length,
  };
}

async function measureRgz(plugins) {
  const dbName = `rgz_bench_metrics_${process.pid}`;
  const psql = (sql) => spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-c', sql], { stdio: 'ignore' });
  psql(`drop database if exists ${dbName}`);
  psql(`create database ${dbName}`);
  const configFile = join(dir, `rgz.config.${plugins.length}.json`);
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'warn' },
        plugins: plugins.map((name) => ({ package: name, config: PLUGIN_CONFIG[name] ?? {} })),
      },
      null,
      2,
    ),
  );
  const env = {
    PORT: '0',
    RGZ_CONFIG: configFile,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${dbName}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    RGZ_REDIS__KEY_PREFIX: `bench-metrics-${process.pid}:`,
    LOG_LEVEL: 'info',
  };
  try {
    const server = await startProcess(process.execPath, [bin, 'start'], { env, readyPattern: /RGZ listening on port (\d+)/, timeoutMs: 180_000 });
    try {
      const url = `http://127.0.0.1:${server.match[1]}/metrics`;
      await new Promise((r) => setTimeout(r, 5000));
      const idleRss = rssMb(server.proc.pid);
      for (let i = 0; i < 10; i++) await (await fetch(url)).text(); // warm-up
      const result = await scrape(url);
      const afterRss = rssMb(server.proc.pid);
      return { ...result, idleRss, afterRss, plugins: plugins.length };
    } finally {
      server.proc.kill('SIGTERM');
      await new Promise((r) => server.proc.once('exit', r));
    }
  } finally {
    psql(`drop database if exists ${dbName} with (force)`);
  }
}

async function measurePeer(series, families) {
  const peer = await startProcess(process.execPath, [join(root, 'bench/peer-metrics.mjs'), String(series), String(families)], {
    readyPattern: /PEER listening on port (\d+)/,
  });
  try {
    const url = `http://127.0.0.1:${peer.match[1]}/metrics`;
    await new Promise((r) => setTimeout(r, 2000));
    const idleRss = rssMb(peer.proc.pid);
    for (let i = 0; i < 10; i++) await (await fetch(url)).text();
    const result = await scrape(url);
    return { ...result, idleRss, afterRss: rssMb(peer.proc.pid) };
  } finally {
    peer.proc.kill('SIGTERM');
  }
}

try {
  const bare = await measureRgz([]);
  const rgz = await measureRgz(packages);
  const peer = await measurePeer(rgz.series, rgz.families);
  console.log(`\nGET /metrics, ${rgz.scrapes} sequential scrapes after 10 warm-up ones, on the same 2-core machine`);
  console.log(`RGZ with all ${rgz.plugins} plugins of the repository on PostgreSQL + Redis: ${packages.join(', ')}\n`);
  console.log('| server | series | families | body kB | p50 ms | p95 ms | max ms | RSS idle MB | RSS after MB | p50 ratio vs peer |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, r] of [
    ['prom-client registry on node:http (peer)', peer],
    ['RGZ, core only (no plugin)', bare],
    [`RGZ, all ${rgz.plugins} plugins`, rgz],
  ])
    console.log(
      `| ${name} | ${r.series} | ${r.families} | ${fmt(r.bytes / 1024)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p95Ms, 2)} | ${fmt(r.maxMs, 1)} | ${fmt(r.idleRss, 0)} | ${fmt(r.afterRss, 0)} | ${fmt(r.p50Ms / peer.p50Ms, 2)} |`,
    );
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(
    join(root, 'bench/out/metrics-scrape.json'),
    JSON.stringify({ at: new Date().toISOString(), scrapes: SCRAPES, packages, bare, rgz, peer }, null, 2),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
