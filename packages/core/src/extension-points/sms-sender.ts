/**
 * SMS sender: sends one text message to one phone number through an SMS gateway (Letexto, Twilio, Africa's Talking, …).
 * Used for OTP codes, voucher delivery and subscriber notices. Retries, fail-over between senders and rate limiting
 * belong to the caller (the task queue); an implementation makes exactly one attempt per `send` and says precisely
 * how it failed, because a duplicated OTP costs money and confuses the subscriber.
 */

import { point } from '../plugin/tokens.js';
import { type CallOptions, type ExtensionIdentity, type FailureKind, OutboundError, type OutboundErrorOptions, type WebhookRequest } from './common.js';

/** One message to send. */
export interface SmsMessage {
  /** Destination in E.164 (`+2290197000000`); the implementation converts to its provider's format (Letexto `229…`). */
  readonly to: string;
  /** Message text, UTF-8. Segmenting and GSM-7/UCS-2 choice are the provider's; see `capabilities.maxTextLength`. */
  readonly text: string;
  /** Alphanumeric sender id (≤ 11 chars) or number; absent = the instance's configured default. */
  readonly senderId?: string;
  /**
   * Our id for this message (e.g. the outbox row id). Passed to the provider where it can echo it (Letexto
   * `customData`) so delivery reports can be matched even without `providerMessageId`; used as idempotency key where
   * the provider supports one (`capabilities.idempotent`).
   */
  readonly correlationId: string;
}

/**
 * Status vocabulary shared by send results, status queries and delivery reports.
 * `accepted`: the gateway took it; `sent`: handed to the operator; `delivered`: handset confirmed;
 * `failed`: gateway or operator gave up; `expired`: validity period ran out; `unknown`: provider gave a value we
 * cannot map (kept verbatim in `providerStatus`).
 */
export type SmsStatus = 'accepted' | 'sent' | 'delivered' | 'failed' | 'expired' | 'unknown';

/** Result of a send the gateway accepted. A refusal is thrown as `SmsSendError`, never returned. */
export interface SmsSendResult {
  /** Gateway's id for the message, when it returns one (Letexto's response body is undocumented: may be absent). */
  readonly providerMessageId?: string;
  readonly status: 'accepted' | 'sent' | 'delivered';
  /** Number of billed segments, when the provider says. */
  readonly segments?: number;
}

/** A status learned later, by `getStatus` or a delivery report. */
export interface SmsStatusReport {
  readonly providerMessageId?: string;
  /** Echo of `SmsMessage.correlationId`, when the provider returns it. At least one of the two ids is set. */
  readonly correlationId?: string;
  readonly status: SmsStatus;
  /** The provider's status word, verbatim (`DELIVRD`, `undelivered`, …). */
  readonly providerStatus?: string;
  /** The provider's error code for `failed`/`expired`, verbatim. */
  readonly errorCode?: string;
  /** When the status changed at the provider, if it says; otherwise absent (core uses its receive time). */
  readonly at?: Date;
}

/** What differs between SMS gateways. */
export interface SmsCapabilities {
  /** Per-message `senderId` is honoured (otherwise only the configured default is used and `senderId` is ignored). */
  readonly senderIdOverride: boolean;
  /** `getStatus` is implemented. */
  readonly statusQuery: boolean;
  /** `parseDeliveryReport` is implemented and the instance asks the gateway to call core's hook URL. */
  readonly deliveryReports: boolean;
  /**
   * The gateway deduplicates on `correlationId`, so resending after an `ambiguous` failure is safe. False for Letexto
   * (`customData` is only an echo).
   */
  readonly idempotent: boolean;
  /** Longest text accepted in one `send`, in characters; longer texts are refused with a `permanent` error. */
  readonly maxTextLength: number;
}

/** An SMS gateway instance. */
export interface SmsSender extends ExtensionIdentity {
  readonly capabilities: SmsCapabilities;

  /**
   * Send one message. An implementation may retry internally only failures that certainly did not reach the gateway
   * (never after an ambiguous timeout), so one call never sends the SMS twice. Resolves when the gateway accepted it.
   * Throws `SmsSendError`: `permanent` for invalid input (non-E.164 `to`, text too long: checked before any request)
   * and gateway refusals; `retryable` when the gateway certainly did not take it; `ambiguous` when the request may
   * have been taken (timeout or reset after sending) — the caller must then not resend through this sender.
   */
  send(message: SmsMessage, options?: CallOptions): Promise<SmsSendResult>;

  /** Ask the gateway for the current status. Present iff `capabilities.statusQuery`. Resolves `null` if unknown there. */
  getStatus?(providerMessageId: string, options?: CallOptions): Promise<SmsStatusReport | null>;

  /**
   * Turn a delivery-report callback (GET query or POST form/JSON, per provider) into a report. Pure: no I/O.
   * Present iff `capabilities.deliveryReports`. Throws `WebhookRejected` if it is not authentic or not parseable.
   */
  parseDeliveryReport?(request: WebhookRequest): SmsStatusReport;
}

/** A failed `send` or `getStatus`; `kind` tells the caller whether and how it may retry (see `FailureKind`). */
export class SmsSendError extends OutboundError {
  constructor(kind: FailureKind, message: string, options: OutboundErrorOptions = {}) {
    super(`sms_${kind}`, kind, message, options);
    this.name = 'SmsSendError';
  }
}

/** Extension point: SMS gateways, keyed by instance id. */
export const SmsSenders = point<SmsSender>('sms-sender', (s) => s.id);
