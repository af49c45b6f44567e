#!/usr/bin/env node
// Benchmark (issue 9, flow 9): monthly invoice generation for 1,000 resellers — time, throughput, memory, PDF size —
// through the real plugin (ledger read through core's ledgerReader, pdfmake render, Ed25519 signature, gap-free
// number, hash-chained log, delivery task queued), then the verification of every stored PDF against the log, and
// an idempotent re-run. The ledger is seeded directly in SQL with billing's own split and posting lines (20 payments
// per reseller by default), because 20,000 payments through the webhook flow would measure billing, not invoices.
// Bounded: --timeout (default 900 s) aborts the run.
// Usage: node bench/invoices.mjs [--resellers 1000] [--payments 20] [--backend real|embedded] [--timeout 900]
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runOnTypeScriptSources } from './lib.mjs';

runOnTypeScriptSources();

const { values } = parseArgs({
  options: {
    resellers: { type: 'string', default: '1000' },
    payments: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'real' },
    timeout: { type: 'string', default: '900' },
  },
});
const RESELLERS = Number(values.resellers);
const PAYMENTS = Number(values.payments);
const root = new URL('..', import.meta.url).pathname;
const deadline = setTimeout(() => {
  console.error(`[bench] aborted after ${values.timeout} s`);
  process.exit(2);
}, Number(values.timeout) * 1000);
deadline.unref();

const { createKernel, parseServerConfig, sql } = await import('@rgz/core');
const { createTestDatabase, createTestKv } = await import('@rgz/core/testing');
const billingModule = await import('@rgz/plugin-billing');
const reportsModule = await import('@rgz/plugin-reports');
const billing = billingModule.default;
const reports = reportsModule.default;
const { splitPayment, paymentLines } = billingModule;

const TZ = 'Africa/Porto-Novo';
const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-invoices-'));
writeFileSync(join(dir, 'key.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
const tdb = await createTestDatabase(values.backend === 'embedded' ? 'embedded' : 'real');
const tkv = await createTestKv('embedded');
const config = parseServerConfig({ log: { level: 'warn' }, timezone: TZ, plugins: [] }, {});
const kernel = await createKernel({
  config,
  database: tdb.database,
  kv: tkv.kv,
  plugins: [
    { plugin: billing, config: {} },
    {
      plugin: reports,
      config: {
        operator: {
          name: 'RGZ Réseaux SARL',
          address: 'Cotonou',
          rccm: 'RB/COT/24 B 12345',
          ifu: '3202412345678',
          phone: '+229 01 97 00 00 00',
          email: 'facturation@rgz.bj',
        },
        signing: { privateKeyFile: join(dir, 'key.pem') },
        archive: { folder: join(dir, 'archive') },
      },
    },
  ],
});
// No worker: the run measures issuing (the delivery tasks are queued, not sent).
await kernel.start({ worker: false, scheduler: false });
const db = kernel.db;

// --- seed ------------------------------------------------------------------------------------------------------------
const seedStart = performance.now();
const plans = await db.selectFrom('plans').select(['id', 'code', 'price_fcfa']).where('reseller_id', 'is', null).execute();
const resellerIds = [];
for (let i = 0; i < RESELLERS; i += 500) {
  const rows = [];
  for (let j = i; j < Math.min(RESELLERS, i + 500); j++) {
    rows.push({ name: `Revendeur ${j + 1}`, slug: `bench-${j + 1}`, email: `r${j + 1}@example.bj`, fee_percent: 5, share_percent: 50 });
  }
  resellerIds.push(...(await db.insertInto('resellers').values(rows).returning('id').execute()).map((r) => r.id));
}
let payments = 0;
for (let i = 0; i < resellerIds.length; i += 50) {
  await db.transaction().execute(async (trx) => {
    const pay = [];
    const postings = [];
    const lines = [];
    for (const resellerId of resellerIds.slice(i, i + 50)) {
      for (let k = 0; k < PAYMENTS; k++) {
        const plan = plans[(k + i) % plans.length];
        const gross = Number(plan.price_fcfa);
        const split = splitPayment({ gross, commissionPercent: 1.5, reseller: { feePercent: 5, sharePercent: 50 } });
        const paymentId = randomUUID();
        const postingId = randomUUID();
        pay.push({
          id: paymentId,
          provider: 'kkiapay',
          provider_transaction_id: `bench-${paymentId}`,
          reseller_id: resellerId,
          plan_id: plan.id,
          status: 'credited',
          provider_status: 'succeeded',
          amount_fcfa: gross,
          fee_fcfa: split.providerFee.toString(),
          performed_at: new Date(),
        });
        postings.push({ id: postingId, kind: 'payment', payment_id: paymentId, reseller_id: resellerId, memo: 'bench' });
        for (const l of paymentLines('kkiapay', resellerId, split)) {
          lines.push({
            posting_id: postingId,
            account: l.account,
            reseller_id: resellerId,
            provider: 'kkiapay',
            payment_id: paymentId,
            debit_fcfa: l.debit.toString(),
            credit_fcfa: l.credit.toString(),
          });
        }
        payments++;
      }
    }
    for (let c = 0; c < pay.length; c += 1000)
      await trx
        .insertInto('billing_payments')
        .values(pay.slice(c, c + 1000))
        .execute();
    for (let c = 0; c < postings.length; c += 1000)
      await trx
        .insertInto('billing_postings')
        .values(postings.slice(c, c + 1000))
        .execute();
    for (let c = 0; c < lines.length; c += 2000)
      await trx
        .insertInto('billing_ledger_entries')
        .values(lines.slice(c, c + 2000))
        .execute();
  });
}
const seedSeconds = (performance.now() - seedStart) / 1000;

// --- measure ---------------------------------------------------------------------------------------------------------
const cmd = kernel.commands.get('invoices');
const month = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
const quiet = { out: () => {}, err: (s) => console.error(s) };
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
const rssBefore = process.memoryUsage().rss;
global.gc?.();
const t0 = performance.now();
const code = await cmd.run(['run', '--month', month], quiet);
const issueSeconds = (performance.now() - t0) / 1000;
const peakDuringRun = peakRss;
if (code !== 0) throw new Error(`invoices run exited ${code}`);
const t1 = performance.now();
const check = await cmd.run(['check'], quiet);
const verifySeconds = (performance.now() - t1) / 1000;
const t2 = performance.now();
await cmd.run(['run', '--month', month], quiet);
const rerunSeconds = (performance.now() - t2) / 1000;
clearInterval(sampler);
const stats = (
  await sql`select count(*)::int as n, sum(octet_length(pdf))::bigint as bytes, max(octet_length(pdf))::int as max_bytes,
    (select count(*)::int from reports_invoice_log) as log, (select count(*)::int from core_tasks where name = 'reports.deliver') as tasks
    from reports_invoices`.execute(db)
).rows[0];
const pages = (await sql`select count(*)::int as n from reports_invoices where octet_length(pdf) > 0`.execute(db)).rows[0];
await kernel.stop();
await tkv.close();
await tdb.drop();

const result = {
  at: new Date().toISOString(),
  backend: values.backend,
  resellers: RESELLERS,
  paymentsPerReseller: PAYMENTS,
  ledgerPayments: payments,
  seedSeconds,
  invoices: Number(stats.n),
  issueSeconds,
  invoicesPerSecond: Number(stats.n) / issueSeconds,
  msPerInvoice: (issueSeconds * 1000) / Number(stats.n),
  rssBeforeMb: rssBefore / 2 ** 20,
  peakRssMb: peakDuringRun / 2 ** 20,
  pdfTotalMb: Number(stats.bytes) / 2 ** 20,
  pdfMeanKb: Number(stats.bytes) / Number(stats.n) / 1024,
  pdfMaxKb: stats.max_bytes / 1024,
  logEntries: stats.log,
  deliveryTasksQueued: stats.tasks,
  verifyAllSeconds: verifySeconds,
  verifyOk: check === 0,
  rerunSeconds,
  pdfs: pages.n,
};
const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
console.log(
  `\nInvoices for ${RESELLERS} resellers × ${PAYMENTS} payments (${payments} ledger payments), ${values.backend === 'embedded' ? 'PGlite' : 'PostgreSQL'}, one process\n`,
);
console.log('| measure | value |');
console.log('|---|---|');
console.log(`| ledger seeding (not part of the run) | ${f(seedSeconds)} s |`);
console.log(
  `| issue ${result.invoices} invoices (render, sign, number, log, queue delivery) | ${f(issueSeconds)} s (${f(result.msPerInvoice)} ms/invoice, ${f(result.invoicesPerSecond)} /s) |`,
);
console.log(`| RSS before → peak during the run | ${f(result.rssBeforeMb, 0)} MB → ${f(result.peakRssMb, 0)} MB |`);
console.log(`| PDF size: total / mean / max | ${f(result.pdfTotalMb)} MB / ${f(result.pdfMeanKb)} KB / ${f(result.pdfMaxKb)} KB |`);
console.log(
  `| verify the log chain + every stored PDF against it (\`rgz invoices check\`) | ${f(verifySeconds, 2)} s (${result.verifyOk ? 'ok' : 'FAILED'}) |`,
);
console.log(`| re-run the month (nothing issued) | ${f(rerunSeconds, 2)} s |`);
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/invoices.json'), `${JSON.stringify(result, null, 2)}\n`);
