/**
 * Billing with the real KKiaPay plugin against the KKiaPay test server, over real sockets: the server's widget
 * stand-in pays with the order's widget parameters, the server posts its webhook (x-kkiapay-secret, 5 attempts) to
 * the listening kernel, billing verifies through KKiaPay's status API and books the split; also a forged secret, an
 * amount disagreement, the API failing then answering, a refund (revert) and a reconciliation from a dashboard CSV.
 */

import { sql } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import kkiapay from '@rgz/plugin-kkiapay';
import { type KkiapayTestServer, startKkiapayTestServer } from '@rgz/plugin-kkiapay/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buy, count, linesOf, paymentOf } from './test-support/flows.js';
import { auth, createReseller, createSubscriber, createWorld, jsonInit, makeTasksDue, type Node, unbalanced, type World } from './test-support/harness.js';

const WEBHOOK_SECRET = 'whsec-billing-integration-0123456789';

describe.each(BACKENDS)('billing + KKiaPay plugin + KKiaPay test server on %s storage', (backend) => {
  let server: KkiapayTestServer;
  let world: World;
  let node: Node;
  let hookUrl: string;
  let reseller: { id: string; token: string };

  beforeAll(async () => {
    server = await startKkiapayTestServer();
    world = await createWorld(backend, {
      plugins: [
        {
          plugin: kkiapay,
          config: {
            id: 'kkiapay',
            sandbox: true,
            publicKey: server.publicKey,
            privateKey: server.privateKey,
            secret: server.secretKey,
            webhookSecret: WEBHOOK_SECRET,
            baseUrl: server.url,
            timeoutMs: 2000,
          },
        },
      ],
      billingConfig: { verification: { backoffSeconds: 1 } },
    });
    node = await world.node();
    const { port } = await node.kernel.listen(0, '127.0.0.1');
    hookUrl = `http://127.0.0.1:${port}/hooks/payment/kkiapay`;
    reseller = await createReseller(node, { fee: 5, share: 50 });
  });
  afterAll(async () => {
    await world?.close();
    await server?.close();
  });

  const drain = () => node.kernel.tasks.drain();
  const paidOrder = async (plan = 'DAY10MB', extra: Record<string, unknown> = {}) => {
    const sub = await createSubscriber(node, reseller.id);
    const order = await buy(node, sub.token, plan);
    expect(order.checkout?.kind).toBe('client_widget');
    const tx = server.payWidget(order.checkout?.params ?? {}, 'succeeded', extra);
    return { sub, order, tx: tx.transactionId };
  };

  it('widget → KKiaPay webhook ×5 at once → verify → one credit, split right to the franc', async () => {
    const { order, tx, sub } = await paidOrder();
    const deliveries = await server.sendWebhook(hookUrl, tx, { secret: WEBHOOK_SECRET, times: 5, concurrently: true, retryBaseMs: 10 });
    expect(deliveries.map((d) => d.delivered)).toEqual([true, true, true, true, true]);
    expect(await count(node, 'billing_payment_events', sql`provider_transaction_id = ${tx}`)).toBe(1);
    await drain();
    const p = await paymentOf(node, 'kkiapay', tx);
    expect(p).toMatchObject({ status: 'credited', amount_fcfa: 1000, fee_fcfa: 19, subscriber_id: sub.id });
    // KKiaPay's reported fee (1.9 % here) is booked: F = 19, R = 50, N = 931 → reseller 465, RGZ 466.
    expect((await linesOf(node, p!.id)).map((l) => [l.account.split(':')[0], l.debit || -l.credit])).toEqual([
      ['provider_clearing', 1000],
      ['provider_fees', -19],
      ['reseller_fee', -50],
      ['revenue', -465],
      ['revenue', -466],
    ]);
    const polled = (await (await node.request(order.links.self, { headers: auth(sub.token) })).json()) as { status: string };
    expect(polled.status).toBe('paid');
    expect(server.requestCount('status')).toBeGreaterThan(0);
  });

  it('a forged x-kkiapay-secret is refused (401) and nothing is stored', async () => {
    const { tx } = await paidOrder();
    const [delivery] = await server.sendWebhook(hookUrl, tx, { secret: 'not-the-secret-at-all-0123', attempts: 1 });
    expect(delivery?.delivered).toBe(false);
    expect(delivery?.attempts[0]?.status).toBe(401);
    const [none] = await server.sendWebhook(hookUrl, tx, { attempts: 1 });
    expect(none?.attempts[0]?.status).toBe(401);
    expect(await count(node, 'billing_payment_events', sql`provider_transaction_id = ${tx}`)).toBe(0);
  });

  it('KKiaPay reports less than the price: amount_mismatch, nothing credited', async () => {
    const { tx } = await paidOrder('DAY100MB', { amount: 500 });
    await server.sendWebhook(hookUrl, tx, { secret: WEBHOOK_SECRET });
    await drain();
    expect(await paymentOf(node, 'kkiapay', tx)).toMatchObject({ status: 'amount_mismatch', amount_fcfa: 500, expected_fcfa: 5000, subscription_id: null });
  });

  it('the status API failing: retried, nothing credited meanwhile, then credited', async () => {
    const { tx } = await paidOrder();
    server.failNext(2, 503, undefined, 'status');
    await server.sendWebhook(hookUrl, tx, { secret: WEBHOOK_SECRET });
    await drain();
    expect(await paymentOf(node, 'kkiapay', tx)).toBeUndefined();
    await makeTasksDue(node.db, 'billing.verify-payment');
    await drain();
    expect(await paymentOf(node, 'kkiapay', tx)).toBeUndefined();
    await makeTasksDue(node.db, 'billing.verify-payment');
    await drain();
    expect(await paymentOf(node, 'kkiapay', tx)).toMatchObject({ status: 'credited' });
  });

  it('refund: KKiaPay revert, reversing entries', async () => {
    const { tx } = await paidOrder('MONTH1GB');
    await server.sendWebhook(hookUrl, tx, { secret: WEBHOOK_SECRET });
    await drain();
    const p = (await paymentOf(node, 'kkiapay', tx))!;
    const res = await node.request(`/api/billing/payments/${p.id}/refund`, jsonInit('POST', node.nocToken, { reason: 'test' }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(server.revertRequests()).toContain(tx);
    expect(server.transaction(tx)?.status).toBe('REVERTED');
    expect(await paymentOf(node, 'kkiapay', tx)).toMatchObject({ status: 'refunded' });
    const lines = await linesOf(node, p.id);
    expect(lines.filter((l) => l.kind === 'refund')).toHaveLength(lines.filter((l) => l.kind === 'payment').length);
    expect(await unbalanced(node.db)).toEqual([]);
  });

  it('reconciliation: a payment whose webhook never came, found in the dashboard CSV, is inserted and activated', async () => {
    const { tx } = await paidOrder('DAY100MB');
    const csv = `transaction_id,amount_fcfa,performed_at,status\n${tx},5000,${new Date().toISOString()},SUCCESS\n`;
    const imp = await node.request('/api/billing/reconciliation/import?provider=kkiapay', {
      method: 'POST',
      headers: { ...auth(node.nocToken), 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imp.status, await imp.clone().text()).toBe(201);
    const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day: new Date().toISOString().slice(0, 10) }));
    expect(res.status).toBe(201);
    const run = (await res.json()) as { counts: Record<string, number> };
    expect(run.counts.missing_in_db).toBe(1);
    expect(await paymentOf(node, 'kkiapay', tx)).toMatchObject({ status: 'credited' });
  });
});
