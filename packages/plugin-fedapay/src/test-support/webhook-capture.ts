/**
 * A loopback HTTP receiver standing in for billing's `/hooks/payment/:id`: it records each request exactly as
 * core would hand it to `verifyWebhook` (raw body, lower-cased headers, method, query, peer address), so the tests
 * check the provider against bytes that really crossed a socket. Answers are scripted to exercise sender retries.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookRequest } from '@rgz/core';

export interface WebhookCapture {
  readonly url: string;
  /** Every request received, oldest first. */
  readonly received: WebhookRequest[];
  /** Status codes for the next requests, in order (then 200). */
  answerNext(...statuses: number[]): void;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
