/**
 * The process "killed" between storing the event and activating: the webhook is stored and answered, the kernel
 * stops before its verification task runs, a new kernel starts on the same database → the plan is activated. And when
 * the task itself is lost, the day's reconciliation finds the stored event and activates it.
 */

import { sql } from '@rgz/core';
import { BACKENDS, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, count, deliver, paymentOf } from './test-support/flows.js';
import { auth, createSubscriber, createWorld, jsonInit, type World } from './test-support/harness.js';

describe.each(BACKENDS)('restart on %s storage', (backend) => {
  let world: World;
  const fake = new FakePaymentProvider({ id: 'fakepay' });

  beforeAll(async () => {
    world = await createWorld(backend, { plugins: [fakeProviderPlugin(fake)] });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('stored event, kernel stopped before the task ran, new kernel on the same database → activated', async () => {
    const first = await world.node({ worker: false });
    const sub = await createSubscriber(first, null);
    const order = await buy(first, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    expect((await deliver(first, 'fakepay', fake.webhookFor(tx))).status).toBe(200);
    expect(await count(first, 'core_tasks', sql`name = 'billing.verify-payment' and status = 'pending'`)).toBe(1);
    await first.stop();

    const second = await world.node({ worker: true });
    const payment = await waitFor(async () => {
      const p = await paymentOf(second, 'fakepay', tx);
      return p?.status === 'credited' ? p : undefined;
    }, 15_000);
    const polled = (await (await second.request(order.links.self, { headers: auth(sub.token) })).json()) as {
      status: string;
      subscription: { status: string } | null;
    };
    expect(polled).toMatchObject({ status: 'paid', subscription: { status: 'active' } });
    expect(await count(second, 'billing_postings', sql`payment_id = ${payment.id}`)).toBe(1);
    await second.stop();
  });

  it('the verification task lost: the reconciliation of the day activates from the stored event', async () => {
    const node = await world.node({ worker: false });
    const sub = await createSubscriber(node, null);
    const order = await buy(node, sub.token);
    const tx = fake.pay({ reference: order.reference, amount: 1000 });
    await deliver(node, 'fakepay', fake.webhookFor(tx));
    await node.db
      .updateTable('core_tasks')
      .set({ status: 'dead', last_error: 'lost' })
      .where('name', '=', 'billing.verify-payment')
      .where('status', '=', 'pending')
      .execute();
    const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day: new Date().toISOString().slice(0, 10) }));
    expect(res.status).toBe(201);
    const run = (await res.json()) as { counts: Record<string, number> };
    expect(run.counts.missing_in_db).toBe(1);
    expect(await paymentOf(node, 'fakepay', tx)).toMatchObject({ status: 'credited' });
    await node.stop();
  });
});
