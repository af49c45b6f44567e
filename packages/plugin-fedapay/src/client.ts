/**
 * HTTP client for FedaPay's REST API (v1), the calls RGZ needs: create a transaction, get its payment token/URL,
 * retrieve one transaction, and list transactions page by page. Auth is `Authorization: Bearer <secret key>`; bodies
 * are JSON; answers wrap the object under its class name (`{"v1/transaction": {...}}`, `{"v1/transactions": [...],
 * "meta": {...}}`) as FedaPay's SDK test fixtures show. One request per call; no retries here.
 */

import type http from 'node:http';
import {
  ApiEndpoint,
  asJsonObject,
  type FailureKind,
  type HttpAnswer,
  httpExchange,
  jsonString,
  observeCall,
  type PaymentErrorReason,
  PaymentProviderError,
  parseJsonBody,
  paymentErrorOfStatus,
} from '@rgz/core';

/** Production API root (paths start with `/v1`). */
export const FEDAPAY_LIVE_API = 'https://api.fedapay.com';
/** Sandbox API root. Older SDK releases used `sdx-api.fedapay.com`; the current docs and SDK use this one. */
export const FEDAPAY_SANDBOX_API = 'https://sandbox-api.fedapay.com';

/** A failed FedaPay call. Still a `PaymentProviderError` (code `payment_<reason>`), so core handles it generically. */
export class FedapayError extends PaymentProviderError {
  constructor(kind: FailureKind, reason: PaymentErrorReason, message: string, options: ConstructorParameters<typeof PaymentProviderError>[3] = {}) {
    super(kind, reason, message, options);
    this.name = 'FedapayError';
  }
}

/** A FedaPay transaction object; only the fields RGZ reads are typed (FedaPay API reference, "Get a transaction"). */
export interface FedapayTransactionBody {
  id?: number | string;
  reference?: string;
  amount?: number;
  description?: string;
  status?: string;
  mode?: string | null;
  fees?: number | null;
  commission?: number | null;
  custom_metadata?: Record<string, unknown> | null;
  created_at?: string;
  approved_at?: string | null;
  declined_at?: string | null;
  canceled_at?: string | null;
  refunded_at?: string | null;
  transferred_at?: string | null;
  last_error_code?: string | null;
  customer?: { firstname?: string; lastname?: string; phone_number?: { number?: string } | null } | null;
  [key: string]: unknown;
}

/** Body of `POST /v1/transactions` as RGZ sends it. */
export interface FedapayCreateBody {
  description: string;
  amount: number;
  currency: { iso: 'XOF' };
  callback_url?: string;
  custom_metadata: Record<string, string>;
  customer?: { firstname?: string; lastname?: string; email?: string; phone_number?: { number: string; country: string } };
}

/** `meta` of a list answer. */
export interface FedapayPageMeta {
  current_page?: number;
  next_page?: number | null;
  prev_page?: number | null;
  per_page?: number;
  total_pages?: number;
  total_count?: number;
}

export interface FedapayClientOptions {
  /** API root, e.g. `https://api.fedapay.com` (tests: the test server's URL). A path prefix is kept. */
  baseUrl: string;
  /** Secret API key (`sk_live_…` / `sk_sandbox_…`). */
  secretKey: string;
  timeoutMs: number;
  maxSockets?: number;
  /** Observes every call: `outcome` is `ok`, `not_found` or a failure kind. */
  onCall?: (call: FedapayCall, outcome: string, seconds: number) => void;
}

export type FedapayCall = 'create' | 'token' | 'retrieve' | 'list';

export class FedapayClient {
  private readonly options: FedapayClientOptions;
  /** Reads (retrieve, list, token) reuse sockets; creating a transaction uses a fresh one. */
  private readonly endpoint: ApiEndpoint;

  constructor(options: FedapayClientOptions) {
    this.endpoint = new ApiEndpoint(options.baseUrl, {
      maxSockets: options.maxSockets ?? 16,
      invalid: (message) => new FedapayError('permanent', 'invalid_request', `FedaPay ${message}`),
    });
    this.options = options;
  }

  /** `POST /v1/transactions`: a pending transaction. A lost answer is `ambiguous` (one may exist, unpaid). */
  async createTransaction(body: FedapayCreateBody, signal?: AbortSignal): Promise<FedapayTransactionBody> {
    return this.call('create', async () => {
      const answer = await this.request('POST', '/v1/transactions', body, false, signal);
      const parsed = parseJsonBody(answer.text);
      const tx = answer.status >= 200 && answer.status < 300 ? unwrapTransaction(parsed) : undefined;
      if (tx) return tx;
      throw errorFromAnswer('create transaction', answer, parsed, false);
    });
  }

  /**
   * `POST /v1/transactions/{id}/token` → `{token, url}`: the hosted payment page. Treated as a read: asking again for
   * the same unpaid transaction moves no money.
   */
  async token(id: string, signal?: AbortSignal): Promise<{ token: string; url: string; body: unknown }> {
    return this.call('token', async () => {
      const answer = await this.request('POST', `/v1/transactions/${encodeURIComponent(id)}/token`, {}, true, signal);
      const parsed = parseJsonBody(answer.text);
      const object = asJsonObject(parsed);
      const token = jsonString(object?.token);
      const url = jsonString(object?.url);
      if (answer.status >= 200 && answer.status < 300 && token !== undefined && url !== undefined) return { token, url, body: parsed };
      if (answer.status >= 200 && answer.status < 300) {
        throw new FedapayError('retryable', 'provider_error', `FedaPay token of transaction ${id}: answer without token/url`, { httpStatus: answer.status });
      }
      throw errorFromAnswer(`token of transaction ${id}`, answer, parsed, true);
    });
  }

  /** `GET /v1/transactions/{id}`; `null` on 404. */
  async retrieve(id: string, signal?: AbortSignal): Promise<FedapayTransactionBody | null> {
    return this.call('retrieve', async () => {
      const answer = await this.request('GET', `/v1/transactions/${encodeURIComponent(id)}`, undefined, true, signal);
      if (answer.status === 404) return null;
      const parsed = parseJsonBody(answer.text);
      const tx = answer.status >= 200 && answer.status < 300 ? unwrapTransaction(parsed) : undefined;
      if (tx) return tx;
      throw errorFromAnswer(`retrieve transaction ${id}`, answer, parsed, true);
    });
  }

  /** `GET /v1/transactions?page=&per_page=`: one page, newest first as far as FedaPay orders it. */
  async list(page: number, perPage: number, signal?: AbortSignal): Promise<{ transactions: FedapayTransactionBody[]; meta: FedapayPageMeta }> {
    return this.call('list', async () => {
      const answer = await this.request('GET', `/v1/transactions?page=${page}&per_page=${perPage}`, undefined, true, signal);
      const parsed = parseJsonBody(answer.text);
      if (answer.status >= 200 && answer.status < 300) {
        const object = asJsonObject(parsed);
        // `{"v1/transactions": [...], meta}` per the SDK fixtures; a bare array per the API reference page.
        const list = Array.isArray(parsed) ? parsed : (object?.['v1/transactions'] ?? object?.transactions);
        if (Array.isArray(list)) {
          const transactions = list.map(asJsonObject).filter((t): t is Record<string, unknown> => t !== undefined) as FedapayTransactionBody[];
          return { transactions, meta: (asJsonObject(object?.meta) ?? {}) as FedapayPageMeta };
        }
        throw new FedapayError('retryable', 'provider_error', `FedaPay list page ${page}: answer without a transaction list`, { httpStatus: answer.status });
      }
      throw errorFromAnswer(`list page ${page}`, answer, parsed, true);
    });
  }

  close(): void {
    this.endpoint.close();
  }

  private call<T>(call: FedapayCall, run: () => Promise<T>): Promise<T> {
    const { onCall } = this.options;
    return observeCall(run, onCall && ((outcome, seconds) => onCall(call, outcome, seconds)));
  }

  private request(method: 'GET' | 'POST', path: string, json: unknown, idempotent: boolean, signal: AbortSignal | undefined): Promise<HttpAnswer> {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json), 'utf8');
    const headers: http.OutgoingHttpHeaders = {
      accept: 'application/json',
      authorization: `Bearer ${this.options.secretKey}`,
      'user-agent': 'rgz-plugin-fedapay',
    };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    return httpExchange({
      method,
      url: this.endpoint.url(path),
      headers,
      ...(body ? { body } : {}),
      timeoutMs: this.options.timeoutMs,
      idempotent,
      agent: this.endpoint.agent(idempotent),
      signal,
      what: `${method} ${path.replace(/\?.*$/, '')}`,
      peer: 'FedaPay',
      fail: (kind, message, cause) => new FedapayError(kind, 'provider_error', message, cause === undefined ? {} : { cause }),
    });
  }
}

/** The transaction object of an answer: under `v1/transaction` (SDK fixtures), `transaction`, or the answer itself. */
export function unwrapTransaction(parsed: unknown): FedapayTransactionBody | undefined {
  const object = asJsonObject(parsed);
  const inner = asJsonObject(object?.['v1/transaction']) ?? asJsonObject(object?.transaction) ?? object;
  return inner && (typeof inner.id === 'number' || typeof inner.id === 'string') ? (inner as FedapayTransactionBody) : undefined;
}

/** FedaPay errors carry `message` and sometimes `errors: {field: [..]}`; the HTTP status decides the kind. */
function errorFromAnswer(call: string, answer: HttpAnswer, body: unknown, idempotent: boolean): FedapayError {
  const object = asJsonObject(body);
  const errors = asJsonObject(object?.errors);
  const detail =
    jsonString(object?.message) ?? (typeof body === 'string' ? body.slice(0, 200) : undefined) ?? (errors ? Object.keys(errors).join(', ') : undefined);
  const fields = errors
    ? ` [${Object.entries(errors)
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('; ') : String(v)}`)
        .join(', ')}]`
    : '';
  const status = answer.status;
  const message = `FedaPay ${call}: HTTP ${status}${detail ? ` (${detail})` : ''}${fields}`;
  if (status === 404) return new FedapayError('permanent', 'not_found', message, { httpStatus: status });
  return paymentErrorOfStatus(FedapayError, answer, idempotent, message, 'check secretKey and sandbox');
}
