/**
 * Syslog over TCP (RFC 6587): each message is either octet-counted (`MSG-LEN SP SYSLOG-MSG`, §3.4.1) or terminated by
 * LF (non-transparent framing, §3.4.2; NUL is accepted as a terminator too, as some senders use it). The method is
 * detected per message from its first byte: a digit means octet counting.
 *
 * Memory is bounded by `maxBytes` per connection whatever the sender does: a frame longer than that is cut (the head is
 * delivered with `truncated`) and the rest of it is skipped as it arrives; an octet count larger than the limit is
 * honoured by skipping, not buffering. A connection that closes mid-frame delivers what it had, as truncated.
 */

export interface Frame {
  /** The frame's bytes, at most `maxBytes`: a view valid only during the `emit` call (decode it there). */
  bytes: Buffer;
  /** Bytes the sender framed for this message (> bytes.length when cut). */
  originalBytes: number;
  truncated: boolean;
}

const LF = 0x0a;
const NUL = 0x00;
/** Longest MSG-LEN we accept (digits); a longer run of digits is not a length but data. */
const MAX_LEN_DIGITS = 9;

export class SyslogFramer {
  #buf: Buffer = Buffer.alloc(0);
  /** Octet-counted frame in progress: bytes still expected, and how many of them are to be kept. */
  #expect = 0;
  #expectTotal = 0;
  #keep: Buffer[] = [];
  #keptBytes = 0;
  /** LF frame being skipped after a cut: discard until the next terminator. */
  #skippingLine = false;
  #skippedLineBytes = 0;

  constructor(
    readonly maxBytes: number,
    /** `octet-or-lf` for syslog; `lf` for line protocols (JSON lines) where a leading digit is data. */
    readonly mode: 'octet-or-lf' | 'lf' = 'octet-or-lf',
  ) {}

  /** Bytes buffered right now (bounded by maxBytes + one chunk while it is being split). */
  get buffered(): number {
    return this.#buf.length + this.#keptBytes;
  }

  push(chunk: Buffer, emit: (frame: Frame) => void): void {
    let data = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    this.#buf = Buffer.alloc(0);
    let pos = 0;
    while (pos < data.length) {
      if (this.#expect > 0) {
        pos = this.#continueCounted(data, pos, emit);
        continue;
      }
      if (this.#skippingLine) {
        const end = findTerminator(data, pos);
        if (end < 0) {
          this.#skippedLineBytes += data.length - pos;
          pos = data.length;
          break;
        }
        this.#skippedLineBytes += end - pos;
        this.#skippingLine = false;
        pos = end + 1;
        continue;
      }
      const first = data[pos] as number;
      if (first === LF || first === NUL || first === 0x0d || first === 0x20) {
        pos++;
        continue;
      }
      if (this.mode === 'octet-or-lf' && first >= 0x30 && first <= 0x39) {
        // MSG-LEN SP …
        let i = pos;
        while (i < data.length && i - pos < MAX_LEN_DIGITS + 1 && (data[i] as number) >= 0x30 && (data[i] as number) <= 0x39) i++;
        if (i === data.length && i - pos <= MAX_LEN_DIGITS) {
          this.#buf = Buffer.from(data.subarray(pos));
          return;
        }
        if (data[i] === 0x20 && i - pos <= MAX_LEN_DIGITS) {
          const len = Number(data.subarray(pos, i).toString('latin1'));
          if (len > 0) {
            this.#expect = len;
            this.#expectTotal = len;
            this.#keep = [];
            this.#keptBytes = 0;
            pos = this.#continueCounted(data, i + 1, emit);
            continue;
          }
        }
        // Not a length after all: an LF-framed message that starts with a digit.
      }
      const end = findTerminator(data, pos);
      if (end < 0) {
        const pending = data.length - pos;
        if (pending > this.maxBytes) {
          emit({ bytes: data.subarray(pos, pos + this.maxBytes), originalBytes: pending, truncated: true });
          this.#skippingLine = true;
          this.#skippedLineBytes = pending - this.maxBytes;
        } else {
          this.#buf = Buffer.from(data.subarray(pos));
        }
        return;
      }
      const len = end - pos;
      if (len > this.maxBytes) emit({ bytes: data.subarray(pos, pos + this.maxBytes), originalBytes: len, truncated: true });
      else emit({ bytes: data.subarray(pos, end), originalBytes: len, truncated: false });
      pos = end + 1;
    }
    data = Buffer.alloc(0);
  }

  #continueCounted(data: Buffer, pos: number, emit: (frame: Frame) => void): number {
    const available = Math.min(this.#expect, data.length - pos);
    const room = this.maxBytes - this.#keptBytes;
    if (room > 0) {
      const take = Math.min(room, available);
      this.#keep.push(Buffer.from(data.subarray(pos, pos + take)));
      this.#keptBytes += take;
    }
    this.#expect -= available;
    if (this.#expect === 0) {
      const bytes = Buffer.concat(this.#keep);
      emit({ bytes, originalBytes: this.#expectTotal, truncated: this.#expectTotal > bytes.length });
      this.#keep = [];
      this.#keptBytes = 0;
    }
    return pos + available;
  }

  /** End of stream: deliver a partial frame as truncated (nothing is silently lost). */
  end(emit: (frame: Frame) => void): void {
    if (this.#expect > 0 && this.#keptBytes > 0) {
      emit({ bytes: Buffer.concat(this.#keep), originalBytes: this.#expectTotal, truncated: true });
    } else if (this.#buf.length > 0 && !this.#skippingLine) {
      // An LF-framed last message without its LF is complete for senders that close right after (not truncated);
      // a half octet-count prefix is not a message.
      const allDigits = /^\d+$/.test(this.#buf.toString('latin1'));
      if (!allDigits || this.mode === 'lf') emit({ bytes: this.#buf, originalBytes: this.#buf.length, truncated: false });
    }
    this.#buf = Buffer.alloc(0);
    this.#keep = [];
    this.#keptBytes = 0;
    this.#expect = 0;
  }
}

function findTerminator(data: Buffer, from: number): number {
  const lf = data.indexOf(LF, from);
  // NUL terminators are rare; only look for one when there is no LF (cheap common case).
  if (lf >= 0) {
    const nul = data.subarray(from, lf).indexOf(NUL);
    return nul >= 0 ? from + nul : lf;
  }
  return data.indexOf(NUL, from);
}
