/**
 * The stand-in plumbing over real loopback sockets: a peer that reads whole requests, answers 500 when its handler
 * throws, goes down and comes back on the same port; scripted faults by call kind; webhook POSTs and retried
 * deliveries, observed through the webhook capture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerJson, deliverWebhooks, FaultQueue, isSuccess, type LoopbackPeer, postWebhook, startLoopbackPeer } from './provider-peer.js';
import { startWebhookCapture, type WebhookCapture } from './webhook-capture.js';

let capture: WebhookCapture;
beforeAll(async () => {
  capture = await startWebhookCapture();
});
afterAll(async () => {
  await capture?.close();
});

describe('startLoopbackPeer', () => {
  it('hands the handler the whole body, answers 500 with the chosen body when it throws, and survives down/up', async () => {
    const faults = new FaultQueue<'echo'>();
    const peer: LoopbackPeer = await startLoopbackPeer(
      (req, res, text) => {
        if (req.url === '/boom') throw new Error('kaput');
        if (faults.play('echo', res)) return;
        answerJson(res, 200, { method: req.method, text });
      },
      { internalError: (err) => ({ error: err.message }) },
    );
    try {
      expect(peer.url).toBe(`http://127.0.0.1:${peer.port}`);
      const echo = await fetch(`${peer.url}/echo`, { method: 'POST', body: 'é'.repeat(70_000) });
      expect(echo.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await echo.json()).toEqual({ method: 'POST', text: 'é'.repeat(70_000) });
      const boom = await fetch(`${peer.url}/boom`);
      expect(boom.status).toBe(500);
      expect(await boom.json()).toEqual({ error: 'kaput' });

      faults.fail(1, 429, { slow: 'down' });
      const throttled = await fetch(`${peer.url}/echo`);
      expect([throttled.status, await throttled.json()]).toEqual([429, { slow: 'down' }]);
      expect((await fetch(`${peer.url}/echo`)).status).toBe(200);

      // A hung request stays open until the peer goes down.
      faults.hang(1);
      const hung = fetch(`${peer.url}/echo`).then(
        () => 'answered',
        () => 'cut',
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      await peer.down();
      expect(await hung).toBe('cut');
      expect(await postWebhook(`${peer.url}/echo`, '{}', {}, 1_000)).toEqual({ error: 'ECONNREFUSED' });
      await peer.up();
      expect((await fetch(`${peer.url}/echo`)).status).toBe(200);
    } finally {
      await peer.close();
    }
  });
});

describe('FaultQueue', () => {
  it('plays faults in order, each for its call kind or any, and forgets them on clear', () => {
    const answered: number[] = [];
    const res = {
      writeHead(status: number) {
        answered.push(status);
        return { end: () => undefined };
      },
      end: () => undefined,
    };
    const faults = new FaultQueue<'read' | 'write'>();
    faults.fail(1, 503, {}, 'write');
    faults.fail(1, 500, {});
    faults.hang(1, 'read');
    const play = (call: 'read' | 'write') => faults.play(call, res as never);
    expect(play('read')).toBe(true); // the any-call 500: the write fault before it is not for reads
    expect(play('read')).toBe(true); // the hang: taken care of, nothing written
    expect(play('read')).toBe(false);
    expect(play('write')).toBe(true);
    expect(answered).toEqual([500, 503]);
    faults.fail(2, 502, {});
    faults.clear();
    expect(play('write')).toBe(false);
  });
});

describe('webhook sending', () => {
  it('posts JSON with the given headers and reports the status; a 2xx is success', async () => {
    const request = await capture.next(async () => {
      expect(await postWebhook(capture.url, '{"a":1}', { 'x-acme-signature': 'sig', 'user-agent': 'acme' }, 2_000)).toEqual({ status: 200 });
    });
    expect(request).toMatchObject({ rawBody: '{"a":1}', method: 'POST' });
    expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': '7', 'x-acme-signature': 'sig', 'user-agent': 'acme' });
    expect([isSuccess(200), isSuccess(204), isSuccess(302), isSuccess(undefined)]).toEqual([true, true, false, false]);
  });

  it('retries a non-2xx (3xx included) with incremental waits, and keeps what the last post returned', async () => {
    capture.answerNext(500, 302);
    let n = 0;
    const [delivery] = await deliverWebhooks({ attempts: 5, retryBaseMs: 20 }, async () => ({
      ...(await postWebhook(capture.url, '{}', {}, 2_000)),
      n: ++n,
    }));
    expect(delivery?.delivered).toBe(true);
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 302, 200]);
    expect(delivery?.attempts.every((a) => Object.keys(a).sort().join() === 'at,status')).toBe(true);
    expect(delivery?.last.n).toBe(3);
    const [first, second, third] = delivery?.attempts ?? [];
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(18);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(38);

    capture.answerNext(503, 503);
    const [lost] = await deliverWebhooks({ attempts: 2, retryBaseMs: 1 }, () => postWebhook(capture.url, '{}', {}, 2_000));
    expect(lost).toMatchObject({ delivered: false, last: { status: 503 } });
    expect(lost?.attempts).toHaveLength(2);
  });

  it('sends separate deliveries, at once or in turn, with times and attempts clamped', async () => {
    const before = capture.received.length;
    const together = await deliverWebhooks({ times: 3, concurrently: true, attempts: 1 }, () => postWebhook(capture.url, '{}', {}, 2_000));
    expect(together.map((d) => d.delivered)).toEqual([true, true, true]);
    expect(capture.received.length - before).toBe(3);
    const once = await deliverWebhooks({ times: 0, attempts: 0 }, () => postWebhook(capture.url, '{}', {}, 2_000));
    expect(once).toHaveLength(1);
    expect(once[0]?.attempts).toHaveLength(1);
  });
});
