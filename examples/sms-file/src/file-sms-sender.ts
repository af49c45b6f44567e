/**
 * An `SmsSender` whose "gateway" is a file: each accepted message becomes one JSON line appended to `path`.
 * Nothing leaves the machine, so it suits development, demos and end-to-end tests (a test reads the OTP back
 * through the plugin's `/messages` route or straight from the file).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, open, readFile, rename, writeFile } from 'node:fs/promises';
import { type CallOptions, E164, type FailureKind, type SmsCapabilities, type SmsMessage, SmsSendError, type SmsSender, type SmsSendResult } from '@rgz/core';

/** One line of the file. */
export interface FileSmsRecord {
  /** When the line was written, ISO 8601 UTC. */
  readonly at: string;
  /** The sender instance (config `id`) that wrote it. */
  readonly sender: string;
  readonly providerMessageId: string;
  readonly correlationId: string;
  readonly to: string;
  readonly senderId: string;
  readonly text: string;
}

export interface FileSmsSenderOptions {
  /** Instance id, the key under which the sender is contributed to `SmsSenders`. */
  id: string;
  /** File the messages are appended to. */
  path: string;
  /** Sender id written when a message carries none. */
  senderId: string;
  /** Refuse the first `failFirst` sends as `retryable` (to demonstrate fail-over to another sender). */
  failFirst?: number;
  /** Longest text accepted (default 1600 characters, about ten concatenated SMS). */
  maxTextLength?: number;
  /** How a line reaches the file (default: `fs.appendFile`); tests wrap it to observe or break the "gateway". */
  append?: (path: string, line: string) => Promise<void>;
  /** Called once per `send` with its outcome: the result status, or the failure kind. */
  onOutcome?: (outcome: SmsSendResult['status'] | FailureKind) => void;
}

/** Error codes that say the file was certainly not written and a later attempt may succeed. */
const RETRYABLE_CODES = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'EINTR']);
/** Error codes that say the write may have partly happened: resending could duplicate the message. */
const AMBIGUOUS_CODES = new Set(['EIO', 'ETIMEDOUT']);

export class FileSmsSender implements SmsSender {
  readonly id: string;
  readonly provider = 'file';
  readonly capabilities: SmsCapabilities;
  readonly path: string;
  private readonly senderId: string;
  private readonly append: (path: string, line: string) => Promise<void>;
  private readonly onOutcome: FileSmsSenderOptions['onOutcome'];
  private failuresLeft: number;
  /** Writes of this instance go one after the other, so lines never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileSmsSenderOptions) {
    this.id = options.id;
    this.path = options.path;
    this.senderId = options.senderId;
    this.failuresLeft = options.failFirst ?? 0;
    this.append = options.append ?? ((path, line) => appendFile(path, line, 'utf8'));
    this.onOutcome = options.onOutcome;
    this.capabilities = {
      senderIdOverride: true,
      statusQuery: false,
      deliveryReports: false,
      idempotent: false,
      maxTextLength: options.maxTextLength ?? 1600,
    };
  }

  async send(message: SmsMessage, options: CallOptions = {}): Promise<SmsSendResult> {
    try {
      const result = await this.sendOnce(message, options);
      this.onOutcome?.(result.status);
      return result;
    } catch (err) {
      this.onOutcome?.(err instanceof SmsSendError ? err.kind : 'ambiguous');
      throw err;
    }
  }

  private async sendOnce(message: SmsMessage, options: CallOptions): Promise<SmsSendResult> {
    if (!E164.test(message.to)) {
      throw new SmsSendError('permanent', `"${message.to}" is not an E.164 number (+229…)`);
    }
    if (message.text.length > this.capabilities.maxTextLength) {
      throw new SmsSendError('permanent', `text has ${message.text.length} characters; this sender accepts at most ${this.capabilities.maxTextLength}`);
    }
    if (options.signal?.aborted) {
      throw new SmsSendError('retryable', 'aborted before writing', { cause: options.signal.reason });
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new SmsSendError('retryable', `failFirst: refusing this send (${this.failuresLeft} more to refuse)`);
    }
    const record: FileSmsRecord = {
      at: new Date().toISOString(),
      sender: this.id,
      providerMessageId: `file-${randomUUID()}`,
      correlationId: message.correlationId,
      to: message.to,
      senderId: message.senderId ?? this.senderId,
      text: message.text,
    };
    const write = this.queue.then(() => this.append(this.path, `${JSON.stringify(record)}\n`));
    this.queue = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      throw classify(err, this.path);
    }
    return { providerMessageId: record.providerMessageId, status: 'accepted', segments: Math.max(1, Math.ceil(message.text.length / 153)) };
  }

  /**
   * Keep only the last `keepLines` lines; returns how many were dropped. Runs in this instance's write queue and
   * replaces the file atomically (write a copy, rename), so no message written by this process is lost.
   */
  trim(keepLines: number): Promise<number> {
    const run = this.queue.then(async () => {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      const lines = text.split('\n').filter((l) => l.length > 0);
      const drop = lines.length - keepLines;
      if (drop <= 0) return 0;
      const copy = `${this.path}.trim-${process.pid}`;
      await writeFile(
        copy,
        lines
          .slice(drop)
          .map((l) => `${l}\n`)
          .join(''),
        'utf8',
      );
      await rename(copy, this.path);
      return drop;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Map a file-system error to the failure kinds of the SmsSender contract. */
function classify(err: unknown, path: string): SmsSendError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reason = `${path}: ${(err as Error | undefined)?.message ?? String(err)}`;
  if (RETRYABLE_CODES.has(code)) return new SmsSendError('retryable', `could not write ${reason}`, { providerCode: code, cause: err });
  if (AMBIGUOUS_CODES.has(code) || code === '')
    return new SmsSendError('ambiguous', `the write may or may not have happened: ${reason}`, { providerCode: code || undefined, cause: err });
  // EACCES, EROFS, ENOENT, EISDIR, ENOTDIR…: the same write fails again until someone fixes the path.
  return new SmsSendError('permanent', `cannot write ${reason}`, { providerCode: code, cause: err });
}

/**
 * The last `limit` records of the file, newest first, optionally only those sent to `to`. Reads at most the last
 * `maxBytes` of the file, so a large file costs no more than a small one.
 */
export async function readLastMessages(path: string, options: { to?: string; limit: number; maxBytes?: number }): Promise<FileSmsRecord[]> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - maxBytes);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      text = buffer.toString('utf8');
      // Starting mid-file, the first line is cut: drop it.
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: FileSmsRecord[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < options.limit; i--) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let record: FileSmsRecord;
    try {
      record = JSON.parse(line) as FileSmsRecord;
    } catch {
      continue; // a line being written right now, or edited by hand
    }
    if (options.to === undefined || record.to === options.to) out.push(record);
  }
  return out;
}
