/**
 * The helpers payment providers share: input checks that throw the provider's own error class, readers of reported
 * amounts and statuses, the webhook JSON plumbing, status-based error classification, and the plugin wiring.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics/registry.js';
import { thrownBy } from '../testing/contracts/util.js';
import { type FailureKind, type OutboundErrorOptions, WebhookRejected } from './common.js';
import type { HttpAnswer } from './outbound-http.js';
import {
  checkPaymentReference,
  checkProviderRef,
  checkXofAmount,
  contributePaymentProvider,
  type PaymentErrorReason,
  PaymentProviderError,
  PaymentProviders,
  payerOf,
  paymentCallMetrics,
  paymentErrorOfStatus,
  reportedStatusAndAmount,
  transactionEvent,
  webhookJsonObject,
  xofFromWire,
} from './payment-provider.js';

class AcmeError extends PaymentProviderError {
  constructor(kind: FailureKind, reason: PaymentErrorReason, message: string, options: OutboundErrorOptions = {}) {
    super(kind, reason, message, options);
    this.name = 'AcmeError';
  }
}

const answer = (status: number, headers: Record<string, string> = {}): HttpAnswer => ({ status, headers, text: '' });

describe('input checks', () => {
  it('accepts a valid reference and throws the provider error class for any other', () => {
    expect(() => checkPaymentReference('pay_0123-abc', AcmeError)).not.toThrow();
    for (const bad of ['', 'a b', 'é', 'x'.repeat(65), 42 as unknown as string]) {
      const err = thrownBy(() => checkPaymentReference(bad, AcmeError));
      expect(err, String(bad)).toBeInstanceOf(AcmeError);
      expect(err).toMatchObject({ kind: 'permanent', reason: 'invalid_request', code: 'payment_invalid_request' });
    }
  });

  it('bounds provider transaction ids to 1–64 characters and names the provider', () => {
    expect(() => checkProviderRef('x'.repeat(64), 'Acme', AcmeError)).not.toThrow();
    expect(thrownBy(() => checkProviderRef('', 'Acme', AcmeError))).toMatchObject({
      reason: 'invalid_request',
      message: 'Acme transaction id "" must be 1–64 characters',
    });
    expect(thrownBy(() => checkProviderRef('x'.repeat(65), 'Acme', AcmeError))).toBeInstanceOf(AcmeError);
  });

  it('takes positive whole XOF amounts only', () => {
    expect(() => checkXofAmount({ amountMinor: 100, currency: 'XOF' }, 'Acme', AcmeError)).not.toThrow();
    expect(thrownBy(() => checkXofAmount({ amountMinor: 100, currency: 'EUR' as 'XOF' }, 'Acme', AcmeError))).toMatchObject({
      message: 'Acme takes XOF only, got EUR',
    });
    for (const amountMinor of [0, -5, 1.5, Number.NaN]) {
      expect(
        thrownBy(() => checkXofAmount({ amountMinor, currency: 'XOF' }, 'Acme', AcmeError)),
        String(amountMinor),
      ).toMatchObject({
        kind: 'permanent',
        reason: 'invalid_request',
      });
    }
  });
});

describe('reported values', () => {
  it('reads integer FCFA from numbers and digit strings; zero only when allowed', () => {
    expect(xofFromWire(1500)).toEqual({ amountMinor: 1500, currency: 'XOF' });
    expect(xofFromWire('1500')).toEqual({ amountMinor: 1500, currency: 'XOF' });
    expect(xofFromWire(0)).toBeUndefined();
    expect(xofFromWire(0, true)).toEqual({ amountMinor: 0, currency: 'XOF' });
    for (const bad of [-1, 1.5, '1.5', '', null, undefined, Number.MAX_SAFE_INTEGER + 2]) expect(xofFromWire(bad), String(bad)).toBeUndefined();
  });

  it('maps the status word and reads the amount, or fails permanent with the word as providerCode', () => {
    const map = { OK: 'succeeded', KO: 'failed' } as const;
    expect(reportedStatusAndAmount({ status: 'OK', amount: 700 }, map, 'Acme tx 1', AcmeError)).toEqual({
      status: 'succeeded',
      amount: { amountMinor: 700, currency: 'XOF' },
    });
    const unknown = thrownBy(() => reportedStatusAndAmount({ status: 'WEIRD', amount: 700 }, map, 'Acme tx 1', AcmeError));
    expect(unknown).toBeInstanceOf(AcmeError);
    expect(unknown).toMatchObject({ kind: 'permanent', reason: 'provider_error', providerCode: 'WEIRD', message: 'Acme tx 1: unknown status "WEIRD"' });
    expect(thrownBy(() => reportedStatusAndAmount({ amount: 700 }, map, 'Acme tx 1', AcmeError))).toMatchObject({ providerCode: undefined });
    expect(thrownBy(() => reportedStatusAndAmount({ status: 'KO', amount: '7.5' }, map, 'Acme tx 1', AcmeError))).toMatchObject({
      message: 'Acme tx 1: amount "7.5" is not a whole number of FCFA',
    });
  });

  it('builds the payer only from what was reported', () => {
    expect(payerOf(undefined, undefined)).toEqual({});
    expect(payerOf('22997000000', undefined)).toEqual({ payer: { phone: '22997000000' } });
    expect(payerOf(undefined, 'Afi')).toEqual({ payer: { name: 'Afi' } });
  });

  it('leaves out the event fields the payload did not carry', () => {
    const base = { eventId: 'e1', providerRef: 'p1', status: 'succeeded', payloadAuthenticated: false, raw: {} } as const;
    expect(transactionEvent({ ...base, reference: undefined, amount: undefined })).toEqual({ type: 'transaction', ...base });
    expect(transactionEvent({ ...base, reference: 'pay_1', amount: { amountMinor: 5, currency: 'XOF' } })).toEqual({
      type: 'transaction',
      ...base,
      reference: 'pay_1',
      amount: { amountMinor: 5, currency: 'XOF' },
    });
  });
});

describe('webhookJsonObject', () => {
  it('returns the body object of a POST', () => {
    expect(webhookJsonObject({ rawBody: '{"a":1}', headers: {}, method: 'POST' }, 'Acme')).toEqual({ a: 1 });
    expect(webhookJsonObject({ rawBody: '{"a":1}', headers: {} }, 'Acme')).toEqual({ a: 1 });
  });

  it('rejects other methods, non-JSON and non-objects as malformed', () => {
    expect(thrownBy(() => webhookJsonObject({ rawBody: '{}', headers: {}, method: 'GET' }, 'Acme'))).toMatchObject({
      reason: 'malformed',
      message: 'Acme webhooks are POSTs, got GET',
    });
    for (const rawBody of ['', '{nope', '[]', '"x"', 'null']) {
      const err = thrownBy(() => webhookJsonObject({ rawBody, headers: {}, method: 'POST' }, 'Acme'));
      expect(err, rawBody).toBeInstanceOf(WebhookRejected);
      expect(err).toMatchObject({ reason: 'malformed', status: 400 });
    }
  });
});

describe('paymentErrorOfStatus', () => {
  it('classifies by status: unreadable 2xx, unauthorized, retryable, ambiguous, permanent', () => {
    expect(paymentErrorOfStatus(AcmeError, answer(200), true, 'Acme read: HTTP 200', 'check keys')).toMatchObject({
      kind: 'retryable',
      reason: 'provider_error',
      message: 'Acme read: HTTP 200: unexpected answer',
    });
    expect(paymentErrorOfStatus(AcmeError, answer(200), false, 'm', 'check keys')).toMatchObject({ kind: 'ambiguous' });
    const denied = paymentErrorOfStatus(AcmeError, answer(403), true, 'm', 'check keys');
    expect(denied).toBeInstanceOf(AcmeError);
    expect(denied).toMatchObject({ kind: 'permanent', reason: 'unauthorized', message: 'm: check keys', httpStatus: 403 });
    expect(paymentErrorOfStatus(AcmeError, answer(503, { 'retry-after': '9' }), false, 'm', 'h')).toMatchObject({
      kind: 'retryable',
      reason: 'provider_error',
      retryAfterSeconds: 9,
    });
    expect(paymentErrorOfStatus(AcmeError, answer(500, { 'retry-after': '9' }), false, 'm', 'h')).toMatchObject({
      kind: 'ambiguous',
      retryAfterSeconds: undefined,
    });
    expect(paymentErrorOfStatus(AcmeError, answer(422), false, 'm', 'h', { providerCode: 'BAD' })).toMatchObject({
      kind: 'permanent',
      reason: 'invalid_request',
      providerCode: 'BAD',
      httpStatus: 422,
    });
  });
});

describe('plugin wiring', () => {
  it('counts and times calls in the shared payment metrics', async () => {
    const { metrics } = createMetrics();
    const onCall = paymentCallMetrics(metrics, 'acme', 'acme-1');
    onCall('verify', 'ok', 0.02);
    onCall('verify', 'ok', 0.03);
    // A second plugin asking for the same metrics gets the same ones.
    paymentCallMetrics(metrics, 'other', 'other-1')('create', 'retryable', 1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('payment_provider_requests_total{provider="acme",instance="acme-1",call="verify",outcome="ok"} 2');
    expect(text).toContain('payment_provider_requests_total{provider="other",instance="other-1",call="create",outcome="retryable"} 1');
    expect(text).toContain('payment_provider_request_duration_seconds_count{provider="acme",call="verify"} 2');
  });

  it('contributes the provider, logs it ready on start and closes it on stop', async () => {
    const contributed: unknown[] = [];
    const starts: Array<() => void | Promise<void>> = [];
    const stops: Array<() => void | Promise<void>> = [];
    const logged: unknown[][] = [];
    let closed = 0;
    const provider = {
      id: 'acme-1',
      provider: 'acme',
      capabilities: { checkoutKinds: ['redirect'], canList: false, refunds: 'none', currencies: ['XOF'], walledGardenHosts: ['pay.acme.test'] },
      close: () => {
        closed += 1;
      },
    } as unknown as Parameters<typeof contributePaymentProvider>[1];
    const ctx = {
      contribute: (point: unknown, impl: unknown) => contributed.push([point, impl]),
      onStart: (fn: () => void) => starts.push(fn),
      onStop: (fn: () => void) => stops.push(fn),
      log: { info: (...args: unknown[]) => logged.push(args) },
    } as unknown as Parameters<typeof contributePaymentProvider>[0];
    contributePaymentProvider(ctx, provider, { sandbox: true, baseUrl: undefined });
    expect(contributed).toEqual([[PaymentProviders, provider]]);
    expect(logged).toEqual([]);
    for (const fn of starts) await fn();
    expect(logged).toEqual([[{ provider: 'acme-1', sandbox: true, base_url: null, walled_garden: ['pay.acme.test'] }, 'acme payment provider ready']]);
    expect(closed).toBe(0);
    for (const fn of stops) await fn();
    expect(closed).toBe(1);
  });
});
