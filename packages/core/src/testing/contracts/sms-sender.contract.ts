/**
 * Contract suite every `SmsSender` runs against a test server speaking its provider's wire format (e.g. RGZ's Letexto
 * test server). The peer records what it received and can be told how to fail, so the suite checks what reached the
 * gateway, that one `send` is one request, and that each failure is classified so the caller never duplicates an SMS.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRejected, type WebhookRequest } from '../../extension-points/common.js';
import { type SmsSender, SmsSendError, type SmsStatus } from '../../extension-points/sms-sender.js';
import { rejectionOf, thrownBy } from './util.js';

/** A send request as the peer saw it, decoded back to provider-neutral fields by the harness. */
export interface ReceivedSms {
  /** Destination normalised by the harness to E.164 (`229…` → `+229…`). */
  readonly to: string;
  readonly text: string;
  readonly senderId?: string;
  /** Correlation data echoed by the provider format, when it has a field for it (Letexto `customData`). */
  readonly correlationId?: string;
}

/**
 * How the peer fails the next send request (one-shot):
 * - `retryable`: answers so the request was certainly not taken (HTTP 503 / 429).
 * - `permanent`: refuses it (HTTP 4xx with the provider's error, e.g. Letexto `LT400`).
 * - `ambiguous`: reads the whole request, records it, then never answers (or resets the connection).
 *   The harness must configure the sender with a short request timeout (≤ 2 s) so this case ends quickly.
 */
export type SmsFailureMode = 'retryable' | 'permanent' | 'ambiguous';

export interface SmsSenderHarness {
  /** The sender under test, configured against the peer. */
  readonly sender: SmsSender;
  /** A destination the peer accepts, E.164. */
  readonly recipient: string;
  /** Every send request the peer received so far, oldest first (including failed and ambiguous ones). */
  received(): Promise<readonly ReceivedSms[]>;
  /** Make the peer fail the next send request. */
  failNext(mode: SmsFailureMode): Promise<void>;
  /**
   * The delivery-report request the peer would send for a message it accepted. Required when
   * `capabilities.deliveryReports`.
   */
  deliveryReport?(message: { readonly providerMessageId?: string; readonly correlationId: string }, status: 'delivered' | 'failed'): Promise<WebhookRequest>;
  close(): Promise<void>;
}

const STATUSES: readonly SmsStatus[] = ['accepted', 'sent', 'delivered', 'failed', 'expired', 'unknown'];

export function smsSenderContract(name: string, make: () => Promise<SmsSenderHarness>): void {
  describe(`SmsSender contract: ${name}`, () => {
    let harness: SmsSenderHarness | undefined;
    let h: SmsSenderHarness;
    let sender: SmsSender;

    beforeAll(async () => {
      harness = await make();
      h = harness;
      sender = harness.sender;
    });
    afterAll(async () => {
      await harness?.close();
    });

    const count = async () => (await h.received()).length;
    const message = (text = 'Votre code RGZ : 482913') => ({ to: h.recipient, text, correlationId: randomUUID() });

    it('has an id, a provider and consistent capabilities', () => {
      expect(sender.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(sender.provider.length).toBeGreaterThan(0);
      const caps = sender.capabilities;
      expect(Number.isInteger(caps.maxTextLength) && caps.maxTextLength >= 160).toBe(true);
      expect(typeof sender.getStatus === 'function').toBe(caps.statusQuery);
      expect(typeof sender.parseDeliveryReport === 'function').toBe(caps.deliveryReports);
      expect(h.recipient).toMatch(/^\+[1-9]\d{7,14}$/);
    });

    it('sends one request with the destination and the exact text, and reports acceptance', async () => {
      const before = await count();
      const text = 'Code RGZ : 482913 — valable 5 min. Merci à vous ✓';
      const sms = message(text);
      const result = await sender.send(sms);
      expect(['accepted', 'sent', 'delivered']).toContain(result.status);
      if (result.providerMessageId !== undefined) expect(result.providerMessageId.length).toBeGreaterThan(0);

      const received = await h.received();
      expect(received.length).toBe(before + 1);
      const last = received.at(-1);
      expect(last?.to).toBe(sms.to);
      expect(last?.text).toBe(text);
      if (last?.correlationId !== undefined) expect(last.correlationId).toBe(sms.correlationId);
    });

    it('uses the per-message sender id when the provider allows it', async (ctx) => {
      ctx.skip(!sender.capabilities.senderIdOverride, 'provider ignores per-message sender ids');
      await sender.send({ ...message(), senderId: 'RGZTEST' });
      expect((await h.received()).at(-1)?.senderId).toBe('RGZTEST');
    });

    it('refuses a destination that is not E.164 as permanent, without calling the gateway', async () => {
      const before = await count();
      for (const to of ['97000000', '2290197000000', '+229 01 97 00 00 00', '+22', '', '+0229019700000']) {
        const error = await rejectionOf(sender.send({ ...message(), to }));
        expect(error, `to=${JSON.stringify(to)}`).toBeInstanceOf(SmsSendError);
        expect((error as SmsSendError).kind, `to=${JSON.stringify(to)}`).toBe('permanent');
      }
      expect(await count()).toBe(before);
    });

    it('refuses a text longer than maxTextLength as permanent, without calling the gateway', async () => {
      const before = await count();
      const error = await rejectionOf(sender.send(message('x'.repeat(sender.capabilities.maxTextLength + 1))));
      expect(error).toBeInstanceOf(SmsSendError);
      expect((error as SmsSendError).kind).toBe('permanent');
      expect(await count()).toBe(before);
    });

    it.each(['permanent', 'retryable', 'ambiguous'] as const)('reports a %s failure as such after exactly one request (no internal retry)', async (mode) => {
      const before = await count();
      await h.failNext(mode);
      const error = await rejectionOf(sender.send(message()));
      expect(error).toBeInstanceOf(SmsSendError);
      expect((error as SmsSendError).kind).toBe(mode);
      expect((error as SmsSendError).code).toBe(`sms_${mode}`);
      // Give a misbehaving sender time to retry in the background before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await count()).toBe(before + 1);

      // The failure was one-shot: the next send goes through.
      await expect(sender.send(message())).resolves.toMatchObject({});
    });

    it('answers getStatus for a sent message, and null for an unknown id', async (ctx) => {
      ctx.skip(!sender.capabilities.statusQuery, 'no status query');
      const result = await sender.send(message());
      ctx.skip(result.providerMessageId === undefined, 'provider returned no message id');
      const report = await sender.getStatus!(result.providerMessageId!);
      expect(report).not.toBeNull();
      expect(STATUSES).toContain(report?.status);
      expect(await sender.getStatus!(`unknown-${randomUUID()}`)).toBeNull();
    });

    it('parses delivery reports and matches them to the message', async (ctx) => {
      ctx.skip(!sender.capabilities.deliveryReports, 'no delivery reports');
      expect(h.deliveryReport, 'harness must provide deliveryReport').toBeTypeOf('function');
      for (const status of ['delivered', 'failed'] as const) {
        const sms = message();
        const result = await sender.send(sms);
        const request = await h.deliveryReport!({ providerMessageId: result.providerMessageId, correlationId: sms.correlationId }, status);
        const report = sender.parseDeliveryReport!(request);
        expect(report.status).toBe(status);
        expect(report.providerMessageId !== undefined || report.correlationId !== undefined).toBe(true);
        if (report.providerMessageId !== undefined && result.providerMessageId !== undefined) {
          expect(report.providerMessageId).toBe(result.providerMessageId);
        }
        if (report.correlationId !== undefined) expect(report.correlationId).toBe(sms.correlationId);
      }
    });

    it('rejects a malformed delivery report with WebhookRejected', (ctx) => {
      ctx.skip(!sender.capabilities.deliveryReports, 'no delivery reports');
      const requests: WebhookRequest[] = [
        { rawBody: 'garbage', headers: { 'content-type': 'application/json' }, query: {}, method: 'POST' },
        { rawBody: '', headers: {}, query: {}, method: 'GET' },
      ];
      for (const request of requests) {
        expect(thrownBy(() => sender.parseDeliveryReport!(request))).toBeInstanceOf(WebhookRejected);
      }
    });
  });
}
