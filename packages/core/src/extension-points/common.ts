/**
 * Shared vocabulary of the extension points: the identity every implementation carries, money, the raw inbound HTTP
 * request core hands to providers (webhooks, delivery reports), and the errors several points share.
 */

import { RgzError } from '../errors/rgz-error.js';

/**
 * What every implementation of every point carries. `id` is the instance id from config and the key the point is
 * collected under, so two instances of one provider (e.g. two Letexto accounts) coexist; `provider` names the
 * implementation family (`'letexto'`, `'kkiapay'`, `'mikrotik'`), for logs, metrics labels and defaults.
 */
export interface ExtensionIdentity {
  /** Instance id from config (`[a-z0-9][a-z0-9-]*`), unique within the point. */
  readonly id: string;
  /** Implementation family, stable across instances and versions. */
  readonly provider: string;
}

/** Options every I/O call accepts: core aborts on shutdown, job timeout or caller deadline. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/**
 * ISO 4217 code. Only XOF (FCFA, UEMOA) is in use; it is carried explicitly so a provider never assumes it and a second
 * currency is a visible type change, not a silent one.
 */
export type Currency = 'XOF';

/**
 * An amount of money in integer minor units of `currency`. XOF has no minor unit (ISO 4217 exponent 0), so for XOF
 * `amountMinor` is whole francs: 1000 means 1 000 FCFA. Always a safe integer, never a float.
 */
export interface Money {
  readonly amountMinor: number;
  readonly currency: Currency;
}

/**
 * An inbound HTTP request as core's `/hooks/<point>/:id` route received it, before any parsing: providers that sign
 * the body (HMAC) need the exact bytes, and some deliver by GET query (Letexto DLR `dlrMethod=GET`) or form post
 * (CinetPay).
 */
export interface WebhookRequest {
  /** The body exactly as received, decoded as UTF-8; `''` when there is none. */
  readonly rawBody: string;
  /** Header names lower-cased; repeated headers joined with `, ` as Node does. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query string parameters (first value of each); empty object when none. */
  readonly query?: Readonly<Record<string, string>>;
  /** Upper-case HTTP method; `'POST'` when absent. */
  readonly method?: string;
  /** Address of the immediate peer (after trusted-proxy handling), for allow-lists. */
  readonly remoteAddress?: string;
}

/** Why an inbound webhook or delivery report was refused. */
export type WebhookRejectionReason =
  /** Signature, shared secret or token missing or wrong. */
  | 'unauthenticated'
  /** Authentic but too old or from the future (timestamped HMACs, e.g. FedaPay's 300 s tolerance). */
  | 'stale'
  /** Not parseable, or required fields missing. */
  | 'malformed';

/**
 * Thrown by `verifyWebhook` / `parseDeliveryReport` when the request must not be trusted. Core answers 401 for
 * `unauthenticated`/`stale` and 400 for `malformed`, records nothing in the ledger, and counts the rejection.
 */
export class WebhookRejected extends RgzError {
  readonly reason: WebhookRejectionReason;
  constructor(reason: WebhookRejectionReason, message: string, options: { cause?: unknown } = {}) {
    super(`webhook_${reason}`, message, {
      status: reason === 'malformed' ? 400 : 401,
      fields: { reason },
      cause: options.cause,
    });
    this.name = 'WebhookRejected';
    this.reason = reason;
  }
}

/**
 * How an outbound call (SMS, notification, incident, payment API) failed, which decides what the caller may do next:
 * - `retryable`: the peer did not act on it (connection refused, 5xx before acceptance, 429); sending again is safe.
 * - `permanent`: the peer refused it (invalid number, unknown sender id, bad credentials); sending again fails again.
 * - `ambiguous`: the request left and no answer came (timeout, connection reset after the body was written); the peer
 *   may have acted. Without an idempotency key at the peer the caller must NOT resend to the same peer.
 */
export type FailureKind = 'retryable' | 'permanent' | 'ambiguous';

/** Common options of the outbound-failure errors below. */
export interface OutboundErrorOptions {
  /** The peer's own error code, verbatim (e.g. Letexto `LT400`, KKiaPay `TRANSACTION_NOT_ELIGIBLE`). */
  providerCode?: string;
  /** HTTP status the peer answered, when there was one. */
  httpStatus?: number;
  /** Seconds the peer asked us to wait (Retry-After), for `retryable`. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** Base of the typed outbound errors; `status` 502 because from RGZ's HTTP side it is always an upstream failure. */
export class OutboundError extends RgzError {
  readonly kind: FailureKind;
  readonly providerCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: string, kind: FailureKind, message: string, options: OutboundErrorOptions = {}) {
    super(code, message, {
      status: 502,
      fields: {
        kind,
        ...(options.providerCode === undefined ? {} : { provider_code: options.providerCode }),
        ...(options.retryAfterSeconds === undefined ? {} : { retry_after: options.retryAfterSeconds }),
      },
      cause: options.cause,
    });
    this.name = 'OutboundError';
    this.kind = kind;
    this.providerCode = options.providerCode;
    this.httpStatus = options.httpStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** E.164: `+`, country code, subscriber number, 8 to 15 digits in all, no spaces (Benin: `+2290197000000`). */
export const E164 = /^\+[1-9]\d{7,14}$/;
