/**
 * LetextoSender and LetextoClient against the Letexto test server: what goes on the wire, which failures are retried
 * (only those that certainly did not send), and that an ambiguous timeout is never resent.
 */
import { SmsSendError } from '@rgz/core';
import { rejectionOf, sleep } from '@rgz/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LetextoClient, toLetextoNumber } from './client.js';
import { LetextoSender, type LetextoSenderOptions, mapStatus } from './sender.js';
import { type LetextoTestServer, startLetextoTestServer } from './test-server.js';

const TO = '+2290197000001';

let peer: LetextoTestServer;
beforeAll(async () => {
  peer = await startLetextoTestServer({ senders: ['RGZ', 'RGZ ALERT'] });
});
afterAll(async () => {
  await peer?.close();
});
afterEach(() => {
  peer.reset();
});

function makeSender(overrides: Partial<LetextoSenderOptions> = {}): { sender: LetextoSender; outcomes: string[] } {
  const outcomes: string[] = [];
  const sender = new LetextoSender({
    id: 'letexto',
    baseUrl: peer.url,
    apiKey: peer.apiKey,
    senderId: 'RGZ',
    timeoutMs: 1_000,
    retries: 2,
    backoffMs: 20,
    onOutcome: (o) => outcomes.push(o),
    ...overrides,
  });
  return { sender, outcomes };
}

describe('wire format', () => {
  it('posts {from, to, content, customData} with a Bearer key, the number without +, the text verbatim', async () => {
    const { sender } = makeSender();
    const text = 'Votre code RGZ : 482913 — valable 5 min ✓';
    const result = await sender.send({ to: TO, text, correlationId: 'otp-42' });
    const [m] = peer.messages();
    expect(m).toMatchObject({ from: 'RGZ', to: '2290197000001', content: text, customData: 'otp-42', outcome: 'accepted' });
    expect(result).toEqual({ providerMessageId: m?.id, status: 'accepted' });
    expect(peer.lastMessageTo(TO)?.content).toBe(text);
  });

  it('keeps every digit of the national number (Benin 01…)', () => {
    expect(toLetextoNumber('+2290197000000')).toBe('2290197000000');
    expect(toLetextoNumber('+2250700000000')).toBe('2250700000000');
    expect(() => toLetextoNumber('2290197000000')).toThrow(/E\.164/);
  });

  it('uses a per-message sender id', async () => {
    const { sender } = makeSender();
    await sender.send({ to: TO, text: 'alerte', correlationId: 'c1', senderId: 'RGZ ALERT' });
    expect(peer.messages().at(-1)?.from).toBe('RGZ ALERT');
  });

  it('finds the message id under data.id or messageId, and accepts an empty 200', async () => {
    for (const [shape, expected] of [
      [(m: { id: string }) => ({ data: { id: m.id } }), true],
      [(m: { id: string }) => ({ success: true, messageId: m.id }), true],
      [() => undefined, false],
      [() => 'OK', false],
    ] as const) {
      const other = await startLetextoTestServer({ sendResponse: shape });
      try {
        const sender = new LetextoSender({ id: 'x', baseUrl: other.url, apiKey: other.apiKey, senderId: 'RGZ', timeoutMs: 1_000, retries: 0, backoffMs: 0 });
        const result = await sender.send({ to: TO, text: 'hi', correlationId: 'c' });
        expect(result.status).toBe('accepted');
        expect(result.providerMessageId).toBe(expected ? other.messages()[0]?.id : undefined);
      } finally {
        await other.close();
      }
    }
  });

  it('reads the balance with the token in the query', async () => {
    const client = new LetextoClient({ baseUrl: peer.url, apiKey: peer.apiKey, timeoutMs: 1_000 });
    await expect(client.balance()).resolves.toMatchObject({ balance: 10_000, currency: 'XOF' });
    const wrong = new LetextoClient({ baseUrl: peer.url, apiKey: 'wrong', timeoutMs: 1_000 });
    await expect(wrong.balance()).rejects.toMatchObject({ kind: 'permanent', httpStatus: 401 });
  });
});

describe('retries', () => {
  it('retries 5xx with backoff, then succeeds', async () => {
    const { sender, outcomes } = makeSender({ retries: 2, backoffMs: 50 });
    peer.failNext(2, { status: 503 });
    const started = Date.now();
    await expect(sender.send({ to: TO, text: 'code 1', correlationId: 'r1' })).resolves.toMatchObject({ status: 'accepted' });
    // 50 ms then 100 ms (±20 %) between the three requests.
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(peer.messages().map((m) => m.outcome)).toEqual(['failed', 'failed', 'accepted']);
    expect(outcomes).toEqual(['accepted']);
  });

  it('gives up after `retries` extra attempts with a retryable error', async () => {
    const { sender, outcomes } = makeSender({ retries: 2 });
    peer.failNext(5, { status: 500 });
    const error = await rejectionOf(sender.send({ to: TO, text: 'code 2', correlationId: 'r2' }));
    expect(error).toBeInstanceOf(SmsSendError);
    expect(error).toMatchObject({ kind: 'retryable', code: 'sms_retryable', httpStatus: 500 });
    expect(peer.messages()).toHaveLength(3);
    expect(outcomes).toEqual(['failed']);
  });

  it('does not retry a 4xx: one request, permanent, with the provider code', async () => {
    const { sender } = makeSender({ retries: 2 });
    const error = await rejectionOf(sender.send({ to: TO, text: 'x', correlationId: 'p1', senderId: 'UNKNOWN' }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'sms_permanent', providerCode: 'LT400', httpStatus: 400 });
    expect(peer.messages()).toHaveLength(1);
  });

  it('a wrong API key is permanent', async () => {
    const { sender } = makeSender({ apiKey: 'not-the-key' });
    await expect(sender.send({ to: TO, text: 'x', correlationId: 'k' })).rejects.toMatchObject({ kind: 'permanent', httpStatus: 401 });
    expect(peer.requestCount()).toBeGreaterThan(0);
  });

  it('retries 429, and fails at once when Retry-After asks for more than it will wait', async () => {
    const { sender } = makeSender({ retries: 2, maxBackoffMs: 2_000 });
    peer.failNext(1, { status: 429, retryAfterSeconds: 1 });
    await expect(sender.send({ to: TO, text: 'a', correlationId: 'q1' })).resolves.toMatchObject({ status: 'accepted' });
    peer.reset();
    peer.failNext(1, { status: 429, retryAfterSeconds: 3600 });
    const started = Date.now();
    await expect(sender.send({ to: TO, text: 'b', correlationId: 'q2' })).rejects.toMatchObject({ kind: 'retryable', retryAfterSeconds: 3600 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(peer.messages()).toHaveLength(1);
  });

  it('retries a refused connection (nothing was sent), then reports retryable', async () => {
    // A closed stand-in: its port refuses connections.
    const closed = await startLetextoTestServer();
    await closed.close();
    const { sender, outcomes } = makeSender({ baseUrl: closed.url, retries: 2, backoffMs: 10 });
    const error = await rejectionOf(sender.send({ to: TO, text: 'x', correlationId: 'refused' }));
    expect(error).toMatchObject({ kind: 'retryable' });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(outcomes).toEqual(['failed']);
  });

  it('never resends after a timeout once the request left: exactly one HTTP request, ambiguous', async () => {
    const { sender, outcomes } = makeSender({ retries: 3, timeoutMs: 300, backoffMs: 10 });
    const before = peer.requestCount();
    peer.hangNext(1);
    const error = await rejectionOf(sender.send({ to: TO, text: 'Votre code RGZ : 111111', correlationId: 'amb' }));
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'sms_ambiguous' });
    await sleep(300);
    expect(peer.requestCount() - before).toBe(1);
    expect(peer.messages().map((m) => m.outcome)).toEqual(['hung']);
    expect(outcomes).toEqual(['ambiguous']);
  });

  it('a reset after the request was read is ambiguous, not retried', async () => {
    const { sender } = makeSender({ retries: 3 });
    peer.resetNext(1);
    await expect(sender.send({ to: TO, text: 'x', correlationId: 'reset' })).rejects.toMatchObject({ kind: 'ambiguous' });
    await sleep(100);
    expect(peer.messages().map((m) => m.outcome)).toEqual(['reset']);
  });

  it('a 504 (a gateway gave up waiting on Letexto) is ambiguous, not retried', async () => {
    const { sender } = makeSender({ retries: 3 });
    peer.failNext(1, { status: 504 });
    await expect(sender.send({ to: TO, text: 'x', correlationId: 'gw' })).rejects.toMatchObject({ kind: 'ambiguous', httpStatus: 504 });
    expect(peer.messages()).toHaveLength(1);
  });

  it('an abort while waiting to retry ends the send as retryable, with no further request', async () => {
    const { sender } = makeSender({ retries: 2, backoffMs: 5_000 });
    peer.failNext(1, { status: 503 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(sender.send({ to: TO, text: 'x', correlationId: 'ab' }, { signal: controller.signal })).rejects.toMatchObject({ kind: 'retryable' });
    expect(peer.messages()).toHaveLength(1);
  });
});

describe('status', () => {
  it('maps the status word and answers null for an unknown id', async () => {
    const { sender } = makeSender();
    const { providerMessageId } = await sender.send({ to: TO, text: 'x', correlationId: 's1' });
    expect(await sender.getStatus(providerMessageId as string)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING' });
    peer.setStatus(providerMessageId as string, 'DELIVERED');
    expect(await sender.getStatus(providerMessageId as string)).toMatchObject({ providerMessageId, status: 'delivered', providerStatus: 'DELIVERED' });
    expect(await sender.getStatus('no-such-id')).toBeNull();
  });

  it('knows the words adapters report, and keeps others as unknown', () => {
    expect(['PENDING', 'SENT', 'DELIVERED', 'DELIVRD', 'FAILED', 'UNDELIV', 'EXPIRED', 'weird', undefined].map(mapStatus)).toEqual([
      'accepted',
      'sent',
      'delivered',
      'delivered',
      'failed',
      'failed',
      'expired',
      'unknown',
      'unknown',
    ]);
  });
});
