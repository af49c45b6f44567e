/**
 * A small in-memory PaymentProvider following core's contract (checked by the contract suite in
 * fake-provider.contract.test.ts), standing in for KKiaPay until its plugin exists: a static shared-secret webhook
 * header (as KKiaPay), a verify call that can be switched "down", optional list API and reported fees, full-only
 * refunds that keep the fee (as KKiaPay). The test plays the payer through `pay()`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Checkout,
  type CheckoutRequest,
  definePlugin,
  type PaymentCapabilities,
  type PaymentProvider,
  PaymentProviderError,
  PaymentProviders,
  type PaymentStatus,
  type PaymentTransaction,
  type PaymentWebhookEvent,
  type RefundRequest,
  type RefundResult,
  WebhookRejected,
  type WebhookRequest,
} from '@rgz/core';

export interface FakeTransaction {
  id: string;
  reference?: string | undefined;
  amount: number;
  fee?: number | undefined;
  status: PaymentStatus;
  performedAt: Date;
  refunded?: number;
}

export interface FakeOptions {
  id?: string;
  secret?: string;
  canList?: boolean;
  /** Report a fee per transaction (as KKiaPay's `fees`); when false, billing computes it from its commission. */
  reportFees?: boolean;
  checkoutKind?: 'client_widget' | 'redirect';
  refunds?: PaymentCapabilities['refunds'];
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export class FakePaymentProvider implements PaymentProvider {
  readonly id: string;
  readonly provider = 'fakepay';
  readonly capabilities: PaymentCapabilities;
  readonly secret: string;
  readonly transactions = new Map<string, FakeTransaction>();
  readonly checkouts = new Map<string, CheckoutRequest>();
  /** While true, `getTransaction` and `refund` fail as `retryable` (connection refused). */
  down = false;
  /** While false, `getTransaction` does not echo our reference (as a provider that lost the widget's data). */
  echoReference = true;
  /** Refunds answer `pending` first; the transaction becomes `refunded` when `settleRefunds()` is called. */
  pendingRefunds = false;
  calls = { createCheckout: 0, getTransaction: 0, refund: 0, list: 0 };
  private readonly reportFees: boolean;
  private readonly kind: 'client_widget' | 'redirect';
  private readonly pendingRefundIds = new Set<string>();

  constructor(options: FakeOptions = {}) {
    this.id = options.id ?? 'fakepay';
    this.secret = options.secret ?? `whsec_${randomBytes(12).toString('hex')}`;
    this.reportFees = options.reportFees ?? true;
    this.kind = options.checkoutKind ?? 'client_widget';
    const refunds = options.refunds ?? 'full_only';
    this.capabilities = {
      checkoutKinds: [this.kind],
      canList: options.canList ?? false,
      refunds,
      currencies: ['XOF'],
      minAmountMinor: 100,
      maxAmountMinor: 3_000_000,
      walledGardenHosts: ['pay.fake.example'],
    };
    if (options.canList) this.listTransactions = this.list;
    if (refunds === 'none') this.refund = undefined;
  }

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    this.calls.createCheckout++;
    const a = request.amount.amountMinor;
    if (!Number.isSafeInteger(a) || a <= 0) throw new PaymentProviderError('permanent', 'invalid_request', `amount ${a} must be a positive integer`);
    if (a < (this.capabilities.minAmountMinor ?? 0) || a > (this.capabilities.maxAmountMinor ?? Number.MAX_SAFE_INTEGER)) {
      throw new PaymentProviderError('permanent', 'amount_out_of_range', `amount ${a} out of range`);
    }
    this.checkouts.set(request.reference, request);
    if (this.kind === 'redirect') {
      const providerRef = `fp_${randomBytes(6).toString('hex')}`;
      this.transactions.set(providerRef, { id: providerRef, reference: request.reference, amount: a, status: 'pending', performedAt: new Date() });
      return { kind: 'redirect', url: `https://pay.fake.example/checkout/${providerRef}`, providerRef };
    }
    return {
      kind: 'client_widget',
      params: {
        amount: a,
        key: 'pk_fake',
        sandbox: true,
        data: { ref: request.reference },
        ...(request.customer?.phone ? { phone: request.customer.phone.replace('+', '') } : {}),
      },
      scriptUrl: 'https://pay.fake.example/k.js',
    };
  }

  /** The payer completes (or fails) a payment; returns the provider's transaction id. */
  pay(input: { reference?: string | undefined; amount: number; status?: PaymentStatus; fee?: number; performedAt?: Date; id?: string }): string {
    const pending = input.reference
      ? [...this.transactions.values()].find((t) => t.reference === input.reference && t.status === 'pending' && !input.id)
      : undefined;
    const id = pending?.id ?? input.id ?? `fp${randomBytes(5).toString('hex')}`;
    const fee = this.reportFees ? (input.fee ?? Math.round(input.amount * 0.019)) : undefined;
    this.transactions.set(id, {
      id,
      reference: input.reference,
      amount: input.amount,
      fee,
      status: input.status ?? 'succeeded',
      performedAt: input.performedAt ?? new Date(),
    });
    return id;
  }

  /** The webhook the provider would send for a transaction, authenticated with the shared secret. */
  webhookFor(id: string, overrides: { event?: string; amount?: number; secret?: string | null } = {}): WebhookRequest {
    const tx = this.transactions.get(id);
    if (!tx) throw new Error(`no fake transaction ${id}`);
    const ok = tx.status === 'succeeded';
    const body = {
      transactionId: id,
      event: overrides.event ?? (ok ? 'transaction.success' : 'transaction.failed'),
      isPaymentSucces: ok,
      amount: overrides.amount ?? tx.amount,
      stateData: tx.reference ? { ref: tx.reference } : undefined,
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secret = overrides.secret === undefined ? this.secret : overrides.secret;
    if (secret !== null) headers['x-fakepay-secret'] = secret;
    return { rawBody: JSON.stringify(body), headers, method: 'POST' };
  }

  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent {
    const presented = request.headers['x-fakepay-secret'];
    if (!presented || !timingSafeEqual(digest(presented), digest(this.secret)))
      throw new WebhookRejected('unauthenticated', 'missing or wrong x-fakepay-secret');
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody);
    } catch (err) {
      throw new WebhookRejected('malformed', 'body is not JSON', { cause: err });
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new WebhookRejected('malformed', 'body is not an object');
    const b = body as { transactionId?: unknown; event?: unknown; amount?: unknown; stateData?: { ref?: unknown }; isPaymentSucces?: unknown };
    if (typeof b.transactionId !== 'string' || typeof b.event !== 'string') throw new WebhookRejected('malformed', 'transactionId and event are required');
    if (!b.event.startsWith('transaction.')) return { type: 'ignored', eventId: `${b.transactionId}:${b.event}`, reason: `event ${b.event}`, raw: body };
    return {
      type: 'transaction',
      eventId: `${b.transactionId}:${b.event}`,
      providerRef: b.transactionId,
      ...(typeof b.stateData?.ref === 'string' ? { reference: b.stateData.ref } : {}),
      status: b.isPaymentSucces === true ? 'succeeded' : 'failed',
      ...(typeof b.amount === 'number' ? { amount: { amountMinor: b.amount, currency: 'XOF' as const } } : {}),
      payloadAuthenticated: false,
      raw: body,
    };
  }

  private view(tx: FakeTransaction): PaymentTransaction {
    return {
      providerRef: tx.id,
      ...(this.echoReference && tx.reference ? { reference: tx.reference } : {}),
      status: tx.status,
      amount: { amountMinor: tx.amount, currency: 'XOF' },
      ...(tx.fee !== undefined ? { fees: { amountMinor: tx.fee, currency: 'XOF' as const } } : {}),
      ...(tx.refunded !== undefined ? { refunded: { amountMinor: tx.refunded, currency: 'XOF' as const } } : {}),
      performedAt: tx.performedAt,
      method: 'mobile_money',
      raw: { transactionId: tx.id, status: tx.status, amount: tx.amount, fees: tx.fee },
    };
  }

  async getTransaction(providerRef: string): Promise<PaymentTransaction | null> {
    this.calls.getTransaction++;
    if (this.down) throw new PaymentProviderError('retryable', 'provider_error', 'connect ECONNREFUSED (fake provider down)');
    const tx = this.transactions.get(providerRef);
    return tx ? this.view(tx) : null;
  }

  listTransactions?: PaymentProvider['listTransactions'];

  private async *list(range: { from: Date; to: Date }): AsyncIterable<PaymentTransaction> {
    this.calls.list++;
    if (this.down) throw new PaymentProviderError('retryable', 'provider_error', 'fake provider down');
    for (const tx of this.transactions.values()) if (tx.performedAt >= range.from && tx.performedAt < range.to) yield this.view(tx);
  }

  refund?: (request: RefundRequest) => Promise<RefundResult> = async (request) => {
    this.calls.refund++;
    if (this.down) throw new PaymentProviderError('retryable', 'provider_error', 'fake provider down');
    const tx = this.transactions.get(request.providerRef);
    if (!tx) throw new PaymentProviderError('permanent', 'not_found', 'TRANSACTION_NOT_FOUND');
    if (tx.status !== 'succeeded')
      throw new PaymentProviderError('permanent', 'not_eligible', 'TRANSACTION_NOT_ELIGIBLE', { providerCode: 'TRANSACTION_NOT_ELIGIBLE' });
    if (request.amount && request.amount.amountMinor !== tx.amount && this.capabilities.refunds === 'full_only') {
      throw new PaymentProviderError('permanent', 'unsupported', 'full refunds only');
    }
    // As KKiaPay: the fee is not refunded.
    const amount = (request.amount?.amountMinor ?? tx.amount) - (tx.fee ?? 0);
    if (this.pendingRefunds) {
      this.pendingRefundIds.add(tx.id);
      return { status: 'pending', amount: { amountMinor: amount, currency: 'XOF' }, raw: { pending: true } };
    }
    tx.status = request.amount && request.amount.amountMinor < tx.amount ? 'partially_refunded' : 'refunded';
    tx.refunded = amount;
    return { status: 'succeeded', providerRefundRef: `rf${tx.id}`, amount: { amountMinor: amount, currency: 'XOF' }, raw: { code: 'SUCCESS' } };
  };

  /** Settle the refunds answered `pending`. */
  settleRefunds(): void {
    for (const id of this.pendingRefundIds) {
      const tx = this.transactions.get(id);
      if (tx) {
        tx.status = 'refunded';
        tx.refunded = tx.amount - (tx.fee ?? 0);
      }
    }
    this.pendingRefundIds.clear();
  }
}

/** A test plugin contributing payment providers. */
export function fakeProviderPlugin(...providers: PaymentProvider[]) {
  return definePlugin({
    name: 'test-payments',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      for (const p of providers) ctx.contribute(PaymentProviders, p);
    },
  });
}
