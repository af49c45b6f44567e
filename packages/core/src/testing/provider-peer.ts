/**
 * The plumbing every provider stand-in (FedaPay, KKiaPay test servers) shares, so each server keeps only its
 * provider's wire format: a node:http server on 127.0.0.1 that reads whole requests and can go down and come back
 * on the same port, JSON answers, scripted faults (an HTTP error or a request never answered), and the provider's
 * side of webhooks (one POST that never throws, and deliveries retried until a 2xx).
 */

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A running stand-in. `down()` cuts every connection (clients get "connection refused"); `up()` listens again. */
export interface LoopbackPeer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Same as `down()`: hung requests and idle keep-alive sockets would otherwise hold the server open. */
  close(): Promise<void>;
}

export interface LoopbackPeerOptions {
  /** Port (default 0: any free port). Host is always 127.0.0.1. */
  port?: number | undefined;
  /** Body of the 500 answered when `handle` throws. */
  internalError: (err: Error) => unknown;
}

/**
 * Serve `handle` on 127.0.0.1. It gets each request with its whole body as text; a request it leaves unanswered
 * stays open until `down()`/`close()` (a hung peer).
 */
export async function startLoopbackPeer(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, text: string) => void,
  options: LoopbackPeerOptions,
): Promise<LoopbackPeer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        answerJson(res, 500, options.internalError(err as Error));
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const port = await listen(server, options.port ?? 0);
  let listening = true;
  const down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    down,
    async up() {
      if (listening) return;
      await listen(server, port);
      listening = true;
    },
    close: down,
  };
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Answer `body` as JSON with an exact content-length. */
export function answerJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

type Fault<C extends string> = ({ type: 'fail'; status: number; body: unknown } | { type: 'hang' }) & { call: C | undefined };

/** Faults scripted by a test, each for one API call kind (`undefined`: the next request of any kind). */
export class FaultQueue<C extends string> {
  private readonly faults: Fault<C>[] = [];

  /** The next `n` requests (of `call`) are answered `status` with `body`. */
  fail(n: number, status: number, body: unknown, call?: C): void {
    for (let i = 0; i < n; i++) this.faults.push({ type: 'fail', status, body, call });
  }

  /** The next `n` requests (of `call`) are read whole and never answered. */
  hang(n: number, call?: C): void {
    for (let i = 0; i < n; i++) this.faults.push({ type: 'hang', call });
  }

  /** Play the next fault scripted for `call`, if any: true when the request is taken care of (answered or hung). */
  play(call: C, res: http.ServerResponse): boolean {
    const at = this.faults.findIndex((f) => f.call === undefined || f.call === call);
    const fault = at < 0 ? undefined : this.faults.splice(at, 1)[0];
    if (fault?.type === 'fail') answerJson(res, fault.status, fault.body);
    return fault !== undefined;
  }

  clear(): void {
    this.faults.length = 0;
  }
}

/** One webhook POST as its sender saw it: the status line, or why there was none. */
export interface WebhookAttempt {
  readonly at: number;
  readonly status?: number;
  readonly error?: string;
}

/** POST `body` as JSON with the provider's `headers` (user agent, authentication); never throws. */
export function postWebhook(url: string, body: string, headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    let done = false;
    const settle = (result: { status?: number; error?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => settle({ status: res.statusCode ?? 0 }));
        res.on('error', () => settle({ status: res.statusCode ?? 0 }));
      },
    );
    const timer = setTimeout(() => settle({ error: 'timeout' }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => settle({ error: err.code ?? err.message }));
    req.end(body);
  });
}

export interface DeliveryPlan {
  /** Separate deliveries of the same event, each with its own attempts (1 to 1 000; default 1). */
  times?: number | undefined;
  /** Send the deliveries at once instead of one after another. */
  concurrently?: boolean | undefined;
  /** Attempts per delivery while the answer is not 2xx (1 to 10). */
  attempts: number;
  /** Wait before attempt n+1 is n × this (default 500 ms). */
  retryBaseMs?: number | undefined;
}

/** One delivery: its attempts, and what the last `post` returned (e.g. the signature it sent). */
export interface DeliveryOutcome<R> {
  readonly delivered: boolean;
  readonly attempts: WebhookAttempt[];
  readonly last: R;
}

/** Success is any 2xx; anything else, 3xx included, means "not received" and is retried. */
export async function deliverWebhooks<R extends { status?: number; error?: string }>(
  plan: DeliveryPlan,
  post: () => Promise<R>,
): Promise<DeliveryOutcome<R>[]> {
  const times = Math.max(1, Math.min(plan.times ?? 1, 1_000));
  const attempts = Math.max(1, Math.min(plan.attempts, 10));
  const retryBaseMs = plan.retryBaseMs ?? 500;
  const deliver = async (): Promise<DeliveryOutcome<R>> => {
    const log: WebhookAttempt[] = [];
    let last: R | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, retryBaseMs * (attempt - 1)));
      last = await post();
      log.push({ at: Date.now(), ...(last.status === undefined ? {} : { status: last.status }), ...(last.error === undefined ? {} : { error: last.error }) });
      if (isSuccess(last.status)) return { delivered: true, attempts: log, last };
    }
    return { delivered: false, attempts: log, last: last as R };
  };
  if (plan.concurrently) return Promise.all(Array.from({ length: times }, deliver));
  const out: DeliveryOutcome<R>[] = [];
  for (let i = 0; i < times; i++) out.push(await deliver());
  return out;
}

/** A 2xx status line. */
export function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}
