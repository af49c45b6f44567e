/**
 * Contract suite every `NotificationChannel` runs against a test peer (an SMTP sink, an HTTP receiver, a fake chat
 * API, an SMS test server). The peer records what it got and can be told how to fail; the suite checks that the text
 * and subject arrive, long texts are truncated rather than refused, unsupported recipients are refused before any
 * request, and failures are classified after exactly one attempt.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Notification,
  type NotificationChannel,
  NotificationError,
  type NotificationRecipient,
  type NotificationRecipientKind,
} from '../../extension-points/notification-channel.js';
import { rejectionOf } from './util.js';

/** A delivery as the peer saw it, decoded by the harness. */
export interface ReceivedNotification {
  /** The address as the peer saw it (phone in E.164, e-mail address, room name, `''` for the default endpoint). */
  readonly to: string;
  readonly subject?: string;
  /** Body as delivered (a channel may add a severity prefix, links or a footer around the text). */
  readonly text: string;
}

export interface NotificationChannelHarness {
  readonly channel: NotificationChannel;
  /** A recipient the peer accepts, of a kind the channel supports. */
  readonly recipient: NotificationRecipient;
  /** Everything the peer received so far, oldest first, including requests it was told to fail. */
  received(): Promise<readonly ReceivedNotification[]>;
  /** Make the peer fail the next delivery (one-shot); see `SmsFailureMode` for the meaning of each mode. */
  failNext?(mode: 'retryable' | 'permanent' | 'ambiguous'): Promise<void>;
  close(): Promise<void>;
}

const ALL_KINDS: readonly NotificationRecipientKind[] = ['phone', 'email', 'chat', 'default'];

const sampleRecipient = (kind: NotificationRecipientKind): NotificationRecipient => {
  switch (kind) {
    case 'phone':
      return { kind, phone: '+2290197000000' };
    case 'email':
      return { kind, address: 'noc@example.test' };
    case 'chat':
      return { kind, room: '#noc' };
    case 'default':
      return { kind };
  }
};

export function notificationChannelContract(name: string, make: () => Promise<NotificationChannelHarness>): void {
  describe(`NotificationChannel contract: ${name}`, () => {
    let harness: NotificationChannelHarness | undefined;
    let h: NotificationChannelHarness;
    let channel: NotificationChannel;

    beforeAll(async () => {
      harness = await make();
      h = harness;
      channel = harness.channel;
    });
    afterAll(async () => {
      await harness?.close();
    });

    const count = async () => (await h.received()).length;
    const notification = (text: string, extra: Partial<Notification> = {}): Notification => ({
      recipient: h.recipient,
      subject: 'NAS hotspot-1 injoignable',
      text,
      severity: 'critical',
      correlationId: randomUUID(),
      ...extra,
    });

    it('has an id, a provider and consistent capabilities', () => {
      expect(channel.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(channel.provider.length).toBeGreaterThan(0);
      expect(channel.capabilities.recipientKinds.length).toBeGreaterThan(0);
      expect(channel.capabilities.recipientKinds).toContain(h.recipient.kind);
      const max = channel.capabilities.maxTextLength;
      if (max !== undefined) expect(Number.isInteger(max) && max >= 70).toBe(true);
    });

    it('delivers the text (and the subject where supported) in one request', async () => {
      const before = await count();
      const text = `Le NAS hotspot-1 ne répond plus depuis 5 min — ${randomUUID().slice(0, 8)}`;
      const result = await channel.send(notification(text));
      expect(['accepted', 'delivered']).toContain(result.status);
      const received = await h.received();
      expect(received.length).toBe(before + 1);
      const last = received.at(-1);
      expect(last?.text).toContain(text);
      if (channel.capabilities.subject) expect(last?.subject).toContain('NAS hotspot-1 injoignable');
    });

    it('truncates a text longer than maxTextLength instead of refusing it', async (ctx) => {
      const max = channel.capabilities.maxTextLength;
      ctx.skip(max === undefined, 'no length limit');
      const marker = randomUUID().slice(0, 8);
      await channel.send(notification(`${marker} ${'é'.repeat(max! * 2)}`));
      const last = (await h.received()).at(-1);
      expect(last?.text.startsWith(marker) || last?.text.includes(marker)).toBe(true);
      expect([...(last?.text ?? '')].length).toBeLessThanOrEqual(max!);
    });

    it('refuses unsupported recipient kinds as permanent, without a request', async (ctx) => {
      const unsupported = ALL_KINDS.filter((k) => !channel.capabilities.recipientKinds.includes(k));
      ctx.skip(unsupported.length === 0, 'every recipient kind supported');
      const before = await count();
      for (const kind of unsupported) {
        const error = await rejectionOf(channel.send(notification('x', { recipient: sampleRecipient(kind) })));
        expect(error, kind).toBeInstanceOf(NotificationError);
        expect((error as NotificationError).kind, kind).toBe('permanent');
      }
      expect(await count()).toBe(before);
    });

    it('refuses a malformed address as permanent, without a request', async (ctx) => {
      const malformed: NotificationRecipient | undefined =
        h.recipient.kind === 'phone'
          ? { kind: 'phone', phone: '0197000000' }
          : h.recipient.kind === 'email'
            ? { kind: 'email', address: 'not-an-address' }
            : undefined;
      ctx.skip(malformed === undefined, 'recipient kind has no address syntax');
      const before = await count();
      const error = await rejectionOf(channel.send(notification('x', { recipient: malformed! })));
      expect(error).toBeInstanceOf(NotificationError);
      expect((error as NotificationError).kind).toBe('permanent');
      expect(await count()).toBe(before);
    });

    it.for(['permanent', 'retryable', 'ambiguous'] as const)('reports a %s failure as such after exactly one request', async (mode, ctx) => {
      ctx.skip(h.failNext === undefined, 'peer cannot be made to fail');
      const before = await count();
      await h.failNext!(mode);
      const error = await rejectionOf(channel.send(notification('failure test')));
      expect(error).toBeInstanceOf(NotificationError);
      expect((error as NotificationError).kind).toBe(mode);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The peer records a request it then fails; a retried request would be counted twice.
      expect(await count()).toBe(before + 1);
      await expect(channel.send(notification('after failure'))).resolves.toBeDefined();
    });
  });
}
