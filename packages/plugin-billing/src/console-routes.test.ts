/**
 * The console's billing routes on both backends: revenue today and this month from the ledger, balances, a
 * payment's whole history, payments by subscriber, resolving a flagged payment, and a reconciliation started without
 * waiting; each checked for reseller isolation and bad input.
 */
import { BACKENDS, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePaymentProvider, fakeProviderPlugin } from './test-support/fake-provider.js';
import { buy, deliver, paymentOf } from './test-support/flows.js';
import { auth, createReseller, createSubscriber, createWorld, jsonInit, type Node, type World } from './test-support/harness.js';

describe.each(BACKENDS)('billing console routes (%s)', (backend) => {
  let world: World;
  let node: Node;
  const fake = new FakePaymentProvider({ id: 'fakepay' });
  let resA: { id: string; token: string };
  let resB: { id: string; token: string };
  let subA: { id: string; token: string; msisdn: string };
  let paymentA: string;
  let paymentB: string;
  let flagged: string;
  const get = async (path: string, token: string) => {
    const res = await node.request(path, { headers: auth(token) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
  };

  const pay = async (sub: { token: string }, plan: string, claimed?: number) => {
    const order = await buy(node, sub.token, plan);
    const price = order.amount_fcfa;
    const tx = fake.pay({ reference: order.reference, amount: claimed === undefined ? price : 1000, fee: 10 });
    expect((await deliver(node, 'fakepay', fake.webhookFor(tx, claimed === undefined ? {} : { amount: claimed }))).status).toBe(200);
    await node.kernel.tasks.drain();
    const p = await paymentOf(node, 'fakepay', tx);
    if (!p) throw new Error('payment not recorded');
    return p.id;
  };

  beforeAll(async () => {
    world = await createWorld(backend, { plugins: [fakeProviderPlugin(fake)] });
    node = await world.node();
    resA = await createReseller(node, { fee: 5, share: 50 });
    resB = await createReseller(node, { fee: 5, share: 50 });
    subA = await createSubscriber(node, resA.id);
    const subB = await createSubscriber(node, resB.id);
    paymentA = await pay(subA, 'DAY10MB');
    paymentB = await pay(subB, 'DAY100MB');
    // The webhook claims 5000 where the provider charged 1000: flagged for review, nothing credited.
    flagged = await pay(await createSubscriber(node, resA.id), 'DAY100MB', 5000);
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sums revenue today and this month from the ledger; a reseller sees its own sales', async () => {
    const localDay = (d: Date) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Africa/Porto-Novo' }).format(d);
    const plain = await get('/api/billing/summary', node.nocToken);
    expect(plain.status).toBe(200);
    // The server's default zone (Bénin, UTC+1 all year): days and months begin at local midnight.
    expect(plain.body.timezone).toBe('Africa/Porto-Novo');
    expect([localDay(new Date(Date.now() - 60_000)), localDay(new Date())]).toContain(plain.body.date);
    // Sum the day the payments were booked, so a run across local midnight still checks the same figures.
    const bookedAt = await node.db.selectFrom('billing_ledger_entries').select('created_at').where('payment_id', '=', paymentA).executeTakeFirstOrThrow();
    const all = await get(`/api/billing/summary?date=${localDay(new Date(bookedAt.created_at))}`, node.nocToken);
    expect(all.body.today).toMatchObject({ gross_fcfa: 6000, payments_fcfa: 6000, refunds_fcfa: 0, vouchers_fcfa: 0, payments: 2 });
    expect(all.body.month.gross_fcfa).toBe(6000);
    // Shares of the net after the provider fee (10 each): every franc of the gross is somewhere.
    expect(all.body.today.rgz_revenue_fcfa + all.body.today.reseller_revenue_fcfa + 20).toBe(6000);
    const a = await get(`/api/billing/summary?date=${all.body.date}`, resA.token);
    expect(a.body.today).toMatchObject({ gross_fcfa: 1000, payments: 1 });
    // Only the lines of its own sales: its fee and share plus RGZ's share of them, the provider's fee aside.
    expect(a.body.today.rgz_revenue_fcfa + a.body.today.reseller_revenue_fcfa + 10).toBe(1000);
    const b = await get(`/api/billing/summary?date=${all.body.date}`, resB.token);
    expect(b.body.today).toMatchObject({ gross_fcfa: 5000, payments: 1 });
    const past = await get('/api/billing/summary?date=2001-02-03', node.nocToken);
    expect(past.body).toMatchObject({ date: '2001-02-03', today: { gross_fcfa: 0, from: '2001-02-02T23:00:00.000Z', to: '2001-02-03T23:00:00.000Z' } });
    expect(past.body.month).toMatchObject({ from: '2001-01-31T23:00:00.000Z', to: '2001-02-28T23:00:00.000Z' });
    for (const bad of ['2001-13-45', 'yesterday']) {
      const res = await get(`/api/billing/summary?date=${bad}`, node.nocToken);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/application\/problem\+json/);
    }
  });

  it('lists every reseller’s balance for the NOC, only its own for a reseller', async () => {
    const all = await get('/api/billing/balances', node.nocToken);
    const byId = new Map(all.body.items.map((i: { reseller_id: string; balance_fcfa: number }) => [i.reseller_id, i.balance_fcfa]));
    const single = await get(`/api/billing/resellers/${resA.id}/balance`, node.nocToken);
    expect(byId.get(resA.id)).toBe(single.body.balance_fcfa);
    expect(single.body.balance_fcfa).toBeGreaterThan(0);
    const mine = await get('/api/billing/balances', resA.token);
    expect(mine.body.items.map((i: { reseller_id: string }) => i.reseller_id)).toEqual([resA.id]);
  });

  it('filters payments by subscriber', async () => {
    const list = await get(`/api/billing/payments?subscriber_id=${subA.id}`, node.nocToken);
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([paymentA]);
    expect((await get(`/api/billing/payments?subscriber_id=${subA.id}`, resB.token)).body.items).toEqual([]);
    expect((await get('/api/billing/payments?subscriber_id=nope', node.nocToken)).status).toBe(400);
  });

  it('tells a payment’s whole story; raw bodies for the NOC only; another reseller gets a 404', async () => {
    const h = await get(`/api/billing/payments/${paymentA}/history`, node.nocToken);
    expect(h.status).toBe(200);
    expect(h.body.payment).toMatchObject({ id: paymentA, status: 'credited', amount_fcfa: 1000, subscriber_id: subA.id });
    expect(h.body.order).toMatchObject({ status: 'paid', plan_code: 'DAY10MB', amount_fcfa: 1000 });
    expect(h.body.events).toHaveLength(1);
    expect(h.body.events[0]).toMatchObject({ kind: 'webhook', claimed_status: 'succeeded', claimed_amount_fcfa: 1000 });
    expect(typeof h.body.events[0].raw_body).toBe('string');
    expect(h.body.verification).not.toBeNull();
    expect(h.body.ledger.map((l: { account: string }) => l.account)).toContain('provider_clearing:fakepay');
    const debits = h.body.ledger.reduce((s: number, l: { debit_fcfa: number }) => s + l.debit_fcfa, 0);
    const credits = h.body.ledger.reduce((s: number, l: { credit_fcfa: number }) => s + l.credit_fcfa, 0);
    expect(debits).toBe(credits);
    expect(h.body.subscription).toMatchObject({ plan_code: 'DAY10MB', status: 'active' });
    expect(h.body.nas_tasks).toHaveLength(1);
    expect(h.body.nas_tasks[0]).toMatchObject({ reason: 'plan_activated' });
    expect(h.body.refunds).toEqual([]);
    expect(h.body.audit.map((a: { action: string }) => a.action)).toContain('billing.payment.credited');

    const asOwner = await get(`/api/billing/payments/${paymentA}/history`, resA.token);
    expect(asOwner.status).toBe(200);
    expect(asOwner.body.events[0].raw_body).toBeNull();
    expect(asOwner.body.verification).toBeNull();
    const foreign = await get(`/api/billing/payments/${paymentB}/history`, resA.token);
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('payment_not_found');
    expect((await get('/api/billing/payments/not-a-uuid/history', node.nocToken)).status).toBe(400);
  });

  it('resolves a flagged payment with what was done, once, audited; NOC only', async () => {
    const body = { resolution: 'Customer refunded the 4000 difference by hand' };
    expect((await node.request(`/api/billing/payments/${flagged}/review`, jsonInit('POST', resA.token, body))).status).toBe(403);
    const bad = await node.request(`/api/billing/payments/${flagged}/review`, jsonInit('POST', node.nocToken, { resolution: 'ok' }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const untouched = await node.db.selectFrom('billing_payments').select('review').where('id', '=', flagged).executeTakeFirstOrThrow();
    expect(untouched.review).toBe('needs_review');

    const res = await node.request(`/api/billing/payments/${flagged}/review`, jsonInit('POST', node.nocToken, body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: flagged, review: 'resolved' });
    const again = await node.request(`/api/billing/payments/${flagged}/review`, jsonInit('POST', node.nocToken, body));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('payment_not_flagged');
    const missing = await node.request('/api/billing/payments/00000000-0000-4000-8000-000000000000/review', jsonInit('POST', node.nocToken, body));
    expect(missing.status).toBe(404);

    const h = await get(`/api/billing/payments/${flagged}/history`, node.nocToken);
    expect(h.body.payment.review).toBe('resolved');
    // The settlement's own entry (flagged) and then the resolution.
    const actions = h.body.audit.map((a: { action: string }) => a.action);
    expect(actions.at(-1)).toBe('billing.payment.resolve');
    expect(actions.length).toBeGreaterThan(1);
    expect(h.body.audit.at(-1).details).toMatchObject({ resolution: body.resolution });
    const owner = await get(`/api/billing/payments/${flagged}/history`, resA.token);
    expect(owner.body.audit.map((a: { action: string }) => a.action)).toEqual(actions);
  });

  it('a reconciliation run shows each mismatch with what became of its payment', async () => {
    // The flagged payment was resolved by the test above; today's run checks it against the provider again.
    const day = new Date().toISOString().slice(0, 10);
    const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day }));
    expect(res.status, await res.clone().text()).toBe(201);
    const run = (await res.json()) as { id: string };
    const full = await get(`/api/billing/reconciliation/runs/${run.id}`, node.nocToken);
    expect(full.status).toBe(200);
    const item = full.body.items.find((i: { payment_id: string | null }) => i.payment_id === flagged);
    expect(item).toBeDefined();
    expect(item.kind).not.toBe('match');
    expect(typeof item.payment_review).toBe('string');
    expect(item.resolution).toMatchObject({ resolution: 'Customer refunded the 4000 difference by hand' });
    const credited = full.body.items.find((i: { payment_id: string | null }) => i.payment_id === paymentA);
    expect(credited).toMatchObject({ kind: 'match', payment_review: null, resolution: null });
  });

  it('starts a reconciliation without waiting and the run can be polled to its end', async () => {
    const day = '2001-02-03';
    const res = await node.request('/api/billing/reconciliation/runs', jsonInit('POST', node.nocToken, { day, wait: false }));
    expect(res.status).toBe(202);
    const started = (await res.json()) as { id: string; status: string; links: { self: string } };
    expect(started).toMatchObject({ status: 'running', day });
    let final: { status: string; day: string } = { status: 'running', day: '' };
    await waitFor(async () => {
      final = (await get(started.links.self, node.nocToken)).body;
      return final.status !== 'running';
    }, 30_000);
    expect(final).toMatchObject({ status: 'succeeded', day });
  });

  it('documents the new routes in /openapi.json', async () => {
    const doc = (await (await node.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/billing/summary']?.get).toBeDefined();
    expect(doc.paths['/api/billing/balances']?.get).toBeDefined();
    expect(doc.paths['/api/billing/payments/{id}/history']?.get).toBeDefined();
    expect(doc.paths['/api/billing/payments/{id}/review']?.post).toBeDefined();
  });
});
