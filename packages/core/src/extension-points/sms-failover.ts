/**
 * Fail-over across SMS senders: try each configured sender in order until one accepts the message. Provider-neutral,
 * so it lives next to the `SmsSender` contract and works with any mix of gateways (Letexto, then Twilio, …).
 * The rule that matters: after an `ambiguous` failure it stops. The first gateway may have taken the message, none of
 * them deduplicates, and a second SMS with a second OTP code confuses the subscriber and costs money; the caller
 * decides (wait for a delivery report, tell the user, resend later on purpose).
 */

import type { Logger } from '../logging/logger.js';
import type { CallOptions, FailureKind } from './common.js';
import { type SmsMessage, SmsSendError, type SmsSender, type SmsSendResult } from './sms-sender.js';

/** One sender's turn. */
export interface SmsFailoverAttempt {
  /** The sender's instance id. */
  readonly sender: string;
  readonly provider: string;
  readonly outcome: 'accepted' | FailureKind;
  /** The error it failed with, when it failed. */
  readonly error?: SmsSendError;
}

/** The message was accepted by `sender`, after the failed `attempts` before it (the last attempt is the success). */
export interface SmsFailoverResult {
  readonly sender: string;
  readonly provider: string;
  readonly result: SmsSendResult;
  readonly attempts: readonly SmsFailoverAttempt[];
}

/**
 * No sender accepted the message. `kind` is `ambiguous` when a sender may have taken it (fail-over stopped there,
 * `sender` names it); otherwise `retryable` when at least one sender failed in a way that may pass later, else
 * `permanent`. `attempts` lists every sender tried, in order.
 */
export class SmsFailoverError extends SmsSendError {
  readonly attempts: readonly SmsFailoverAttempt[];
  /** The sender whose failure ended the fail-over: the ambiguous one, or the last one tried. */
  readonly sender: string | undefined;
  constructor(kind: FailureKind, message: string, attempts: readonly SmsFailoverAttempt[], cause?: unknown) {
    const last = attempts.at(-1);
    super(kind, message, {
      ...(last?.error?.providerCode === undefined ? {} : { providerCode: last.error.providerCode }),
      ...(last?.error?.httpStatus === undefined ? {} : { httpStatus: last.error.httpStatus }),
      ...(last?.error?.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: last.error.retryAfterSeconds }),
      cause,
    });
    this.name = 'SmsFailoverError';
    this.attempts = attempts;
    this.sender = last?.sender;
  }
}

/**
 * Send `message` through the first of `senders` that accepts it. A `retryable` or `permanent` failure moves on to the
 * next sender; an `ambiguous` one (or an unexpected exception, which may also have happened after sending) stops and
 * throws `SmsFailoverError` with kind `ambiguous`. Throws `SmsFailoverError` too when every sender failed, when the
 * list is empty, or when `options.signal` aborts between senders.
 */
export async function sendWithFailover(senders: readonly SmsSender[], message: SmsMessage, log: Logger, options: CallOptions = {}): Promise<SmsFailoverResult> {
  const attempts: SmsFailoverAttempt[] = [];
  if (senders.length === 0) {
    throw new SmsFailoverError('permanent', 'no SMS sender to try: configure at least one SmsSender plugin', attempts);
  }
  for (const [index, sender] of senders.entries()) {
    if (options.signal?.aborted) {
      throw new SmsFailoverError(
        worstKind(attempts),
        `aborted before trying sender "${sender.id}" (${attempts.length} tried)`,
        attempts,
        options.signal.reason,
      );
    }
    let result: SmsSendResult;
    try {
      result = await sender.send(message, options);
    } catch (err) {
      // Anything but a typed SmsSendError is a bug in the sender, and it may have failed after sending: ambiguous.
      const error =
        err instanceof SmsSendError
          ? err
          : new SmsSendError('ambiguous', `sender "${sender.id}" threw an unexpected error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      attempts.push({ sender: sender.id, provider: sender.provider, outcome: error.kind, error });
      log.warn(
        { sender: sender.id, provider: sender.provider, kind: error.kind, code: error.code, correlation_id: message.correlationId, err: error },
        'sms sender failed',
      );
      if (error.kind === 'ambiguous') {
        throw new SmsFailoverError(
          'ambiguous',
          `sender "${sender.id}" may have sent the message (${error.message}); not trying another sender, which could send it twice`,
          attempts,
          error,
        );
      }
      continue;
    }
    attempts.push({ sender: sender.id, provider: sender.provider, outcome: 'accepted' });
    if (index > 0) {
      log.info(
        { sender: sender.id, provider: sender.provider, failed: attempts.length - 1, correlation_id: message.correlationId },
        'sms sent by a fail-over sender',
      );
    }
    return { sender: sender.id, provider: sender.provider, result, attempts };
  }
  const kind = worstKind(attempts);
  throw new SmsFailoverError(
    kind,
    `no sender accepted the message: ${attempts.map((a) => `${a.sender} ${a.outcome}${a.error ? ` (${a.error.message})` : ''}`).join('; ')}`,
    attempts,
    attempts.at(-1)?.error,
  );
}

/** `retryable` if any sender may succeed later, else `permanent` (no ambiguous attempt reaches here). */
function worstKind(attempts: readonly SmsFailoverAttempt[]): FailureKind {
  return attempts.some((a) => a.outcome === 'retryable') || attempts.length === 0 ? 'retryable' : 'permanent';
}
