#!/usr/bin/env node
// Benchmark (issue 5, flow 2): webhook → CoA latency with 100 payments arriving at once. The kernel (billing +
// @rgz/plugin-kkiapay + plugin-radius + the MikroTik dialect, real PostgreSQL and Redis, the task worker with the
// server's default settings) listens on a real port; a separate process plays the outside world: the KKiaPay test
// server (status API for the verification, webhook sender) and a UDP NAS that checks each CoA-Request's
// authenticator, ACKs it and timestamps its arrival. Per payment: an order created through the API by the subscriber,
// an open RADIUS session on the NAS, a SUCCESS transaction at KKiaPay; then all webhooks are posted at once and the
// time from each POST to (a) its HTTP answer and (b) the CoA-Request for that subscriber's session is measured.
// Peer: bench/peer-payments-hono.mjs, the same webhooks handled inline by bare hono + pg writing the same rows on the
// same database and sending the same CoA (no task queue, no outbox). Targets: the seed's timeline (flow 2).
// Bounded: --timeout (default 300 s) aborts the run; each round waits at most 60 s for its CoAs.
// Usage: node bench/payments-webhook-coa.mjs [--payments 100] [--rounds 3] [--poll-ms 500] [--task-concurrency 4] [--timeout 300]
import { parseArgs } from 'node:util';
import { rssMb, runOnTypeScriptSources, startProcess } from './lib.mjs';

runOnTypeScriptSources();

const { values } = parseArgs({
  options: {
    payments: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    'poll-ms': { type: 'string', default: '500' },
    'task-concurrency': { type: 'string', default: '4' },
    timeout: { type: 'string', default: '300' },
  },
});
const N = Number(values.payments);
const ROUNDS = Number(values.rounds);
const deadline = setTimeout(() => {
  console.error(`[bench] aborted after ${values.timeout} s`);
  process.exit(2);
}, Number(values.timeout) * 1000);
deadline.unref();

const { startPeers } = await import('./payments/peers-client.mjs');
const { createKernel, parseServerConfig } = await import('@rgz/core');
const { createTestDatabase, createTestKv } = await import('@rgz/core/testing');
const { default: billing } = await import('@rgz/plugin-billing');
const { default: kkiapay } = await import('@rgz/plugin-kkiapay');
const { default: radius } = await import('@rgz/plugin-radius');
const { default: mikrotik } = await import('@rgz/nas-mikrotik');

const WEBHOOK_SECRET = 'whsec-bench-payments-0123456789';
const peers = await startPeers();
const tdb = await createTestDatabase('real');
const tkv = await createTestKv('real');
const kernel = await createKernel({
  config: parseServerConfig(
    { log: { level: 'warn' }, tasks: { concurrency: Number(values['task-concurrency']), pollIntervalMs: Number(values['poll-ms']) }, plugins: [] },
    {},
  ),
  database: tdb.database,
  kv: tkv.kv,
  plugins: [
    {
      plugin: kkiapay,
      config: {
        id: 'kkiapay',
        sandbox: true,
        publicKey: peers.kk.publicKey,
        privateKey: peers.kk.privateKey,
        secret: peers.kk.secretKey,
        webhookSecret: WEBHOOK_SECRET,
        baseUrl: peers.kk.url,
      },
    },
    { plugin: billing, config: {} },
    { plugin: mikrotik },
    {
      plugin: radius,
      config: {
        listen: false,
        nas: [{ identifier: 'bench-nas', address: '127.0.0.1', secret: peers.nasSecret, vendor: 'mikrotik', coaPort: peers.nasPort }],
      },
    },
  ],
});
await kernel.start({ worker: true, scheduler: false });
const { port } = await kernel.listen(0, '127.0.0.1');
const db = kernel.db;
const reseller = await db
  .insertInto('resellers')
  .values({ name: 'Bench', slug: 'bench', phone: null, email: null, fee_percent: 5, share_percent: 50 })
  .returning('id')
  .executeTakeFirstOrThrow();
const PLANS = ['DAY10MB', 'DAY100MB', 'MONTH1GB', 'MONTH5GB'];

let serial = 0;
/** n subscribers online on the NAS, each with an order and a paid (not yet notified) KKiaPay transaction. */
async function prepare(n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    const k = ++serial;
    const sub = await db
      .insertInto('subscribers')
      .values({ subscriber_ref: `BENCH-${k}`, msisdn: `+22901${String(k).padStart(8, '0')}`, reseller_id: reseller.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = (await kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId: sub.id, ttlSeconds: 3600 })).token;
    const res = await kernel.app.request('/api/billing/orders', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan_code: PLANS[k % PLANS.length] }),
    });
    const order = await res.json();
    if (res.status !== 201) throw new Error(`order: ${res.status} ${JSON.stringify(order)}`);
    const acct = `bench-${k}`;
    await db
      .insertInto('radius_sessions')
      .values({
        subscriber_id: sub.id,
        nas_id: 'config:bench-nas',
        nas_identifier: 'bench-nas',
        acct_session_id: acct,
        user_name: `BENCH-${k}`,
        framed_ip: `10.8.${(k >> 8) & 255}.${k & 255}`,
        bytes_in: 0,
        bytes_out: 0,
        session_start: new Date(Date.now() - 60_000),
        last_update: new Date(),
        last_status: 'interim',
      })
      .execute();
    items.push({ transactionId: `BW${String(k).padStart(8, '0')}`, amount: order.amount_fcfa, reference: order.reference, acct });
  }
  await peers.call('seed', { transactions: items.map(({ transactionId, amount, reference }) => ({ transactionId, amount, reference })) });
  return items;
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const sorted = (list) => list.filter((v) => v !== null).sort((a, b) => a - b);

/** A 10-payment warm-up (JIT, pools, plans), then ROUNDS rounds of N webhooks at once against `url`. */
async function measure(url) {
  const rounds = [];
  await peers.call('fire', { url, secret: WEBHOOK_SECRET, items: await prepare(10), timeoutMs: 30_000 });
  for (let r = 0; r < ROUNDS; r++) {
    const items = await prepare(N);
    const out = await peers.call('fire', { url, secret: WEBHOOK_SECRET, items, timeoutMs: 60_000 });
    const coa = sorted(out.results.map((x) => x.coaMs));
    const hook = sorted(out.results.map((x) => x.webhookMs));
    rounds.push({
      coaP50: pct(coa, 50),
      coaP95: pct(coa, 95),
      coaMax: coa.at(-1),
      hookP50: pct(hook, 50),
      hookP95: pct(hook, 95),
      coaCount: coa.length,
      delivered: out.results.filter((x) => x.delivered).length,
      badAuthenticators: out.badAuthenticators,
    });
  }
  return rounds;
}

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const rgz = await measure(`http://127.0.0.1:${port}/hooks/payment/kkiapay`);
clearInterval(sampler);
const credited = await db
  .selectFrom('billing_payments')
  .select((eb) => eb.fn.countAll().as('n'))
  .where('status', '=', 'credited')
  .executeTakeFirstOrThrow();
const acks = await db
  .selectFrom('audit_log')
  .select((eb) => eb.fn.countAll().as('n'))
  .where('action', '=', 'radius.coa.ack')
  .executeTakeFirstOrThrow();

// The peer, on the same database (orders still created through RGZ's API; RGZ's worker idles meanwhile).
const peer = await startProcess(
  process.execPath,
  ['--conditions=@rgz/source', '--import', 'tsx', new URL('./peer-payments-hono.mjs', import.meta.url).pathname],
  {
    env: {
      DATABASE_URL: tdb.url,
      KK_URL: peers.kk.url,
      KK_PUBLIC: peers.kk.publicKey,
      KK_PRIVATE: peers.kk.privateKey,
      KK_SECRET: peers.kk.secretKey,
      WEBHOOK_SECRET,
      NAS_PORT: String(peers.nasPort),
      NAS_SECRET: peers.nasSecret,
    },
    readyPattern: /PEER listening on port (\d+)/,
  },
);
let bare;
let peerRss;
let peerCredited;
try {
  bare = await measure(`http://127.0.0.1:${peer.match[1]}/hooks/payment/kkiapay`);
  peerRss = rssMb(peer.proc.pid);
  const all = await db
    .selectFrom('billing_payments')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', 'credited')
    .executeTakeFirstOrThrow();
  peerCredited = Number(all.n) - Number(credited.n);
} finally {
  peer.proc.kill('SIGTERM');
  await kernel.stop();
  await tkv.close();
  await tdb.drop();
  await peers.close();
}

const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
console.log(
  `\nWebhook → CoA, ${N} payments at once × ${ROUNDS} rounds (after a 10-payment warm-up), PostgreSQL + Redis, RGZ tasks: concurrency ${values['task-concurrency']}, poll ${values['poll-ms']} ms; Node ${process.version}\n`,
);
console.log('| handler | round | webhook answered p50 / p95 | CoA-Request at the NAS p50 / p95 / max | CoAs | webhooks delivered |');
console.log('|---|---|---|---|---|---|');
for (const [name, list] of [
  ['RGZ', rgz],
  ['peer: bare hono + pg, inline', bare],
]) {
  for (const [i, r] of list.entries()) {
    console.log(
      `| ${name} | ${i + 1} | ${f(r.hookP50)} / ${f(r.hookP95)} ms | ${f(r.coaP50)} / ${f(r.coaP95)} / ${f(r.coaMax)} ms | ${r.coaCount}/${N} | ${r.delivered}/${N} |`,
    );
  }
}
const median = (list, key) => list.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(
  `\nRGZ / peer (median of the rounds): CoA p50 ×${f(median(rgz, 'coaP50') / median(bare, 'coaP50'), 1)}, CoA p95 ×${f(median(rgz, 'coaP95') / median(bare, 'coaP95'), 1)}`,
);
console.log(
  `RGZ: ${credited.n} payments credited, ${acks.n} radius.coa.ack audited, kernel peak RSS ${f(peakRss / 2 ** 20)} MB; peer: ${peerCredited} payments credited, RSS ${f(peerRss)} MB; bad authenticators at the NAS ${bare.at(-1)?.badAuthenticators ?? 0}`,
);
if ([...rgz, ...bare].some((r) => r.coaCount < N || r.delivered < N)) process.exitCode = 1;
