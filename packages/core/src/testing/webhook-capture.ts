/**
 * A loopback HTTP receiver standing in for billing's `/hooks/payment/:id`: it records each request exactly as
 * core would hand it to `verifyWebhook` (raw body, lower-cased headers, method, query, peer address), so a provider's
 * tests check it against bytes that really crossed a socket. Answers are scripted to exercise sender retries.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '../extension-points/common.js';

export interface WebhookCapture {
  readonly url: string;
  /** Every request received, oldest first. */
  readonly received: WebhookRequest[];
  /** Status codes for the next requests, in order (then 200). */
  answerNext(...statuses: number[]): void;
  /** Run `send` (something that posts to `url`) and return the first request it brought; throws if none arrived. */
  next(send: () => Promise<unknown>): Promise<WebhookRequest>;
  close(): Promise<void>;
}

export async function startWebhookCapture(): Promise<WebhookCapture> {
  const received: WebhookRequest[] = [];
  const script: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      received.push({
        rawBody: Buffer.concat(chunks).toString('utf8'),
        headers,
        query: Object.fromEntries(url.searchParams),
        method: req.method ?? 'POST',
        remoteAddress: req.socket.remoteAddress ?? '',
      });
      const status = script.shift() ?? 200;
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:9/elsewhere' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/payment/test`,
    received,
    answerNext: (...statuses) => {
      script.push(...statuses);
    },
    async next(send) {
      const before = received.length;
      await send();
      const request = received[before];
      if (!request) throw new Error('nothing captured');
      return request;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
