/**
 * A minimal in-memory PaymentProvider for tests that need billing's real flow (order → authenticated webhook →
 * verification against `getTransaction` → ledger posting) without a provider's API: the test plays the payer with
 * `pay()` and delivers `webhookFor(id)`. Refunds are full and keep the fee.
 */
import { randomBytes } from 'node:crypto';
import { WebhookRejected, type WebhookRequest } from '../extension-points/common.js';
import {
  type Checkout,
  type CheckoutRequest,
  type PaymentProvider,
  PaymentProviders,
  type PaymentTransaction,
  type PaymentWebhookEvent,
  type RefundRequest,
  type RefundResult,
} from '../extension-points/payment-provider.js';
import { definePlugin } from '../plugin/define-plugin.js';

// The plumbing of the real providers' stand-ins (FedaPay, KKiaPay test servers) and the webhook receiver their tests use.
export * from './provider-peer.js';
export * from './webhook-capture.js';

interface Tx {
  id: string;
  reference: string;
  amount: number;
  fee: number;
  status: 'succeeded' | 'refunded';
  performedAt: Date;
}

/** Provider id and family `testpay`; its webhooks carry a per-instance secret header. */
export class TestPaymentProvider implements PaymentProvider {
  readonly id = 'testpay';
  readonly provider = 'testpay';
  readonly capabilities = {
    checkoutKinds: ['client_widget'] as const,
    canList: false,
    refunds: 'full_only' as const,
    currencies: ['XOF'] as const,
    walledGardenHosts: ['pay.test.example'],
  };
  readonly secret = randomBytes(12).toString('hex');
  readonly txs = new Map<string, Tx>();

  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    return {
      kind: 'client_widget',
      params: { amount: request.amount.amountMinor, data: { ref: request.reference } },
      scriptUrl: 'https://pay.test.example/k.js',
    };
  }

  /** The payer pays: returns the provider transaction id. */
  pay(reference: string, amount: number, fee: number): string {
    const id = `tp${randomBytes(5).toString('hex')}`;
    this.txs.set(id, { id, reference, amount, fee, status: 'succeeded', performedAt: new Date() });
    return id;
  }

  webhookFor(id: string): WebhookRequest {
    return { rawBody: JSON.stringify({ id }), headers: { 'content-type': 'application/json', 'x-testpay-secret': this.secret }, method: 'POST' };
  }

  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent {
    if (request.headers['x-testpay-secret'] !== this.secret) throw new WebhookRejected('unauthenticated', 'wrong secret');
    const { id } = JSON.parse(request.rawBody) as { id: string };
    const tx = this.txs.get(id);
    return {
      type: 'transaction',
      eventId: `${id}:success`,
      providerRef: id,
      ...(tx ? { reference: tx.reference } : {}),
      status: 'succeeded',
      payloadAuthenticated: false,
      raw: { id },
    };
  }

  async getTransaction(providerRef: string): Promise<PaymentTransaction | null> {
    const tx = this.txs.get(providerRef);
    if (!tx) return null;
    return {
      providerRef: tx.id,
      reference: tx.reference,
      status: tx.status,
      amount: { amountMinor: tx.amount, currency: 'XOF' },
      fees: { amountMinor: tx.fee, currency: 'XOF' },
      performedAt: tx.performedAt,
      method: 'mobile_money',
      raw: { id: tx.id },
    };
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    const tx = this.txs.get(request.providerRef);
    if (!tx) throw new Error('unknown transaction');
    tx.status = 'refunded';
    return { status: 'succeeded', providerRefundRef: `rf${tx.id}`, amount: { amountMinor: tx.amount - tx.fee, currency: 'XOF' }, raw: {} };
  }
}

/** A plugin (`test-payments`) contributing `provider` to `PaymentProviders`. */
export function testPaymentPlugin(provider: TestPaymentProvider) {
  return definePlugin({
    name: 'test-payments',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(PaymentProviders, provider);
    },
  });
}
