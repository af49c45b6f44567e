/**
 * Payment provider: takes money from a subscriber (mobile money, card) for a plan or voucher through KKiaPay, FedaPay,
 * CinetPay, MTN MoMo, … A provider starts a checkout, authenticates and translates its webhooks, and answers "what is
 * the state of this transaction". It never writes the ledger and never answers HTTP: the billing plugin owns `/hooks/payment/{providerId}`,
 * stores the raw event idempotently, and credits only after `getTransaction` confirms.
 */

import { point } from '../plugin/tokens.js';
import {
  type CallOptions,
  type Currency,
  type ExtensionIdentity,
  type FailureKind,
  type Money,
  OutboundError,
  type OutboundErrorOptions,
  type WebhookRequest,
} from './common.js';

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
