/**
 * A local HTTP receiver for webhook channels in tests: records each POST (headers and JSON body) and can be told to
 * answer the next one 503 (retryable), 400 (permanent) or not at all (ambiguous: the client times out).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  raw: string;
}

export interface WebhookPeer {
  url: string;
  readonly posts: readonly ReceivedPost[];
  failNext(mode: 'retryable' | 'permanent' | 'ambiguous'): void;
  close(): Promise<void>;
}

export async function startWebhookPeer(options: { port?: number; path?: string } = {}): Promise<WebhookPeer> {
  const posts: ReceivedPost[] = [];
  const failures: Array<'retryable' | 'permanent' | 'ambiguous'> = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      posts.push({ path: req.url ?? '/', headers: req.headers, body, raw });
      const mode = failures.shift();
      if (mode === 'ambiguous') {
        hung.add(res);
        return;
      }
      if (mode === 'retryable') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      if (mode === 'permanent') {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/hook'}`,
    posts,
    failNext(mode) {
      failures.push(mode);
    },
    async close() {
      for (const res of hung) res.destroy();
      hung.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
