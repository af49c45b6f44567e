/**
 * FedapayProvider and FedapayClient against the FedaPay test server over loopback HTTP: what createCheckout sends,
 * webhook signatures (wrong, stale, replayed, tampered), the status table, money, paging through the list, and how
 * each failure is classified (a lost create is ambiguous, a lost read retryable).
 */
import { createHmac } from 'node:crypto';
import { PaymentProviderError, type PaymentTransaction, WebhookRejected, type WebhookRequest } from '@rgz/core';
import { collect, rejectionOf, startWebhookCapture, thrownBy, type WebhookCapture } from '@rgz/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FedapayProvider, type FedapayProviderOptions, parseSignatureHeader } from './provider.js';
import { type FedapayTestServer, startFedapayTestServer } from './test-server.js';

let peer: FedapayTestServer;
let capture: WebhookCapture;
const providers: FedapayProvider[] = [];

beforeAll(async () => {
  peer = await startFedapayTestServer();
  capture = await startWebhookCapture();
});
afterAll(async () => {
  for (const p of providers) p.close();
  await capture?.close();
  await peer?.close();
});
afterEach(async () => {
  await peer.up();
  await peer.settle();
  peer.setWebhookUrl(undefined);
  peer.reset();
});

function makeProvider(overrides: Partial<FedapayProviderOptions> = {}): FedapayProvider {
  const provider = new FedapayProvider({
    id: 'fedapay',
    sandbox: true,
    secretKey: peer.secretKey,
    webhookSecret: peer.webhookSecret,
    baseUrl: peer.url,
    timeoutMs: 400,
    toleranceSeconds: 300,
    minAmount: 100,
    maxAmount: 3_000_000,
    listPageSize: 5,
    listMaxPages: 100,
    listLookbackHours: 48,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

const xof = (amountMinor: number) => ({ amountMinor, currency: 'XOF' as const });
const nowSeconds = () => Math.floor(Date.now() / 1000);

const deliver = (id: number | string, options: Parameters<FedapayTestServer['sendWebhook']>[2] = {}): Promise<WebhookRequest> =>
  capture.next(() => peer.sendWebhook(capture.url, id, options));

/** An authentic delivery of any body, signed as FedaPay signs. */
const signed = (rawBody: string, t = nowSeconds()): WebhookRequest => ({ rawBody, headers: { 'x-fedapay-signature': peer.sign(rawBody, t) }, method: 'POST' });

describe('createCheckout', () => {
  it('creates the transaction with our reference in custom_metadata and redirects to its payment page', async () => {
    const provider = makeProvider();
    const checkout = await provider.createCheckout({
      reference: 'pay_fp_1',
      amount: xof(1500),
      description: 'Forfait 1 jour',
      customer: { phone: '+2290197000000', name: 'Afi Kossi Test', email: 'afi@example.bj' },
      returnUrl: 'https://portal.example/pay/return',
      cancelUrl: 'https://portal.example/pay/cancel',
      locale: 'fr',
    });
    expect(peer.createRequests()).toEqual([
      {
        description: 'Forfait 1 jour',
        amount: 1500,
        currency: { iso: 'XOF' },
        callback_url: 'https://portal.example/pay/return',
        custom_metadata: { rgz_reference: 'pay_fp_1' },
        customer: { firstname: 'Afi', lastname: 'Kossi Test', email: 'afi@example.bj', phone_number: { number: '+2290197000000', country: 'bj' } },
      },
    ]);
    expect(checkout.kind).toBe('redirect');
    if (checkout.kind !== 'redirect') return;
    const tx = peer.findByReference('pay_fp_1');
    expect(checkout.providerRef).toBe(String(tx?.id));
    expect(checkout.url).toBe(`${peer.url}/process/${tx?.token}`);
    expect(await (await fetch(checkout.url)).text()).toContain('1500 FCFA');
    // Paying sends the browser back to the portal with FedaPay's id and status.
    const back = await peer.pay(checkout.url, 'approved');
    expect(back).toEqual({ status: 302, location: `https://portal.example/pay/return?id=${tx?.id}&status=approved` });
  });

  it('checks amounts against the configured limits and the payer phone before any request', async () => {
    const provider = makeProvider({ minAmount: 100, maxAmount: 3_000_000 });
    for (const [amountMinor, reason] of [
      [99, 'amount_out_of_range'],
      [3_000_001, 'amount_out_of_range'],
      [0, 'invalid_request'],
      [12.5, 'invalid_request'],
    ] as const) {
      const error = await rejectionOf(provider.createCheckout({ reference: 'r', amount: xof(amountMinor), description: 'x' }));
      expect(error, String(amountMinor)).toMatchObject({ kind: 'permanent', reason });
    }
    await expect(provider.createCheckout({ reference: 'r', amount: xof(1000), description: 'x', customer: { phone: '0197000000' } })).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'invalid_request',
    });
    await expect(provider.createCheckout({ reference: 'bad ref', amount: xof(1000), description: 'x' })).rejects.toBeInstanceOf(PaymentProviderError);
    expect(peer.requestCount()).toBe(0);
  });

  it('a lost create is ambiguous, a refused one permanent, an unavailable one retryable', async () => {
    const provider = makeProvider({ timeoutMs: 200 });
    const req = { reference: 'pay_x', amount: xof(1000), description: 'x' };
    peer.hangNext(1, 'create');
    await expect(provider.createCheckout(req)).rejects.toMatchObject({ kind: 'ambiguous', reason: 'provider_error' });
    peer.failNext(1, 400, { message: 'Transaction creation failed', errors: { description: ['is required'] } }, 'create');
    await expect(provider.createCheckout(req)).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'invalid_request',
      message: expect.stringContaining('description: is required'),
    });
    peer.failNext(1, 503, undefined, 'create');
    await expect(provider.createCheckout(req)).rejects.toMatchObject({ kind: 'retryable', httpStatus: 503 });
    peer.failNext(1, 500, undefined, 'create');
    await expect(provider.createCheckout(req)).rejects.toMatchObject({ kind: 'ambiguous', httpStatus: 500 });
    await expect(makeProvider({ secretKey: 'sk_wrong' }).createCheckout(req)).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'unauthorized',
      httpStatus: 401,
    });
    // Created, then no token: retryable, and the message names the orphan.
    peer.hangNext(1, 'token');
    const error = await rejectionOf(provider.createCheckout(req));
    expect(error).toMatchObject({ kind: 'retryable' });
    expect((error as Error).message).toMatch(/transaction \d+ was created; a new checkout is safe/);
  });
});

describe('verifyWebhook', () => {
  it('authenticates the HMAC and trusts the payload: payloadAuthenticated=true, a stable event id', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 2500, reference: 'pay_wh', status: 'approved' });
    const request = await deliver(tx.id);
    const { timestamp, signatures } = parseSignatureHeader(request.headers['x-fedapay-signature'] ?? '');
    expect(Math.abs((timestamp ?? 0) - nowSeconds())).toBeLessThan(5);
    // Independent check of the scheme: hex HMAC-SHA256 of "{t}.{body}".
    expect(signatures).toEqual([createHmac('sha256', peer.webhookSecret).update(`${timestamp}.${request.rawBody}`).digest('hex')]);
    const event = provider.verifyWebhook(request);
    expect(event).toMatchObject({
      type: 'transaction',
      providerRef: String(tx.id),
      reference: 'pay_wh',
      status: 'succeeded',
      amount: xof(2500),
      payloadAuthenticated: true,
    });
    // A redelivery is signed afresh but is the same event.
    const again = provider.verifyWebhook(await deliver(tx.id));
    expect(again.type === 'transaction' && again.eventId).toBe(event.type === 'transaction' && event.eventId);
    const declined = peer.createTransaction({ amount: 1000, status: 'declined' });
    expect(provider.verifyWebhook(await deliver(declined.id))).toMatchObject({ status: 'failed' });
    const canceled = peer.createTransaction({ amount: 1000, status: 'canceled' });
    expect(provider.verifyWebhook(await deliver(canceled.id))).toMatchObject({ status: 'cancelled' });
  });

  it('rejects a wrong signature, a wrong secret, a tampered body and a missing header as unauthenticated', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    const genuine = await deliver(tx.id);
    const cases: Array<[string, WebhookRequest]> = [
      ['other secret', await deliver(tx.id, { secret: 'wh_sandbox_other' })],
      ['tampered body', { ...genuine, rawBody: genuine.rawBody.replace('"amount":1000', '"amount":100000') }],
      ['no header', await deliver(tx.id, { unsigned: true })],
      ['garbage header', { ...genuine, headers: { 'x-fedapay-signature': 'nonsense' } }],
      ['no s=', { ...genuine, headers: { 'x-fedapay-signature': `t=${nowSeconds()}` } }],
      ['short s=', { ...genuine, headers: { 'x-fedapay-signature': `t=${nowSeconds()},s=abcd` } }],
      [
        'moved timestamp',
        {
          ...genuine,
          headers: { 'x-fedapay-signature': (genuine.headers['x-fedapay-signature'] ?? '').replace(/t=(\d+)/, (_m, t: string) => `t=${Number(t) + 1}`) },
        },
      ],
    ];
    for (const [what, request] of cases) {
      const error = thrownBy(() => provider.verifyWebhook(request));
      expect(error, what).toBeInstanceOf(WebhookRejected);
      expect((error as WebhookRejected).reason, what).toBe('unauthenticated');
    }
  });

  it('accepts any of several signatures (secret rotation)', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    const request = await deliver(tx.id);
    const header = request.headers['x-fedapay-signature'] ?? '';
    const rotated = header.replace(',s=', `,s=${'0'.repeat(64)},s=`);
    expect(provider.verifyWebhook({ ...request, headers: { 'x-fedapay-signature': rotated } })).toMatchObject({ type: 'transaction' });
  });

  it('rejects an old or future timestamp as stale, and a replay once the tolerance has passed', async () => {
    const provider = makeProvider({ toleranceSeconds: 300 });
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    expect(thrownBy(() => provider.verifyWebhook(signed('{}', nowSeconds() - 301)))).toMatchObject({ reason: 'stale', status: 401 });
    expect(thrownBy(() => provider.verifyWebhook(signed('{}', nowSeconds() + 301)))).toMatchObject({ reason: 'stale' });
    expect(provider.verifyWebhook(await deliver(tx.id, { timestamp: nowSeconds() - 299 }))).toMatchObject({ type: 'transaction' });

    // Capture a genuine delivery, then replay the same bytes later: stale for a provider whose clock moved on.
    const [original] = await peer.sendWebhook(capture.url, tx.id);
    if (!original) throw new Error('no delivery');
    const replayed = await capture.next(() => peer.replayWebhook(capture.url, original));
    expect(replayed.rawBody).toBe(original.body);
    expect(replayed.headers['x-fedapay-signature']).toBe(original.signature);
    expect(provider.verifyWebhook(replayed)).toMatchObject({ type: 'transaction' });
    const later = makeProvider({ now: () => Date.now() + 301_000 });
    expect(thrownBy(() => later.verifyWebhook(replayed))).toMatchObject({ reason: 'stale' });
  });

  it('rejects authentic but unreadable bodies as malformed and ignores events about no payment state', () => {
    const provider = makeProvider();
    for (const body of ['', '{nope', '[]', '"x"', '{}', '{"name":"transaction.approved"}', '{"name":"transaction.approved","entity":{"status":"approved"}}']) {
      expect(
        thrownBy(() => provider.verifyWebhook(signed(body))),
        body,
      ).toMatchObject({ reason: 'malformed', status: 400 });
    }
    expect(provider.verifyWebhook(signed('{"id":7,"name":"customer.created","entity":{"id":3}}'))).toMatchObject({ type: 'ignored', eventId: '7' });
    expect(provider.verifyWebhook(signed('{"id":8,"name":"transaction.created","entity":{"id":3,"status":"pending","amount":100}}'))).toMatchObject({
      type: 'ignored',
      eventId: '8',
    });
    // Envelopes seen in integrations: the transaction under entity.transaction or data.object; no event id.
    expect(provider.verifyWebhook(signed('{"name":"transaction.approved","entity":{"transaction":{"id":9,"status":"approved","amount":500}}}'))).toMatchObject({
      type: 'transaction',
      eventId: '9:transaction.approved',
      status: 'succeeded',
      amount: xof(500),
    });
    expect(provider.verifyWebhook(signed('{"name":"transaction.declined","data":{"object":{"id":10,"amount":500}}}'))).toMatchObject({ status: 'failed' });
    expect(thrownBy(() => provider.verifyWebhook({ ...signed('{}'), method: 'GET' }))).toMatchObject({ reason: 'malformed' });
  });

  it('the test server posts events by itself when a webhook URL is set', async () => {
    const provider = makeProvider();
    peer.setWebhookUrl(capture.url);
    const checkout = await provider.createCheckout({ reference: 'pay_auto', amount: xof(1000), description: 'x', returnUrl: 'https://portal.example/r' });
    if (checkout.kind !== 'redirect') throw new Error('expected a redirect');
    const received = await capture.next(async () => {
      await peer.pay(checkout.url, 'approved');
      await peer.settle();
    });
    const event = provider.verifyWebhook(received);
    expect(event).toMatchObject({ type: 'transaction', providerRef: checkout.providerRef, reference: 'pay_auto', status: 'succeeded' });
  });
});

describe('getTransaction', () => {
  it('maps FedaPay statuses to core statuses', async () => {
    const provider = makeProvider();
    const table = [
      ['pending', 'pending'],
      ['approved', 'succeeded'],
      ['transferred', 'succeeded'],
      ['declined', 'failed'],
      ['canceled', 'cancelled'],
      ['refunded', 'refunded'],
      ['approved_partially_refunded', 'partially_refunded'],
      ['transferred_partially_refunded', 'partially_refunded'],
    ] as const;
    for (const [word, status] of table) {
      const tx = peer.createTransaction({ amount: 3000, reference: `pay_${word}`, status: word });
      const got = await provider.getTransaction(String(tx.id));
      expect(got?.status, word).toBe(status);
      expect(got?.reference, word).toBe(`pay_${word}`);
    }
  });

  it('reports amount and fees as integer XOF, the operator, the performed date and the failure code', async () => {
    const provider = makeProvider();
    const settledAt = new Date('2026-11-20T10:00:00.000Z');
    const ok = peer.createTransaction({
      amount: 50_000,
      fees: 1020,
      status: 'approved',
      mode: 'moov',
      settledAt,
      createdAt: new Date('2026-11-20T09:58:00.000Z'),
    });
    expect(await provider.getTransaction(String(ok.id))).toMatchObject({
      providerRef: String(ok.id),
      status: 'succeeded',
      amount: xof(50_000),
      fees: xof(1020),
      operator: 'moov',
      performedAt: settledAt,
      raw: { klass: 'v1/transaction', id: ok.id },
    });
    const ko = peer.createTransaction({ amount: 1000, status: 'declined' });
    expect(await provider.getTransaction(String(ko.id))).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    const pending = peer.createTransaction({ amount: 1000 });
    expect(await provider.getTransaction(String(pending.id))).not.toHaveProperty('fees');
  });

  it('returns null for an unknown id and refuses answers it cannot trust', async () => {
    const provider = makeProvider();
    expect(await provider.getTransaction('999999999')).toBeNull();
    expect(await provider.getTransaction('not-a-number')).toBeNull();
    peer.failNext(1, 200, { 'v1/transaction': { id: 1, status: 'expired', amount: 100 } }, 'retrieve');
    await expect(provider.getTransaction('1')).rejects.toMatchObject({ kind: 'permanent', reason: 'provider_error', providerCode: 'expired' });
    peer.failNext(1, 200, { 'v1/transaction': { id: 1, status: 'approved', amount: '12.5' } }, 'retrieve');
    await expect(provider.getTransaction('1')).rejects.toMatchObject({ reason: 'provider_error' });
  });

  it('a lost read is retryable, a server down too', async () => {
    const provider = makeProvider({ timeoutMs: 200 });
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    peer.hangNext(1, 'retrieve');
    await expect(provider.getTransaction(String(tx.id))).rejects.toMatchObject({ kind: 'retryable' });
    await peer.down();
    await expect(provider.getTransaction(String(tx.id))).rejects.toMatchObject({ kind: 'retryable' });
    await peer.up();
    expect((await provider.getTransaction(String(tx.id)))?.status).toBe('succeeded');
  });
});

describe('listTransactions', () => {
  const day = (d: string) => new Date(`${d}T00:00:00.000Z`);

  it('pages through more than two pages and yields each transaction of the range once', async () => {
    const provider = makeProvider({ listPageSize: 4 });
    // 3 days of payments, 6 a day, created in order.
    const ids: Record<string, number[]> = {};
    for (const d of ['2026-11-18', '2026-11-19', '2026-11-20']) {
      ids[d] = [];
      for (let i = 0; i < 6; i++) {
        const at = new Date(day(d).getTime() + (i + 1) * 3_600_000);
        ids[d]?.push(peer.createTransaction({ amount: 1000 + i, status: i === 5 ? 'declined' : 'approved', createdAt: at, settledAt: at }).id);
      }
    }
    const listed = await collect(provider.listTransactions({ from: day('2026-11-19'), to: day('2026-11-20') }));
    expect(listed.map((t) => Number(t.providerRef)).sort()).toEqual([...(ids['2026-11-19'] ?? [])].sort());
    expect(listed.filter((t) => t.status === 'failed')).toHaveLength(1);
    expect(peer.requestCount('list')).toBeGreaterThan(2);
    const all = await collect(provider.listTransactions({ from: day('2026-11-01'), to: day('2026-12-01') }));
    expect(all).toHaveLength(18);
    expect(new Set(all.map((t) => t.providerRef)).size).toBe(18);
  });

  it('places a payment on the day it was performed, not the day its checkout was created', async () => {
    const provider = makeProvider();
    const late = peer.createTransaction({
      amount: 1000,
      status: 'approved',
      createdAt: new Date('2026-11-19T23:59:00Z'),
      settledAt: new Date('2026-11-20T00:01:00Z'),
    });
    const on20 = await collect(provider.listTransactions({ from: day('2026-11-20'), to: day('2026-11-21') }));
    const on19 = await collect(provider.listTransactions({ from: day('2026-11-19'), to: day('2026-11-20') }));
    expect(on20.map((t) => t.providerRef)).toEqual([String(late.id)]);
    expect(on19).toEqual([]);
  });

  it('stops paging once whole pages are older than the range (newest-first lists)', async () => {
    const provider = makeProvider({ listPageSize: 10, listLookbackHours: 24 });
    peer.createTransactions(
      (function* () {
        for (let i = 0; i < 500; i++) yield { amount: 1000, status: 'approved' as const, createdAt: new Date(day('2026-10-01').getTime() + i * 60_000) };
      })(),
    );
    const recent = peer.createTransaction({ amount: 2000, status: 'approved', createdAt: new Date('2026-11-20T08:00:00Z') });
    const listed = await collect(provider.listTransactions({ from: day('2026-11-20'), to: day('2026-11-21') }));
    expect(listed.map((t) => t.providerRef)).toEqual([String(recent.id)]);
    expect(peer.requestCount('list')).toBe(2); // page 1 (recent + old), page 2 all old → stop, not 51 pages
  });

  it('does not repeat a transaction when new payments shift the pages', async () => {
    const provider = makeProvider({ listPageSize: 3 });
    const start = Date.now() - 3_600_000;
    for (let i = 0; i < 9; i++) peer.createTransaction({ amount: 1000, status: 'approved', createdAt: new Date(start + i * 1000) });
    const seen: PaymentTransaction[] = [];
    let added = false;
    for await (const tx of provider.listTransactions({ from: new Date(start - 1000), to: new Date(Date.now() + 60_000) })) {
      seen.push(tx);
      if (!added) {
        added = true;
        // Two new payments arrive while we read page 1: everything moves down two places.
        peer.createTransaction({ amount: 1000, status: 'approved' });
        peer.createTransaction({ amount: 1000, status: 'approved' });
      }
    }
    expect(new Set(seen.map((t) => t.providerRef)).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(9);
  });

  it('fails on more pages than listMaxPages, and a lost page is retryable', async () => {
    const provider = makeProvider({ listPageSize: 1, listMaxPages: 3, listLookbackHours: 0 });
    for (let i = 0; i < 5; i++) peer.createTransaction({ amount: 1000, status: 'approved' });
    await expect(collect(provider.listTransactions({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) }))).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining('more than 3 pages'),
    });
    peer.hangNext(1, 'list');
    await expect(collect(makeProvider({ timeoutMs: 200 }).listTransactions({ from: new Date(0), to: new Date() }))).rejects.toMatchObject({
      kind: 'retryable',
    });
  });
});
