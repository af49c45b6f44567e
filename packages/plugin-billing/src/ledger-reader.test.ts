/**
 * core's `LedgerReader` as billing provides it: payments and a refund booked through the real flow (order → webhook →
 * verification → posting), then the statement, balances and revenue read back and checked against the split rule.
 */
import { ledgerReader } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, deliver, paymentOf } from './test-support/flows.js';
import { createReseller, createSubscriber, createWorld, jsonInit, type Node, type World } from './test-support/harness.js';

describe.each(BACKENDS)('ledger reader on %s storage', (backend) => {
  let world: World;
  let node: Node;
  const fake = new FakePaymentProvider({ id: 'fakepay' });

  beforeAll(async () => {
    world = await createWorld(backend, { plugins: [fakeProviderPlugin(fake)], billingConfig: { commissionPercent: 1.5 } });
    node = await world.node();
  });
  afterAll(async () => {
    await world?.close();
  });

  async function pay(resellerId: string | null, plan: string, amount: number, fee: number) {
    const sub = await createSubscriber(node, resellerId);
    const order = await buy(node, sub.token, plan);
    const tx = fake.pay({ reference: order.reference, amount, fee });
    await deliver(node, 'fakepay', fake.webhookFor(tx));
    await node.kernel.tasks.drain();
    const p = await paymentOf(node, 'fakepay', tx);
    expect(p?.status).toBe('credited');
    return { paymentId: p?.id as string, tx, order: order.reference };
  }

  it('reads statements, balances and revenue from the ledger alone', async () => {
    const reader = node.kernel.get(ledgerReader);
    const a = await createReseller(node, { fee: 5, share: 50 });
    const b = await createReseller(node, { fee: 3, share: 60 });
    const from = new Date(Date.now() - 1000);
    const p1 = await pay(a.id, 'DAY10MB', 1000, 15); // F 15, R 50, N 935 → S 467, RGZ 468
    const p2 = await pay(a.id, 'MONTH1GB', 10_000, 190); // F 190, R 500, N 9310 → S 4655, RGZ 4655
    await pay(b.id, 'DAY100MB', 5000, 95); // F 95, R 150, N 4755 → S 2853, RGZ 1902
    await pay(null, 'DAY10MB', 1000, 15); // no reseller: RGZ takes 985
    const refund = await node.request(`/api/billing/payments/${p2.paymentId}/refund`, jsonInit('POST', node.nocToken, { reason: 'test' }));
    expect(refund.status).toBe(200);
    const to = new Date(Date.now() + 1000);

    const st = await reader.resellerStatement(a.id, from, to);
    expect(st.postings.map((p) => [p.kind, p.paymentId, p.gross, p.providerFee, p.resellerFee, p.resellerShare, p.rgzShare])).toEqual([
      ['payment', p1.paymentId, 1000n, 15n, 50n, 467n, 468n],
      ['payment', p2.paymentId, 10_000n, 190n, 500n, 4655n, 4655n],
      ['refund', p2.paymentId, -10_000n, -190n, -500n, -4655n, -4655n],
    ]);
    expect(st.postings[0]).toMatchObject({ paymentRef: p1.tx, orderRef: p1.order, planCode: 'DAY10MB', provider: 'fakepay', settlement: 0n });
    expect(st.totals).toMatchObject({ payments: 2, refunds: 1, gross: 1000n, providerFee: 15n, resellerFee: 50n, resellerShare: 467n, rgzShare: 468n });
    expect(st.openingBalance).toBe(0n);
    expect(st.closingBalance).toBe(517n);
    expect(await reader.balance(a.id, to)).toBe(517n);
    expect(await reader.balance(a.id, from)).toBe(0n);

    const rev = await reader.revenue(from, to);
    expect(rev.total).toMatchObject({ payments: 4, refunds: 1, gross: 7000n, providerFee: 125n });
    expect(rev.total.gross).toBe(rev.total.providerFee + rev.total.resellerFee + rev.total.resellerShare + rev.total.rgzShare);
    const byReseller = new Map(rev.byReseller.map((l) => [l.key, l]));
    expect(byReseller.get(a.id)).toMatchObject({ gross: 1000n, payments: 2, refunds: 1 });
    expect(byReseller.get(b.id)).toMatchObject({ gross: 5000n, resellerFee: 150n, resellerShare: 2853n, rgzShare: 1902n });
    expect(byReseller.get(null)).toMatchObject({ gross: 1000n, rgzShare: 985n });
    expect(rev.byReseller.at(-1)?.key).toBeNull();
    expect(new Map(rev.byPlan.map((l) => [l.key, l.gross]))).toEqual(
      new Map([
        ['DAY100MB', 5000n],
        ['DAY10MB', 2000n],
        ['MONTH1GB', 0n],
      ]),
    );
    expect(rev.byProvider).toEqual([expect.objectContaining({ key: 'fakepay', gross: 7000n })]);
    expect(rev.byKind.map((l) => [l.key, l.gross])).toEqual([
      ['payment', 17_000n],
      ['refund', -10_000n],
    ]);

    const toInvoice = await reader.resellersToInvoice(from, to);
    expect(toInvoice).toEqual([a.id, b.id].sort());
    // Next period: no postings, but a's and b's balances are not zero, so both still get a statement.
    const later = new Date(to.getTime() + 3_600_000);
    expect(await reader.resellersToInvoice(to, later)).toEqual([a.id, b.id].sort());
    const empty = await reader.resellerStatement(a.id, to, later);
    expect(empty).toMatchObject({ openingBalance: 517n, closingBalance: 517n, postings: [] });
  });
});
