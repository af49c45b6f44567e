/**
 * The KKiaPay test server itself, driven with plain HTTP the way KKiaPay's SDKs call it: paths, key headers, JSON and
 * form bodies, verify/revert bodies and error words, webhook delivery with KKiaPay's five incremental retries, and a
 * bulk load large enough for the reconciliation benchmark.
 */
import { startWebhookCapture, type WebhookCapture } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KkiapayTestServer, startKkiapayTestServer } from './test-server.js';

let peer: KkiapayTestServer;
let capture: WebhookCapture;

beforeAll(async () => {
  peer = await startKkiapayTestServer({ publicKey: 'pk', privateKey: 'pv', secretKey: 'sk' });
  capture = await startWebhookCapture();
});
afterAll(async () => {
  await capture?.close();
  await peer?.close();
});

const keys = { 'x-api-key': 'pk', 'x-private-key': 'pv', 'x-secret-key': 'sk' };

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${peer.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('API wire format', () => {
  it('verify answers the flat documented body for a JSON or a form-encoded request', async () => {
    const tx = peer.createTransaction({ amount: 100, fees: 2, reference: 'ref_1', performedAt: new Date('2023-02-20T17:44:47.842Z') });
    const json = await post('/api/v1/transactions/status', JSON.stringify({ transactionId: tx.transactionId }), {
      ...keys,
      'content-type': 'application/json',
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      transactionId: tx.transactionId,
      status: 'SUCCESS',
      type: 'DEBIT',
      source: 'MOBILE_MONEY',
      source_common_name: 'mtn-benin',
      amount: 100,
      fees: 2,
      performed_at: '2023-02-20T17:44:47.842Z',
      received_at: 1676915087842,
      performedAt: '20/02/2023',
      country: 'BJ',
      state: { ref: 'ref_1' },
      partnerId: 'ref_1',
    });
    const form = await post('/api/v1/transactions/status', `transactionId=${tx.transactionId}`, {
      'X-API-KEY': 'pk',
      'X-PRIVATE-KEY': 'pv',
      'X-SECRET-KEY': 'sk',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.body.transactionId).toBe(tx.transactionId);
  });

  it('wants all three key headers, and says TRANSACTION_NOT_FOUND with 404', async () => {
    const tx = peer.createTransaction({ amount: 100 });
    const onlyApiKey = await post('/api/v1/transactions/status', JSON.stringify({ transactionId: tx.transactionId }), {
      'x-api-key': 'pk',
      'content-type': 'application/json',
    });
    expect(onlyApiKey.status).toBe(401);
    const missing = await post('/api/v1/transactions/status', JSON.stringify({ transactionId: 'nope' }), { ...keys, 'content-type': 'application/json' });
    expect(missing).toEqual({ status: 404, body: expect.objectContaining({ status: 'TRANSACTION_NOT_FOUND' }) });
  });

  it('revert answers SUCCESS/REVERTED once, then TRANSACTION_NOT_ELIGIBLE', async () => {
    const tx = peer.createTransaction({ amount: 300 });
    const first = await post('/api/v1/transactions/revert', JSON.stringify({ transactionId: tx.transactionId }), {
      ...keys,
      'content-type': 'application/json',
    });
    expect(first).toEqual({ status: 200, body: { code: 'SUCCESS', description: 'REVERTED', transactionId: tx.transactionId } });
    const second = await post('/api/v1/transactions/revert', JSON.stringify({ transactionId: tx.transactionId }), {
      ...keys,
      'content-type': 'application/json',
    });
    expect(second.body.status).toBe('TRANSACTION_NOT_ELIGIBLE');
    expect(peer.transaction(tx.transactionId)?.status).toBe('REVERTED');
  });
});

describe('webhooks', () => {
  it('posts the documented payload with x-kkiapay-secret', async () => {
    const tx = peer.createTransaction({ amount: 1000, fees: 19, reference: 'pay_w', phone: '22901970000', name: 'Ekui' });
    const [delivery] = await peer.sendWebhook(capture.url, tx.transactionId, { secret: 's3cret' });
    expect(delivery?.delivered).toBe(true);
    const got = capture.received.at(-1);
    expect(got?.method).toBe('POST');
    expect(got?.headers['x-kkiapay-secret']).toBe('s3cret');
    expect(JSON.parse(got?.rawBody ?? '')).toEqual({
      transactionId: tx.transactionId,
      isPaymentSucces: true,
      event: 'transaction.success',
      account: '22901970000',
      label: 'RGZ Test',
      method: 'MOBILE_MONEY',
      amount: 1000,
      fees: 19,
      partnerId: 'pay_w',
      performedAt: tx.performedAt.toISOString(),
      stateData: { ref: 'pay_w' },
    });
    const failed = peer.createTransaction({ amount: 1000, status: 'FAILED' });
    expect(peer.webhookPayload(failed.transactionId)).toMatchObject({ isPaymentSucces: false, event: 'transaction.failed', failureCode: 'processing_error' });
    const pending = peer.createTransaction({ amount: 1000, status: 'PENDING' });
    expect(() => peer.webhookPayload(pending.transactionId)).toThrow(/success or failure only/);
  });

  it('retries a non-2xx answer (3xx included) up to five attempts, waiting 1, 2, 3, 4 × the base', async () => {
    const tx = peer.createTransaction({ amount: 1000 });
    const before = capture.received.length;
    capture.answerNext(500, 302, 404);
    const [ok] = await peer.sendWebhook(capture.url, tx.transactionId, { secret: 's', retryBaseMs: 40 });
    expect(ok?.delivered).toBe(true);
    expect(ok?.attempts.map((a) => a.status)).toEqual([500, 302, 404, 200]);
    const gaps = ok?.attempts.slice(1).map((a, i) => a.at - (ok.attempts[i]?.at ?? 0)) ?? [];
    for (const [i, gap] of gaps.entries()) expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(40 * (i + 1) - 5);
    expect(capture.received.length - before).toBe(4);

    capture.answerNext(503, 503, 503, 503, 503);
    const [lost] = await peer.sendWebhook(capture.url, tx.transactionId, { secret: 's', retryBaseMs: 5 });
    expect(lost?.delivered).toBe(false);
    expect(lost?.attempts).toHaveLength(5);
  });

  it('records a refused connection as an attempt, and sends duplicates one after another or at once', async () => {
    const tx = peer.createTransaction({ amount: 1000 });
    const [refused] = await peer.sendWebhook('http://127.0.0.1:9/hook', tx.transactionId, { secret: 's', retryBaseMs: 1, attempts: 2 });
    expect(refused?.delivered).toBe(false);
    expect(refused?.attempts[0]?.error).toBe('ECONNREFUSED');
    const before = capture.received.length;
    const many = await peer.sendWebhook(capture.url, tx.transactionId, { secret: 's', times: 5, concurrently: true });
    expect(many.every((d) => d.delivered)).toBe(true);
    expect(new Set(capture.received.slice(before).map((r) => r.rawBody)).size).toBe(1);
  });
});

describe('bulk', () => {
  it('holds 100 000 transactions and answers verify for any of them by id', async () => {
    peer.reset();
    const started = performance.now();
    const ids = peer.createTransactions(
      (function* () {
        for (let i = 0; i < 100_000; i++)
          yield { amount: 500 + (i % 7) * 100, reference: `bulk_${i}`, status: i % 10 === 0 ? ('FAILED' as const) : ('SUCCESS' as const) };
      })(),
    );
    const loadMs = performance.now() - started;
    expect(ids).toHaveLength(100_000);
    expect(new Set(ids).size).toBe(100_000);
    expect(peer.size()).toBe(100_000);
    expect(loadMs).toBeLessThan(5_000);
    expect(peer.findByReference('bulk_99999')?.transactionId).toBe(ids[99_999]);
    for (const i of [0, 1, 54_321, 99_999]) {
      const res = await post('/api/v1/transactions/status', JSON.stringify({ transactionId: ids[i] }), { ...keys, 'content-type': 'application/json' });
      expect(res.body).toMatchObject({
        transactionId: ids[i],
        amount: 500 + (i % 7) * 100,
        state: { ref: `bulk_${i}` },
        status: i % 10 === 0 ? 'FAILED' : 'SUCCESS',
      });
    }
    peer.reset();
  });
});
