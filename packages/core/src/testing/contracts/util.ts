/** Small helpers shared by the contract suites. */

import type { Readable } from 'node:stream';

/** Await `promise` and return what it rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, but it resolved');
}

/** Call `fn` and return what it threw; fails the test if it returned. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Read a stream to the end into one byte array. */
export async function readAll(body: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array));
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Byte-wise equality without a deep-equal walk over megabytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Collect an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every number reachable in `value` (objects, arrays) with its path, to check none is NaN or infinite. */
export function numbersIn(value: unknown, path = '$'): { path: string; value: number }[] {
  if (typeof value === 'number') return [{ path, value }];
  if (value === null || typeof value !== 'object' || value instanceof Date || ArrayBuffer.isView(value)) return [];
  const out: { path: string; value: number }[] = [];
  for (const [key, inner] of Object.entries(value)) out.push(...numbersIn(inner, `${path}.${key}`));
  return out;
}

/** Lower-case, colon-separated MAC address. */
export const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
