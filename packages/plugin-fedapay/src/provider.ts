/**
 * FedaPay as a core `PaymentProvider`. The server creates the transaction (`POST /v1/transactions`, our reference in
 * `custom_metadata`) and sends the payer to FedaPay's hosted page (`POST …/token` → URL); webhooks are signed with a
 * timestamped HMAC-SHA256 over `"{t}.{rawBody}"` (`X-FEDAPAY-SIGNATURE: t=…,s=…`, 300 s tolerance), so their payload can
 * be trusted as is; `GET /v1/transactions` lists transactions for reconciliation. FedaPay documents no refund API
 * (refunds are made on the dashboard), so `refunds` is `none`.
 * Wire facts: the shared alternatives reference §1 (A1 npm `fedapay@1.2.5`, A2 webhooks doc); see README.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  asJsonObject,
  type CallOptions,
  type Checkout,
  type CheckoutRequest,
  checkPaymentReference,
  checkProviderRef,
  checkXofAmount,
  E164,
  jsonString,
  type Logger,
  type Money,
  PAYMENT_REFERENCE,
  type PaymentCapabilities,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentStatus,
  type PaymentTransaction,
  type PaymentWebhookEvent,
  payerOf,
  reportedStatusAndAmount,
  transactionEvent,
  WebhookRejected,
  type WebhookRequest,
  webhookJsonObject,
  xofFromWire,
} from '@rgz/core';
import {
  FEDAPAY_LIVE_API,
  FEDAPAY_SANDBOX_API,
  type FedapayCall,
  FedapayClient,
  type FedapayCreateBody,
  FedapayError,
  type FedapayTransactionBody,
} from './client.js';

/** Header carrying `t=<unix seconds>,s=<hex HMAC>` (FedaPay webhooks doc). Node lower-cases header names. */
export const SIGNATURE_HEADER = 'x-fedapay-signature';
/** Key of our reference in the transaction's `custom_metadata`. */
export const REFERENCE_KEY = 'rgz_reference';

/**
 * FedaPay transaction statuses (SDK `Transaction.ts` PAID_STATUS and the alternatives reference) → core statuses.
 * `transferred` means the funds reached the merchant's balance: still a succeeded payment. Anything else is an error.
 */
export const FEDAPAY_STATUS_MAP: Readonly<Record<string, PaymentStatus>> = {
  pending: 'pending',
  approved: 'succeeded',
  transferred: 'succeeded',
  declined: 'failed',
  canceled: 'cancelled',
  refunded: 'refunded',
  approved_partially_refunded: 'partially_refunded',
  transferred_partially_refunded: 'partially_refunded',
};

/** Webhook event names that announce a payment state (`transaction.created` does not). */
const STATE_EVENTS = new Set(['transaction.approved', 'transaction.declined', 'transaction.canceled', 'transaction.transferred', 'transaction.refunded']);
const EVENT_STATUS: Readonly<Record<string, PaymentStatus>> = {
  'transaction.approved': 'succeeded',
  'transaction.declined': 'failed',
  'transaction.canceled': 'cancelled',
  'transaction.transferred': 'succeeded',
  'transaction.refunded': 'refunded',
};

/** Country codes FedaPay's customer `phone_number.country` takes, for the calling codes of its markets. */
const COUNTRY_BY_CALLING_CODE: Readonly<Record<string, string>> = {
  '229': 'bj',
  '225': 'ci',
  '228': 'tg',
  '221': 'sn',
  '227': 'ne',
  '226': 'bf',
  '223': 'ml',
  '224': 'gn',
};

export interface FedapayProviderOptions {
  id: string;
  /** Sandbox keys and `sandbox-api.fedapay.com`, or live. */
  sandbox: boolean;
  /** Secret API key (`sk_…`). */
  secretKey: string;
  /** The webhook endpoint's signing secret (`wh_…`) from the dashboard. */
  webhookSecret: string;
  baseUrl?: string | undefined;
  timeoutMs: number;
  /** Largest accepted |now − t| of a webhook signature, in seconds (FedaPay's SDK default: 300). */
  toleranceSeconds: number;
  /** Amount limits in XOF (Benin via Hub2: 100 – 3 000 000, A6). */
  minAmount: number;
  maxAmount: number;
  /** Page size asked of `GET /v1/transactions`. */
  listPageSize: number;
  /** Safety bound on pages read by one `listTransactions`. */
  listMaxPages: number;
  /**
   * Stop paging once a whole page was created this long before `from` (only while pages come newest first): a payment
   * is performed after its checkout, rarely much later.
   */
  listLookbackHours: number;
  walledGardenExtraHosts?: readonly string[];
  log?: Logger | undefined;
  onCall?: (call: FedapayCall, outcome: string, seconds: number) => void;
  /** Clock for the timestamp check (tests). */
  now?: () => number;
}

export class FedapayProvider implements PaymentProvider {
  readonly id: string;
  readonly provider = 'fedapay';
  readonly capabilities: PaymentCapabilities;
  readonly client: FedapayClient;
  private readonly options: FedapayProviderOptions;

  constructor(options: FedapayProviderOptions) {
    if (options.minAmount > options.maxAmount) throw new FedapayError('permanent', 'invalid_request', 'minAmount is above maxAmount');
    this.id = options.id;
    this.options = options;
    this.client = new FedapayClient({
      baseUrl: options.baseUrl ?? (options.sandbox ? FEDAPAY_SANDBOX_API : FEDAPAY_LIVE_API),
      secretKey: options.secretKey,
      timeoutMs: options.timeoutMs,
      ...(options.onCall ? { onCall: options.onCall } : {}),
    });
    this.capabilities = {
      checkoutKinds: ['redirect'],
      canList: true,
      refunds: 'none',
      currencies: ['XOF'],
      minAmountMinor: options.minAmount,
      maxAmountMinor: options.maxAmount,
      // The hosted payment page's host (token URLs seen in integrations); what that page loads is unknown: add it
      // with walledGardenExtraHosts after a HAR capture.
      walledGardenHosts: [...new Set([options.sandbox ? 'sandbox-process.fedapay.com' : 'process.fedapay.com', ...(options.walledGardenExtraHosts ?? [])])],
    };
  }

  /**
   * Create the transaction, then its payment token: the payer is redirected to FedaPay's page. Our reference rides in
   * `custom_metadata.rgz_reference` (documented create parameter) and comes back on every read and webhook.
   * A lost answer to the create is `ambiguous`: an unpaid transaction may exist at FedaPay. It moves no money, so a
   * new checkout is safe; it just leaves a pending orphan.
   */
  async createCheckout(request: CheckoutRequest, options: CallOptions = {}): Promise<Checkout> {
    checkPaymentReference(request.reference, FedapayError);
    this.checkAmount(request.amount);
    const customer = this.customerOf(request.customer);
    const body: FedapayCreateBody = {
      description: request.description,
      amount: request.amount.amountMinor,
      currency: { iso: 'XOF' },
      ...(request.returnUrl === undefined ? {} : { callback_url: request.returnUrl }),
      custom_metadata: { [REFERENCE_KEY]: request.reference },
      ...(customer === undefined ? {} : { customer }),
    };
    const tx = await this.client.createTransaction(body, options.signal);
    const providerRef = String(tx.id);
    const { url } = await this.client.token(providerRef, options.signal).catch((err: unknown) => {
      if (err instanceof PaymentProviderError) {
        // The transaction exists but has no page: say which, so an operator can find the orphan.
        err.message = `${err.message} (transaction ${providerRef} was created; a new checkout is safe)`;
      }
      throw err;
    });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new FedapayError('retryable', 'provider_error', `FedaPay token of transaction ${providerRef}: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new FedapayError('permanent', 'provider_error', `FedaPay payment URL ${url} is not http(s)`);
    }
    return { kind: 'redirect', url, providerRef };
  }

  /**
   * Check `X-FEDAPAY-SIGNATURE` (HMAC-SHA256 over `"{t}.{rawBody}"` with the webhook secret, constant-time, any of
   * several `s=` values), then the timestamp (|now − t| ≤ tolerance: FedaPay's SDK checks only the past; a future
   * one is as suspicious), then translate. The HMAC covers the body, so `payloadAuthenticated` is true.
   */
  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent {
    const header = request.headers[SIGNATURE_HEADER];
    if (header === undefined || header === '') throw new WebhookRejected('unauthenticated', `missing ${SIGNATURE_HEADER} header`);
    const { timestamp, signatures } = parseSignatureHeader(header);
    if (timestamp === undefined || signatures.length === 0) {
      throw new WebhookRejected('unauthenticated', `${SIGNATURE_HEADER} must be "t=<unix seconds>,s=<hex>"`);
    }
    const expected = createHmac('sha256', this.options.webhookSecret).update(`${timestamp}.${request.rawBody}`, 'utf8').digest();
    const matches = signatures.some((s) => {
      if (!/^[0-9a-fA-F]{64}$/.test(s)) return false;
      return timingSafeEqual(Buffer.from(s, 'hex'), expected);
    });
    if (!matches) throw new WebhookRejected('unauthenticated', 'webhook signature does not match the body and the configured webhookSecret');
    const now = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    if (Math.abs(now - timestamp) > this.options.toleranceSeconds) {
      throw new WebhookRejected(
        'stale',
        `webhook signed at ${timestamp}, ${now - timestamp} s from now (tolerance ${this.options.toleranceSeconds} s): a replay or a skewed clock`,
      );
    }
    const payload = webhookJsonObject(request, 'FedaPay');
    const name = jsonString(payload.name) ?? jsonString(payload.type);
    if (name === undefined) throw new WebhookRejected('malformed', 'webhook event has no name');
    const eventId = jsonString(payload.id);
    if (!name.startsWith('transaction.')) {
      return { type: 'ignored', ...(eventId === undefined ? {} : { eventId }), reason: `event ${name} is not about a payment`, raw: payload };
    }
    const entity = entityOf(payload);
    const providerRef = jsonString(entity?.id);
    if (!entity || providerRef === undefined) throw new WebhookRejected('malformed', `${name} event without a transaction entity`);
    if (!STATE_EVENTS.has(name)) {
      return { type: 'ignored', eventId: eventId ?? `${providerRef}:${name}`, reason: `event ${name} announces no payment state`, raw: payload };
    }
    const word = jsonString(entity.status);
    // The entity's status is the state at sending time; the event name is the fallback.
    const status = (word === undefined ? undefined : FEDAPAY_STATUS_MAP[word]) ?? EVENT_STATUS[name];
    if (status === undefined) {
      return { type: 'ignored', eventId: eventId ?? `${providerRef}:${name}`, reason: `unknown transaction status ${word}`, raw: payload };
    }
    const reference = referenceOf(entity);
    const amount = xofFromWire(entity.amount);
    return transactionEvent({ eventId: eventId ?? `${providerRef}:${name}`, providerRef, reference, status, amount, payloadAuthenticated: true, raw: payload });
  }

  /** `GET /v1/transactions/{id}` mapped to core's vocabulary; `null` when FedaPay does not know the id. */
  async getTransaction(providerRef: string, options: CallOptions = {}): Promise<PaymentTransaction | null> {
    checkProviderRef(providerRef, 'FedaPay', FedapayError);
    const body = await this.client.retrieve(providerRef, options.signal);
    return body === null ? null : this.toTransaction(body);
  }

  /**
   * Transactions performed in `[from, to)`, via `GET /v1/transactions` page by page. FedaPay documents no date filter,
   * so the range is applied here (on `performedAt`, else `created_at`); each id is yielded once even if pages shift
   * while new payments arrive. Paging stops at the last page, an empty page, or, while pages come newest first, a
   * whole page created more than `listLookbackHours` before `from`.
   */
  async *listTransactions(range: { readonly from: Date; readonly to: Date }, options: CallOptions = {}): AsyncIterable<PaymentTransaction> {
    const from = range.from.getTime();
    const to = range.to.getTime();
    const stopBefore = from - this.options.listLookbackHours * 3_600_000;
    const seen = new Set<string>();
    let newestFirst = true;
    let previousCreated = Number.POSITIVE_INFINITY;
    for (let page = 1; ; page++) {
      if (page > this.options.listMaxPages) {
        throw new FedapayError(
          'permanent',
          'provider_error',
          `FedaPay list: more than ${this.options.listMaxPages} pages; raise listMaxPages or reconcile a shorter range`,
        );
      }
      options.signal?.throwIfAborted();
      const { transactions, meta } = await this.client.list(page, this.options.listPageSize, options.signal);
      let pageAllOld = transactions.length > 0;
      for (const body of transactions) {
        const created = dateOf(body.created_at)?.getTime();
        if (created !== undefined) {
          if (created > previousCreated) newestFirst = false;
          previousCreated = created;
          if (created >= stopBefore) pageAllOld = false;
        } else {
          pageAllOld = false;
        }
        const tx = this.toTransaction(body);
        if (seen.has(tx.providerRef)) continue;
        const at = tx.performedAt?.getTime() ?? created;
        if (at === undefined || at < from || at >= to) continue;
        seen.add(tx.providerRef);
        yield tx;
      }
      const last = transactions.length === 0 || meta.next_page === null || (meta.total_pages !== undefined && page >= meta.total_pages);
      if (last || (newestFirst && pageAllOld)) return;
    }
  }

  /** FedaPay transaction object → core transaction. */
  toTransaction(body: FedapayTransactionBody): PaymentTransaction {
    const providerRef = jsonString(body.id);
    if (providerRef === undefined) throw new FedapayError('permanent', 'provider_error', 'FedaPay transaction without id');
    const { status, amount } = reportedStatusAndAmount(body, FEDAPAY_STATUS_MAP, `FedaPay transaction ${providerRef}`, FedapayError);
    const fees = status === 'pending' ? undefined : xofFromWire(body.fees, true);
    const reference = referenceOf(body);
    const customer = asJsonObject(body.customer);
    const phone = jsonString(asJsonObject(customer?.phone_number)?.number);
    const name = [jsonString(customer?.firstname), jsonString(customer?.lastname)].filter(Boolean).join(' ') || undefined;
    const operator = jsonString(body.mode);
    const performedAt =
      dateOf(body.approved_at) ?? dateOf(body.declined_at) ?? dateOf(body.canceled_at) ?? dateOf(body.transferred_at) ?? dateOf(body.created_at);
    const failureCode = jsonString(body.last_error_code);
    return {
      providerRef,
      ...(reference === undefined ? {} : { reference }),
      status,
      amount,
      ...(fees === undefined ? {} : { fees }),
      ...(status === 'refunded' ? { refunded: amount } : {}),
      ...payerOf(phone, name),
      ...(operator === undefined ? {} : { operator }),
      ...(performedAt === undefined ? {} : { performedAt }),
      ...(failureCode === undefined || status === 'succeeded' ? {} : { failureCode }),
      raw: body,
    };
  }

  close(): void {
    this.client.close();
  }

  private checkAmount(amount: Money): void {
    checkXofAmount(amount, "RGZ's FedaPay provider", FedapayError);
    if (amount.amountMinor < this.options.minAmount || amount.amountMinor > this.options.maxAmount) {
      throw new FedapayError(
        'permanent',
        'amount_out_of_range',
        `amount ${amount.amountMinor} XOF is outside ${this.options.minAmount}–${this.options.maxAmount} XOF`,
      );
    }
  }

  /** The payer as a FedaPay inline customer (`firstname`, `lastname`, `email`, `phone_number: {number, country}`). */
  private customerOf(customer: CheckoutRequest['customer']): FedapayCreateBody['customer'] | undefined {
    if (!customer) return undefined;
    const out: NonNullable<FedapayCreateBody['customer']> = {};
    if (customer.phone !== undefined) {
      if (!E164.test(customer.phone)) throw new FedapayError('permanent', 'invalid_request', `customer.phone "${customer.phone}" is not E.164 (+229…)`);
      const country = Object.entries(COUNTRY_BY_CALLING_CODE).find(([code]) => customer.phone?.startsWith(`+${code}`))?.[1];
      if (country !== undefined) out.phone_number = { number: customer.phone, country };
    }
    if (customer.name !== undefined && customer.name.trim() !== '') {
      const [first, ...rest] = customer.name.trim().split(/\s+/);
      out.firstname = first as string;
      if (rest.length > 0) out.lastname = rest.join(' ');
    }
    if (customer.email !== undefined) out.email = customer.email;
    return Object.keys(out).length === 0 ? undefined : out;
  }
}

/** `t=1700000000,s=ab…[,s=cd…]` → timestamp and candidate signatures (several while FedaPay rotates a secret). */
export function parseSignatureHeader(header: string): { timestamp: number | undefined; signatures: string[] } {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 's' && value !== '') signatures.push(value);
  }
  return { timestamp, signatures };
}

/** The transaction inside an event: `entity` (FedaPay's Event), else `entity.transaction`, `data.object`, `object`. */
function entityOf(payload: Record<string, unknown>): Record<string, unknown> | undefined {
  const entity = asJsonObject(payload.entity);
  if (entity && entity.id !== undefined) return entity;
  return asJsonObject(entity?.transaction) ?? asJsonObject(asJsonObject(payload.data)?.object) ?? asJsonObject(payload.object);
}

function referenceOf(body: Record<string, unknown>): string | undefined {
  const ref = jsonString(asJsonObject(body.custom_metadata)?.[REFERENCE_KEY]) ?? jsonString(body.merchant_reference);
  return ref !== undefined && PAYMENT_REFERENCE.test(ref) ? ref : undefined;
}

function dateOf(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
