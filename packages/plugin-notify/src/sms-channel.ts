/**
 * SMS notification channel: sends through the SMS senders other plugins contribute (`SmsSenders`: Letexto, the file
 * sender, …), in the configured order, with core's fail-over (`sendWithFailover`: the next sender after a `retryable`
 * or `permanent` failure, never after an `ambiguous` one). The recipient is a phone number in E.164.
 */
import {
  type CallOptions,
  E164,
  type Logger,
  type Notification,
  type NotificationCapabilities,
  type NotificationChannel,
  NotificationError,
  type NotificationResult,
  SmsSendError,
  type SmsSender,
  sendWithFailover,
} from '@rgz/core';
import { truncate } from './text.js';

export interface SmsChannelOptions {
  id: string;
  /** The senders to try, in order; read at each send (the point is filled after every setup). */
  senders: () => readonly SmsSender[];
  /** Longest SMS text this channel sends (the senders' own limits also apply). */
  maxTextLength: number;
  /** Alphanumeric sender id passed to the senders (their configured default when absent). */
  senderId?: string | undefined;
  log: Logger;
  onOutcome?: (outcome: string) => void;
}

export class SmsNotificationChannel implements NotificationChannel {
  readonly id: string;
  readonly provider = 'sms';

  constructor(private readonly options: SmsChannelOptions) {
    this.id = options.id;
  }

  get capabilities(): NotificationCapabilities {
    return { recipientKinds: ['phone'], subject: false, maxTextLength: this.maxTextLength() };
  }

  /** The configured limit, lowered to the smallest limit of the senders. */
  private maxTextLength(): number {
    let max = this.options.maxTextLength;
    for (const sender of this.options.senders()) max = Math.min(max, sender.capabilities.maxTextLength);
    return max;
  }

  async send(notification: Notification, options: CallOptions = {}): Promise<NotificationResult> {
    const { recipient } = notification;
    if (recipient.kind !== 'phone') {
      throw this.fail(new NotificationError('permanent', `channel "${this.id}" sends SMS to phone numbers, not to a ${recipient.kind} recipient`));
    }
    if (!E164.test(recipient.phone)) {
      throw this.fail(new NotificationError('permanent', `"${recipient.phone}" is not an E.164 phone number (+229…)`));
    }
    const senders = this.options.senders();
    if (senders.length === 0) {
      throw this.fail(new NotificationError('permanent', `channel "${this.id}" has no SMS sender: load an SMS sender plugin (sms-letexto, sms-file, …)`));
    }
    const body = notification.subject ? `${notification.subject}\n${notification.text}` : notification.text;
    const text = truncate(body, this.maxTextLength());
    try {
      const sent = await sendWithFailover(
        senders,
        { to: recipient.phone, text, correlationId: notification.correlationId, ...(this.options.senderId ? { senderId: this.options.senderId } : {}) },
        this.options.log,
        options,
      );
      const status = sent.result.status === 'delivered' ? 'delivered' : 'accepted';
      this.options.onOutcome?.(status);
      return { status, ...(sent.result.providerMessageId ? { providerMessageId: sent.result.providerMessageId } : {}) };
    } catch (err) {
      if (err instanceof SmsSendError) {
        throw this.fail(
          new NotificationError(err.kind, `SMS to ${maskPhone(recipient.phone)} not sent: ${err.message}`, {
            cause: err,
            ...(err.providerCode === undefined ? {} : { providerCode: err.providerCode }),
            ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
            ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
          }),
        );
      }
      // Not a typed failure: it may have happened after a sender took the message.
      throw this.fail(new NotificationError('ambiguous', `SMS to ${maskPhone(recipient.phone)}: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    }
  }

  private fail(error: NotificationError): NotificationError {
    this.options.onOutcome?.(error.kind);
    return error;
  }
}

/** `+22901970000` → `+229…0000`: enough to tell numbers apart in a log, not enough to call. */
export function maskPhone(phone: string): string {
  return phone.length > 8 ? `${phone.slice(0, 4)}…${phone.slice(-4)}` : '…';
}
