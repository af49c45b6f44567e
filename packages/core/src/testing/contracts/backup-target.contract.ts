/**
 * Contract suite every `BackupTarget` runs: round-trips bytes and metadata (memory and streamed bodies), lists by
 * plain prefix in key order, deletes idempotently, rejects invalid keys, and leaves no partial object when an upload
 * fails or is aborted. Works against a real store: everything is created under a fresh prefix and removed afterwards.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupTarget, BackupTargetError } from '../../extension-points/backup-target.js';
import { collect, readAll, rejectionOf, sameBytes } from './util.js';

export interface BackupTargetHarness {
  readonly target: BackupTarget;
  /**
   * Key prefix the suite may write under (`''`, or ending with `/`); the suite adds a random folder below it and
   * deletes everything it created. Use it to share a bucket with other tests.
   */
  readonly prefix?: string;
  /** Release the store (stop a test server, remove a temp dir). */
  close(): Promise<void>;
}

/** A stream of `parts`, each pushed asynchronously, so the target really consumes a stream. */
function streamOf(parts: readonly Uint8Array[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        const part = parts[i++];
        this.push(part === undefined ? null : Buffer.from(part));
      });
    },
  });
}

/** A stream that sends `part` then fails. */
function failingStream(part: Uint8Array): Readable {
  let sent = false;
  return new Readable({
    read() {
      setImmediate(() => {
        if (!sent) {
          sent = true;
          this.push(Buffer.from(part));
        } else {
          this.destroy(new Error('source failed mid-upload'));
        }
      });
    },
  });
}

/** A stream that sends `part` then never ends (until destroyed). */
function stallingStream(part: Uint8Array): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.from(part));
      }
    },
  });
}

const utf8 = (text: string) => new TextEncoder().encode(text);

export function backupTargetContract(name: string, make: () => Promise<BackupTargetHarness>): void {
  describe(`BackupTarget contract: ${name}`, () => {
    let harness: BackupTargetHarness | undefined;
    let target: BackupTarget;
    let base: string;

    beforeAll(async () => {
      harness = await make();
      target = harness.target;
      base = `${harness.prefix ?? ''}contract-${randomUUID()}/`;
    });

    afterAll(async () => {
      if (harness === undefined) return;
      try {
        const left = await collect(target.list({ prefix: base }));
        for (const object of left) await target.delete(object.key);
      } finally {
        await harness.close();
      }
    });

    it('has an id, a provider and capabilities', () => {
      expect(target.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(typeof target.provider).toBe('string');
      expect(target.provider.length).toBeGreaterThan(0);
      expect(typeof target.capabilities.listIncludesMetadata).toBe('boolean');
    });

    it('returns the same bytes and metadata after a put of a Uint8Array', async () => {
      const key = `${base}mem/object.bin`;
      const bytes = randomBytes(64 * 1024);
      const metadata = { sha256: 'ab12', source: 'contract-test' };
      const before = Date.now();
      const info = await target.put(key, new Uint8Array(bytes), { metadata, sizeBytes: bytes.length });
      expect(info.key).toBe(key);
      expect(info.sizeBytes).toBe(bytes.length);
      expect(Math.abs(info.lastModified.getTime() - before)).toBeLessThan(3_600_000);

      const object = await target.get(key);
      expect(object).not.toBeNull();
      expect(object?.info.key).toBe(key);
      expect(object?.info.sizeBytes).toBe(bytes.length);
      expect(object?.info.metadata).toEqual(metadata);
      const read = await readAll(object!.body);
      expect(read.length).toBe(bytes.length);
      expect(sameBytes(read, bytes)).toBe(true);
    });

    it('accepts a streamed body of unknown size and stores it whole', async () => {
      const key = `${base}stream/dump.zst`;
      const parts = Array.from({ length: 24 }, () => randomBytes(128 * 1024));
      const whole = Buffer.concat(parts);
      const info = await target.put(key, streamOf(parts));
      expect(info.sizeBytes).toBe(whole.length);
      const object = await target.get(key);
      const read = await readAll(object!.body);
      expect(read.length).toBe(whole.length);
      expect(sameBytes(read, whole)).toBe(true);
      expect(object?.info.metadata).toEqual({});
    });

    it('stores an empty object', async () => {
      const key = `${base}empty`;
      await target.put(key, new Uint8Array(0));
      const object = await target.get(key);
      expect(object?.info.sizeBytes).toBe(0);
      expect((await readAll(object!.body)).length).toBe(0);
    });

    it('replaces an object on put, bytes and metadata', async () => {
      const key = `${base}replace/x`;
      await target.put(key, utf8('first version'), { metadata: { version: '1', 'only-in-first': 'yes' } });
      await target.put(key, utf8('second'), { metadata: { version: '2' } });
      const object = await target.get(key);
      expect(Buffer.from(await readAll(object!.body)).toString('utf8')).toBe('second');
      expect(object?.info.metadata).toEqual({ version: '2' });
      expect(object?.info.sizeBytes).toBe(6);
    });

    it('returns null for a missing key', async () => {
      expect(await target.get(`${base}does/not/exist`)).toBeNull();
    });

    it('lists by plain prefix, in ascending key order, with sizes', async () => {
      const root = `${base}list/`;
      const keys = ['a/2', 'a/1', 'a/sub/3', 'ab', 'b/1'].map((k) => root + k);
      for (const [i, key] of keys.entries()) await target.put(key, new Uint8Array(i + 1), { metadata: { n: String(i) } });

      const underA = await collect(target.list({ prefix: `${root}a/` }));
      expect(underA.map((o) => o.key)).toEqual([`${root}a/1`, `${root}a/2`, `${root}a/sub/3`]);
      expect(underA.map((o) => o.sizeBytes)).toEqual([2, 1, 3]);
      for (const o of underA) expect(o.lastModified).toBeInstanceOf(Date);
      if (target.capabilities.listIncludesMetadata) {
        expect(underA.map((o) => o.metadata)).toEqual([{ n: '1' }, { n: '0' }, { n: '2' }]);
      }

      // A prefix is a string prefix, not a folder: `a` also matches `ab`.
      const startingWithA = await collect(target.list({ prefix: `${root}a` }));
      expect(startingWithA.map((o) => o.key)).toEqual([`${root}a/1`, `${root}a/2`, `${root}a/sub/3`, `${root}ab`]);

      expect(await collect(target.list({ prefix: `${root}zzz` }))).toEqual([]);
    });

    it('lists many objects each once, in order, across pages', async () => {
      const root = `${base}many/`;
      const keys = Array.from({ length: 120 }, (_, i) => `${root}${String(i).padStart(4, '0')}.bak`);
      // Written in reverse so insertion order cannot pass for key order.
      for (const key of [...keys].reverse()) await target.put(key, utf8(key));
      const listed = (await collect(target.list({ prefix: root }))).map((o) => o.key);
      expect(listed).toEqual(keys);
    });

    it('deletes: the object is gone from get and list, and deleting again succeeds', async () => {
      const key = `${base}delete/me`;
      await target.put(key, utf8('bye'));
      await target.delete(key);
      expect(await target.get(key)).toBeNull();
      expect(await collect(target.list({ prefix: `${base}delete/` }))).toEqual([]);
      await expect(target.delete(key)).resolves.toBeUndefined();
      await expect(target.delete(`${base}delete/never-existed`)).resolves.toBeUndefined();
    });

    it('rejects invalid keys with BackupTargetError(invalid_key) and creates nothing', async () => {
      const root = `${base}invalid/`;
      const invalid = ['', `/${root}abs`, `${root}a//b`, `${root}a/../b`, `${root}./x`, `${root}trailing/`, `${root}sp ace`, `${root}é`];
      for (const key of invalid) {
        const error = await rejectionOf(target.put(key, utf8('x')));
        expect(error, `put(${JSON.stringify(key)})`).toBeInstanceOf(BackupTargetError);
        expect((error as BackupTargetError).kind, `put(${JSON.stringify(key)})`).toBe('invalid_key');
      }
      const tooLong = `${root}${'k'.repeat(1100)}`;
      expect(((await rejectionOf(target.put(tooLong, utf8('x')))) as BackupTargetError).kind).toBe('invalid_key');
      expect(await collect(target.list({ prefix: root }))).toEqual([]);
    });

    it('leaves no partial object when the body stream fails, and keeps the previous version', async () => {
      const fresh = `${base}atomic/fresh`;
      await expect(target.put(fresh, failingStream(randomBytes(256 * 1024)))).rejects.toThrow();
      expect(await target.get(fresh)).toBeNull();
      expect(await collect(target.list({ prefix: fresh }))).toEqual([]);

      const existing = `${base}atomic/existing`;
      await target.put(existing, utf8('good old backup'));
      await expect(target.put(existing, failingStream(randomBytes(256 * 1024)))).rejects.toThrow();
      const kept = await target.get(existing);
      expect(Buffer.from(await readAll(kept!.body)).toString('utf8')).toBe('good old backup');
    });

    it('stops an upload when the signal aborts, leaving no object', async () => {
      const key = `${base}abort/stalled`;
      const controller = new AbortController();
      const upload = target.put(key, stallingStream(randomBytes(64 * 1024)), { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(upload).rejects.toThrow();
      expect(await target.get(key)).toBeNull();
    });
  });
}
