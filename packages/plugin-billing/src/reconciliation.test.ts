/**
 * Reconciliation on both backends: a day containing every one of the seed's five outcomes (plus orphan and
 * not_found), candidates from payment rows, webhooks, callbacks, a dashboard CSV and a list API; the 1 % threshold
 * exactly on both sides; a re-run that changes nothing; the job behind `rgz jobs run billing.reconcile`.
 */
import { sql } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, count, deliver, nasTasks, paymentOf } from './test-support/flows.js';
import {
  auth,
  createReseller,
  createSubscriber,
  createWorld,
  incidentSinkPlugin,
  jsonInit,
  makeTasksDue,
  type Node,
  RecordingIncidentSink,
  unbalanced,
  type World,
} from './test-support/harness.js';

interface Run {
  id: string;
  day: string;
  status: string;
  candidates: number;
  counts: Record<string, number>;
  revenue_fcfa: number;
  mismatch_fcfa: number;
  mismatch_percent: number | null;
  incident: string | null;
  items: Array<{ provider: string; provider_transaction_id: string; kind: string; action: string; sources: string[]; payment_id: string | null }>;
}

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

async function reconcile(node: Node, day: string): Promise<Run> {
  const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day }));
  expect(res.status, await res.clone().text()).toBe(201);
  const run = (await res.json()) as Run;
  const full = await node.request(`/api/billing/reconciliation/runs/${run.id}?limit=5000`, { headers: auth(node.nocToken) });
  expect(full.status).toBe(200);
  return (await full.json()) as Run;
}

async function importCsv(node: Node, provider: string, csv: string): Promise<Response> {
  return node.request(`/api/billing/reconciliation/import?provider=${provider}`, {
    method: 'POST',
    headers: { ...auth(node.nocToken), 'content-type': 'text/csv' },
    body: csv,
  });
}

describe.each(BACKENDS)('reconciliation on %s storage', (backend) => {
  describe('a day with every outcome', () => {
    let world: World;
    let node: Node;
    const kk = new FakePaymentProvider({ id: 'kk' });
    const fl = new FakePaymentProvider({ id: 'fl', canList: true, checkoutKind: 'redirect' });
    const sink = new RecordingIncidentSink();
    const tx: Record<string, string> = {};
    let first: Run;

    beforeAll(async () => {
      world = await createWorld(backend, { plugins: [fakeProviderPlugin(kk, fl), incidentSinkPlugin(sink)], billingConfig: { defaultProvider: 'kk' } });
      node = await world.node();
      const reseller = await createReseller(node);
      const sub = async () => (await createSubscriber(node, reseller.id)).token;
      const drain = () => node.kernel.tasks.drain();

      // 1. match: paid, webhook, verified, credited.
      const o1 = await buy(node, await sub(), 'DAY10MB');
      tx.match = kk.pay({ reference: o1.reference, amount: 1000 });
      await deliver(node, 'kk', kk.webhookFor(tx.match));
      // 2. missing in DB, found through the dashboard CSV (the webhook never arrived).
      const o2 = await buy(node, await sub(), 'DAY100MB');
      tx.missingCsv = kk.pay({ reference: o2.reference, amount: 5000 });
      // 3. missing in DB, found through the list API of a provider that has one.
      const o3 = await buy(node, await sub(), 'MONTH1GB', 'fl');
      tx.missingList = fl.pay({ reference: o3.reference, amount: 10_000 });
      expect(o3.checkout?.provider_ref).toBe(tx.missingList);
      // 4. duplicate: the order is paid twice; the second payment only shows up in the CSV.
      const o4 = await buy(node, await sub(), 'DAY10MB');
      tx.firstOfDuplicate = kk.pay({ reference: o4.reference, amount: 1000 });
      await deliver(node, 'kk', kk.webhookFor(tx.firstOfDuplicate));
      tx.duplicate = kk.pay({ reference: o4.reference, amount: 1000 });
      // 5. amount mismatch: 1000 paid for a 5000 order (CSV only).
      const o5 = await buy(node, await sub(), 'DAY100MB');
      tx.amountMismatch = kk.pay({ reference: o5.reference, amount: 1000 });
      // 6. status mismatch: pending when verified, completed later, the retry not run yet.
      const o6 = await buy(node, await sub(), 'DAY10MB');
      tx.statusMismatch = kk.pay({ reference: o6.reference, amount: 1000, status: 'pending' });
      await deliver(node, 'kk', kk.webhookFor(tx.statusMismatch));
      // + an orphan (CSV, unknown reference) and a browser callback with a made-up id.
      tx.orphan = kk.pay({ reference: 'RGZP-2222222222222222', amount: 1000 });
      const o8 = await buy(node, await sub(), 'DAY10MB');
      const token8 = (await node.db.selectFrom('billing_orders').select('subscriber_id').where('reference', '=', o8.reference).executeTakeFirstOrThrow())
        .subscriber_id;
      const t8 = await node.kernel.tokens.issue({ role: 'subscriber', name: 'p', subscriberId: token8 });
      tx.notFound = 'ghost0001';
      expect((await node.request(o8.links.callback, jsonInit('POST', t8.token, { transaction_id: tx.notFound }))).status).toBe(202);
      await drain();
      kk.transactions.get(tx.statusMismatch)!.status = 'succeeded';

      expect(await paymentOf(node, 'kk', tx.match)).toMatchObject({ status: 'credited' });
      expect(await paymentOf(node, 'kk', tx.statusMismatch)).toMatchObject({ status: 'pending' });
      expect(await paymentOf(node, 'kk', tx.missingCsv)).toBeUndefined();

      const at = new Date().toISOString();
      const csv = [
        'transaction_id;montant;date;statut;reference',
        `${tx.missingCsv};5 000;${at};SUCCESS;${o2.reference}`,
        `${tx.duplicate};1000;${at};SUCCESS;`,
        `${tx.amountMismatch};1000;${at};SUCCESS;`,
        `${tx.orphan};1000;${at};SUCCESS;`,
        `${tx.match};1000;${at};SUCCESS;`,
      ].join('\n');
      const imp = await importCsv(node, 'kk', csv);
      expect(imp.status, await imp.clone().text()).toBe(201);
      expect(await imp.json()).toMatchObject({ provider: 'kk', rows: 5, inserted: 5, already_known: 0 });

      first = await reconcile(node, today());
    });
    afterAll(async () => {
      await world?.close();
    });

    const itemOf = (run: Run, id: string | undefined) => run.items.find((i) => i.provider_transaction_id === id);

    it('classifies each candidate with the seed outcome and repairs what can be repaired', async () => {
      expect(first.status).toBe('succeeded');
      const kinds = Object.fromEntries(Object.entries(tx).map(([name, id]) => [name, [itemOf(first, id)?.kind, itemOf(first, id)?.action]]));
      expect(kinds).toEqual({
        match: ['match', 'none'],
        missingCsv: ['missing_in_db', 'inserted'],
        missingList: ['missing_in_db', 'inserted'],
        firstOfDuplicate: ['match', 'none'],
        duplicate: ['duplicate', 'flagged'],
        amountMismatch: ['amount_mismatch', 'flagged'],
        statusMismatch: ['status_mismatch', 'activated'],
        orphan: ['orphan', 'flagged'],
        notFound: ['not_found', 'none'],
      });
      expect(first.counts).toEqual({ match: 2, missing_in_db: 2, duplicate: 1, amount_mismatch: 1, status_mismatch: 1, orphan: 1, not_found: 1 });
      expect(itemOf(first, tx.missingCsv)?.sources).toEqual(['import']);
      expect(itemOf(first, tx.missingList)?.sources).toEqual(['list', 'order']);
      expect(itemOf(first, tx.match)?.sources).toEqual(['import', 'order', 'payment', 'webhook']);
      expect(itemOf(first, tx.notFound)?.sources).toEqual(['callback']);

      // Repairs: inserted + activated + audited, through the same rules as verification.
      for (const [provider, id] of [
        ['kk', tx.missingCsv],
        ['fl', tx.missingList],
        ['kk', tx.statusMismatch],
      ] as const) {
        const p = await paymentOf(node, provider, id as string);
        expect(p?.status, id).toBe('credited');
        expect(p?.subscription_id).not.toBeNull();
        expect(await count(node, 'audit_log', sql`action = 'billing.payment.credited' and target_id = ${p!.id} and details->>'via' = 'reconciliation'`)).toBe(
          1,
        );
        expect((await nasTasks(node)).filter((t) => t.subscriptionId === p!.subscription_id)).toHaveLength(1);
      }
      expect(await paymentOf(node, 'kk', tx.duplicate as string)).toMatchObject({ status: 'duplicate', review: 'needs_review', subscription_id: null });
      expect(await paymentOf(node, 'kk', tx.amountMismatch as string)).toMatchObject({ status: 'amount_mismatch', review: 'needs_review' });
      expect(await unbalanced(node.db)).toEqual([]);
    });

    it('revenue, mismatches and the P1 incident (mismatches far above 1 %)', async () => {
      // Succeeded at the provider: 1000 + 5000 + 10000 + 1000 + 1000 + 1000 + 1000 + 1000.
      expect(first.revenue_fcfa).toBe(21_000);
      // missing 5000 + 10000, duplicate 1000, amount 1000, status 1000, orphan 1000.
      expect(first.mismatch_fcfa).toBe(19_000);
      expect(first.incident).toBe('P1');
      await node.kernel.tasks.drain();
      const p1 = sink.events.filter((e) => e.incident.priority === 'P1');
      expect(p1).toHaveLength(1);
      expect(p1[0]?.incident).toMatchObject({
        id: `billing:reconciliation_threshold:${today()}`,
        source: 'billing.reconciliation_threshold',
        labels: { day: today() },
      });
      // Finance alerts for the flagged ones.
      const p2 = sink.events
        .filter((e) => e.incident.priority === 'P2')
        .map((e) => e.incident.source)
        .sort();
      expect(p2).toEqual(['billing.amount_mismatch', 'billing.duplicate', 'billing.orphan']);
    });

    it('re-running the day changes nothing the second time', async () => {
      // The verification retry of the status-mismatch transaction finally runs: already credited, nothing more.
      await makeTasksDue(node.db, 'billing.verify-payment');
      await node.kernel.tasks.drain();
      const snapshot = async () => ({
        payments: await node.db.selectFrom('billing_payments').selectAll().orderBy('id').execute(),
        orders: await node.db.selectFrom('billing_orders').select(['id', 'status', 'updated_at']).orderBy('id').execute(),
        ledger: await count(node, 'billing_ledger_entries'),
        subscriptions: await node.db.selectFrom('subscriptions').select(['id', 'status']).orderBy('id').execute(),
        tasks: await count(node, 'core_tasks'),
        audit: await count(node, 'audit_log'),
        incidents: sink.events.length,
      });
      const before = await snapshot();
      const second = await reconcile(node, today());
      await node.kernel.tasks.drain();
      expect(await snapshot()).toEqual(before);
      expect(second.counts).toEqual({ match: 5, duplicate: 1, amount_mismatch: 1, orphan: 1, not_found: 1 });
      expect(second.items.every((i) => i.action === 'none')).toBe(true);
      expect(second.revenue_fcfa).toBe(21_000);

      const runs = (await (await node.request(`/api/billing/reconciliation/runs?day=${today()}`, { headers: auth(node.nocToken) })).json()) as { items: Run[] };
      expect(runs.items.map((r) => r.id)).toEqual([second.id, first.id]);
      const csv = await node.request(`/api/billing/reconciliation/runs/${first.id}/items.csv`, { headers: auth(node.nocToken) });
      expect(csv.status).toBe(200);
      const lines = (await csv.text()).trim().split('\r\n');
      expect(lines[0]).toBe(
        'day,provider,provider_transaction_id,kind,action,sources,db_status,provider_status,db_amount_fcfa,provider_amount_fcfa,payment_id,order_reference,detail',
      );
      expect(lines).toHaveLength(1 + first.items.length);
      const mism = (await (await node.request(`/api/billing/reconciliation/runs/${first.id}?kind=mismatches`, { headers: auth(node.nocToken) })).json()) as Run;
      expect(mism.items.map((i) => i.kind).sort()).toEqual([
        'amount_mismatch',
        'duplicate',
        'missing_in_db',
        'missing_in_db',
        'not_found',
        'orphan',
        'status_mismatch',
      ]);
    });

    it('refuses a second concurrent run of the same day; an abandoned one does not block it', async () => {
      const day = daysAgo(20);
      await node.db
        .insertInto('billing_reconciliation_runs')
        .values({ day, trigger: 'manual', status: 'running', counts: '{}', incident: null, error: null, finished_at: null })
        .execute();
      const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day }));
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: 'reconciliation_running' });
      await node.db
        .updateTable('billing_reconciliation_runs')
        .set({ started_at: new Date(Date.now() - 2 * 3600_000) })
        .where('day', '=', day)
        .execute();
      const ok = await reconcile(node, day);
      expect(ok).toMatchObject({ status: 'succeeded', candidates: 0, incident: null });
    });

    it('validates the CSV: all rows or none, with the lines at fault', async () => {
      const bad = await importCsv(node, 'kk', 'transaction_id,amount_fcfa,performed_at\nA1,1000,2026-11-24T10:00:00Z\nA 2,12.5,yesterday\n');
      expect(bad.status).toBe(400);
      const body = (await bad.json()) as { code: string; errors: Array<{ line: number; message: string }> };
      expect(body.code).toBe('csv_rows_invalid');
      expect(body.errors.map((e) => e.line)).toEqual([3]);
      expect(await count(node, 'billing_reconciliation_import_rows', sql`provider_transaction_id = 'A1'`)).toBe(0);
      expect((await importCsv(node, 'kk', 'id,amount\nA1,1\n')).status).toBe(400);
      expect((await importCsv(node, 'nope', 'transaction_id,amount_fcfa,performed_at\n')).status).toBe(400);
      const reseller = await createReseller(node);
      expect((await node.request('/api/billing/reconciliation/import?provider=kk', { method: 'POST', headers: auth(reseller.token), body: 'x' })).status).toBe(
        403,
      );
      // Re-uploading known rows is harmless.
      const again = await importCsv(node, 'kk', `transaction_id,amount_fcfa,performed_at\n${tx.orphan},1000,${new Date().toISOString()}\n`);
      expect(await again.json()).toMatchObject({ rows: 1, inserted: 0, already_known: 1 });
    });
  });

  describe('the 1 % threshold, exactly on both sides', () => {
    let world: World;
    let node: Node;
    const kk = new FakePaymentProvider({ id: 'kk' });
    const sink = new RecordingIncidentSink();

    beforeAll(async () => {
      world = await createWorld(backend, { plugins: [fakeProviderPlugin(kk), incidentSinkPlugin(sink)] });
      node = await world.node();
      await node.db
        .insertInto('plans')
        .values([
          {
            reseller_id: null,
            code: 'BULK49K',
            name: 'Bulk 49k',
            price_fcfa: 49_000,
            quota_bytes: null,
            quota_period: null,
            validity_seconds: 86_400,
            rate_down_kbps: null,
            rate_up_kbps: null,
          },
          {
            reseller_id: null,
            code: 'BULK50K',
            name: 'Bulk 50k',
            price_fcfa: 50_000,
            quota_bytes: null,
            quota_period: null,
            validity_seconds: 86_400,
            rate_down_kbps: null,
            rate_up_kbps: null,
          },
        ])
        .execute();
    });
    afterAll(async () => {
      await world?.close();
    });

    /** A day with credited payments of `paid` FCFA each and one 1000 FCFA payment only the dashboard CSV knows of. */
    async function day(offset: number, paid: number[]): Promise<Run> {
      const d = daysAgo(offset);
      const at = new Date(`${d}T12:00:00Z`);
      const token = (await createSubscriber(node, null)).token;
      for (const amount of paid) {
        const o = await buy(node, token, amount === 49_000 ? 'BULK49K' : 'BULK50K');
        await deliver(node, 'kk', kk.webhookFor(kk.pay({ reference: o.reference, amount, performedAt: at })));
      }
      const o = await buy(node, token, 'DAY10MB');
      const missing = kk.pay({ reference: o.reference, amount: 1000, performedAt: at });
      await node.kernel.tasks.drain();
      expect((await importCsv(node, 'kk', `transaction_id,amount_fcfa,performed_at\n${missing},1000,${at.toISOString()}\n`)).status).toBe(201);
      return reconcile(node, d);
    }

    it('mismatches of exactly 1 % of the revenue: no incident', async () => {
      const run = await day(2, [49_000, 50_000]);
      expect(run).toMatchObject({ revenue_fcfa: 100_000, mismatch_fcfa: 1000, mismatch_percent: 1, incident: null, counts: { match: 2, missing_in_db: 1 } });
      await node.kernel.tasks.drain();
      expect(sink.events.filter((e) => e.incident.priority === 'P1')).toEqual([]);
    });

    it('mismatches just above 1 % (1000 / 99 000): a P1 incident', async () => {
      const run = await day(3, [49_000, 49_000]);
      expect(run).toMatchObject({ revenue_fcfa: 99_000, mismatch_fcfa: 1000, incident: 'P1' });
      expect(run.mismatch_percent).toBeCloseTo(1.0101, 4);
      await node.kernel.tasks.drain();
      expect(sink.events.filter((e) => e.incident.priority === 'P1').map((e) => e.incident.id)).toEqual([`billing:reconciliation_threshold:${daysAgo(3)}`]);
    });

    it('is the job `billing.reconcile` (00:15 UTC, global, run-once when missed), reconciling yesterday when triggered', async () => {
      const job = node.kernel.scheduler.list().find((j) => j.id === 'billing.reconcile');
      expect(job).toMatchObject({ cron: '15 0 * * *', timezone: 'UTC', scope: 'global', missed: 'run-once' });
      const outcome = await node.kernel.scheduler.trigger('billing.reconcile');
      expect(outcome).toMatchObject({ ran: true, status: 'succeeded', result: { day: daysAgo(1), trigger: 'manual', status: 'succeeded' } });
      const runs = await node.db
        .selectFrom('billing_reconciliation_runs')
        .select(['trigger', sql<string>`day::text`.as('day')])
        .where('trigger', '=', 'manual')
        .execute();
      expect(runs).toEqual([{ trigger: 'manual', day: daysAgo(1) }]);
    });
  });
});
