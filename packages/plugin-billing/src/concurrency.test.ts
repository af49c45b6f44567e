/**
 * Money under real concurrency, on PostgreSQL with two replicas (each its own connection pool, as two processes):
 * 5 concurrent deliveries of one webhook, many verification tasks for one transaction claimed by both replicas at
 * once, and two transactions for one order settled in parallel — always exactly one credit.
 */
import { sql } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, count, deliver, nasTasks, paymentOf } from './test-support/flows.js';
import { createReseller, createSubscriber, createWorld, jsonInit, type Node, unbalanced, type World } from './test-support/harness.js';

describe('billing under concurrency (real PostgreSQL, two replicas)', () => {
  let world: World;
  let a: Node;
  let b: Node;
  const fake = new FakePaymentProvider({ id: 'fakepay' });
  let resellerId: string;

  beforeAll(async () => {
    world = await createWorld('real', { plugins: [fakeProviderPlugin(fake)] });
    a = await world.node({ ownPool: true });
    b = await world.node({ ownPool: true });
    resellerId = (await createReseller(a)).id;
  });
  afterAll(async () => {
    await world?.close();
  });

  const drainBoth = () => Promise.all([a.kernel.tasks.drain(), b.kernel.tasks.drain()]);

  it('the same webhook delivered 5 times concurrently (to both replicas): stored once, credited once', async () => {
    const sub = await createSubscriber(a, resellerId);
    const order = await buy(a, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    const req = fake.webhookFor(tx);
    const answers = await Promise.all([a, b, a, b, a].map((n) => deliver(n, 'fakepay', req)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const statuses = (await Promise.all(answers.map((r) => r.json() as Promise<{ status: string }>))).map((s) => s.status).sort();
    expect(statuses).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'received']);
    await drainBoth();
    const p = await paymentOf(a, 'fakepay', tx);
    expect(p?.status).toBe('credited');
    expect(await count(a, 'billing_payment_events', sql`provider_transaction_id = ${tx}`)).toBe(1);
    expect(await count(a, 'billing_postings', sql`payment_id = ${p!.id}`)).toBe(1);
    expect(await count(a, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(1);
    expect((await nasTasks(a)).filter((t) => t.subscriberId === sub.id)).toHaveLength(1);
  });

  it('10 verification tasks for one transaction, run by both replicas at once: one credit', async () => {
    const sub = await createSubscriber(a, resellerId);
    const order = await buy(a, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    // Distinct events for one transaction (event names, and the browser callback) → distinct verification tasks.
    await Promise.all([
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => deliver(i % 2 ? a : b, 'fakepay', fake.webhookFor(tx, { event: `transaction.success.${i}` }))),
      a.request(order.links.callback, jsonInit('POST', sub.token, { transaction_id: tx })),
    ]);
    expect(await count(a, 'core_tasks', sql`name = 'billing.verify-payment' and payload->>'transactionId' = ${tx}`)).toBe(10);
    await drainBoth();
    expect(await count(a, 'core_tasks', sql`name = 'billing.verify-payment' and payload->>'transactionId' = ${tx} and status = 'done'`)).toBe(10);
    const p = await paymentOf(a, 'fakepay', tx);
    expect(p?.status).toBe('credited');
    expect(await count(a, 'billing_postings', sql`payment_id = ${p!.id}`)).toBe(1);
    expect(await count(a, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(1);
    expect(await count(a, 'audit_log', sql`action = 'billing.payment.credited' and target_id = ${p!.id}`)).toBe(1);
    expect((await nasTasks(a)).filter((t) => t.subscriberId === sub.id)).toHaveLength(1);
  });

  it('two paid transactions of one order settled in parallel: one credited, one duplicate', async () => {
    const sub = await createSubscriber(a, resellerId);
    const order = await buy(a, sub.token);
    const tx1 = fake.pay({ reference: order.reference, amount: 1000 });
    const tx2 = fake.pay({ reference: order.reference, amount: 1000 });
    await Promise.all([deliver(a, 'fakepay', fake.webhookFor(tx1)), deliver(b, 'fakepay', fake.webhookFor(tx2))]);
    await drainBoth();
    const statuses = [(await paymentOf(a, 'fakepay', tx1))?.status, (await paymentOf(a, 'fakepay', tx2))?.status].sort();
    expect(statuses).toEqual(['credited', 'duplicate']);
    expect(await count(a, 'subscriptions', sql`subscriber_id = ${sub.id}`)).toBe(1);
    expect(await unbalanced(a.db)).toEqual([]);
  });

  it('50 subscribers paying at once across both replicas: every one credited once, the ledger balanced to the franc', async () => {
    const orders = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const sub = await createSubscriber(i % 2 ? a : b, resellerId);
        return { sub, order: await buy(i % 2 ? a : b, sub.token, i % 3 ? 'DAY10MB' : 'DAY100MB') };
      }),
    );
    const txs = orders.map(({ order }) => fake.pay({ reference: order.reference, amount: order.amount_fcfa }));
    await Promise.all(txs.flatMap((tx, i) => [deliver(i % 2 ? a : b, 'fakepay', fake.webhookFor(tx)), deliver(i % 2 ? b : a, 'fakepay', fake.webhookFor(tx))]));
    await drainBoth();
    for (const tx of txs) expect((await paymentOf(a, 'fakepay', tx))?.status).toBe('credited');
    const credited = await sql<{
      n: string;
      g: string;
    }>`select count(*)::text as n, sum(amount_fcfa)::text as g from billing_payments where provider_transaction_id in (${sql.join(txs)})`.execute(a.db);
    expect(Number(credited.rows[0]?.n)).toBe(50);
    const clearing = await sql<{
      d: string;
    }>`select sum(debit_fcfa)::text as d from billing_ledger_entries where account = 'provider_clearing:fakepay' and payment_id in (select id from billing_payments where provider_transaction_id in (${sql.join(txs)}))`.execute(
      a.db,
    );
    expect(clearing.rows[0]?.d).toBe(credited.rows[0]?.g);
    expect(await unbalanced(a.db)).toEqual([]);
  });
});
