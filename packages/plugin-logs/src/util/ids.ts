/**
 * Document ids. Every record gets its `_id` when it is ingested and keeps it through the spool, so a bulk request that
 * is sent twice (a timeout after the cluster accepted it, a crash before the spool cursor moved) is answered
 * `409 version_conflict` for the copies (`create` op) instead of indexing duplicates.
 * - live records: time (base36) + a per-process random prefix + a counter → unique, roughly time-ordered;
 * - lines of tailed files: a hash of the file's identity + the byte offset of the line → the same line read again
 *   after a restart gets the same id.
 */
import { randomBytes } from 'node:crypto';

const prefix = randomBytes(6).toString('base64url');
let counter = 0;

let lastNow = -1;
let lastHead = '';

export function newId(now = Date.now()): string {
  counter = (counter + 1) % 0x7fffffff;
  if (now !== lastNow) {
    lastNow = now;
    lastHead = `${now.toString(36)}${prefix}`;
  }
  return `${lastHead}${counter.toString(36)}`;
}

/** FNV-1a 32-bit, hex. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function fileLineId(fileKey: string, offset: number): string {
  return `f${fnv1a(fileKey)}${fnv1a(`${fileKey}#`)}-${offset.toString(36)}`;
}
