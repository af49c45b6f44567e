/**
 * Bytes from the wire → a string that is safe to index: invalid UTF-8 becomes U+FFFD (flagged), over-long input is cut
 * at a character boundary (flagged, with the original size), and trailing CR/LF/NUL are dropped.
 */
import { isUtf8 } from 'node:buffer';

export interface DecodedLine {
  text: string;
  /** The input was longer than the limit and was cut. */
  truncated: boolean;
  /** Size of the input as received, in bytes (for a truncated line: before truncation). */
  bytes: number;
  /** Some bytes were not valid UTF-8 and were replaced by U+FFFD. */
  invalidUtf8: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Decode `buf[start, end)` keeping at most `maxBytes`. `originalBytes` overrides the reported size (a frame whose tail
 * was already skipped by the framer).
 */
export function decodeLine(buf: Uint8Array, maxBytes: number, originalBytes?: number): DecodedLine {
  let end = buf.length;
  // Trailing LF / CR / NUL (RFC 6587 framing leftovers) are not content.
  while (end > 0 && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d || buf[end - 1] === 0x00)) end--;
  let truncated = false;
  if (end > maxBytes) {
    truncated = true;
    end = utf8Boundary(buf, maxBytes);
  }
  const view = end === buf.length ? buf : buf.subarray(0, end);
  const valid = isUtf8(view);
  const text = decoder.decode(view);
  return {
    text,
    truncated: truncated || (originalBytes !== undefined && originalBytes > buf.length),
    bytes: originalBytes ?? buf.length,
    invalidUtf8: !valid,
  };
}

/** Largest cut ≤ `limit` that does not split a UTF-8 sequence (continuation bytes are 10xxxxxx). */
export function utf8Boundary(buf: Uint8Array, limit: number): number {
  let cut = Math.min(limit, buf.length);
  let back = 0;
  while (cut > 0 && back < 4 && ((buf[cut] ?? 0) & 0xc0) === 0x80) {
    cut--;
    back++;
  }
  return cut;
}

/** Cut a JS string to at most `maxBytes` UTF-8 bytes. */
export function truncateString(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return { text, truncated: false };
  const buf = Buffer.from(text);
  return { text: buf.subarray(0, utf8Boundary(buf, maxBytes)).toString('utf8'), truncated: true };
}
