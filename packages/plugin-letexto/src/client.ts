/**
 * HTTP client for Letexto's v3 client API (Arolitec): send one SMS, read a message's status, read the balance.
 * Built on node:http(s) rather than fetch because the one thing that matters here is knowing whether the request
 * left: a failure before the body was handed to the socket is safe to retry, a failure after it (timeout, reset)
 * may have sent an OTP and must be reported as ambiguous. One request per call; retries are the caller's.
 * Wire format: see docs in README.md and the shared Letexto reference (v3, `POST /v1/messages/send`).
 */

import http from 'node:http';
import https from 'node:https';
import { E164, type FailureKind, type HttpAnswer, httpExchange, OutboundError, type OutboundErrorOptions, parseJsonBody, parseRetryAfter } from '@rgz/core';

/** The production API root (all paths start with `/v1`). */
export const LETEXTO_BASE_URL = 'https://apis.letexto.com';

/** A failed Letexto call; `kind` says whether the request may be repeated. */
export class LetextoError extends OutboundError {
  constructor(kind: FailureKind, message: string, options: OutboundErrorOptions = {}) {
    super(`letexto_${kind}`, kind, message, options);
    this.name = 'LetextoError';
  }
}

/** Body of `POST /v1/messages/send`, field names as Letexto spells them. */
export interface LetextoSendBody {
  /** Sender name, created and validated on the account (≤ 11 characters). */
  from: string;
  /** International number without `+` (`22901…`), see `toLetextoNumber`. */
  to: string;
  content: string;
  /** Echoed in delivery reports (presumably); we put our correlation id here. */
  customData?: string;
  dlrUrl?: string;
  dlrMethod?: 'GET' | 'POST';
  /** Scheduled send, ISO 8601. */
  sendAt?: string;
}

/** What a 2xx answer to a send told us. Letexto publishes no response body, so everything is optional. */
export interface LetextoSendAccepted {
  /** Message id, if the body carried one under a name adapters have seen (`id`, `data.id`, `messageId`). */
  messageId?: string;
  httpStatus: number;
  /** The parsed body (or the raw text when it is not JSON), for logging. */
  body: unknown;
}

export interface LetextoMessageStatus {
  /** Status word verbatim (`status`, or `statuts` as some responses are reported to spell it). */
  status?: string;
  /** Provider error code when the body carries one. */
  errorCode?: string;
  body: unknown;
}

export interface LetextoBalance {
  balance?: number;
  currency?: string;
  body: unknown;
}

export interface LetextoClientOptions {
  /** API root, e.g. `https://apis.letexto.com` (tests: the test server's URL). A path prefix is kept. */
  baseUrl: string;
  apiKey: string;
  /** Whole-exchange deadline per request (connect, send, answer). */
  timeoutMs: number;
}

/** Longest response body we read; Letexto's answers are small JSON objects. */
const MAX_BODY_BYTES = 64 * 1024;

/** `+2290197000000` → `2290197000000`: Letexto wants the country code and the full national number, no `+`. */
export function toLetextoNumber(e164: string): string {
  if (!E164.test(e164)) throw new LetextoError('permanent', `"${e164}" is not an E.164 number (+229…)`);
  // Keep every digit: Benin numbers start with 01 since the 10-digit switch and dropping a leading 0 makes
  // Letexto reject the send (reported for Côte d'Ivoire numbers).
  return e164.slice(1);
}

export class LetextoClient {
  private readonly base: URL;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  /**
   * No keep-alive: a pooled socket the server already closed fails with a reset after we wrote the request, which we
   * would have to report as ambiguous. SMS volume is low; a fresh connection per message costs little.
   */
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });

  constructor(options: LetextoClientOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') {
      throw new LetextoError('permanent', `baseUrl must be http(s), got ${this.base.protocol}`);
    }
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
  }

  /** `POST /v1/messages/send` with a Bearer key and a JSON body. Resolves on 2xx; throws `LetextoError` otherwise. */
  async send(body: LetextoSendBody, signal?: AbortSignal): Promise<LetextoSendAccepted> {
    const answer = await this.exchange('POST', 'v1/messages/send', { json: body }, signal);
    const parsed = parseJsonBody(answer.text);
    if (answer.status >= 200 && answer.status < 300) {
      const messageId = findMessageId(parsed);
      return { ...(messageId === undefined ? {} : { messageId }), httpStatus: answer.status, body: parsed };
    }
    throw errorFromAnswer('send', answer, parsed);
  }

  /**
   * `GET /v1/messages/{id}/status?token=…`. Resolves `null` on 404 (unknown id). The body is undocumented: the
   * status word is read from `status`, `statuts`, or the same under `data`.
   */
  async messageStatus(messageId: string, signal?: AbortSignal): Promise<LetextoMessageStatus | null> {
    const answer = await this.exchange('GET', `v1/messages/${encodeURIComponent(messageId)}/status`, { tokenInQuery: true }, signal);
    const parsed = parseJsonBody(answer.text);
    if (answer.status === 404) return null;
    if (answer.status >= 200 && answer.status < 300) {
      const status = pickString(parsed, ['status', 'statuts', 'data.status', 'data.statuts']);
      const errorCode = pickString(parsed, ['errorCode', 'error_code', 'data.errorCode', 'data.error_code']);
      return { ...(status === undefined ? {} : { status }), ...(errorCode === undefined ? {} : { errorCode }), body: parsed };
    }
    throw errorFromAnswer('status', answer, parsed);
  }

  /** `GET /v1/users/balance?token=…`. The body is undocumented: `balance` (or `data.balance`), shown in XOF. */
  async balance(signal?: AbortSignal): Promise<LetextoBalance> {
    const answer = await this.exchange('GET', 'v1/users/balance', { tokenInQuery: true }, signal);
    const parsed = parseJsonBody(answer.text);
    if (answer.status >= 200 && answer.status < 300) {
      const raw = pick(parsed, ['balance', 'data.balance', 'solde']);
      const balance = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
      const currency = pickString(parsed, ['currency', 'data.currency']);
      return { ...(balance === undefined ? {} : { balance }), ...(currency === undefined ? {} : { currency }), body: parsed };
    }
    throw errorFromAnswer('balance', answer, parsed);
  }

  /**
   * One HTTP exchange. Rejects with `LetextoError`: `retryable` when the request never fully left (refused, DNS,
   * reset while connecting or writing, deadline or abort before the body was sent), `ambiguous` when it left and no
   * status line came back. Once a status line arrived the outcome is the status's, even if the body is cut short.
   */
  private exchange(
    method: 'GET' | 'POST',
    path: string,
    request: { json?: unknown; tokenInQuery?: boolean },
    signal: AbortSignal | undefined,
  ): Promise<HttpAnswer> {
    const url = new URL(path, this.base);
    // Letexto's GET calls authenticate by query token; the sending call by Bearer header.
    if (request.tokenInQuery) url.searchParams.set('token', this.apiKey);
    const body = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json), 'utf8');
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'rgz-plugin-letexto' };
    if (!request.tokenInQuery) headers.authorization = `Bearer ${this.apiKey}`;
    if (body) {
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = body.length;
    }
    // Never put the URL with its query in messages: it carries the API key.
    const what = `${method} /${path}`;

    return httpExchange({
      method,
      url,
      headers,
      body,
      timeoutMs: this.timeoutMs,
      // Reads included: a lost answer is reported `ambiguous` for every Letexto call, as this client always has; the
      // status and balance callers decide themselves whether asking again is harmless.
      idempotent: false,
      agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
      signal,
      what,
      peer: 'Letexto',
      maxBodyBytes: MAX_BODY_BYTES,
      fail: (kind, message, cause) => new LetextoError(kind, message, { cause }),
    });
  }
}

/** Value at a dotted path of a JSON object, or undefined. */
function pick(value: unknown, paths: readonly string[]): unknown {
  for (const path of paths) {
    let current: unknown = value;
    for (const key of path.split('.')) {
      current = current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>)[key] : undefined;
    }
    if (current !== undefined && current !== null && current !== '') return current;
  }
  return undefined;
}

function pickString(value: unknown, paths: readonly string[]): string | undefined {
  const found = pick(value, paths);
  return typeof found === 'string' || typeof found === 'number' ? String(found) : undefined;
}

/** The message id under the names third-party adapters read (Letexto documents none). */
function findMessageId(body: unknown): string | undefined {
  return pickString(body, ['id', 'messageId', 'message_id', 'data.id', 'data.messageId', 'data.message_id']);
}

/**
 * A non-2xx answer as a typed error. 4xx: our request is wrong (bad key, unknown sender `LT400`, bad number) and
 * will fail again, except 408 and 429, which say the request was not processed. 500/502/503: not taken, retry.
 * 504: a gateway in front of Letexto gave up waiting for it, so Letexto may have taken the message: ambiguous.
 */
function errorFromAnswer(call: string, answer: HttpAnswer, body: unknown): LetextoError {
  const providerCode = pickString(body, ['code', 'errorCode', 'error_code', 'error.code', 'data.code']);
  const detail = pickString(body, ['message', 'error.message', 'error', 'data.message']) ?? (typeof body === 'string' ? body.slice(0, 200) : undefined);
  const retryAfter = parseRetryAfter(answer.headers['retry-after']);
  const status = answer.status;
  const kind: FailureKind = status === 504 ? 'ambiguous' : status >= 500 || status === 408 || status === 429 ? 'retryable' : 'permanent';
  const message = `Letexto ${call}: HTTP ${status}${providerCode ? ` ${providerCode}` : ''}${detail ? ` (${detail})` : ''}`;
  return new LetextoError(kind, message, {
    httpStatus: status,
    ...(providerCode === undefined ? {} : { providerCode }),
    ...(retryAfter === undefined || kind !== 'retryable' ? {} : { retryAfterSeconds: retryAfter }),
  });
}
