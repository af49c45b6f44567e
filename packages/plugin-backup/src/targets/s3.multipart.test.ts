/**
 * S3Target beyond the contract: large streams go as multipart uploads of bounded parts; a stream failing part way
 * aborts the upload (no object, no open upload); wrong credentials are `denied` (the test server checks SigV4).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BackupTargetError } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3TestServer, startS3TestServer } from '../test-support/s3-server.js';
import { S3Target } from './s3.js';

const MiB = 1024 * 1024;

function chunks(total: number, size: number, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (failAfter !== undefined && sent >= failAfter) return this.destroy(new Error('source failed'));
        if (sent >= total) return this.push(null);
        const n = Math.min(size, total - sent);
        sent += n;
        this.push(randomBytes(n));
      });
    },
  });
}

describe('S3Target multipart and credentials', () => {
  let server: S3TestServer;
  let target: S3Target;
  const make = (secret: string) =>
    new S3Target({
      id: 's3',
      endpoint: server.endpoint,
      region: server.region,
      bucket: 'b',
      prefix: '',
      accessKeyId: server.accessKeyId,
      secretAccessKey: secret,
      forcePathStyle: true,
      partSizeMiB: 5,
    });

  beforeAll(async () => {
    server = await startS3TestServer({ buckets: ['b'] });
    target = make(server.secretAccessKey);
  });
  afterAll(async () => {
    target.destroy();
    await server.close();
  });

  it('uploads a 12 MiB stream as three parts and reads it back whole', async () => {
    server.log.length = 0;
    const source = chunks(12 * MiB, 256 * 1024);
    const collected: Buffer[] = [];
    source.on('data', (c: Buffer) => collected.push(c));
    source.pause();
    const info = await target.put('big/one.age', source, { metadata: { sha256: 'x' } });
    expect(info.sizeBytes).toBe(12 * MiB);
    expect(server.log).toEqual([
      'CreateMultipartUpload big/one.age',
      'UploadPart big/one.age 1',
      'UploadPart big/one.age 2',
      'UploadPart big/one.age 3',
      'CompleteMultipartUpload big/one.age',
    ]);
    const stored = server.buckets.get('b')?.get('big/one.age');
    expect(stored?.bytes.length).toBe(12 * MiB);
    expect(stored?.bytes.equals(Buffer.concat(collected))).toBe(true);
    expect(stored?.metadata).toEqual({ sha256: 'x' });
    expect(stored?.etag).toMatch(/-3"$/);
  });

  it('aborts the multipart upload when the stream fails after the first part', async () => {
    server.log.length = 0;
    await expect(target.put('big/broken.age', chunks(20 * MiB, 512 * 1024, 6 * MiB))).rejects.toThrow();
    expect(server.log).toContain('AbortMultipartUpload big/broken.age');
    expect(server.uploads.size).toBe(0);
    expect(await target.get('big/broken.age')).toBeNull();
  });

  it('reports a wrong secret key as denied', async () => {
    const wrong = make('not-the-secret');
    try {
      const err = await wrong.put('x', new Uint8Array(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BackupTargetError);
      expect((err as BackupTargetError).kind).toBe('denied');
      expect(server.authFailures.at(-1)).toMatch(/SignatureDoesNotMatch/);
    } finally {
      wrong.destroy();
    }
  });
});
