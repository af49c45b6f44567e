/**
 * One HTTP exchange with a provider's API (payment, SMS), classified the way `FailureKind` needs it, and the small
 * readers of provider answers that go with it. Built on node:http(s) rather than fetch because what matters is
 * knowing whether the request left: a failure before the whole request was handed to the socket is `retryable`; after
 * it, the peer may have acted. For a read (a status query) acting changes nothing, so a lost answer is still
 * `retryable`; for a write (a payment, an SMS) it is `ambiguous` and must not be resent blindly.
 */

import http from 'node:http';
import https from 'node:https';
import { type FailureKind, OutboundError } from './common.js';

/**
 * A provider's API root and the sockets to reach it. Reads keep sockets alive (a reconciliation reads thousands of
 * transactions, and a reused socket the peer had closed only costs a retry); a write gets a fresh connection each
 * time, so a stale pooled socket can never turn a payment or an SMS into an ambiguous one.
 */
export class ApiEndpoint {
  /** Ends in `/`: `url()` resolves paths relative to it, so a path prefix (a proxy) is kept. */
  readonly base: URL;
  private readonly readAgent: http.Agent;
  private readonly writeAgent: http.Agent;

  /** `invalid` builds the provider's error for a base URL that is not http(s). */
  constructor(baseUrl: string, options: { readonly maxSockets: number; readonly invalid: (message: string) => Error }) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw options.invalid(`baseUrl must be http(s), got ${this.base.protocol}`);
    }
    const tls = this.base.protocol === 'https:';
    const { maxSockets } = options;
    this.readAgent = tls ? new https.Agent({ keepAlive: true, maxSockets }) : new http.Agent({ keepAlive: true, maxSockets });
    this.writeAgent = tls ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  }

  /** `path` starts with `/` and is taken relative to the base. */
  url(path: string): URL {
    return new URL(path.slice(1), this.base);
  }

  /** The pool for a read (`idempotent`), a fresh connection for a write. */
  agent(idempotent: boolean): http.Agent {
    return idempotent ? this.readAgent : this.writeAgent;
  }

  /** Close pooled sockets (on plugin stop). */
  close(): void {
    this.readAgent.destroy();
    this.writeAgent.destroy();
  }
}

/**
 * Run one API call and tell `onCall` how it went and how long it took: `ok`, `not_found` when it resolved `null`, the
 * `FailureKind` of an `OutboundError`, and `ambiguous` for any other failure (nothing says the peer did not act).
 */
export async function observeCall<T>(run: () => Promise<T>, onCall: ((outcome: string, seconds: number) => void) | undefined): Promise<T> {
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const result = await run();
    onCall?.(result === null ? 'not_found' : 'ok', seconds());
    return result;
  } catch (err) {
    onCall?.(err instanceof OutboundError ? err.kind : 'ambiguous', seconds());
    throw err;
  }
}

/** A status line and body as received; the caller decides what the status means. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

export interface HttpExchangeRequest<E extends Error> {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body?: Buffer | undefined;
  /** Whole-exchange deadline: connect, send, first byte and body. */
  readonly timeoutMs: number;
  /** Side-effect free at the peer (a status read): a lost answer is then `retryable`, never `ambiguous`. */
  readonly idempotent: boolean;
  readonly agent: http.Agent;
  readonly signal?: AbortSignal | undefined;
  /** `POST /api/v1/transactions/status`: for messages; never a URL with secrets in it. */
  readonly what: string;
  /** Provider name for messages (`KKiaPay`). */
  readonly peer: string;
  /** Longest body read (the rest is dropped; the status still decides). Default 256 KiB: answers are small JSON. */
  readonly maxBodyBytes?: number | undefined;
  /** Builds the provider's own error (an `OutboundError` subclass) for failures without a status line. */
  readonly fail: (kind: FailureKind, message: string, cause: unknown) => E;
}

const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * Run one exchange. Resolves with whatever status line came back (even if the body was then cut: the status decides);
 * rejects with `request.fail(...)` when no status line arrived.
 */
export function httpExchange<E extends Error>(request: HttpExchangeRequest<E>): Promise<HttpAnswer> {
  const { what, peer, signal } = request;
  const maxBodyBytes = request.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const lostKind: FailureKind = request.idempotent ? 'retryable' : 'ambiguous';
  const lostTail = request.idempotent ? 'a read, safe to repeat' : `${peer} may have acted on it`;

  return new Promise<HttpAnswer>((resolve, reject) => {
    let sent = false;
    let settled = false;
    let answer: { status: number; headers: http.IncomingHttpHeaders; chunks: Buffer[]; size: number } | undefined;

    const finish = (outcome: { ok: HttpAnswer } | { error: E }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if ('ok' in outcome) resolve(outcome.ok);
      else reject(outcome.error);
      req.destroy();
    };
    const endWithAnswerOr = (kind: FailureKind, message: string, cause?: unknown) => {
      // A status line already arrived: it decides, whatever happened to the body.
      if (answer) {
        finish({ ok: { status: answer.status, headers: answer.headers, text: Buffer.concat(answer.chunks).toString('utf8') } });
        return;
      }
      finish({ error: request.fail(kind, message, cause) });
    };

    const onAbort = () => {
      endWithAnswerOr(
        sent ? lostKind : 'retryable',
        sent ? `${peer} ${what}: aborted after the request was sent (${lostTail})` : `${peer} ${what}: aborted before the request was sent`,
        signal?.reason,
      );
    };
    const timer = setTimeout(() => {
      endWithAnswerOr(
        sent ? lostKind : 'retryable',
        sent
          ? `${peer} ${what}: no answer within ${request.timeoutMs} ms after the request was sent (${lostTail})`
          : `${peer} ${what}: could not send the request within ${request.timeoutMs} ms`,
      );
    }, request.timeoutMs);

    const transport = request.url.protocol === 'https:' ? https : http;
    const req = transport.request(request.url, { method: request.method, headers: request.headers, agent: request.agent }, (res) => {
      answer = { status: res.statusCode ?? 0, headers: res.headers, chunks: [], size: 0 };
      const current = answer;
      res.on('data', (chunk: Buffer) => {
        if (current.size >= maxBodyBytes) return;
        current.chunks.push(chunk);
        current.size += chunk.length;
      });
      res.on('end', () => endWithAnswerOr(lostKind, `${peer} ${what}: answer ended`));
      res.on('error', (err) => endWithAnswerOr(lostKind, `${peer} ${what}: answer broken`, err));
      res.on('aborted', () => endWithAnswerOr(lostKind, `${peer} ${what}: answer aborted`));
    });
    // 'finish': the whole request was handed to the socket; before that the peer cannot hold a complete request.
    req.on('finish', () => {
      sent = true;
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error';
      endWithAnswerOr(
        sent ? lostKind : 'retryable',
        sent
          ? `${peer} ${what}: connection failed after the request was sent (${code}; ${lostTail})`
          : `${peer} ${what}: could not send the request (${code}: ${err.message})`,
        err,
      );
    });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(request.body);
  });
}

/** JSON when it parses, the text otherwise, `undefined` when empty. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A plain JSON object, or undefined. */
export function asJsonObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A non-empty string field (numbers are stringified: ids arrive either way). */
export function jsonString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Retry-After in seconds (delta or HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * What a non-2xx status says about retrying, before reading the body. 408/429/502/503: the peer (or its gateway)
 * did not process it. 500: the application failed somewhere, possibly after acting; 504: a gateway gave up waiting,
 * the application may still act. Both are harmless for a read. Other 4xx: our request is wrong and fails again.
 */
export function failureKindOfStatus(status: number, idempotent: boolean): FailureKind {
  if (status === 408 || status === 429 || status === 502 || status === 503) return 'retryable';
  if (status >= 500) return idempotent ? 'retryable' : 'ambiguous';
  return 'permanent';
}
