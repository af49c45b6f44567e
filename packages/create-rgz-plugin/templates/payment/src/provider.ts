/**
 * A `PaymentProvider` for cash: the payer is told a reference and pays an agent (a shop, a reseller) in cash; the
 * agent records the payment, through `POST /api/<name>/payments/{providerRef}` or from a till application that
 * posts a signed webhook to RGZ's `/hooks/payment/<id>`. The transactions live in a `Till`, in this process.
 * For a real provider, `createCheckout`, `getTransaction` and `listTransactions` call its API instead, and
 * `verifyWebhook` checks its signature scheme; the checks made before any request stay the same.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type CallOptions,
  type Checkout,
  type CheckoutRequest,
  checkPaymentReference,
  checkXofAmount,
  type PaymentCapabilities,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentStatus,
  type PaymentTransaction,
  type PaymentWebhookEvent,
  transactionEvent,
  WebhookRejected,
  type WebhookRequest,
  webhookJsonObject,
  xofFromWire,
} from '@rgz/core';

/** Header carrying `hex(HMAC-SHA256(secret, raw body))` on webhooks from a till application. */
export const SIGNATURE_HEADER = 'x-cash-signature';

export interface CashTransaction {
  readonly providerRef: string;
  readonly reference: string;
  readonly amountMinor: number;
  status: PaymentStatus;
  readonly createdAt: Date;
  /** When the agent recorded the payment (or its refusal). */
  performedAt?: Date;
  readonly phone?: string;
}

/** The transactions of one provider instance. In memory: they are lost when the server restarts. */
export class Till {
  private readonly transactions = new Map<string, CashTransaction>();

  open(request: CheckoutRequest): CashTransaction {
    const tx: CashTransaction = {
      providerRef: `cash_${randomBytes(8).toString('hex')}`,
      reference: request.reference,
      amountMinor: request.amount.amountMinor,
      status: 'pending',
      createdAt: new Date(),
      ...(request.customer?.phone === undefined ? {} : { phone: request.customer.phone }),
    };
    this.transactions.set(tx.providerRef, tx);
    return tx;
  }

  /** The agent's answer: cash received (`succeeded`) or the payer never came (`failed`). Only once per transaction. */
  record(providerRef: string, outcome: 'succeeded' | 'failed'): CashTransaction {
    const tx = this.transactions.get(providerRef);
    if (tx === undefined) throw new PaymentProviderError('permanent', 'not_found', `no cash payment ${providerRef}`);
    if (tx.status !== 'pending') throw new PaymentProviderError('permanent', 'not_eligible', `cash payment ${providerRef} is already ${tx.status}`);
    tx.status = outcome;
    tx.performedAt = new Date();
    return tx;
  }

  get(providerRef: string): CashTransaction | undefined {
    return this.transactions.get(providerRef);
  }

  all(): readonly CashTransaction[] {
    return [...this.transactions.values()];
  }
}

export interface CashPaymentProviderOptions {
  /** Instance id: the key in `PaymentProviders`. */
  readonly id: string;
  /** Shared secret of the till application's webhooks. */
  readonly secret: string;
  /** Largest amount accepted, in francs (XOF has no minor unit). */
  readonly maxAmountMinor: number;
  readonly till: Till;
}

const EVENTS: Readonly<Record<string, PaymentStatus>> = { 'payment.succeeded': 'succeeded', 'payment.failed': 'failed' };

export class CashPaymentProvider implements PaymentProvider {
  readonly id: string;
  readonly provider = 'cash';
  readonly capabilities: PaymentCapabilities;
  private readonly secret: Buffer;
  private readonly till: Till;

  constructor(options: CashPaymentProviderOptions) {
    this.id = options.id;
    this.secret = Buffer.from(options.secret, 'utf8');
    this.till = options.till;
    this.capabilities = {
      // The payer is asked, out of band, to pay an agent quoting the reference; the caller polls getTransaction.
      checkoutKinds: ['push'],
      canList: true,
      refunds: 'none',
      currencies: ['XOF'],
      minAmountMinor: 1,
      maxAmountMinor: options.maxAmountMinor,
      walledGardenHosts: [],
    };
  }

  async createCheckout(request: CheckoutRequest, options: CallOptions = {}): Promise<Checkout> {
    // Core's checks, as in the shipped providers: a reference the billing plugin can match, a whole positive XOF amount.
    checkPaymentReference(request.reference, PaymentProviderError);
    checkXofAmount(request.amount, 'cash', PaymentProviderError);
    const amount = request.amount.amountMinor;
    if (amount > this.capabilities.maxAmountMinor!) {
      throw new PaymentProviderError('permanent', 'amount_out_of_range', `amount ${amount} is above this provider's ${this.capabilities.maxAmountMinor} F CFA`);
    }
    options.signal?.throwIfAborted();
    const tx = this.till.open(request);
    return { kind: 'push', providerRef: tx.providerRef };
  }

  /** Pure: checks the HMAC of the raw body, then reads it. */
  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent {
    const presented = request.headers[SIGNATURE_HEADER] ?? '';
    const expected = createHmac('sha256', this.secret).update(request.rawBody, 'utf8').digest();
    const given = /^[0-9a-f]{64}$/i.test(presented) ? Buffer.from(presented, 'hex') : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new WebhookRejected('unauthenticated', `missing or wrong ${SIGNATURE_HEADER}`);
    }
    // After authentication: a POST whose body is a JSON object, or `malformed`.
    const body = webhookJsonObject(request, 'cash');
    const { event, providerRef, reference, amount } = body;
    if (typeof event !== 'string' || typeof providerRef !== 'string' || providerRef === '') {
      throw new WebhookRejected('malformed', 'event and providerRef are required');
    }
    const eventId = `${providerRef}:${event}`;
    const status = EVENTS[event];
    if (status === undefined) return { type: 'ignored', eventId, reason: `event ${event}`, raw: body };
    return transactionEvent({
      eventId,
      providerRef,
      reference: typeof reference === 'string' ? reference : undefined,
      status,
      amount: xofFromWire(amount),
      // The HMAC covers the whole body, so its status and amount can be trusted as they are.
      payloadAuthenticated: true,
      raw: body,
    });
  }

  /** Nothing to release: the till is in memory. A provider with an HTTP client closes its sockets here (on stop). */
  close(): void {}

  async getTransaction(providerRef: string, options: CallOptions = {}): Promise<PaymentTransaction | null> {
    options.signal?.throwIfAborted();
    const tx = this.till.get(providerRef);
    return tx === undefined ? null : view(tx);
  }

  async *listTransactions(range: { readonly from: Date; readonly to: Date }, options: CallOptions = {}): AsyncIterable<PaymentTransaction> {
    for (const tx of this.till.all()) {
      options.signal?.throwIfAborted();
      const at = tx.performedAt ?? tx.createdAt;
      if (at >= range.from && at < range.to) yield view(tx);
    }
  }
}

function view(tx: CashTransaction): PaymentTransaction {
  return {
    providerRef: tx.providerRef,
    reference: tx.reference,
    status: tx.status,
    amount: { amountMinor: tx.amountMinor, currency: 'XOF' },
    fees: { amountMinor: 0, currency: 'XOF' },
    method: 'cash',
    ...(tx.phone === undefined ? {} : { payer: { phone: tx.phone } }),
    ...(tx.performedAt === undefined ? {} : { performedAt: tx.performedAt }),
    raw: { ...tx },
  };
}
