/**
 * KkiapayProvider and KkiapayClient against the KKiaPay test server over loopback HTTP: widget parameters, webhook
 * authentication and translation, the status table, money, full-only refunds, and how each failure is classified
 * (a lost verify is retryable, a lost revert is ambiguous).
 */
import { PaymentProviderError, WebhookRejected, type WebhookRequest } from '@rgz/core';
import { rejectionOf, startWebhookCapture, thrownBy, type WebhookCapture } from '@rgz/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KKIAPAY_WIDGET_SCRIPT, KkiapayError } from './client.js';
import { KkiapayProvider, type KkiapayProviderOptions, referenceFrom } from './provider.js';
import { type KkiapayTestServer, startKkiapayTestServer } from './test-server.js';

const WEBHOOK_SECRET = 'whsec-unit-0123456789abcdef';

let peer: KkiapayTestServer;
let capture: WebhookCapture;
const providers: KkiapayProvider[] = [];

beforeAll(async () => {
  peer = await startKkiapayTestServer();
  capture = await startWebhookCapture();
});
afterAll(async () => {
  for (const p of providers) p.close();
  await capture?.close();
  await peer?.close();
});
afterEach(async () => {
  await peer.up();
  peer.reset();
});

function makeProvider(overrides: Partial<KkiapayProviderOptions> = {}): KkiapayProvider {
  const provider = new KkiapayProvider({
    id: 'kkiapay',
    sandbox: true,
    publicKey: peer.publicKey,
    privateKey: peer.privateKey,
    secret: peer.secretKey,
    webhookSecret: WEBHOOK_SECRET,
    baseUrl: peer.url,
    timeoutMs: 400,
    ...overrides,
  });
  providers.push(provider);
  return provider;
}

const xof = (amountMinor: number) => ({ amountMinor, currency: 'XOF' as const });

/** Deliver the transaction's webhook through a real socket and return what core would receive. */
const deliver = (transactionId: string, options: { secret?: string; event?: string } = { secret: WEBHOOK_SECRET }): Promise<WebhookRequest> =>
  capture.next(() => peer.sendWebhook(capture.url, transactionId, { ...options, attempts: 1 }));

describe('createCheckout', () => {
  it('returns exactly the widget parameters KKiaPay documents, public values only', async () => {
    const provider = makeProvider({ sandbox: false, baseUrl: peer.url });
    const checkout = await provider.createCheckout({
      reference: 'pay_0123abcd',
      amount: xof(1000),
      description: 'Forfait 1 jour',
      customer: { phone: '+2290197000000', name: 'Afi Test', email: 'afi@example.bj' },
      returnUrl: 'https://portal.example/pay/return?ref=pay_0123abcd',
      cancelUrl: 'https://portal.example/pay/cancel',
      notifyUrl: 'https://rgz.example/hooks/payment/kkiapay',
      locale: 'fr',
    });
    expect(checkout).toEqual({
      kind: 'client_widget',
      scriptUrl: KKIAPAY_WIDGET_SCRIPT,
      params: {
        amount: 1000,
        key: peer.publicKey,
        sandbox: false,
        data: { ref: 'pay_0123abcd' },
        partnerId: 'pay_0123abcd',
        reason: 'Forfait 1 jour',
        callback: 'https://portal.example/pay/return?ref=pay_0123abcd',
        failed_callback: 'https://portal.example/pay/cancel',
        phone: '2290197000000',
        name: 'Afi Test',
        email: 'afi@example.bj',
      },
    });
    const text = JSON.stringify(checkout);
    expect(text).not.toContain(peer.privateKey);
    expect(text).not.toContain(peer.secretKey);
    expect(text).not.toContain(WEBHOOK_SECRET);
    expect(peer.requestCount()).toBe(0); // the widget creates the transaction, not us
  });

  it('omits what is not known and refuses bad input as permanent', async () => {
    const provider = makeProvider();
    const minimal = await provider.createCheckout({ reference: 'r1', amount: xof(500), description: 'x' });
    expect(minimal.kind === 'client_widget' && Object.keys(minimal.params).sort()).toEqual(['amount', 'data', 'key', 'partnerId', 'reason', 'sandbox']);
    for (const bad of [
      { reference: 'has space', amount: xof(500) },
      { reference: 'x'.repeat(65), amount: xof(500) },
      { reference: 'ok', amount: xof(500), customer: { phone: '97000000' } },
      { reference: 'ok', amount: { amountMinor: 500, currency: 'EUR' } },
      { reference: 'ok', amount: xof(Number.MAX_SAFE_INTEGER + 1) },
    ]) {
      const error = await rejectionOf(provider.createCheckout({ description: 'x', ...bad } as never));
      expect(error, JSON.stringify(bad)).toBeInstanceOf(PaymentProviderError);
      expect(error).toMatchObject({ kind: 'permanent', reason: 'invalid_request', code: 'payment_invalid_request' });
    }
  });

  it('declares the documented walled-garden hosts for its environment', () => {
    expect(makeProvider({ sandbox: true }).capabilities.walledGardenHosts).toEqual(['cdn.kkiapay.me', 'widget-v3.kkiapay.me', 'api-sandbox.kkiapay.me']);
    expect(makeProvider({ sandbox: false, walledGardenExtraHosts: ['3ds.example.com'] }).capabilities.walledGardenHosts).toEqual([
      'cdn.kkiapay.me',
      'widget-v3.kkiapay.me',
      'api.kkiapay.me',
      '3ds.example.com',
    ]);
  });
});

describe('verifyWebhook', () => {
  it('translates a success delivered over HTTP, with payloadAuthenticated=false and a stable event id', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1500, reference: 'pay_ok_1', fees: 29 });
    const request = await deliver(tx.transactionId);
    expect(request.headers['x-kkiapay-secret']).toBe(WEBHOOK_SECRET);
    expect(request.headers['content-type']).toBe('application/json');
    const event = provider.verifyWebhook(request);
    expect(event).toMatchObject({
      type: 'transaction',
      eventId: `${tx.transactionId}:transaction.success`,
      providerRef: tx.transactionId,
      reference: 'pay_ok_1',
      status: 'succeeded',
      amount: xof(1500),
      payloadAuthenticated: false,
    });
    // A KKiaPay retry is the same bytes: same dedupe key.
    const again = await deliver(tx.transactionId);
    expect(provider.verifyWebhook(again)).toMatchObject({ eventId: `${tx.transactionId}:transaction.success` });
  });

  it('translates a failure', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000, reference: 'pay_ko_1', status: 'FAILED', failureCode: 'insufficent_fund' });
    const event = provider.verifyWebhook(await deliver(tx.transactionId));
    expect(event).toMatchObject({ type: 'transaction', status: 'failed', eventId: `${tx.transactionId}:transaction.failed`, reference: 'pay_ko_1' });
  });

  it('rejects a forged or missing secret as unauthenticated, before reading the body', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000, reference: 'pay_forged' });
    for (const secret of ['wrong', `${WEBHOOK_SECRET}x`, WEBHOOK_SECRET.slice(0, -1), '']) {
      const request = await deliver(tx.transactionId, { secret });
      const error = thrownBy(() => provider.verifyWebhook(request));
      expect(error, `secret ${JSON.stringify(secret)}`).toBeInstanceOf(WebhookRejected);
      expect(error).toMatchObject({ reason: 'unauthenticated', status: 401, code: 'webhook_unauthenticated' });
    }
    const unsigned = await deliver(tx.transactionId, {});
    expect(unsigned.headers['x-kkiapay-secret']).toBeUndefined();
    expect(thrownBy(() => provider.verifyWebhook(unsigned))).toMatchObject({ reason: 'unauthenticated' });
    // Garbage with a wrong secret is unauthenticated, not malformed: nothing is parsed for a stranger.
    expect(thrownBy(() => provider.verifyWebhook({ rawBody: '{nope', headers: { 'x-kkiapay-secret': 'x' } }))).toMatchObject({ reason: 'unauthenticated' });
  });

  it('rejects authentic but unreadable bodies as malformed, and ignores deliveries about no transaction', () => {
    const provider = makeProvider();
    const headers = { 'x-kkiapay-secret': WEBHOOK_SECRET };
    for (const rawBody of ['', '{not json', '[]', '"text"', 'null']) {
      expect(
        thrownBy(() => provider.verifyWebhook({ rawBody, headers })),
        rawBody,
      ).toMatchObject({ reason: 'malformed', status: 400 });
    }
    expect(thrownBy(() => provider.verifyWebhook({ rawBody: '{}', headers, method: 'GET' }))).toMatchObject({ reason: 'malformed' });
    expect(provider.verifyWebhook({ rawBody: '{"test":true}', headers })).toMatchObject({ type: 'ignored' });
    expect(provider.verifyWebhook({ rawBody: '{"transactionId":"abc","event":"transaction.pending"}', headers })).toMatchObject({
      type: 'ignored',
      eventId: 'abc:transaction.pending',
    });
  });

  it('reads our reference from stateData as an object, a JSON string, or from partnerId', () => {
    const provider = makeProvider();
    const headers = { 'x-kkiapay-secret': WEBHOOK_SECRET };
    const body = (extra: Record<string, unknown>) => JSON.stringify({ transactionId: 't1', isPaymentSucces: true, amount: 100, ...extra });
    expect(provider.verifyWebhook({ rawBody: body({ stateData: { ref: 'a_1' } }), headers })).toMatchObject({ reference: 'a_1', status: 'succeeded' });
    expect(provider.verifyWebhook({ rawBody: body({ stateData: '{"ref":"a_2"}' }), headers })).toMatchObject({ reference: 'a_2' });
    // Sandbox has been seen sending an empty partnerId; the other way round must work too.
    expect(provider.verifyWebhook({ rawBody: body({ stateData: null, partnerId: 'a_3' }), headers })).toMatchObject({ reference: 'a_3' });
    const none = provider.verifyWebhook({ rawBody: body({ partnerId: '' }), headers });
    expect(none.type === 'transaction' && none.reference).toBeUndefined();
    expect(provider.verifyWebhook({ rawBody: body({ amount: 10.5 }), headers })).not.toHaveProperty('amount');
    expect(referenceFrom('{broken')).toBeUndefined();
    expect(referenceFrom({ ref: 'has space' })).toBeUndefined();
  });
});

describe('getTransaction', () => {
  it('maps KKiaPay status words to core statuses', async () => {
    const provider = makeProvider();
    const table = [
      ['SUCCESS', 'succeeded'],
      ['FAILED', 'failed'],
      ['PENDING', 'pending'],
      ['INIT', 'pending'],
      ['REVERTED', 'refunded'],
    ] as const;
    for (const [word, status] of table) {
      const tx = peer.createTransaction({ amount: 2000, reference: `pay_${word}`, status: word });
      const got = await provider.getTransaction(tx.transactionId);
      expect(got?.status, word).toBe(status);
      if (status === 'refunded') expect(got?.refunded).toEqual(xof(2000));
    }
  });

  it('returns every field verify reports, amounts as integer XOF', async () => {
    const provider = makeProvider();
    const performedAt = new Date('2026-09-07T08:55:22.883Z');
    const tx = peer.createTransaction({
      amount: 1000,
      fees: 19,
      reference: 'pay_full',
      phone: '2290197000001',
      name: 'Kodjo',
      operator: 'moov-benin',
      performedAt,
    });
    const got = await provider.getTransaction(tx.transactionId);
    expect(got).toMatchObject({
      providerRef: tx.transactionId,
      reference: 'pay_full',
      status: 'succeeded',
      amount: xof(1000),
      fees: xof(19),
      payer: { phone: '2290197000001', name: 'Kodjo' },
      method: 'mobile_money',
      operator: 'moov-benin',
      performedAt,
    });
    expect(got?.raw).toMatchObject({ transactionId: tx.transactionId, status: 'SUCCESS', state: { ref: 'pay_full' } });
    const failed = peer.createTransaction({ amount: 1000, status: 'FAILED', failureCode: 'insufficent_fund', reference: 'pay_f' });
    expect(await provider.getTransaction(failed.transactionId)).toMatchObject({ status: 'failed', failureCode: 'insufficent_fund' });
  });

  it('reports fees only when KKiaPay reports them (billing applies its commission otherwise)', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000, fees: null, reference: 'pay_nofee' });
    expect((await provider.getTransaction(tx.transactionId))?.fees).toBeUndefined();
    const reported = peer.createTransaction({ amount: 1234, fees: 19 });
    expect((await provider.getTransaction(reported.transactionId))?.fees).toEqual(xof(19));
    const zero = peer.createTransaction({ amount: 1000, fees: 0 });
    expect((await provider.getTransaction(zero.transactionId))?.fees).toEqual(xof(0)); // a reported 0 is kept
  });

  it('returns null for an id KKiaPay does not know, also when said with a 200', async () => {
    const provider = makeProvider();
    expect(await provider.getTransaction('doesNotExist')).toBeNull();
    peer.failNext(1, 200, { status: 'TRANSACTION_NOT_FOUND' });
    expect(await provider.getTransaction('doesNotExist2')).toBeNull();
    await expect(provider.getTransaction('')).rejects.toMatchObject({ kind: 'permanent', reason: 'invalid_request' });
  });

  it('refuses answers it cannot trust: unknown status, fractional amount', async () => {
    const provider = makeProvider();
    peer.failNext(1, 200, { transactionId: 'x1', status: 'COMPLETE', amount: 100 });
    await expect(provider.getTransaction('x1')).rejects.toMatchObject({ kind: 'permanent', reason: 'provider_error', providerCode: 'COMPLETE' });
    peer.failNext(1, 200, { transactionId: 'x2', status: 'SUCCESS', amount: 100.5 });
    await expect(provider.getTransaction('x2')).rejects.toMatchObject({ reason: 'provider_error' });
  });
});

describe('refund', () => {
  it('reverts a succeeded payment in full and reports it refunded', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 2000, reference: 'pay_rf' });
    const result = await provider.refund({ providerRef: tx.transactionId, refundReference: 'rf_1' });
    expect(result).toMatchObject({
      status: 'succeeded',
      amount: xof(2000),
      providerRefundRef: tx.transactionId,
      raw: { code: 'SUCCESS', description: 'REVERTED' },
    });
    expect((await provider.getTransaction(tx.transactionId))?.status).toBe('refunded');
    // The full amount given explicitly is accepted too.
    const tx2 = peer.createTransaction({ amount: 700 });
    await expect(provider.refund({ providerRef: tx2.transactionId, amount: xof(700), refundReference: 'rf_2' })).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('refuses a partial amount as permanent without any revert request', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 2000 });
    for (const amount of [xof(500), xof(2001), xof(0), xof(1.5)]) {
      const error = await rejectionOf(provider.refund({ providerRef: tx.transactionId, amount, refundReference: 'rf_p' }));
      expect(error, JSON.stringify(amount)).toBeInstanceOf(PaymentProviderError);
      expect((error as PaymentProviderError).kind).toBe('permanent');
    }
    expect(peer.revertRequests()).toEqual([]);
    expect(peer.transaction(tx.transactionId)?.status).toBe('SUCCESS');
  });

  it('refuses failed, already reverted and unknown transactions before reverting', async () => {
    const provider = makeProvider();
    const failed = peer.createTransaction({ amount: 1000, status: 'FAILED' });
    await expect(provider.refund({ providerRef: failed.transactionId, refundReference: 'r' })).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'not_eligible',
    });
    const reverted = peer.createTransaction({ amount: 1000, status: 'REVERTED' });
    await expect(provider.refund({ providerRef: reverted.transactionId, refundReference: 'r' })).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'not_eligible',
    });
    await expect(provider.refund({ providerRef: 'nope', refundReference: 'r' })).rejects.toMatchObject({ kind: 'permanent', reason: 'not_found' });
    expect(peer.revertRequests()).toEqual([]);
  });

  it("passes KKiaPay's refusals on as permanent errors with the provider code", async () => {
    const provider = makeProvider();
    const card = peer.createTransaction({ amount: 1000, source: 'CARD' });
    await expect(provider.refund({ providerRef: card.transactionId, refundReference: 'r' })).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'not_eligible',
      providerCode: 'INVALID_TRANSACTION_TYPE',
    });
    peer.setBalance(500);
    const big = peer.createTransaction({ amount: 1000 });
    await expect(provider.refund({ providerRef: big.transactionId, refundReference: 'r' })).rejects.toMatchObject({
      kind: 'permanent',
      reason: 'insufficient_funds',
      providerCode: 'INSUFFICIENT_FUND',
      httpStatus: 400,
    });
  });
});

describe('failures', () => {
  it('a verify that gets no answer is retryable (a read), a revert that gets none is ambiguous', async () => {
    const provider = makeProvider({ timeoutMs: 200 });
    const tx = peer.createTransaction({ amount: 1000 });
    peer.hangNext(1, 'status');
    await expect(provider.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable', reason: 'provider_error' });
    // A hung verify inside refund: nothing was reverted, so retrying the refund is safe.
    peer.hangNext(1, 'status');
    await expect(provider.refund({ providerRef: tx.transactionId, refundReference: 'r' })).rejects.toMatchObject({ kind: 'retryable' });
    expect(peer.revertRequests()).toEqual([]);
    // The revert itself hangs: KKiaPay may have refunded; the caller must check before trying again.
    peer.hangNext(1, 'revert');
    await expect(provider.refund({ providerRef: tx.transactionId, refundReference: 'r' })).rejects.toMatchObject({ kind: 'ambiguous' });
    expect(peer.revertRequests()).toEqual([tx.transactionId]);
    expect((await provider.getTransaction(tx.transactionId))?.status).toBe('succeeded');
  });

  it('a server that is down is retryable for both calls; it works again once up', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000 });
    await peer.down();
    await expect(provider.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable' });
    await expect(provider.client.revert(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable' });
    await peer.up();
    expect((await provider.getTransaction(tx.transactionId))?.status).toBe('succeeded');
  });

  it('classifies HTTP errors: 503/429 retryable, 500 ambiguous only for revert, 401 permanent unauthorized', async () => {
    const provider = makeProvider();
    const tx = peer.createTransaction({ amount: 1000 });
    peer.failNext(1, 503);
    await expect(provider.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable', httpStatus: 503 });
    peer.failNext(1, 429);
    await expect(provider.client.revert(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable', httpStatus: 429 });
    peer.failNext(1, 500);
    await expect(provider.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable', httpStatus: 500 });
    peer.failNext(1, 500);
    await expect(provider.client.revert(tx.transactionId)).rejects.toMatchObject({ kind: 'ambiguous', httpStatus: 500 });
    peer.failNext(1, 200, { code: 'WHAT' });
    await expect(provider.client.revert(tx.transactionId)).rejects.toMatchObject({ kind: 'ambiguous' });
    const wrongKeys = makeProvider({ privateKey: 'not-the-key' });
    await expect(wrongKeys.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'permanent', reason: 'unauthorized', httpStatus: 401 });
    expect(peer.transaction(tx.transactionId)?.status).toBe('SUCCESS');
  });

  it('an abort before sending is retryable; transport failures are KkiapayErrors with a code', async () => {
    const provider = makeProvider();
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(provider.getTransaction('abc', { signal: controller.signal }));
    expect(error).toBeInstanceOf(KkiapayError);
    expect(error).toMatchObject({ name: 'KkiapayError', code: 'payment_provider_error', kind: 'retryable', status: 502 });
  });

  it('reports each call to onCall with its outcome', async () => {
    const calls: string[] = [];
    const provider = makeProvider({ onCall: (call, outcome) => calls.push(`${call}:${outcome}`) });
    const tx = peer.createTransaction({ amount: 1000 });
    await provider.getTransaction(tx.transactionId);
    await provider.getTransaction('missing');
    peer.failNext(1, 503);
    await provider.getTransaction(tx.transactionId).catch(() => undefined);
    await provider.refund({ providerRef: tx.transactionId, refundReference: 'r' });
    expect(calls).toEqual(['status:ok', 'status:not_found', 'status:retryable', 'status:ok', 'revert:ok']);
  });
});
