/**
 * HTTP client for KKiaPay's server ("admin") API, the two calls RGZ needs: verify a transaction
 * (`POST /api/v1/transactions/status`) and refund it (`POST /api/v1/transactions/revert`). Every call carries the three
 * key headers (`x-api-key`, `x-private-key`, `x-secret-key`): the official SDKs disagree on which ones each call needs,
 * and sending all three is what the shared KKiaPay reference recommends (§1). One request per call; no retries here.
 */

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

/** Production API root (paths start with `/api/v1`). */
export const KKIAPAY_LIVE_API = 'https://api.kkiapay.me';
/** Sandbox API root; sandbox keys only work here. */
export const KKIAPAY_SANDBOX_API = 'https://api-sandbox.kkiapay.me';
/** The widget script the payment page loads (`openKkiapayWidget`). */
export const KKIAPAY_WIDGET_SCRIPT = 'https://cdn.kkiapay.me/k.js';

export const STATUS_PATH = '/api/v1/transactions/status';
export const REVERT_PATH = '/api/v1/transactions/revert';

/**
 * Error words KKiaPay returns for verify/revert (php-sdk `STATUS.php`, nodejs-sdk README), and what they mean for RGZ.
 * All are refusals: sending the same request again fails the same way until something changes at KKiaPay.
 */
export const KKIAPAY_ERROR_CODES: Readonly<Record<string, PaymentErrorReason>> = {
  INSUFFICIENT_FUND: 'insufficient_funds',
  TRANSACTION_NOT_ELIGIBLE: 'not_eligible',
  TRANSACTION_NOT_FOUND: 'not_found',
  INVALID_TRANSACTION: 'not_found',
  INVALID_TRANSACTION_TYPE: 'not_eligible',
  INVALID_PAYOUT_DESTINATION_ACCOUNT: 'invalid_request',
};

/** A failed KKiaPay call. Still a `PaymentProviderError` (code `payment_<reason>`), so core handles it generically. */
export class KkiapayError extends PaymentProviderError {
  constructor(kind: FailureKind, reason: PaymentErrorReason, message: string, options: ConstructorParameters<typeof PaymentProviderError>[3] = {}) {
    super(kind, reason, message, options);
    this.name = 'KkiapayError';
  }
}

export interface KkiapayClientOptions {
  /** API root, e.g. `https://api.kkiapay.me` (tests: the test server's URL). A path prefix is kept. */
  baseUrl: string;
  /** Public key (= API key; the widget uses it too). */
  publicKey: string;
  privateKey: string;
  /** The API secret key (not the webhook secret). */
  secretKey: string;
  /** Whole-exchange deadline per request. */
  timeoutMs: number;
  /** Most sockets kept open for verify calls (a reconciliation verifies thousands of ids). */
  maxSockets?: number;
  /** Observes every call: `call` is `status`/`revert`, `outcome` `ok`, `not_found` or a failure kind. */
  onCall?: (call: 'status' | 'revert', outcome: string, seconds: number) => void;
}

/** Verify answer: a flat JSON object (shared reference §2); only the fields RGZ reads are typed. */
export interface KkiapayTransactionBody {
  transactionId?: string;
  status?: string;
  type?: string;
  source?: string;
  source_common_name?: string;
  amount?: number;
  fees?: number;
  performed_at?: string;
  received_at?: number;
  reason?: string;
  failureCode?: string;
  failureMessage?: string;
  state?: unknown;
  partnerId?: string;
  client?: { fullname?: string; phone?: string; email?: string };
  [key: string]: unknown;
}

/** Revert answer on success: `{code: "SUCCESS", description: "REVERTED", transactionId}` (shared reference §3). */
export interface KkiapayRevertBody {
  code?: string;
  description?: string;
  transactionId?: string;
  [key: string]: unknown;
}

export class KkiapayClient {
  private readonly options: KkiapayClientOptions;
  /** Verify (a read) reuses sockets: a 100 000-id reconciliation stays cheap. Revert moves money: a fresh one each time. */
  private readonly endpoint: ApiEndpoint;

  constructor(options: KkiapayClientOptions) {
    this.endpoint = new ApiEndpoint(options.baseUrl, {
      maxSockets: options.maxSockets ?? 32,
      invalid: (message) => new KkiapayError('permanent', 'invalid_request', `KKiaPay ${message}`),
    });
    this.options = options;
  }

  /**
   * Verify: the authoritative state of one transaction. Resolves `null` when KKiaPay does not know the id (HTTP 404,
   * or a body whose status is `TRANSACTION_NOT_FOUND`, whatever the HTTP status: the SDKs disagree on the code).
   */
  async status(transactionId: string, signal?: AbortSignal): Promise<KkiapayTransactionBody | null> {
    return this.call('status', async () => {
      const answer = await this.post(STATUS_PATH, { transactionId }, true, signal);
      const body = parseJsonBody(answer.text);
      const object = asJsonObject(body);
      const word = jsonString(object?.status) ?? jsonString(object?.reason);
      if (answer.status === 404 || word === 'TRANSACTION_NOT_FOUND') return null;
      if (answer.status >= 200 && answer.status < 300 && object) return object as KkiapayTransactionBody;
      throw errorFromAnswer('verify', answer, body, true);
    });
  }

  /**
   * Revert (refund in full). Resolves with the success body; throws `KkiapayError` with the refusal word as
   * `providerCode` (`TRANSACTION_NOT_ELIGIBLE`, `INSUFFICIENT_FUND`, …) whatever the HTTP status it came with.
   */
  async revert(transactionId: string, signal?: AbortSignal): Promise<KkiapayRevertBody> {
    return this.call('revert', async () => {
      const answer = await this.post(REVERT_PATH, { transactionId }, false, signal);
      const body = parseJsonBody(answer.text);
      const object = asJsonObject(body);
      if (answer.status >= 200 && answer.status < 300 && object && jsonString(object.code) === 'SUCCESS') return object as KkiapayRevertBody;
      throw errorFromAnswer('revert', answer, body, false);
    });
  }

  /** Close pooled sockets (on plugin stop). */
  close(): void {
    this.endpoint.close();
  }

  private post(path: string, json: unknown, idempotent: boolean, signal: AbortSignal | undefined): Promise<HttpAnswer> {
    const body = Buffer.from(JSON.stringify(json), 'utf8');
    return httpExchange({
      method: 'POST',
      url: this.endpoint.url(path),
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'content-length': body.length,
        'user-agent': 'rgz-plugin-kkiapay',
        'x-api-key': this.options.publicKey,
        'x-private-key': this.options.privateKey,
        'x-secret-key': this.options.secretKey,
      },
      body,
      timeoutMs: this.options.timeoutMs,
      idempotent,
      agent: this.endpoint.agent(idempotent),
      signal,
      what: `POST ${path}`,
      peer: 'KKiaPay',
      fail: (kind, message, cause) => new KkiapayError(kind, 'provider_error', message, cause === undefined ? {} : { cause }),
    });
  }

  private call<T>(call: 'status' | 'revert', run: () => Promise<T>): Promise<T> {
    const { onCall } = this.options;
    return observeCall(run, onCall && ((outcome, seconds) => onCall(call, outcome, seconds)));
  }
}

/**
 * A refusal or a failure as a typed error. A known KKiaPay word in the body (`status`, `code` or `reason`) decides the
 * reason and makes it permanent; otherwise the HTTP status does (401/403 → unauthorized, see `failureKindOfStatus`).
 */
function errorFromAnswer(call: string, answer: HttpAnswer, body: unknown, idempotent: boolean): KkiapayError {
  const object = asJsonObject(body);
  const word = jsonString(object?.status) ?? jsonString(object?.code) ?? jsonString(object?.reason);
  const detail = jsonString(object?.message) ?? jsonString(object?.description) ?? (typeof body === 'string' ? body.slice(0, 200) : undefined);
  const known = word === undefined ? undefined : KKIAPAY_ERROR_CODES[word];
  const status = answer.status;
  const options = { httpStatus: status, ...(word === undefined ? {} : { providerCode: word }) };
  const message = `KKiaPay ${call}: HTTP ${status}${word ? ` ${word}` : ''}${detail ? ` (${detail})` : ''}`;
  if (known) return new KkiapayError('permanent', known, message, options);
  return paymentErrorOfStatus(KkiapayError, answer, idempotent, message, 'check publicKey/privateKey/secret and sandbox', options);
}
