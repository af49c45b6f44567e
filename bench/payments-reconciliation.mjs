#!/usr/bin/env node
// Benchmark (issue 5, flow 4): the daily reconciliation of 100,000 KKiaPay payments — target under 60 s. The kernel
// (billing + @rgz/plugin-kkiapay, real PostgreSQL and Redis) holds 100,000 credited payments of yesterday (UTC), seeded
// with one INSERT … SELECT generate_series; the KKiaPay test server, in its own process, holds the matching
// transactions except a few planted mismatches (5 amounts that differ, 5 payments FAILED at KKiaPay, 5 it does not
// know). KKiaPay has no list API, so the run verifies every candidate with a status call (billing's bounded pool),
// then writes its items. Measured: wall time of POST /api/billing/reconciliation/runs, the kernel's peak RSS, the
// outcome counts (which must be exactly the planted ones).
// Bounded: --timeout (default 600 s) aborts the run.
// Usage: node bench/payments-reconciliation.mjs [--payments 100000] [--concurrency 16] [--timeout 600]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runOnTypeScriptSources } from './lib.mjs';

runOnTypeScriptSources();

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    timeout: { type: 'string', default: '600' },
  },
});
const N = Number(values.payments);
const deadline = setTimeout(() => {
  console.error(`[bench] aborted after ${values.timeout} s`);
  process.exit(2);
}, Number(values.timeout) * 1000);
deadline.unref();

const { startPeers } = await import('./payments/peers-client.mjs');
const { sql } = await import('@rgz/core');
const { startTestServer } = await import('@rgz/core/testing');
const { default: billing } = await import('@rgz/plugin-billing');
const { default: kkiapay } = await import('@rgz/plugin-kkiapay');

const PRICES = [1000, 5000, 10000, 50000];
const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const dayStart = Date.parse(`${day}T00:00:00Z`);
const id = (i) => `BR${String(i).padStart(8, '0')}`;
const amount = (i) => PRICES[i % PRICES.length];
// Planted mismatches, 5 of each kind, spread over the range.
const every = Math.max(4, Math.floor(N / 5));
const kindOf = (i) => (i % every === 1 ? 'amount' : i % every === 2 ? 'failed' : i % every === 3 ? 'unknown' : 'match');

const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const peers = await startPeers();
const server = await startTestServer({
  backend: 'real',
  worker: false,
  plugins: [
    {
      plugin: kkiapay,
      config: {
        id: 'kkiapay',
        sandbox: true,
        publicKey: peers.kk.publicKey,
        privateKey: peers.kk.privateKey,
        secret: peers.kk.secretKey,
        webhookSecret: 'whsec-bench-reconciliation-0123',
        baseUrl: peers.kk.url,
      },
    },
    { plugin: billing, config: { reconciliation: { concurrency: Number(values.concurrency) } } },
  ],
});
const db = server.kernel.db;
let result;
try {
  // --- seed ----------------------------------------------------------------------------------------------------------
  const t0 = performance.now();
  await sql`insert into billing_payments (provider, provider_transaction_id, reference, status, provider_status, amount_fcfa, fee_fcfa, performed_at)
    select 'kkiapay', 'BR' || lpad(i::text, 8, '0'), 'bench-' || i, 'credited', 'succeeded',
      (array[${sql.raw(PRICES.join(','))}])[1 + i % ${PRICES.length}],
      round((array[${sql.raw(PRICES.join(','))}])[1 + i % ${PRICES.length}] * 0.019),
      ${new Date(dayStart).toISOString()}::timestamptz + make_interval(secs => (i * 86399.0 / ${N}))
    from generate_series(1, ${N}) as i`.execute(db);
  await sql`analyze billing_payments`.execute(db);
  const seedDbSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let from = 1; from <= N; from += 10_000) {
    const transactions = [];
    for (let i = from; i < Math.min(N + 1, from + 10_000); i++) {
      const kind = kindOf(i);
      if (kind === 'unknown') continue;
      transactions.push({
        transactionId: id(i),
        amount: kind === 'amount' ? amount(i) - 100 : amount(i),
        reference: `bench-${i}`,
        status: kind === 'failed' ? 'FAILED' : 'SUCCESS',
        performedAt: new Date(dayStart + Math.floor((i * 86_399_000) / N)).toISOString(),
      });
    }
    await peers.call('seed', { transactions });
  }
  const seedKkSeconds = (performance.now() - t1) / 1000;

  // --- measure -------------------------------------------------------------------------------------------------------
  let peakRss = process.memoryUsage().rss;
  let peakPeersRss = rssOf(peers.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    peakPeersRss = Math.max(peakPeersRss, rssOf(peers.pid));
  }, 200);
  const rssBefore = process.memoryUsage().rss;
  const statusBefore = (await peers.call('requests')).status;
  const t2 = performance.now();
  const res = await server.request('/api/billing/reconciliation/runs', {
    method: 'POST',
    headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' },
    body: JSON.stringify({ day }),
  });
  const run = await res.json();
  const seconds = (performance.now() - t2) / 1000;
  clearInterval(sampler);
  if (res.status !== 201) throw new Error(`reconciliation: ${res.status} ${JSON.stringify(run)}`);
  const statusCalls = (await peers.call('requests')).status - statusBefore;
  const items = await sql`select kind, count(*)::int as n from billing_reconciliation_items where run_id = ${run.id} group by kind order by kind`.execute(db);
  const counts = Object.fromEntries(items.rows.map((r) => [r.kind, r.n]));
  const planted = { amount: 0, failed: 0, unknown: 0 };
  for (let i = 1; i <= N; i++) if (kindOf(i) !== 'match') planted[kindOf(i)]++;
  const expected = {
    match: N - planted.amount - planted.failed - planted.unknown,
    amount_mismatch: planted.amount,
    status_mismatch: planted.failed,
    not_found: planted.unknown,
  };
  result = { seconds, seedDbSeconds, seedKkSeconds, statusCalls, counts, expected, rssBefore, peakRss, peakPeersRss, summary: run };
} finally {
  await server.close();
  await peers.close();
}

const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ok = Object.entries(result.expected).every(([k, v]) => (result.counts[k] ?? 0) === v) && Object.keys(result.counts).every((k) => k in result.expected);
console.log(`\nReconciliation of ${N} KKiaPay payments of ${day}, PostgreSQL + Redis, concurrency ${values.concurrency}; Node ${process.version}\n`);
console.log('| measure | value | target |');
console.log('|---|---|---|');
console.log(`| seeding: payments (INSERT … SELECT) / KKiaPay test server | ${f(result.seedDbSeconds)} s / ${f(result.seedKkSeconds)} s | |`);
console.log(`| reconciliation run (POST /api/billing/reconciliation/runs) | ${f(result.seconds)} s (${f(N / result.seconds, 0)} payments/s) | < 60 s |`);
console.log(`| status calls to KKiaPay | ${result.statusCalls} | |`);
console.log(`| kernel RSS before → peak | ${f(result.rssBefore / 2 ** 20, 0)} MB → ${f(result.peakRss / 2 ** 20, 0)} MB | |`);
console.log(`| KKiaPay test server peak RSS | ${f(result.peakPeersRss, 0)} MB | |`);
console.log(
  `| outcomes | ${Object.entries(result.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} | ${ok ? 'exactly the planted ones' : `EXPECTED ${JSON.stringify(result.expected)}`} |`,
);
if (!ok || result.seconds >= 60) process.exitCode = 1;
