/**
 * `SmsSender` over Letexto: validates the message, formats the number Letexto's way, sends through `LetextoClient`
 * and retries, with exponential backoff, only failures that certainly did not send (connection refused, 5xx, 429).
 * A 4xx is final; a timeout or reset after the request left is `ambiguous` and is never resent, because Letexto has
 * no idempotency key and a second OTP SMS is worse than a late one. Status queries use the documented
 * `GET /v1/messages/{id}/status`; delivery reports are not parsed because their format is undocumented.
 */

import {
  type CallOptions,
  E164,
  type Logger,
  OutboundError,
  type SmsCapabilities,
  type SmsMessage,
  SmsSendError,
  type SmsSender,
  type SmsSendResult,
  type SmsStatus,
  type SmsStatusReport,
} from '@rgz/core';
import { LetextoClient, LetextoError, toLetextoNumber } from './client.js';

/** Outcome label of `sms_sent_total`: one per `send` call, after retries. */
export type SendOutcome = 'accepted' | 'failed' | 'ambiguous';

export interface LetextoSenderOptions {
  /** Instance id: the key in `SmsSenders`. */
  id: string;
  baseUrl: string;
  apiKey: string;
  /** Default `from` (sender name validated on the Letexto account), ≤ 11 characters. */
  senderId: string;
  /** Deadline of one HTTP request. */
  timeoutMs: number;
  /** Extra attempts after a retryable failure (0 = one request per send). */
  retries: number;
  /** Wait before the first retry; doubled for each further one (with ±20 % jitter). */
  backoffMs: number;
  /** Longest text accepted (Letexto publishes no limit; default 612 = four concatenated GSM-7 segments). */
  maxTextLength?: number;
  /** Waits longer than this (a large Retry-After) are not waited for: the send fails as retryable instead. */
  maxBackoffMs?: number;
  log?: Logger;
  /** Called once per `send` with its final outcome (the plugin counts `sms_sent_total` here). */
  onOutcome?: (outcome: SendOutcome) => void;
}

export const DEFAULT_MAX_TEXT_LENGTH = 612;

export class LetextoSender implements SmsSender {
  readonly id: string;
  readonly provider = 'letexto';
  readonly capabilities: SmsCapabilities;
  readonly client: LetextoClient;
  private readonly options: LetextoSenderOptions;
  /** Letexto's response bodies are undocumented: the first one of each kind is logged so an operator can check. */
  private loggedFirstSend = false;

  constructor(options: LetextoSenderOptions) {
    this.id = options.id;
    this.options = options;
    this.client = new LetextoClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, timeoutMs: options.timeoutMs });
    this.capabilities = {
      // `from` is a per-request field; the name must still be validated on the account (else LT400).
      senderIdOverride: true,
      statusQuery: true,
      deliveryReports: false,
      idempotent: false,
      maxTextLength: options.maxTextLength ?? DEFAULT_MAX_TEXT_LENGTH,
    };
  }

  async send(message: SmsMessage, options: CallOptions = {}): Promise<SmsSendResult> {
    try {
      const result = await this.sendWithRetries(message, options);
      this.options.onOutcome?.('accepted');
      return result;
    } catch (err) {
      this.options.onOutcome?.(err instanceof SmsSendError && err.kind !== 'ambiguous' ? 'failed' : 'ambiguous');
      throw err;
    }
  }

  async getStatus(providerMessageId: string, options: CallOptions = {}): Promise<SmsStatusReport | null> {
    // A GET changes nothing at Letexto: an ambiguous timeout may be retried like a retryable failure.
    const status = await this.withRetries('status', { retryAmbiguous: true, signal: options.signal }, () =>
      this.client.messageStatus(providerMessageId, options.signal),
    );
    if (status === null) return null;
    this.options.log?.debug({ sender: this.id, provider_message_id: providerMessageId, body: status.body }, 'letexto status answer');
    return {
      providerMessageId,
      status: mapStatus(status.status),
      ...(status.status === undefined ? {} : { providerStatus: status.status }),
      ...(status.errorCode === undefined ? {} : { errorCode: status.errorCode }),
    };
  }

  private async sendWithRetries(message: SmsMessage, options: CallOptions): Promise<SmsSendResult> {
    // Checked before any request: these fail the same way however often they are sent.
    if (!E164.test(message.to)) throw new SmsSendError('permanent', `"${message.to}" is not an E.164 number (+229…)`);
    if (message.text.length === 0) throw new SmsSendError('permanent', 'text is empty');
    if (message.text.length > this.capabilities.maxTextLength) {
      throw new SmsSendError('permanent', `text has ${message.text.length} characters; this sender accepts at most ${this.capabilities.maxTextLength}`);
    }
    const from = message.senderId ?? this.options.senderId;
    if (from.length === 0 || from.length > 11) throw new SmsSendError('permanent', `sender id "${from}" must be 1 to 11 characters`);
    const body = { from, to: toLetextoNumber(message.to), content: message.text, customData: message.correlationId };

    const accepted = await this.withRetries('send', { retryAmbiguous: false, signal: options.signal }, () => this.client.send(body, options.signal));
    if (!this.loggedFirstSend) {
      this.loggedFirstSend = true;
      this.options.log?.info(
        { sender: this.id, http_status: accepted.httpStatus, body: accepted.body, provider_message_id: accepted.messageId },
        'first Letexto send answer (its shape is undocumented; check that the message id is found)',
      );
    }
    this.options.log?.debug({ sender: this.id, correlation_id: message.correlationId, provider_message_id: accepted.messageId }, 'letexto accepted sms');
    return { ...(accepted.messageId === undefined ? {} : { providerMessageId: accepted.messageId }), status: 'accepted' };
  }

  /**
   * Run `call`, retrying `retryable` failures up to `retries` times with exponential backoff. Never retries
   * `permanent`; retries `ambiguous` only when the call is a read (`retryAmbiguous`). Converts errors to
   * `SmsSendError`.
   */
  private async withRetries<T>(what: string, policy: { retryAmbiguous: boolean; signal: AbortSignal | undefined }, call: () => Promise<T>): Promise<T> {
    const { retries, backoffMs } = this.options;
    const maxBackoffMs = this.options.maxBackoffMs ?? Math.max(30_000, backoffMs);
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const error = toSmsError(err);
        const retryable = error.kind === 'retryable' || (policy.retryAmbiguous && error.kind === 'ambiguous');
        const log = { sender: this.id, call: what, attempt: attempt + 1, kind: error.kind, http_status: error.httpStatus, provider_code: error.providerCode };
        if (!retryable || attempt >= retries) {
          this.options.log?.warn({ ...log, err: error }, `letexto ${what} failed`);
          throw error;
        }
        const base = backoffMs * 2 ** attempt * (0.8 + Math.random() * 0.4);
        const wait = Math.max(base, (error.retryAfterSeconds ?? 0) * 1000);
        if (wait > maxBackoffMs) {
          this.options.log?.warn({ ...log, wait_ms: Math.round(wait), err: error }, `letexto ${what} failed; asked to wait too long to retry now`);
          throw error;
        }
        this.options.log?.warn({ ...log, wait_ms: Math.round(wait), message: error.message }, `letexto ${what} failed; retrying`);
        await sleep(wait, policy.signal, error);
      }
    }
  }
}

/** Map the client's errors (and anything unexpected) to the contract's `SmsSendError`, keeping kind and details. */
function toSmsError(err: unknown): SmsSendError {
  if (err instanceof SmsSendError) return err;
  if (err instanceof LetextoError || err instanceof OutboundError) {
    return new SmsSendError(err.kind, err.message, {
      ...(err.providerCode === undefined ? {} : { providerCode: err.providerCode }),
      ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
      ...(err.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: err.retryAfterSeconds }),
      cause: err,
    });
  }
  // A bug on our side while a request may have been in flight: do not let anyone resend.
  return new SmsSendError('ambiguous', `unexpected error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Wait `ms`, or give up with `failure` (still safe to retry later: nothing was sent in between) when aborted. */
function sleep(ms: number, signal: AbortSignal | undefined, failure: SmsSendError): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(failure);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(failure);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Letexto's status words as third-party adapters report them (PENDING/SENT/DELIVERED/FAILED), plus the Jasmin-style
 * words its DLRs may use (DELIVRD, UNDELIV, …). Anything else is `unknown`, kept verbatim in `providerStatus`.
 */
export function mapStatus(word: string | undefined): SmsStatus {
  switch (word?.trim().toUpperCase()) {
    case 'PENDING':
    case 'QUEUED':
    case 'ACCEPTED':
    case 'ACCEPTD':
    case 'SCHEDULED':
      return 'accepted';
    case 'SENT':
    case 'SUBMITTED':
    case 'ENROUTE':
      return 'sent';
    case 'DELIVERED':
    case 'DELIVRD':
      return 'delivered';
    case 'FAILED':
    case 'UNDELIV':
    case 'UNDELIVERED':
    case 'REJECTED':
    case 'REJECTD':
      return 'failed';
    case 'EXPIRED':
      return 'expired';
    default:
      return 'unknown';
  }
}
