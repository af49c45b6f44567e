/**
 * The FedaPay test server itself, driven with plain HTTP the way FedaPay's SDKs call it: Bearer auth, wrapped answers,
 * validation errors, the token/hosted-page flow, list paging and its `meta`, webhook signing, and a 100 000-transaction
 * load for the reconciliation benchmark.
 */
import { createHmac } from 'node:crypto';
import { startWebhookCapture, type WebhookCapture } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FedapayTestServer, startFedapayTestServer } from './test-server.js';

let peer: FedapayTestServer;
let capture: WebhookCapture;

beforeAll(async () => {
  peer = await startFedapayTestServer({ secretKey: 'sk_sandbox_k', webhookSecret: 'wh_sandbox_s' });
  capture = await startWebhookCapture();
});
afterAll(async () => {
  await capture?.close();
  await peer?.close();
});

const auth = { authorization: 'Bearer sk_sandbox_k' };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${peer.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('API wire format', () => {
  it('creates, tokenises and retrieves a transaction as {"v1/transaction": …}', async () => {
    const created = await api('POST', '/v1/transactions', {
      description: 'Forfait',
      amount: 1000,
      currency: { iso: 'XOF' },
      callback_url: 'https://portal.example/r',
      custom_metadata: { rgz_reference: 'ref_a' },
    });
    expect(created.status).toBe(200);
    const tx = created.body['v1/transaction'] as Record<string, unknown>;
    expect(tx).toMatchObject({
      klass: 'v1/transaction',
      amount: 1000,
      status: 'pending',
      custom_metadata: { rgz_reference: 'ref_a' },
      callback_url: 'https://portal.example/r',
    });
    const token = await api('POST', `/v1/transactions/${tx.id}/token`, {});
    expect(token.body).toEqual({ token: expect.any(String), url: `${peer.url}/process/${token.body.token}` });
    const again = await api('POST', `/v1/transactions/${tx.id}/token`, {});
    expect(again.body.token).toBe(token.body.token);
    const got = await api('GET', `/v1/transactions/${tx.id}`);
    expect(got.body['v1/transaction']).toEqual(tx);
  });

  it('answers 401 without the Bearer key, 400 with {message, errors} for an invalid create, 404 for an unknown id', async () => {
    expect((await api('GET', '/v1/transactions/1', undefined, {})).status).toBe(401);
    expect((await api('GET', '/v1/transactions/1', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    const invalid = await api('POST', '/v1/transactions', { amount: 10.5, currency: { iso: 'EUR' } });
    expect(invalid).toEqual({
      status: 400,
      body: {
        message: 'Transaction creation failed',
        errors: { description: ['is required'], amount: ['must be a positive integer'], currency: ['is not supported'] },
      },
    });
    expect((await api('GET', '/v1/transactions/424242')).status).toBe(404);
  });

  it('lists newest first with FedaPay-style meta, clamping per_page', async () => {
    peer.reset();
    for (let i = 0; i < 7; i++) peer.createTransaction({ amount: 100 + i, createdAt: new Date(Date.UTC(2026, 10, 20, 8, i)) });
    const first = await api('GET', '/v1/transactions?page=1&per_page=3');
    expect((first.body['v1/transactions'] as Array<{ amount: number }>).map((t) => t.amount)).toEqual([106, 105, 104]);
    expect(first.body.meta).toEqual({ current_page: 1, next_page: 2, prev_page: null, per_page: 3, total_pages: 3, total_count: 7 });
    const last = await api('GET', '/v1/transactions?page=3&per_page=3');
    expect((last.body['v1/transactions'] as unknown[]).length).toBe(1);
    expect(last.body.meta).toMatchObject({ next_page: null, prev_page: 2 });
    const clamped = await api('GET', '/v1/transactions?per_page=5000');
    expect((clamped.body.meta as { per_page: number }).per_page).toBe(100);
    // Added out of order: still newest first.
    peer.createTransaction({ amount: 999, createdAt: new Date(Date.UTC(2026, 10, 19)) });
    const page = await api('GET', '/v1/transactions?page=1&per_page=100');
    expect((page.body['v1/transactions'] as Array<{ amount: number }>).at(-1)?.amount).toBe(999);
    peer.reset();
  });
});

describe('hosted page', () => {
  it('pays once and sends the browser back with id and status; a second attempt is refused', async () => {
    const tx = peer.createTransaction({ amount: 1000, callbackUrl: 'https://portal.example/return?x=1' });
    const token = (await api('POST', `/v1/transactions/${tx.id}/token`, {})).body;
    expect((await fetch(String(token.url))).status).toBe(200);
    expect(await peer.pay(String(token.url), 'declined')).toEqual({ status: 302, location: `https://portal.example/return?x=1&id=${tx.id}&status=declined` });
    expect(peer.transaction(tx.id)).toMatchObject({ status: 'declined', last_error_code: 'insufficient_funds' });
    expect((await peer.pay(String(token.url), 'approved')).status).toBe(409);
    expect((await fetch(`${peer.url}/process/unknown`)).status).toBe(404);
  });
});

describe('webhooks', () => {
  it('signs t=…,s=HMAC-SHA256("{t}.{body}") with the configured secret, in X-FEDAPAY-SIGNATURE', async () => {
    const tx = peer.createTransaction({ amount: 1000, status: 'approved', reference: 'ref_w' });
    const [delivery] = await peer.sendWebhook(capture.url, tx.id, { timestamp: 1_700_000_000 });
    const got = capture.received.at(-1);
    const expected = createHmac('sha256', 'wh_sandbox_s').update(`1700000000.${got?.rawBody}`).digest('hex');
    expect(got?.headers['x-fedapay-signature']).toBe(`t=1700000000,s=${expected}`);
    expect(delivery?.signature).toBe(`t=1700000000,s=${expected}`);
    expect(JSON.parse(got?.rawBody ?? '')).toMatchObject({
      name: 'transaction.approved',
      object: 'transaction',
      object_id: tx.id,
      entity: { id: tx.id, status: 'approved', amount: 1000, custom_metadata: { rgz_reference: 'ref_w' } },
    });
  });

  it('keeps the event id across redeliveries and gives a new state a new event', async () => {
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    const a = peer.eventPayload(tx.id);
    const b = peer.eventPayload(tx.id);
    expect(a.id).toBe(b.id);
    await peer.setStatus(tx.id, 'transferred');
    expect(peer.eventPayload(tx.id)).toMatchObject({ name: 'transaction.transferred' });
    expect(peer.eventPayload(tx.id).id).not.toBe(a.id);
  });

  it('retries non-2xx answers when asked, and sends duplicates at once', async () => {
    const tx = peer.createTransaction({ amount: 1000, status: 'approved' });
    capture.answerNext(500, 503);
    const [d] = await peer.sendWebhook(capture.url, tx.id, { attempts: 3, retryBaseMs: 10 });
    expect(d?.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    const many = await peer.sendWebhook(capture.url, tx.id, { times: 4, concurrently: true });
    expect(many.every((x) => x.delivered)).toBe(true);
  });
});

describe('bulk', () => {
  it('holds 100 000 transactions, finds any by id or reference, and pages to the end', async () => {
    peer.reset();
    const t0 = Date.UTC(2026, 10, 20);
    const started = performance.now();
    const ids = peer.createTransactions(
      (function* () {
        for (let i = 0; i < 100_000; i++) yield { amount: 1000, reference: `bulk_${i}`, status: 'approved' as const, createdAt: new Date(t0 + i * 500) };
      })(),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(peer.size()).toBe(100_000);
    expect(peer.findByReference('bulk_77777')?.id).toBe(ids[77_777]);
    const one = await api('GET', `/v1/transactions/${ids[12_345]}`);
    expect(one.body['v1/transaction']).toMatchObject({ id: ids[12_345], custom_metadata: { rgz_reference: 'bulk_12345' } });
    const last = await api('GET', '/v1/transactions?page=1000&per_page=100');
    expect((last.body['v1/transactions'] as Array<{ id: number }>).at(-1)?.id).toBe(ids[0]);
    expect(last.body.meta).toMatchObject({ total_count: 100_000, total_pages: 1000, next_page: null });
    peer.reset();
  });
});
