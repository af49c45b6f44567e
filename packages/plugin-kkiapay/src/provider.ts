/**
 * KKiaPay as a core `PaymentProvider`. The payment starts in the browser (KKiaPay's widget creates the transaction),
 * so `createCheckout` only returns widget parameters carrying our reference; the webhook is authenticated by a static
 * shared secret that proves nothing about the body, so core must re-verify; verify is the only source of truth; there
 * is no list API (reconciliation starts from RGZ's own rows) and refunds are full only.
 * Wire facts: the shared KKiaPay reference (kkiapay.md), sections cited next to the code.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
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
  PAYMENT_REFERENCE,
  type PaymentCapabilities,
  type PaymentProvider,
  type PaymentStatus,
  type PaymentTransaction,
  type PaymentWebhookEvent,
  payerOf,
  type RefundRequest,
  type RefundResult,
  reportedStatusAndAmount,
  transactionEvent,
  WebhookRejected,
  type WebhookRequest,
  webhookJsonObject,
  xofFromWire,
} from '@rgz/core';
import { KKIAPAY_LIVE_API, KKIAPAY_SANDBOX_API, KKIAPAY_WIDGET_SCRIPT, KkiapayClient, KkiapayError, type KkiapayTransactionBody } from './client.js';

/** Header KKiaPay puts the dashboard's webhook secret in (§5). */
export const WEBHOOK_SECRET_HEADER = 'x-kkiapay-secret';

/**
 * KKiaPay status words (§7) → core statuses. `INIT` is seen only in an unofficial SDK (K20); `CANCELLED`/`REFUNDED` only
 * on an untrustworthy page, mapped anyway so a surprise does not block reconciliation. Anything else is an error.
 */
export const KKIAPAY_STATUS_MAP: Readonly<Record<string, PaymentStatus>> = {
  SUCCESS: 'succeeded',
  FAILED: 'failed',
  PENDING: 'pending',
  INIT: 'pending',
  REVERTED: 'refunded',
  REFUNDED: 'refunded',
  CANCELLED: 'cancelled',
};

/** `source` (§2) → core's channel words. */
const METHODS: Readonly<Record<string, string>> = {
  MOBILE_MONEY: 'mobile_money',
  CARD: 'card',
  WALLET: 'wallet',
  BANK_ACCOUNT: 'bank',
};

export interface KkiapayProviderOptions {
  /** Instance id (the key in `PaymentProviders`). */
  id: string;
  /** Sandbox keys and API (`api-sandbox.kkiapay.me`), and `sandbox: true` in the widget. */
  sandbox: boolean;
  publicKey: string;
  privateKey: string;
  /** API secret key (`x-secret-key`). */
  secret: string;
  /** The "hash secret" set on the dashboard's Webhook tab, sent back in `x-kkiapay-secret` (§5). */
  webhookSecret: string;
  /** API root override (tests, proxies); default from `sandbox`. */
  baseUrl?: string | undefined;
  timeoutMs: number;
  /** Hosts beyond the documented ones the captive portal must open (3-D Secure pages, a HAR capture's findings). */
  walledGardenExtraHosts?: readonly string[];
  log?: Logger | undefined;
  onCall?: (call: 'status' | 'revert', outcome: string, seconds: number) => void;
}

export class KkiapayProvider implements PaymentProvider {
  readonly id: string;
  readonly provider = 'kkiapay';
  readonly capabilities: PaymentCapabilities;
  readonly client: KkiapayClient;
  private readonly options: KkiapayProviderOptions;
  private readonly webhookSecretDigest: Buffer;

  constructor(options: KkiapayProviderOptions) {
    this.id = options.id;
    this.options = options;
    const baseUrl = options.baseUrl ?? (options.sandbox ? KKIAPAY_SANDBOX_API : KKIAPAY_LIVE_API);
    this.client = new KkiapayClient({
      baseUrl,
      publicKey: options.publicKey,
      privateKey: options.privateKey,
      secretKey: options.secret,
      timeoutMs: options.timeoutMs,
      ...(options.onCall ? { onCall: options.onCall } : {}),
    });
    // Compare digests, not the strings: equal lengths for timingSafeEqual, and no early exit on the first byte.
    this.webhookSecretDigest = sha256(options.webhookSecret);
    this.capabilities = {
      checkoutKinds: ['client_widget'],
      canList: false,
      refunds: 'full_only',
      currencies: ['XOF'],
      // §6: widget script, widget iframe, and the API the widget calls from the browser for this environment.
      walledGardenHosts: [
        ...new Set([
          'cdn.kkiapay.me',
          'widget-v3.kkiapay.me',
          options.sandbox ? 'api-sandbox.kkiapay.me' : 'api.kkiapay.me',
          ...(options.walledGardenExtraHosts ?? []),
        ]),
      ],
    };
  }

  /**
   * Widget parameters (§6 `openKkiapayWidget`), public values only. Our reference goes in `data` (→ `state` on verify,
   * `stateData` on the webhook) and in `partnerId`, because one integration saw `partnerId` arrive empty in sandbox.
   * No request is made: KKiaPay creates the transaction when the payer pays.
   */
  async createCheckout(request: CheckoutRequest): Promise<Checkout> {
    checkPaymentReference(request.reference, KkiapayError);
    checkXofAmount(request.amount, 'KKiaPay', KkiapayError);
    const customer = request.customer;
    let phone: string | undefined;
    if (customer?.phone !== undefined) {
      if (!E164.test(customer.phone)) {
        throw new KkiapayError('permanent', 'invalid_request', `customer.phone "${customer.phone}" is not E.164 (+229…)`);
      }
      // KKiaPay examples use the country code and number without "+" (`22997000000`, §8).
      phone = customer.phone.slice(1);
    }
    const params: Record<string, unknown> = {
      amount: request.amount.amountMinor,
      key: this.options.publicKey,
      sandbox: this.options.sandbox,
      data: { ref: request.reference },
      partnerId: request.reference,
      reason: request.description,
      ...(request.returnUrl === undefined ? {} : { callback: request.returnUrl }),
      ...(request.cancelUrl === undefined ? {} : { failed_callback: request.cancelUrl }),
      ...(phone === undefined ? {} : { phone }),
      ...(customer?.name === undefined ? {} : { name: customer.name }),
      ...(customer?.email === undefined ? {} : { email: customer.email }),
    };
    return { kind: 'client_widget', params, scriptUrl: KKIAPAY_WIDGET_SCRIPT };
  }

  /**
   * Check `x-kkiapay-secret` in constant time, then translate the payload (§5). A static secret proves only that the
   * sender knows it, so `payloadAuthenticated` is false: core verifies by API before crediting. The event id is
   * `<transactionId>:<event>` (KKiaPay sends no event id), stable across its five retries.
   */
  verifyWebhook(request: WebhookRequest): PaymentWebhookEvent {
    const given = request.headers[WEBHOOK_SECRET_HEADER];
    if (given === undefined || given === '') throw new WebhookRejected('unauthenticated', `missing ${WEBHOOK_SECRET_HEADER} header`);
    if (!timingSafeEqual(sha256(given), this.webhookSecretDigest)) {
      throw new WebhookRejected('unauthenticated', `${WEBHOOK_SECRET_HEADER} does not match the configured webhookSecret`);
    }
    const payload = webhookJsonObject(request, 'KKiaPay');
    const providerRef = jsonString(payload.transactionId);
    if (providerRef === undefined) {
      // Authentic (the secret matched) but about no transaction: e.g. the dashboard's "test" button.
      return { type: 'ignored', reason: 'webhook without transactionId (dashboard test call?)', raw: payload };
    }
    const event = jsonString(payload.event);
    const status: PaymentStatus | undefined =
      event === 'transaction.success'
        ? 'succeeded'
        : event === 'transaction.failed'
          ? 'failed'
          : payload.isPaymentSucces === true // sic: KKiaPay's spelling
            ? 'succeeded'
            : payload.isPaymentSucces === false
              ? 'failed'
              : undefined;
    if (status === undefined) {
      return { type: 'ignored', eventId: `${providerRef}:${event ?? 'unknown'}`, reason: `unhandled KKiaPay event ${event ?? '(none)'}`, raw: payload };
    }
    const reference = referenceFrom(payload.stateData) ?? referenceFrom(payload.partnerId);
    const amount = xofFromWire(payload.amount);
    return transactionEvent({
      eventId: `${providerRef}:${event ?? (status === 'succeeded' ? 'transaction.success' : 'transaction.failed')}`,
      providerRef,
      reference,
      status,
      amount,
      payloadAuthenticated: false,
      raw: payload,
    });
  }

  /** Verify (§2), mapped to core's vocabulary; `null` for an id KKiaPay does not know. */
  async getTransaction(providerRef: string, options: CallOptions = {}): Promise<PaymentTransaction | null> {
    checkProviderRef(providerRef, 'KKiaPay', KkiapayError);
    const body = await this.client.status(providerRef, options.signal);
    return body === null ? null : this.toTransaction(providerRef, body);
  }

  /**
   * Full refund via revert (§3). The transaction is verified first: only a succeeded payment can be reverted, and
   * "full amount" can only be recognised against the reported amount. A partial amount fails `permanent` before the
   * revert request; so do unknown and non-succeeded transactions. A timeout on revert is `ambiguous`: check with
   * `getTransaction` (REVERTED → refunded) before trying again.
   */
  async refund(request: RefundRequest, options: CallOptions = {}): Promise<RefundResult> {
    checkProviderRef(request.providerRef, 'KKiaPay', KkiapayError);
    if (request.amount !== undefined) checkXofAmount(request.amount, 'KKiaPay', KkiapayError);
    const tx = await this.getTransaction(request.providerRef, options);
    if (tx === null) throw new KkiapayError('permanent', 'not_found', `KKiaPay does not know transaction ${request.providerRef}`);
    if (request.amount !== undefined && request.amount.amountMinor !== tx.amount.amountMinor) {
      throw new KkiapayError(
        'permanent',
        'unsupported',
        `KKiaPay refunds the full amount only (${tx.amount.amountMinor} XOF); a refund of ${request.amount.amountMinor} XOF is not possible`,
      );
    }
    if (tx.status !== 'succeeded') {
      throw new KkiapayError('permanent', 'not_eligible', `transaction ${request.providerRef} is ${tx.status}; only succeeded payments can be refunded`, {
        providerCode: 'TRANSACTION_NOT_ELIGIBLE',
      });
    }
    const answer = await this.client.revert(request.providerRef, options.signal);
    // §3: success is `{code: SUCCESS, description: REVERTED}`. Whether revert can answer SUCCESS before it is done is
    // unknown; any other description is reported as pending, to be confirmed by getTransaction.
    return {
      status: jsonString(answer.description) === 'REVERTED' ? 'succeeded' : 'pending',
      ...(jsonString(answer.transactionId) === undefined ? {} : { providerRefundRef: jsonString(answer.transactionId) as string }),
      // KKiaPay keeps its fees (§3); whether `amount` includes a customer-borne fee is unknown (§8), so `amount` it is.
      amount: tx.amount,
      raw: answer,
    };
  }

  /** Verify body → core transaction. Exported through the class for the mapping tests. */
  toTransaction(providerRef: string, body: KkiapayTransactionBody): PaymentTransaction {
    const { status, amount } = reportedStatusAndAmount(body, KKIAPAY_STATUS_MAP, `KKiaPay verify of ${providerRef}`, KkiapayError);
    // Only what KKiaPay reports: billing applies its per-provider commission when nothing is reported, so the two
    // can be told apart (and a difference alerted on).
    const fees = xofFromWire(body.fees, true);
    const reference = referenceFrom(body.state) ?? referenceFrom(body.partnerId);
    const client = asJsonObject(body.client);
    const phone = jsonString(client?.phone) ?? jsonString(body.account);
    const name = jsonString(client?.fullname);
    const source = jsonString(body.source);
    const operator = jsonString(body.source_common_name);
    const performedAt = dateOf(body.performed_at) ?? dateOf(body.received_at);
    const failureCode = status === 'failed' ? (jsonString(body.failureCode) ?? jsonString(body.reason)) : undefined;
    return {
      providerRef: jsonString(body.transactionId) ?? providerRef,
      ...(reference === undefined ? {} : { reference }),
      status,
      amount,
      ...(fees === undefined ? {} : { fees }),
      ...(status === 'refunded' ? { refunded: amount } : {}),
      ...payerOf(phone, name),
      ...(source === undefined ? {} : { method: METHODS[source] ?? source.toLowerCase() }),
      ...(operator === undefined ? {} : { operator }),
      ...(performedAt === undefined ? {} : { performedAt }),
      ...(failureCode === undefined ? {} : { failureCode }),
      raw: body,
    };
  }

  /** Release pooled sockets (plugin stop). */
  close(): void {
    this.client.close();
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function dateOf(value: unknown): Date | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * Our reference from the widget's `data` as KKiaPay echoes it (`state` on verify, `stateData` on the webhook): an
 * object `{ref}`, the same as a JSON string (object vs string is unknown, §5), or a bare reference string
 * (`partnerId`).
 */
export function referenceFrom(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{')) {
      try {
        return referenceFrom(JSON.parse(trimmed) as unknown);
      } catch {
        return undefined;
      }
    }
    return PAYMENT_REFERENCE.test(trimmed) ? trimmed : undefined;
  }
  const object = asJsonObject(value);
  const ref = jsonString(object?.ref);
  return ref !== undefined && PAYMENT_REFERENCE.test(ref) ? ref : undefined;
}
