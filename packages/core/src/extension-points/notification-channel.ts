/**
 * Notification channel: delivers a short human message to a person or team — by SMS, e-mail, an HTTP webhook or a
 * chat service (Slack-like, Telegram, WhatsApp). Used for operator alerts, incident escalations and subscriber
 * notices. Who gets what, deduplication and retries are the caller's; a channel makes one delivery attempt and
 * reports precisely how it failed.
 */

import { point } from '../plugin/tokens.js';
import { type CallOptions, type ExtensionIdentity, type FailureKind, OutboundError, type OutboundErrorOptions } from './common.js';

/** Where a notification goes. A channel supports some kinds (`capabilities.recipientKinds`). */
export type NotificationRecipient =
  /** E.164 phone number (SMS, WhatsApp). */
  | { readonly kind: 'phone'; readonly phone: string }
  | { readonly kind: 'email'; readonly address: string }
  /** A chat room / channel name or id in the channel's service (`#noc`). */
  | { readonly kind: 'chat'; readonly room: string }
  /** The channel's configured endpoint (webhook URL, fixed chat room): nothing to address per message. */
  | { readonly kind: 'default' };

export type NotificationRecipientKind = NotificationRecipient['kind'];

export type NotificationSeverity = 'info' | 'warning' | 'critical';

/** One message. */
export interface Notification {
  readonly recipient: NotificationRecipient;
  /** Short title; used by channels with `capabilities.subject` (e-mail subject, chat title), else prepended or dropped. */
  readonly subject?: string;
  /** Plain text body, UTF-8, no markup. Channels with a length limit truncate it (ending with `…`), never refuse it. */
  readonly text: string;
  readonly severity: NotificationSeverity;
  /** Links to show (incident page, dashboard). */
  readonly links?: readonly { readonly label: string; readonly url: string }[];
  /** Our id for this message, passed where the service accepts one (webhook header, e-mail Message-ID seed). */
  readonly correlationId: string;
}

export interface NotificationResult {
  /** The service's id for the message, when it returns one. */
  readonly providerMessageId?: string;
  /** `accepted` by the service (the normal case); `delivered` when the service confirms synchronously. */
  readonly status: 'accepted' | 'delivered';
}

export interface NotificationCapabilities {
  readonly recipientKinds: readonly NotificationRecipientKind[];
  /** Has a separate subject/title field. */
  readonly subject: boolean;
  /** Longest body delivered, in characters (SMS 160 × segments, chat limits); longer texts are truncated. */
  readonly maxTextLength?: number;
}

/** A notification channel instance. `provider`: `smtp`, `webhook`, `slack`, `sms`, … */
export interface NotificationChannel extends ExtensionIdentity {
  readonly capabilities: NotificationCapabilities;

  /**
   * Deliver one notification: one attempt, no internal retry. Throws `NotificationError`: `permanent` for a recipient
   * kind the channel does not support or a malformed address (checked before any request) and for refusals;
   * `retryable` / `ambiguous` as in `FailureKind`.
   */
  send(notification: Notification, options?: CallOptions): Promise<NotificationResult>;
}

export class NotificationError extends OutboundError {
  constructor(kind: FailureKind, message: string, options: OutboundErrorOptions = {}) {
    super(`notification_${kind}`, kind, message, options);
    this.name = 'NotificationError';
  }
}

/** Extension point: notification channels, keyed by instance id. */
export const NotificationChannels = point<NotificationChannel>('notification-channel', (c) => c.id);
