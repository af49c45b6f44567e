/**
 * An `SmsSender` whose "gateway" is a sink: each accepted message becomes one record handed to `sink`, which
 * appends it as a JSON line to a file (`fileSink`) or does nothing more than the in-memory copy the plugin keeps.
 * Replace the sink with a call to your gateway's API and keep the rest: the checks made before any request and the
 * way failures are classified are what the `SmsSender` contract asks of every sender.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { type CallOptions, E164, type SmsCapabilities, type SmsMessage, SmsSendError, type SmsSender, type SmsSendResult } from '@rgz/core';

/** One message as the sink receives it (and as one line of the file). */
export interface SmsRecord {
  /** When it was accepted, ISO 8601 UTC. */
  readonly at: string;
  /** The sender instance (config `id`). */
  readonly sender: string;
  readonly providerMessageId: string;
  readonly correlationId: string;
  readonly to: string;
  readonly senderId: string;
  readonly text: string;
}

/** Where an accepted message goes. Throwing an error with a Node `code` (`ENOSPC`, `EACCES`, …) fails the send. */
export type SmsSink = (record: SmsRecord) => Promise<void>;

/** Appends each record to `path` as one JSON line. */
export function fileSink(path: string): SmsSink {
  return (record) => appendFile(path, `${JSON.stringify(record)}\n`, 'utf8');
}

export interface JsonlSmsSenderOptions {
  /** Instance id: the key in `SmsSenders`. */
  readonly id: string;
  /** Sender id used when a message carries none. */
  readonly senderId: string;
  readonly sink: SmsSink;
  /** Longest text accepted, in characters (default 1600, about ten concatenated SMS). */
  readonly maxTextLength?: number;
  /** Called with every accepted record, after the sink took it (the plugin keeps the last ones in memory). */
  readonly onAccepted?: (record: SmsRecord) => void;
}

/** Error codes meaning "certainly not written, a later attempt may succeed". */
const RETRYABLE = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'EINTR', 'ECONNREFUSED']);
/** Error codes meaning "refused, and sending again fails again". */
const PERMANENT = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'EISDIR', 'ENOTDIR']);

export class JsonlSmsSender implements SmsSender {
  readonly id: string;
  readonly provider = 'jsonl';
  readonly capabilities: SmsCapabilities;
  private readonly senderId: string;
  private readonly sink: SmsSink;
  private readonly onAccepted: ((record: SmsRecord) => void) | undefined;

  constructor(options: JsonlSmsSenderOptions) {
    this.id = options.id;
    this.senderId = options.senderId;
    this.sink = options.sink;
    this.onAccepted = options.onAccepted;
    this.capabilities = {
      senderIdOverride: true,
      statusQuery: false,
      deliveryReports: false,
      idempotent: false,
      maxTextLength: options.maxTextLength ?? 1600,
    };
  }

  /** One attempt: invalid input is refused before the sink is called; a sink failure is classified, never retried. */
  async send(message: SmsMessage, options: CallOptions = {}): Promise<SmsSendResult> {
    if (!E164.test(message.to)) throw new SmsSendError('permanent', `"${message.to}" is not an E.164 number (+229…)`);
    const length = [...message.text].length;
    if (length > this.capabilities.maxTextLength) {
      throw new SmsSendError('permanent', `text has ${length} characters; this sender accepts at most ${this.capabilities.maxTextLength}`);
    }
    if (options.signal?.aborted) throw new SmsSendError('retryable', 'aborted before sending');
    const record: SmsRecord = {
      at: new Date().toISOString(),
      sender: this.id,
      providerMessageId: `${this.provider}-${randomUUID()}`,
      correlationId: message.correlationId,
      to: message.to,
      senderId: message.senderId ?? this.senderId,
      text: message.text,
    };
    try {
      await this.sink(record);
    } catch (error) {
      throw classify(error);
    }
    this.onAccepted?.(record);
    return { providerMessageId: record.providerMessageId, status: 'accepted', segments: Math.max(1, Math.ceil(length / 153)) };
  }
}

function classify(error: unknown): SmsSendError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = `sink failed: ${(error as Error).message}`;
  if (RETRYABLE.has(code)) return new SmsSendError('retryable', message, { cause: error });
  if (PERMANENT.has(code)) return new SmsSendError('permanent', message, { cause: error });
  // Anything else (EIO, a timeout, an error without a code): the message may have been written. Do not resend.
  return new SmsSendError('ambiguous', message, { cause: error });
}
