/**
 * The test peer of the NotificationChannel contract: an HTTP receiver on 127.0.0.1 that records each POST and can
 * be told to answer the next one 503 (retryable), 400 (permanent) or never (ambiguous: the client times out).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedPost {
  readonly headers: IncomingHttpHeaders;
  readonly body: { subject?: string | null; text?: string; severity?: string; correlationId?: string } | null;
}

export interface WebhookPeer {
  readonly url: string;
  readonly posts: readonly ReceivedPost[];
  failNext(mode: 'retryable' | 'permanent' | 'ambiguous'): void;
  close(): Promise<void>;
}

export async function startWebhookPeer(): Promise<WebhookPeer> {
  const posts: ReceivedPost[] = [];
  const failures: Array<'retryable' | 'permanent' | 'ambiguous'> = [];
  const hung = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: ReceivedPost['body'] = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedPost['body'];
      } catch {
        body = null;
      }
      posts.push({ headers: req.headers, body });
      const mode = failures.shift();
      if (mode === 'ambiguous') {
        hung.add(res);
        return;
      }
      if (mode === 'retryable') return void res.writeHead(503).end('unavailable');
      if (mode === 'permanent') return void res.writeHead(400).end('invalid payload');
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    posts,
    failNext(mode) {
      failures.push(mode);
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
