/**
 * Contract suite every `PaymentProvider` runs against a test server speaking its provider's wire format (e.g. RGZ's
 * KKiaPay test server). The harness plays the payer and the provider's webhook sender; the suite checks checkout
 * shapes, the authoritative transaction state, webhook authentication and translation, and the optional list/refund
 * capabilities against the flags the provider declares.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Money, WebhookRejected, type WebhookRequest } from '../../extension-points/common.js';
import {
  type Checkout,
  type CheckoutRequest,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentTransaction,
} from '../../extension-points/payment-provider.js';
import { collect, rejectionOf, thrownBy } from './util.js';

export interface PaymentProviderHarness {
  /** The provider under test, configured against the peer. */
  readonly provider: PaymentProvider;
  /** A payer phone number the peer accepts, E.164. */
  readonly payerPhone: string;
  /**
   * Act as the payer on the peer: complete the checkout (widget, hosted page, USSD prompt) with the given outcome.
   * Resolves with the provider's transaction id once the peer has recorded the result.
   */
  pay(checkout: Checkout, request: CheckoutRequest, outcome: 'succeeded' | 'failed'): Promise<string>;
  /** The webhook request the peer sends for this transaction's current state, authenticated as the peer does. */
  webhookFor(providerRef: string): Promise<WebhookRequest>;
  /**
   * The same delivery with wrong authentication (wrong shared secret, bad signature). Omit only when the provider's
   * webhooks carry no authentication at all (MoMo callbacks).
   */
  forge?(request: WebhookRequest): WebhookRequest;
  /** A correctly signed delivery whose timestamp is outside the tolerance. Only for timestamped schemes (FedaPay). */
  stale?(providerRef: string): Promise<WebhookRequest>;
  close(): Promise<void>;
}

const xof = (amountMinor: number): Money => ({ amountMinor, currency: 'XOF' });

export function paymentProviderContract(name: string, make: () => Promise<PaymentProviderHarness>): void {
  describe(`PaymentProvider contract: ${name}`, () => {
    let harness: PaymentProviderHarness | undefined;
    let h: PaymentProviderHarness;
    let provider: PaymentProvider;
    const startedAt = new Date(Date.now() - 60_000);

    beforeAll(async () => {
      harness = await make();
      h = harness;
      provider = harness.provider;
    });
    afterAll(async () => {
      await harness?.close();
    });

    const request = (amountMinor = 1000): CheckoutRequest => ({
      reference: `pay_${randomUUID().replaceAll('-', '')}`,
      amount: xof(amountMinor),
      description: 'Forfait 1 jour',
      customer: { phone: h.payerPhone, name: 'Test Payer' },
      returnUrl: 'http://127.0.0.1:9/portal/pay/return',
      cancelUrl: 'http://127.0.0.1:9/portal/pay/cancel',
      notifyUrl: `http://127.0.0.1:9/hooks/payment-provider/${provider.id}`,
      locale: 'fr',
    });

    /** Checkout + payment; returns the request and the provider's transaction id. */
    const paid = async (outcome: 'succeeded' | 'failed', amountMinor = 1000) => {
      const req = request(amountMinor);
      const checkout = await provider.createCheckout(req);
      const providerRef = await h.pay(checkout, req, outcome);
      return { req, checkout, providerRef };
    };

    const expectSameTransaction = (tx: PaymentTransaction | null, req: CheckoutRequest, providerRef: string) => {
      expect(tx).not.toBeNull();
      expect(tx?.providerRef).toBe(providerRef);
      expect(tx?.amount).toEqual(req.amount);
      if (tx?.reference !== undefined) expect(tx.reference).toBe(req.reference);
      if (tx?.fees !== undefined) {
        expect(tx.fees.currency).toBe('XOF');
        expect(Number.isSafeInteger(tx.fees.amountMinor) && tx.fees.amountMinor >= 0).toBe(true);
      }
    };

    it('has an id, a provider and consistent capabilities', () => {
      expect(provider.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(provider.provider.length).toBeGreaterThan(0);
      const caps = provider.capabilities;
      expect(caps.currencies).toContain('XOF');
      expect(caps.checkoutKinds.length).toBeGreaterThan(0);
      expect(typeof provider.listTransactions === 'function').toBe(caps.canList);
      expect(typeof provider.refund === 'function').toBe(caps.refunds !== 'none');
      for (const host of caps.walledGardenHosts) expect(host).toMatch(/^[a-z0-9.-]+$/);
      if (caps.minAmountMinor !== undefined && caps.maxAmountMinor !== undefined) {
        expect(caps.minAmountMinor).toBeLessThanOrEqual(caps.maxAmountMinor);
      }
    });

    it('creates a checkout of a declared kind with a usable shape', async () => {
      const checkout = await provider.createCheckout(request());
      expect(provider.capabilities.checkoutKinds).toContain(checkout.kind);
      switch (checkout.kind) {
        case 'client_widget':
          expect(JSON.parse(JSON.stringify(checkout.params))).toEqual(checkout.params);
          if (checkout.scriptUrl !== undefined) expect(() => new URL(checkout.scriptUrl!)).not.toThrow();
          break;
        case 'redirect':
          expect(['http:', 'https:']).toContain(new URL(checkout.url).protocol);
          break;
        case 'push':
          expect(checkout.providerRef.length).toBeGreaterThan(0);
          break;
      }
    });

    it('refuses non-positive or fractional amounts as permanent', async () => {
      for (const amountMinor of [0, -100, 10.5, Number.NaN]) {
        const error = await rejectionOf(provider.createCheckout(request(amountMinor)));
        expect(error, `amount ${amountMinor}`).toBeInstanceOf(PaymentProviderError);
        expect((error as PaymentProviderError).kind, `amount ${amountMinor}`).toBe('permanent');
      }
      const { minAmountMinor, maxAmountMinor } = provider.capabilities;
      for (const amountMinor of [
        minAmountMinor === undefined ? undefined : minAmountMinor - 1,
        maxAmountMinor === undefined ? undefined : maxAmountMinor + 1,
      ]) {
        if (amountMinor === undefined || amountMinor <= 0) continue;
        const error = await rejectionOf(provider.createCheckout(request(amountMinor)));
        expect((error as PaymentProviderError).reason, `amount ${amountMinor}`).toBe('amount_out_of_range');
      }
    });

    it('reports a completed payment as succeeded with the charged amount', async () => {
      const { req, providerRef } = await paid('succeeded', 1500);
      const tx = await provider.getTransaction(providerRef);
      expectSameTransaction(tx, req, providerRef);
      expect(tx?.status).toBe('succeeded');
    });

    it('reports a failed payment as failed', async () => {
      const { req, providerRef } = await paid('failed');
      const tx = await provider.getTransaction(providerRef);
      expectSameTransaction(tx, req, providerRef);
      expect(tx?.status).toBe('failed');
    });

    it('returns null for a transaction the provider does not know', async () => {
      expect(await provider.getTransaction(`unknown${randomUUID().slice(0, 8)}`)).toBeNull();
    });

    it('verifies and translates the webhook of a payment, with a stable event id', async () => {
      for (const outcome of ['succeeded', 'failed'] as const) {
        const { req, providerRef } = await paid(outcome);
        const webhook = await h.webhookFor(providerRef);
        const event = provider.verifyWebhook(webhook);
        expect(event.type).toBe('transaction');
        if (event.type !== 'transaction') return;
        expect(event.providerRef).toBe(providerRef);
        expect(event.status).toBe(outcome);
        expect(event.eventId.length).toBeGreaterThan(0);
        if (event.reference !== undefined) expect(event.reference).toBe(req.reference);
        if (event.amount !== undefined) expect(event.amount).toEqual(req.amount);
        expect(typeof event.payloadAuthenticated).toBe('boolean');
        // Redelivery of the same request: same dedupe key.
        const again = provider.verifyWebhook(webhook);
        expect(again.type === 'transaction' && again.eventId).toBe(event.eventId);
      }
    });

    it('rejects a webhook with wrong authentication as unauthenticated', async (ctx) => {
      ctx.skip(h.forge === undefined, 'provider webhooks carry no authentication');
      const { providerRef } = await paid('succeeded');
      const forged = h.forge!(await h.webhookFor(providerRef));
      const error = thrownBy(() => provider.verifyWebhook(forged));
      expect(error).toBeInstanceOf(WebhookRejected);
      expect((error as WebhookRejected).reason).toBe('unauthenticated');
    });

    it('rejects a webhook whose body is not a valid payload', async () => {
      const { providerRef } = await paid('succeeded');
      const genuine = await h.webhookFor(providerRef);
      for (const rawBody of ['{not json', '', '[]']) {
        const error = thrownBy(() => provider.verifyWebhook({ ...genuine, rawBody }));
        expect(error, `body ${JSON.stringify(rawBody)}`).toBeInstanceOf(WebhookRejected);
      }
    });

    it('rejects a stale webhook', async (ctx) => {
      ctx.skip(h.stale === undefined, 'webhooks carry no timestamp');
      const { providerRef } = await paid('succeeded');
      const stale = await h.stale!(providerRef);
      const rejected = thrownBy(() => provider.verifyWebhook(stale));
      expect(rejected).toBeInstanceOf(WebhookRejected);
      expect((rejected as WebhookRejected).reason).toBe('stale');
    });

    it('lists the transactions of a period, each once', async (ctx) => {
      ctx.skip(!provider.capabilities.canList, 'no list API');
      const ok = await paid('succeeded');
      const ko = await paid('failed');
      const listed = await collect(provider.listTransactions!({ from: startedAt, to: new Date(Date.now() + 60_000) }));
      const refs = listed.map((t) => t.providerRef);
      expect(new Set(refs).size).toBe(refs.length);
      expect(refs).toContain(ok.providerRef);
      expect(refs).toContain(ko.providerRef);
      expect(listed.find((t) => t.providerRef === ok.providerRef)?.status).toBe('succeeded');
      const before = await collect(provider.listTransactions!({ from: new Date(2000, 0, 1), to: new Date(2000, 0, 2) }));
      expect(before.map((t) => t.providerRef)).not.toContain(ok.providerRef);
    });

    it('refunds a succeeded payment in full', async (ctx) => {
      ctx.skip(provider.capabilities.refunds === 'none', 'no refunds');
      const { req, providerRef } = await paid('succeeded', 2000);
      const result = await provider.refund!({ providerRef, refundReference: `rf_${randomUUID()}` });
      expect(['succeeded', 'pending']).toContain(result.status);
      expect(result.amount.currency).toBe('XOF');
      expect(result.amount.amountMinor).toBeLessThanOrEqual(req.amount.amountMinor);
      if (result.status === 'succeeded') expect((await provider.getTransaction(providerRef))?.status).toBe('refunded');
    });

    it('handles partial refunds as declared', async (ctx) => {
      ctx.skip(provider.capabilities.refunds === 'none', 'no refunds');
      const { providerRef } = await paid('succeeded', 2000);
      const partial = provider.refund!({ providerRef, amount: xof(500), refundReference: `rf_${randomUUID()}` });
      if (provider.capabilities.refunds === 'full_only') {
        const error = await rejectionOf(partial);
        expect(error).toBeInstanceOf(PaymentProviderError);
        expect((error as PaymentProviderError).kind).toBe('permanent');
        expect((await provider.getTransaction(providerRef))?.status).toBe('succeeded');
      } else {
        const result = await partial;
        expect(result.amount).toEqual(xof(500));
        if (result.status === 'succeeded') {
          expect((await provider.getTransaction(providerRef))?.status).toBe('partially_refunded');
        }
      }
    });

    it('refuses to refund a failed payment as permanent', async (ctx) => {
      ctx.skip(provider.capabilities.refunds === 'none', 'no refunds');
      const { providerRef } = await paid('failed');
      const error = await rejectionOf(provider.refund!({ providerRef, refundReference: `rf_${randomUUID()}` }));
      expect(error).toBeInstanceOf(PaymentProviderError);
      expect((error as PaymentProviderError).kind).toBe('permanent');
    });
  });
}
