import { backupTargetContract } from '@rgz/core/testing';
import { afterAll, expect } from 'vitest';
import { startS3TestServer } from '../test-support/s3-server.js';
import { S3Target } from './s3.js';

const authFailures: string[] = [];
const openUploads: number[] = [];

backupTargetContract('s3 (against the S3 test server)', async () => {
  // A 50-key page cap makes the 120-object test go through ListObjectsV2 continuation tokens.
  const server = await startS3TestServer({ buckets: ['rgz-backups'], maxKeysCap: 50 });
  const target = new S3Target({
    id: 'offsite',
    endpoint: server.endpoint,
    region: server.region,
    bucket: 'rgz-backups',
    prefix: 'rgz/prod/',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    partSizeMiB: 5,
  });
  return {
    target,
    async close() {
      authFailures.push(...server.authFailures);
      openUploads.push(server.uploads.size);
      target.destroy();
      await server.close();
    },
  };
});

afterAll(() => {
  // Every request the SDK made was accepted by the SigV4 check, and no multipart upload was left open.
  expect(authFailures).toEqual([]);
  expect(openUploads).toEqual([0]);
});
