/**
 * Payment provider: takes money from a subscriber (mobile money, card) for a plan or voucher through KKiaPay, FedaPay,
 * CinetPay, MTN MoMo, … A provider starts a checkout, authenticates and translates its webhooks, and answers "what is
 * the state of this transaction". It never writes the ledger and never answers HTTP: the billing plugin owns `/hooks/payment/{providerId}`,
 * stores the raw event idempotently, and credits only after `getTransaction` confirms.
 */

import { LATENCY_BUCKETS, type Metrics } from '../metrics/registry.js';
import type { SetupContext } from '../plugin/define-plugin.js';
import { point } from '../plugin/tokens.js';
import {
  type CallOptions,
  type Currency,
  type ExtensionIdentity,
  type FailureKind,
  type Money,
  OutboundError,
  type OutboundErrorOptions,
  WebhookRejected,
  type WebhookRequest,
} from './common.js';
import { asJsonObject, failureKindOfStatus, type HttpAnswer, jsonString, parseRetryAfter } from './outbound-http.js';

/** What the payer is asked to pay for. */
export interface CheckoutRequest {
  /**
   * Our payment id (unique, ≤ 64 chars, `[A-Za-z0-9_-]`). Sent to the provider so it comes back with the transaction
   * (KKiaPay widget `data` → `state`/`stateData`; CinetPay `transaction_id`; MoMo `X-Reference-Id` if a UUID).
   */
  readonly reference: string;
  /** Positive integer amount; rejected with a `permanent` error otherwise or if outside `capabilities` limits. */
  readonly amount: Money;
  /** Short text shown to the payer (plan name). */
  readonly description: string;
  /** Payer, as far as known. `phone` is E.164; pre-fills the widget or is the USSD push target. */
  readonly customer?: { readonly phone?: string; readonly name?: string; readonly email?: string };
  /** Where the browser goes after paying (redirect/widget kinds). */
  readonly returnUrl?: string;
  /** Where the browser goes when the payer gives up or payment fails (when the provider distinguishes). */
  readonly cancelUrl?: string;
  /** The webhook URL for this instance (`…/hooks/payment/<id>`), for providers that take it per request. */
  readonly notifyUrl?: string;
  /** UI language for hosted pages / widget. */
  readonly locale?: 'fr' | 'en';
}

/** How the payer completes a checkout. */
export type Checkout =
  /**
   * The page opens the provider's JS widget with `params` (KKiaPay `openKkiapayWidget`). The provider transaction id
   * exists only after payment, so there is no `providerRef`.
   */
  | {
      readonly kind: 'client_widget';
      /** JSON-serialisable widget configuration, public values only (public key, amount, `data: {ref}`, …). */
      readonly params: Readonly<Record<string, unknown>>;
      /** Script the page must load (`https://cdn.kkiapay.me/k.js`). */
      readonly scriptUrl?: string;
    }
  /** The browser is sent to a hosted payment page (FedaPay, CinetPay). */
  | { readonly kind: 'redirect'; readonly url: string; readonly providerRef?: string }
  /** The provider pushed a prompt (USSD/app) to `customer.phone` (MTN MoMo request-to-pay); poll or await webhook. */
  | { readonly kind: 'push'; readonly providerRef: string };

export type CheckoutKind = Checkout['kind'];

/**
 * Provider-neutral transaction state. KKiaPay mapping: SUCCESS → succeeded, FAILED → failed, PENDING/INIT → pending,
 * REVERTED → refunded.
 */
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled' | 'refunded' | 'partially_refunded';

/** A transaction as the provider reports it. */
export interface PaymentTransaction {
  /** Provider's transaction id (KKiaPay `transactionId`); opaque, case-sensitive. */
  readonly providerRef: string;
  /** Our `CheckoutRequest.reference` as echoed by the provider; absent when it did not carry it back. */
  readonly reference?: string;
  readonly status: PaymentStatus;
  /** Amount the payer was charged, as reported. Compare with the price (`>=`), never trust the checkout amount. */
  readonly amount: Money;
  /** Provider fee as reported (KKiaPay `fees`), booked as is. */
  readonly fees?: Money;
  /** Total refunded so far, for `refunded`/`partially_refunded`. */
  readonly refunded?: Money;
  /** Payer details as reported; `phone` verbatim from the provider (format varies), not normalised. */
  readonly payer?: { readonly phone?: string; readonly name?: string };
  /** Channel: `mobile_money`, `card`, `wallet`, `bank`, or the provider's word. */
  readonly method?: string;
  /** Operator slug (`mtn-benin`, `moov-benin`, `celtiis-bj`), verbatim. */
  readonly operator?: string;
  /** When the payment was performed at the provider (KKiaPay `performed_at`); decides the reconciliation day. */
  readonly performedAt?: Date;
  /** Provider failure code, verbatim (`insufficent_fund`, sic). */
  readonly failureCode?: string;
  /** The provider's payload, for audit storage. Never read by core logic. */
  readonly raw: unknown;
}

/** What an authentic webhook says. */
export type PaymentWebhookEvent =
  | {
      readonly type: 'transaction';
      /**
       * Stable dedupe key for this delivery: the provider's event id, or `<providerRef>:<event>` when it has none.
       * The same request verified twice yields the same `eventId`.
       */
      readonly eventId: string;
      readonly providerRef: string;
      readonly reference?: string;
      /** Status the payload claims. */
      readonly status: PaymentStatus;
      readonly amount?: Money;
      /**
       * True when the authentication covers the payload (HMAC over the body, FedaPay), so `status`/`amount` can be
       * trusted as they are. False when it only proves the sender knows a static secret (KKiaPay) or there is no
       * authentication at all (MoMo callback): core must call `getTransaction` before acting.
       */
      readonly payloadAuthenticated: boolean;
      readonly raw: unknown;
    }
  /** Authentic, but not about a payment state RGZ tracks (e.g. `transaction.created`, a dashboard test call). */
  | { readonly type: 'ignored'; readonly eventId?: string; readonly reason: string; readonly raw: unknown };

/** Refund request; `amount` absent = full amount. */
export interface RefundRequest {
  readonly providerRef: string;
  readonly amount?: Money;
  readonly reason?: string;
  /** Our refund id, used as idempotency key where the provider has one. */
  readonly refundReference: string;
}

export interface RefundResult {
  /** `pending` when the provider settles later; poll with `getTransaction`. */
  readonly status: 'succeeded' | 'pending';
  readonly providerRefundRef?: string;
  /** Amount refunded to the payer (fees are often kept by the provider: KKiaPay). */
  readonly amount: Money;
  readonly raw: unknown;
}

/** What differs between payment providers. */
export interface PaymentCapabilities {
  /** Checkout kinds `createCheckout` may return. */
  readonly checkoutKinds: readonly CheckoutKind[];
  /** `listTransactions` is implemented (FedaPay yes, KKiaPay no: reconciliation then starts from RGZ's own rows). */
  readonly canList: boolean;
  /** `none`: no `refund`; `full_only`: `refund` without `amount` or with the full amount only (KKiaPay); `partial`. */
  readonly refunds: 'none' | 'full_only' | 'partial';
  readonly currencies: readonly Currency[];
  /** Smallest / largest accepted amount in minor units, when the provider publishes limits. */
  readonly minAmountMinor?: number;
  readonly maxAmountMinor?: number;
  /**
   * Hosts the captive portal's walled garden must allow before login so the checkout works (`cdn.kkiapay.me`,
   * `widget-v3.kkiapay.me`, …). Host names only, no scheme.
   */
  readonly walledGardenHosts: readonly string[];
}

/** A payment provider instance. */
export interface PaymentProvider extends ExtensionIdentity {
  readonly capabilities: PaymentCapabilities;

  /** Start a payment. Throws `PaymentProviderError` (`permanent` for invalid input, checked before any request). */
  createCheckout(request: CheckoutRequest, options?: CallOptions): Promise<Checkout>;

  /**
   * Authenticate an inbound webhook and translate it. Pure apart from clock reads (timestamp tolerance): no I/O,
   * so core can call it inline and answer the provider fast (KKiaPay retries for seconds only).
   * Throws `WebhookRejected`.
   */
  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent;

  /** Authoritative state of one transaction; `null` when the provider does not know `providerRef`. */
  getTransaction(providerRef: string, options?: CallOptions): Promise<PaymentTransaction | null>;

  /**
   * Transactions performed in `[from, to)`, any status, for reconciliation. Present iff `capabilities.canList`.
   * Paging is internal; the iterator yields each transaction once.
   */
  listTransactions?(range: { readonly from: Date; readonly to: Date }, options?: CallOptions): AsyncIterable<PaymentTransaction>;

  /** Refund a succeeded transaction. Present iff `capabilities.refunds !== 'none'`. */
  refund?(request: RefundRequest, options?: CallOptions): Promise<RefundResult>;
}

/** Why a provider call failed, beyond transport (`kind`): lets flows show the right message without parsing text. */
export type PaymentErrorReason =
  | 'invalid_request'
  | 'unauthorized'
  | 'not_found'
  | 'insufficient_funds'
  | 'not_eligible'
  | 'amount_out_of_range'
  | 'unsupported'
  | 'provider_error';

/** A failed provider call. `kind` says whether retrying is safe (see `FailureKind`). */
export class PaymentProviderError extends OutboundError {
  readonly reason: PaymentErrorReason;
  constructor(kind: FailureKind, reason: PaymentErrorReason, message: string, options: OutboundErrorOptions = {}) {
    super(`payment_${reason}`, kind, message, options);
    this.name = 'PaymentProviderError';
    this.reason = reason;
  }
}

/** Extension point: payment providers, keyed by instance id. */
export const PaymentProviders = point<PaymentProvider>('payment-provider', (p) => p.id);

// ---- helpers shared by payment provider implementations ----------------------------------------------------------------

/** A provider's own error class (`FedapayError`, `KkiapayError`): the helpers below throw it, so callers see one type. */
export type PaymentErrorClass<E extends PaymentProviderError = PaymentProviderError> = new (
  kind: FailureKind,
  reason: PaymentErrorReason,
  message: string,
  options?: OutboundErrorOptions,
) => E;

/** What `CheckoutRequest.reference` must look like: 1 to 64 characters of `[A-Za-z0-9_-]`. */
export const PAYMENT_REFERENCE = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws `permanent`/`invalid_request` unless `reference` is a valid `CheckoutRequest.reference`. */
export function checkPaymentReference(reference: string, ErrorClass: PaymentErrorClass): void {
  if (typeof reference !== 'string' || !PAYMENT_REFERENCE.test(reference)) {
    throw new ErrorClass('permanent', 'invalid_request', `reference ${JSON.stringify(reference)} must be 1–64 characters of [A-Za-z0-9_-]`);
  }
}

/** Throws `permanent`/`invalid_request` for an empty or absurdly long provider id: a bug on our side, not a lookup. */
export function checkProviderRef(providerRef: string, peer: string, ErrorClass: PaymentErrorClass): void {
  if (typeof providerRef !== 'string' || providerRef.length === 0 || providerRef.length > 64) {
    throw new ErrorClass('permanent', 'invalid_request', `${peer} transaction id ${JSON.stringify(providerRef)} must be 1–64 characters`);
  }
}

/** Throws `permanent`/`invalid_request` unless `amount` is a positive whole number of XOF; `who` names the provider. */
export function checkXofAmount(amount: Money, who: string, ErrorClass: PaymentErrorClass): void {
  if (amount?.currency !== 'XOF') throw new ErrorClass('permanent', 'invalid_request', `${who} takes XOF only, got ${String(amount?.currency)}`);
  if (!Number.isSafeInteger(amount.amountMinor) || amount.amountMinor <= 0) {
    throw new ErrorClass('permanent', 'invalid_request', `amount ${amount.amountMinor} must be a positive whole number of FCFA`);
  }
}

/**
 * An integer FCFA amount from the wire (a number, or a digit string as some SDK paths produce) as XOF money;
 * undefined for anything else, and for zero unless `allowZero` (fees may be zero, a payment may not).
 */
export function xofFromWire(value: unknown, allowZero = false): Money | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || (n === 0 && !allowZero)) return undefined;
  return { amountMinor: n, currency: 'XOF' };
}

/**
 * The status and amount every reported transaction must have, or a `permanent`/`provider_error`: a word missing from
 * the provider's `statusMap` (kept as `providerCode`), or an amount that is not a positive whole number of FCFA.
 * `what` names the transaction in messages (`FedaPay transaction 123`).
 */
export function reportedStatusAndAmount(
  body: { readonly status?: unknown; readonly amount?: unknown },
  statusMap: Readonly<Record<string, PaymentStatus>>,
  what: string,
  ErrorClass: PaymentErrorClass,
): { status: PaymentStatus; amount: Money } {
  const word = jsonString(body.status);
  const status = word === undefined ? undefined : statusMap[word];
  if (status === undefined) {
    throw new ErrorClass('permanent', 'provider_error', `${what}: unknown status ${JSON.stringify(body.status)}`, {
      ...(word === undefined ? {} : { providerCode: word }),
    });
  }
  const amount = xofFromWire(body.amount);
  if (amount === undefined) {
    throw new ErrorClass('permanent', 'provider_error', `${what}: amount ${JSON.stringify(body.amount)} is not a whole number of FCFA`);
  }
  return { status, amount };
}

/**
 * The `transaction` event of an authentic webhook, without the optional fields the payload did not carry.
 * `payloadAuthenticated`: true only when the authentication covers the body (an HMAC), see `PaymentWebhookEvent`.
 */
export function transactionEvent(fields: {
  readonly eventId: string;
  readonly providerRef: string;
  readonly reference: string | undefined;
  readonly status: PaymentStatus;
  readonly amount: Money | undefined;
  readonly payloadAuthenticated: boolean;
  readonly raw: unknown;
}): PaymentWebhookEvent {
  const { eventId, providerRef, reference, status, amount, payloadAuthenticated, raw } = fields;
  return {
    type: 'transaction',
    eventId,
    providerRef,
    ...(reference === undefined ? {} : { reference }),
    status,
    ...(amount === undefined ? {} : { amount }),
    payloadAuthenticated,
    raw,
  };
}

/** `{payer}` for a `PaymentTransaction` spread, or nothing when the provider reported neither phone nor name. */
export function payerOf(phone: string | undefined, name: string | undefined): { payer?: NonNullable<PaymentTransaction['payer']> } {
  if (phone === undefined && name === undefined) return {};
  return { payer: { ...(phone === undefined ? {} : { phone }), ...(name === undefined ? {} : { name }) } };
}

/**
 * The JSON object an authenticated webhook carries, or `WebhookRejected('malformed')`: a method other than POST, a
 * body that is not JSON, or JSON that is not an object. Call it after authentication (`peer` names the provider).
 */
export function webhookJsonObject(request: WebhookRequest, peer: string): Record<string, unknown> {
  if (request.method !== undefined && request.method !== 'POST') throw new WebhookRejected('malformed', `${peer} webhooks are POSTs, got ${request.method}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.rawBody);
  } catch (err) {
    throw new WebhookRejected('malformed', 'webhook body is not JSON', { cause: err });
  }
  const payload = asJsonObject(parsed);
  if (!payload) throw new WebhookRejected('malformed', 'webhook body is not a JSON object');
  return payload;
}

/**
 * A provider answer the body did not explain, classified by its HTTP status: a 2xx we cannot read is `retryable` for a
 * read and `ambiguous` for a write (money may have moved); 401/403 is `unauthorized` (`unauthorizedHint` says which
 * settings to check); anything else follows `failureKindOfStatus`, with Retry-After on a retryable one. `message`
 * already names the call and status; `options` adds e.g. the provider's error word.
 */
export function paymentErrorOfStatus<E extends PaymentProviderError>(
  ErrorClass: PaymentErrorClass<E>,
  answer: HttpAnswer,
  idempotent: boolean,
  message: string,
  unauthorizedHint: string,
  options: OutboundErrorOptions = {},
): E {
  const status = answer.status;
  const base = { httpStatus: status, ...options };
  if (status >= 200 && status < 300) return new ErrorClass(idempotent ? 'retryable' : 'ambiguous', 'provider_error', `${message}: unexpected answer`, base);
  if (status === 401 || status === 403) return new ErrorClass('permanent', 'unauthorized', `${message}: ${unauthorizedHint}`, base);
  const kind = failureKindOfStatus(status, idempotent);
  const retryAfter = parseRetryAfter(answer.headers['retry-after']);
  return new ErrorClass(kind, kind === 'permanent' ? 'invalid_request' : 'provider_error', message, {
    ...base,
    ...(retryAfter === undefined || kind !== 'retryable' ? {} : { retryAfterSeconds: retryAfter }),
  });
}

/**
 * The `onCall` observer of a payment plugin's client: counts each API call in `payment_provider_requests_total`
 * (provider, instance, call, outcome) and times it in `payment_provider_request_duration_seconds` (provider, call).
 * Every payment plugin asks for the same definitions; the registry hands the second one the existing metrics.
 */
export function paymentCallMetrics(metrics: Metrics, provider: string, instance: string): (call: string, outcome: string, seconds: number) => void {
  const requests = metrics.counter({
    name: 'payment_provider_requests_total',
    help: 'Payment provider API calls by provider, instance, call and outcome (ok, not_found, retryable, permanent, ambiguous)',
    labelNames: ['provider', 'instance', 'call', 'outcome'],
  });
  const duration = metrics.histogram({
    name: 'payment_provider_request_duration_seconds',
    help: 'Payment provider API call duration in seconds, by provider and call',
    labelNames: ['provider', 'call'],
    buckets: LATENCY_BUCKETS,
  });
  return (call, outcome, seconds) => {
    requests.inc({ provider, instance, call, outcome });
    duration.observe({ provider, call }, seconds);
  };
}

/**
 * A payment plugin's setup after building its provider: contribute it to `PaymentProviders`, log once started what the
 * captive portal's walled garden needs, and close its sockets on stop.
 */
export function contributePaymentProvider(
  ctx: Pick<SetupContext<unknown>, 'contribute' | 'log' | 'onStart' | 'onStop'>,
  provider: PaymentProvider & { close(): void },
  details: { readonly sandbox: boolean; readonly baseUrl: string | undefined },
): void {
  ctx.contribute(PaymentProviders, provider);
  ctx.onStart(() => {
    ctx.log.info(
      { provider: provider.id, sandbox: details.sandbox, base_url: details.baseUrl ?? null, walled_garden: provider.capabilities.walledGardenHosts },
      `${provider.provider} payment provider ready`,
    );
  });
  ctx.onStop(() => provider.close());
}
