/**
 * Billing inside the real kernel on both backends (PGlite + in-process KV, PostgreSQL + Redis): orders, webhook
 * ingress, verification, the ledger and split to the franc, activation with its outbox task, refunds, isolation.
 * The provider is the contract-checked fake of test-support; tasks are run with `drain()` so every step is visible.
 */
import { readFileSync } from 'node:fs';
import { kvKeys, sql } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BillingAlert, billingAlert } from './context.js';
import billing from './index.js';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, count, deliver, linesOf, nasTasks, paymentOf } from './test-support/flows.js';
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

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and name", () => {
  expect(billing.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${billing.name}`);
});

describe.each(BACKENDS)('billing on %s storage', (backend) => {
  let world: World;
  let node: Node;
  const fake = new FakePaymentProvider({ id: 'fakepay' });
  const sink = new RecordingIncidentSink();
  const alerts: BillingAlert[] = [];
  let reseller: { id: string; token: string };

  beforeAll(async () => {
    world = await createWorld(backend, {
      plugins: [fakeProviderPlugin(fake), incidentSinkPlugin(sink)],
      billingConfig: { verification: { backoffSeconds: 1 }, commissionPercent: 1.5 },
    });
    node = await world.node();
    node.kernel.events.on(billingAlert, (a) => {
      alerts.push(a as BillingAlert);
    });
    reseller = await createReseller(node, { fee: 5, share: 50 });
  });
  afterAll(async () => {
    await world?.close();
  });

  const drain = () => node.kernel.tasks.drain();

  it('lists the providers for the portal', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const res = await node.request('/api/billing/providers', { headers: auth(sub.token) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      default: 'fakepay',
      items: [
        {
          id: 'fakepay',
          provider: 'fakepay',
          checkout_kinds: ['client_widget'],
          refunds: 'full_only',
          can_list: false,
          walled_garden_hosts: ['pay.fake.example'],
        },
      ],
    });
  });

  it('creates an order with an unguessable reference and returns the widget checkout', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token, 'DAY10MB');
    expect(order.reference).toMatch(/^RGZP-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{16}$/);
    expect(order).toMatchObject({ status: 'pending', amount_fcfa: 1000, provider: 'fakepay', plan: { code: 'DAY10MB', price_fcfa: 1000 }, subscription: null });
    expect(order.checkout).toMatchObject({ kind: 'client_widget', params: { amount: 1000, data: { ref: order.reference }, phone: sub.msisdn.slice(1) } });
    expect(fake.checkouts.get(order.reference)?.notifyUrl).toMatch(/\/hooks\/payment\/fakepay$/);
    const polled = await node.request(order.links.self, { headers: auth(sub.token) });
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { status: string }).status).toBe('pending');
    // Another subscriber cannot see it; an unknown plan is a 404; no token is a 401.
    const other = await createSubscriber(node, reseller.id);
    expect((await node.request(order.links.self, { headers: auth(other.token) })).status).toBe(404);
    expect((await node.request('/api/billing/orders', jsonInit('POST', sub.token, { plan_code: 'NOPE' }))).status).toBe(404);
    expect((await node.request('/api/billing/orders', jsonInit('POST', null, { plan_code: 'DAY10MB' }))).status).toBe(401);
    expect((await node.request('/api/billing/orders', jsonInit('POST', node.nocToken, { plan_code: 'DAY10MB' }))).status).toBe(403);
    expect((await node.request('/api/billing/orders', jsonInit('POST', sub.token, { plan_code: 'DAY10MB', provider: 'other' }))).status).toBe(400);
  });

  it("prices the order with the reseller's override of the plan", async () => {
    const r = await createReseller(node);
    await node.db
      .insertInto('plans')
      .values({
        reseller_id: r.id,
        code: 'DAY10MB',
        name: '10 Mo / jour (promo)',
        price_fcfa: 1200,
        quota_bytes: 10 * 1024 * 1024,
        quota_period: 'day',
        validity_seconds: 86_400,
        rate_down_kbps: 1024,
        rate_up_kbps: 512,
      })
      .execute();
    const sub = await createSubscriber(node, r.id);
    const order = await buy(node, sub.token, 'DAY10MB');
    expect(order.amount_fcfa).toBe(1200);
    const plain = await buy(node, (await createSubscriber(node, reseller.id)).token, 'DAY10MB');
    expect(plain.amount_fcfa).toBe(1000);
  });

  it('webhook → raw event stored first (DB + KV 1 h) → verified → credited: split right to the franc, plan activated, NAS task queued', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const balanceBefore = (await (await node.request(`/api/billing/resellers/${reseller.id}/balance`, { headers: auth(reseller.token) })).json()) as {
      balance_fcfa: number;
    };
    const order = await buy(node, sub.token, 'DAY10MB');
    const tx = fake.pay({ reference: order.reference, amount: 1000, fee: 19 });
    const res = await deliver(node, 'fakepay', fake.webhookFor(tx));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'received' });

    // Stored, not credited yet.
    const ev = await node.db.selectFrom('billing_payment_events').selectAll().where('provider_transaction_id', '=', tx).execute();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ kind: 'webhook', event_id: `${tx}:transaction.success`, claimed_reference: order.reference, claimed_status: 'succeeded' });
    expect(ev[0]?.raw_body).toBe(fake.webhookFor(tx).rawBody);
    expect(ev[0]?.raw_body).not.toContain(fake.secret);
    const kv = JSON.parse((await node.kernel.kv.get(kvKeys.payment(tx))) as string) as { body: string; provider: string };
    expect(kv).toMatchObject({ provider: 'fakepay', body: fake.webhookFor(tx).rawBody });
    const ttl = await node.kernel.kv.ttl(kvKeys.payment(tx));
    expect(ttl).toBeGreaterThan(3590);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await paymentOf(node, 'fakepay', tx)).toBeUndefined();
    expect(await count(node, 'core_tasks', sql`name = 'billing.verify-payment' and status = 'pending' and payload->>'transactionId' = ${tx}`)).toBe(1);

    await drain();
    const payment = await paymentOf(node, 'fakepay', tx);
    expect(payment).toMatchObject({
      status: 'credited',
      amount_fcfa: 1000,
      expected_fcfa: 1000,
      fee_fcfa: 19,
      reseller_id: reseller.id,
      subscriber_id: sub.id,
      review: null,
    });
    // G = 1000, F = 19 (reported), R = 5 % = 50, N = 931 → reseller 465, RGZ 466 (the odd franc).
    expect(await linesOf(node, payment!.id)).toEqual([
      { kind: 'payment', account: 'provider_clearing:fakepay', debit: 1000, credit: 0 },
      { kind: 'payment', account: 'provider_fees:fakepay', debit: 0, credit: 19 },
      { kind: 'payment', account: `reseller_fee:${reseller.id}`, debit: 0, credit: 50 },
      { kind: 'payment', account: `revenue:reseller:${reseller.id}`, debit: 0, credit: 465 },
      { kind: 'payment', account: 'revenue:rgz', debit: 0, credit: 466 },
    ]);
    const subscription = await node.db
      .selectFrom('subscriptions')
      .selectAll()
      .where('source', '=', 'payment')
      .where('source_ref', '=', payment!.id)
      .executeTakeFirstOrThrow();
    expect(subscription).toMatchObject({ subscriber_id: sub.id, status: 'active', reseller_id: reseller.id });
    expect(payment?.subscription_id).toBe(subscription.id);
    expect((await nasTasks(node)).filter((t) => t.subscriptionId === subscription.id)).toEqual([
      { subscriberId: sub.id, reason: 'plan_activated', subscriptionId: subscription.id },
    ]);
    const audit = await node.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'billing.payment.credited')
      .where('target_id', '=', payment!.id)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toMatchObject({
      gross_fcfa: '1000',
      provider_fee_fcfa: '19',
      reseller_fee_fcfa: '50',
      reseller_share_fcfa: '465',
      rgz_share_fcfa: '466',
      provider_fee_reported: true,
    });

    const polled = (await (await node.request(order.links.self, { headers: auth(sub.token) })).json()) as {
      status: string;
      subscription: { id: string } | null;
    };
    expect(polled.status).toBe('paid');
    expect(polled.subscription?.id).toBe(subscription.id);
    const balance = (await (await node.request(`/api/billing/resellers/${reseller.id}/balance`, { headers: auth(reseller.token) })).json()) as {
      balance_fcfa: number;
    };
    expect(balance.balance_fcfa - balanceBefore.balance_fcfa).toBe(515);
    expect(await unbalanced(node.db)).toEqual([]);

    // The same delivery again: a no-op.
    const again = await deliver(node, 'fakepay', fake.webhookFor(tx));
    expect(await again.json()).toEqual({ status: 'duplicate' });
    await drain();
    expect(await count(node, 'billing_payment_events', sql`provider_transaction_id = ${tx}`)).toBe(1);
    expect(await count(node, 'billing_postings', sql`payment_id = ${payment!.id}`)).toBe(1);
  });

  it('computes the fee from the commission when the provider reports none (no reseller: RGZ takes the net)', async () => {
    const quiet = new FakePaymentProvider({ id: 'nofees', reportFees: false });
    const w = await createWorld(backend, { plugins: [fakeProviderPlugin(quiet)], billingConfig: { providers: { nofees: { commissionPercent: 1.5 } } } });
    try {
      const n = await w.node();
      const sub = await createSubscriber(n, null);
      const order = await buy(n, sub.token, 'DAY100MB');
      const tx = quiet.pay({ reference: order.reference, amount: 5000 });
      expect((await deliver(n, 'nofees', quiet.webhookFor(tx))).status).toBe(200);
      await n.kernel.tasks.drain();
      const p = await paymentOf(n, 'nofees', tx);
      expect(p?.fee_fcfa).toBe(75);
      expect(await linesOf(n, p!.id)).toEqual([
        { kind: 'payment', account: 'provider_clearing:nofees', debit: 5000, credit: 0 },
        { kind: 'payment', account: 'provider_fees:nofees', debit: 0, credit: 75 },
        { kind: 'payment', account: 'revenue:rgz', debit: 0, credit: 4925 },
      ]);
    } finally {
      await w.close();
    }
  });

  it('rejects a forged or missing secret with 401 problem+json and stores nothing', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    const before = await count(node, 'billing_payment_events');
    const metric = async () =>
      (await (await node.request('/metrics')).text()).match(/payment_webhooks_total\{provider="fakepay",outcome="rejected_unauthenticated"\} (\d+)/)?.[1] ??
      '0';
    const m0 = Number(await metric());
    for (const secret of ['wrong-secret', null, '']) {
      const res = await deliver(node, 'fakepay', fake.webhookFor(tx, { secret }));
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'webhook_unauthenticated', status: 401 });
    }
    const malformed = await node.request('/hooks/payment/fakepay', { method: 'POST', headers: { 'x-fakepay-secret': fake.secret }, body: '{not json' });
    expect(malformed.status).toBe(400);
    expect((await node.request('/hooks/payment/nobody', { method: 'POST', body: '{}' })).status).toBe(404);
    expect(Number(await metric()) - m0).toBe(3);
    expect(await count(node, 'billing_payment_events')).toBe(before);
    expect(await node.kernel.kv.get(kvKeys.payment(tx))).toBeNull();
    await drain();
    expect(await paymentOf(node, 'fakepay', tx)).toBeUndefined();
  });

  it('a webhook whose amount disagrees with the provider API: flagged amount_mismatch, nothing credited, finance alerted', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token, 'DAY100MB');
    // The provider charged 1000; the webhook claims 5000 (the order's price).
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    expect((await deliver(node, 'fakepay', fake.webhookFor(tx, { amount: 5000 }))).status).toBe(200);
    await drain();
    const p = await paymentOf(node, 'fakepay', tx);
    expect(p).toMatchObject({ status: 'amount_mismatch', review: 'needs_review', amount_fcfa: 1000, expected_fcfa: 5000, subscription_id: null });
    expect(await linesOf(node, p!.id)).toEqual([]);
    expect(await count(node, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(0);
    const polled = (await (await node.request(order.links.self, { headers: auth(sub.token) })).json()) as { status: string };
    expect(polled.status).toBe('amount_mismatch');
    expect(alerts.find((a) => a.id === `amount_mismatch:${p!.id}`)).toMatchObject({
      kind: 'amount_mismatch',
      priority: 'P2',
      labels: { provider: 'fakepay', kind: 'amount_mismatch' },
    });
    expect(sink.events.find((e) => e.incident.id === `billing:amount_mismatch:${p!.id}`)).toMatchObject({
      type: 'opened',
      incident: { priority: 'P2', status: 'open' },
    });
    expect(JSON.stringify(alerts)).not.toContain(sub.msisdn);
  });

  it('a webhook for an unknown reference: stored as an orphan for reconciliation, nothing credited', async () => {
    const tx = fake.pay({ reference: 'RGZP-ZZZZZZZZZZZZZZZZ', amount: 1000 });
    expect((await deliver(node, 'fakepay', fake.webhookFor(tx))).status).toBe(200);
    await drain();
    const p = await paymentOf(node, 'fakepay', tx);
    expect(p).toMatchObject({ status: 'orphan', review: 'needs_review', order_id: null, subscriber_id: null, amount_fcfa: 1000 });
    expect(await linesOf(node, p!.id)).toEqual([]);
    expect(alerts.some((a) => a.id === `orphan:${p!.id}`)).toBe(true);
  });

  it('the provider API down: retried with backoff, nothing credited meanwhile, credited once it answers', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    fake.down = true;
    try {
      expect((await deliver(node, 'fakepay', fake.webhookFor(tx))).status).toBe(200);
      const task = () =>
        node.db
          .selectFrom('core_tasks')
          .selectAll()
          .where('name', '=', 'billing.verify-payment')
          .where(sql<boolean>`payload->>'transactionId' = ${tx}`)
          .executeTakeFirstOrThrow();
      await drain();
      let t = await task();
      expect(t).toMatchObject({ status: 'pending', attempts: 1 });
      expect(t.last_error).toMatch(/ECONNREFUSED/);
      expect(new Date(t.run_at).getTime()).toBeGreaterThan(Date.now() + 300); // backoff, not an immediate retry
      await makeTasksDue(node.db, 'billing.verify-payment');
      await drain();
      t = await task();
      expect(t.attempts).toBe(2);
      expect(await paymentOf(node, 'fakepay', tx)).toBeUndefined();
      expect(await count(node, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(0);
      fake.down = false;
      await makeTasksDue(node.db, 'billing.verify-payment');
      await drain();
      expect((await task()).status).toBe('done');
      expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'credited' });
    } finally {
      fake.down = false;
    }
  });

  it('records the browser callback and credits only what the provider confirms', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    const cb = await node.request(order.links.callback, jsonInit('POST', sub.token, { transaction_id: tx }));
    expect(cb.status).toBe(202);
    expect(await cb.json()).toEqual({ status: 'received', order_status: 'pending' });
    expect((await node.request(order.links.callback, jsonInit('POST', sub.token, { transaction_id: tx }))).status).toBe(202);
    expect(await count(node, 'billing_payment_events', sql`event_id = ${`callback:${tx}`}`)).toBe(1);
    expect(await node.kernel.kv.get(kvKeys.payment(tx))).not.toBeNull();
    await drain();
    expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'credited', subscriber_id: sub.id });

    // Someone else's order: 404. A made-up transaction id: recorded, the provider does not know it, nothing credited.
    const other = await createSubscriber(node, reseller.id);
    expect((await node.request(order.links.callback, jsonInit('POST', other.token, { transaction_id: 'x1' }))).status).toBe(404);
    const o2 = await buy(node, other.token);
    expect((await node.request(o2.links.callback, jsonInit('POST', other.token, { transaction_id: 'madeup1' }))).status).toBe(202);
    await drain();
    expect(await paymentOf(node, 'fakepay', 'madeup1')).toBeUndefined();

    // A subscriber claiming another order's paid transaction for their own order: the provider's reference wins.
    const victim = await createSubscriber(node, reseller.id);
    const vOrder = await buy(node, victim.token);
    const vTx = fake.pay({ reference: vOrder.reference, amount: 1000 });
    expect((await node.request(o2.links.callback, jsonInit('POST', other.token, { transaction_id: vTx }))).status).toBe(202);
    await drain();
    expect(await paymentOf(node, 'fakepay', vTx)).toMatchObject({ status: 'credited', subscriber_id: victim.id });
    expect(await count(node, 'subscriptions', sql`subscriber_id = ${other.id}`)).toBe(0);

    // At most maxCallbacksPerOrder (5) distinct callbacks per order.
    for (let i = 0; i < 3; i++) expect((await node.request(o2.links.callback, jsonInit('POST', other.token, { transaction_id: `spam${i}` }))).status).toBe(202);
    expect((await node.request(o2.links.callback, jsonInit('POST', other.token, { transaction_id: 'spam9' }))).status).toBe(429);
  });

  it('never credits on a browser callback alone when the provider does not echo our reference', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    fake.echoReference = false;
    try {
      await node.request(order.links.callback, jsonInit('POST', sub.token, { transaction_id: tx }));
      await drain();
      expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'orphan' });
      // The provider's authenticated webhook carries the reference: that is enough.
      const tx2 = fake.pay({ reference: (await buy(node, sub.token)).reference, amount: 1000 });
      await deliver(node, 'fakepay', fake.webhookFor(tx2));
      await drain();
      expect(await paymentOf(node, 'fakepay', tx2)).toMatchObject({ status: 'credited' });
    } finally {
      fake.echoReference = true;
    }
  });

  it('a second payment of an already-paid order is a duplicate: flagged, not credited twice', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx1 = fake.pay({ reference: order.reference, amount: 1000 });
    const tx2 = fake.pay({ reference: order.reference, amount: 1000 });
    await deliver(node, 'fakepay', fake.webhookFor(tx1));
    await deliver(node, 'fakepay', fake.webhookFor(tx2));
    await drain();
    const statuses = [(await paymentOf(node, 'fakepay', tx1))?.status, (await paymentOf(node, 'fakepay', tx2))?.status].sort();
    expect(statuses).toEqual(['credited', 'duplicate']);
    expect(await count(node, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(1);
  });

  it('refunds: provider refund, reversing entries (new rows), subscription refunded, NAS task plan_ended, audit; idempotent', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const bal = async () =>
      ((await (await node.request(`/api/billing/resellers/${reseller.id}/balance`, { headers: auth(node.nocToken) })).json()) as { balance_fcfa: number })
        .balance_fcfa;
    const before = await bal();
    const order = await buy(node, sub.token, 'MONTH1GB');
    const tx = fake.pay({ reference: order.reference, amount: 10_000, fee: 190 });
    await deliver(node, 'fakepay', fake.webhookFor(tx));
    await drain();
    const p = (await paymentOf(node, 'fakepay', tx))!;
    expect(await bal()).toBe(before + 500 + 4655);
    const entriesBefore = await count(node, 'billing_ledger_entries');

    expect((await node.request(`/api/billing/payments/${p.id}/refund`, jsonInit('POST', reseller.token, {}))).status).toBe(403);
    const res = await node.request(`/api/billing/payments/${p.id}/refund`, jsonInit('POST', node.nocToken, { reason: 'customer asked' }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'succeeded', payment_id: p.id, amount_fcfa: 9810 });
    const lines = await linesOf(node, p.id);
    expect(lines.filter((l) => l.kind === 'refund')).toEqual(
      lines.filter((l) => l.kind === 'payment').map((l) => ({ kind: 'refund', account: l.account, debit: l.credit, credit: l.debit })),
    );
    expect(await count(node, 'billing_ledger_entries')).toBe(entriesBefore + 5);
    expect(await bal()).toBe(before);
    expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'refunded' });
    expect(
      await node.db
        .selectFrom('subscriptions')
        .select('status')
        .where('id', '=', p.subscription_id as string)
        .executeTakeFirst(),
    ).toEqual({ status: 'refunded' });
    expect((await nasTasks(node)).filter((t) => t.subscriptionId === p.subscription_id).map((t) => t.reason)).toEqual(['plan_activated', 'plan_ended']);
    expect(await count(node, 'audit_log', sql`action = 'billing.payment.refunded' and target_id = ${p.id} and actor_role = 'noc'`)).toBe(1);
    const polled = (await (await node.request(order.links.self, { headers: auth(sub.token) })).json()) as { status: string };
    expect(polled.status).toBe('refunded');

    // Again: nothing more is booked or sent to the provider.
    const calls = fake.calls.refund;
    const again = await node.request(`/api/billing/payments/${p.id}/refund`, jsonInit('POST', node.nocToken, {}));
    expect(again.status).toBe(200);
    expect(fake.calls.refund).toBe(calls);
    expect(await count(node, 'billing_ledger_entries')).toBe(entriesBefore + 5);
    expect(await unbalanced(node.db)).toEqual([]);

    // Not refundable: an orphan / unknown payment.
    const orphan = await node.db.selectFrom('billing_payments').select('id').where('status', '=', 'orphan').executeTakeFirstOrThrow();
    expect((await node.request(`/api/billing/payments/${orphan.id}/refund`, jsonInit('POST', node.nocToken, {}))).status).toBe(409);
    expect((await node.request('/api/billing/payments/00000000-0000-0000-0000-000000000000/refund', jsonInit('POST', node.nocToken, {}))).status).toBe(404);
  });

  it('a refund the provider settles later: 202, then booked by the refund-check task', async () => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    await deliver(node, 'fakepay', fake.webhookFor(tx));
    await drain();
    const p = (await paymentOf(node, 'fakepay', tx))!;
    fake.pendingRefunds = true;
    try {
      const res = await node.request(`/api/billing/payments/${p.id}/refund`, jsonInit('POST', node.nocToken, {}));
      expect(res.status).toBe(202);
      await drain();
      expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'credited' });
      fake.settleRefunds();
      await makeTasksDue(node.db, 'billing.refund-check');
      await drain();
      expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'refunded' });
      expect((await linesOf(node, p.id)).filter((l) => l.kind === 'refund')).toHaveLength(5);
    } finally {
      fake.pendingRefunds = false;
    }
  });

  it('the ledger is append-only and every posting balances (the database refuses otherwise)', async () => {
    expect(await count(node, 'billing_postings')).toBeGreaterThan(3);
    await expect(sql`update billing_ledger_entries set credit_fcfa = credit_fcfa + 1`.execute(node.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from billing_ledger_entries`.execute(node.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from billing_postings`.execute(node.db)).rejects.toThrow(/append-only/);
    const payment = await node.db.selectFrom('billing_payments').select('id').where('status', '=', 'orphan').executeTakeFirstOrThrow();
    await expect(
      node.db.transaction().execute(async (trx) => {
        const p = await trx
          .insertInto('billing_postings')
          .values({ kind: 'payment', payment_id: payment.id, reseller_id: null, memo: 'bad' })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('billing_ledger_entries')
          .values({ posting_id: p.id, account: 'x', reseller_id: null, provider: null, payment_id: payment.id, debit_fcfa: 10, credit_fcfa: 0 })
          .execute();
        await trx
          .insertInto('billing_ledger_entries')
          .values({ posting_id: p.id, account: 'y', reseller_id: null, provider: null, payment_id: payment.id, debit_fcfa: 0, credit_fcfa: 9 })
          .execute();
      }),
    ).rejects.toThrow(/does not balance/);
    // Sum of debits = sum of credits for every posting, and overall.
    expect(await unbalanced(node.db)).toEqual([]);
    const total = await sql<{ d: string; c: string }>`select sum(debit_fcfa)::text as d, sum(credit_fcfa)::text as c from billing_ledger_entries`.execute(
      node.db,
    );
    expect(total.rows[0]?.d).toBe(total.rows[0]?.c);
  });

  it('isolates resellers: balances, payments, CSV, orders, ledger', async () => {
    const a = await createReseller(node, { fee: 5, share: 50 });
    const b = await createReseller(node, { fee: 10, share: 60 });
    const paid = async (r: { id: string }) => {
      const s = await createSubscriber(node, r.id);
      const o = await buy(node, s.token, 'DAY100MB');
      const tx = fake.pay({ reference: o.reference, amount: 5000, fee: 95 });
      await deliver(node, 'fakepay', fake.webhookFor(tx));
      await drain();
      return { order: o, payment: (await paymentOf(node, 'fakepay', tx))! };
    };
    const pa = await paid(a);
    const pb = await paid(b);
    // A: R = 250, N = 4655 → 2327; B: R = 500, N = 4405 → 60 % = 2643.
    const balA = await node.request(`/api/billing/resellers/${a.id}/balance`, { headers: auth(a.token) });
    expect(await balA.json()).toEqual({
      reseller_id: a.id,
      balance_fcfa: 2577,
      accounts: { [`reseller_fee:${a.id}`]: 250, [`revenue:reseller:${a.id}`]: 2327, [`payable:reseller:${a.id}`]: 0 },
    });
    expect(
      ((await (await node.request(`/api/billing/resellers/${b.id}/balance`, { headers: auth(node.nocToken) })).json()) as { balance_fcfa: number })
        .balance_fcfa,
    ).toBe(3143);
    expect((await node.request(`/api/billing/resellers/${b.id}/balance`, { headers: auth(a.token) })).status).toBe(404);

    const list = (await (await node.request('/api/billing/payments?limit=500', { headers: auth(a.token) })).json()) as {
      items: Array<{ id: string; reseller_id: string }>;
    };
    expect(list.items.map((i) => i.id)).toEqual([pa.payment.id]);
    const filtered = (await (await node.request(`/api/billing/payments?reseller_id=${b.id}`, { headers: auth(a.token) })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(filtered.items.map((i) => i.id)).toEqual([pa.payment.id]);
    expect((await node.request(`/api/billing/payments/${pb.payment.id}`, { headers: auth(a.token) })).status).toBe(404);
    const mine = await node.request(`/api/billing/payments/${pa.payment.id}`, { headers: auth(a.token) });
    expect(((await mine.json()) as { ledger: unknown[] }).ledger).toHaveLength(5);
    const csv = await (await node.request('/api/billing/payments.csv', { headers: auth(a.token) })).text();
    expect(csv.trim().split('\r\n')).toHaveLength(2);
    expect(csv).toContain(pa.payment.id);
    expect(csv).not.toContain(pb.payment.id);
    expect((await node.request(pb.order.links.self, { headers: auth(a.token) })).status).toBe(404);
    expect((await node.request(pa.order.links.self, { headers: auth(a.token) })).status).toBe(200);
    expect((await node.request('/api/billing/ledger', { headers: auth(a.token) })).status).toBe(403);
    // NOC sees both.
    const all = (await (await node.request(`/api/billing/payments?reseller_id=${b.id}`, { headers: auth(node.nocToken) })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(all.items.map((i) => i.id)).toEqual([pb.payment.id]);
  });

  it('serves the ledger by account with totals, payments as CSV, and metrics without subscriber labels', async () => {
    const ledger = (await (await node.request('/api/billing/ledger?account=revenue:rgz&limit=1000', { headers: auth(node.nocToken) })).json()) as {
      items: Array<{ credit_fcfa: number; debit_fcfa: number; account: string }>;
      totals: { debit_fcfa: number; credit_fcfa: number; balance_fcfa: number };
    };
    expect(ledger.items.every((i) => i.account === 'revenue:rgz')).toBe(true);
    expect(ledger.totals.balance_fcfa).toBe(ledger.items.reduce((s, i) => s + i.credit_fcfa - i.debit_fcfa, 0));
    const csv = await node.request('/api/billing/payments.csv?status=credited', { headers: auth(node.nocToken) });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,provider,provider_transaction_id,order_reference,status,provider_status,amount_fcfa,expected_fcfa,fee_fcfa,reseller_id,subscriber_ref,plan_code,subscription_id,review,review_reason,performed_at,created_at',
    );
    expect(lines.length).toBeGreaterThan(3);
    const metrics = await (await node.request('/metrics')).text();
    expect(metrics).toMatch(/payments_total\{provider="fakepay",outcome="credited"\} \d+/);
    expect(metrics).toMatch(/payments_total\{provider="fakepay",outcome="amount_mismatch"\} 1/);
    expect(metrics).toMatch(/payment_webhooks_total\{provider="fakepay",outcome="stored"\} \d+/);
    expect(metrics).toMatch(/payment_webhooks_total\{provider="fakepay",outcome="duplicate"\} \d+/);
    expect(metrics).toMatch(/revenue_fcfa_total\{provider="fakepay"\} \d+/);
    expect(metrics).not.toMatch(/\+229|subscriber/);
  });
});
