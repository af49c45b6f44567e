/**
 * Runs the BackupTarget contract against a trivial in-memory target, so the suite itself is exercised.
 * The target below exists only for this test; it is not an implementation to ship.
 */

import { Readable } from 'node:stream';
import {
  type BackupBody,
  type BackupMetadata,
  type BackupObject,
  type BackupObjectInfo,
  type BackupTarget,
  BackupTargetError,
  isValidBackupKey,
} from '../../extension-points/backup-target.js';
import type { CallOptions } from '../../extension-points/common.js';
import { backupTargetContract } from './backup-target.contract.js';

interface Stored {
  readonly bytes: Uint8Array;
  readonly metadata: BackupMetadata;
  readonly lastModified: Date;
}

function checkKey(key: string): void {
  if (!isValidBackupKey(key)) throw new BackupTargetError('invalid_key', `invalid backup key ${JSON.stringify(key)}`, { key });
}

async function bytesOf(body: BackupBody, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return new Uint8Array(body);
  const chunks: Buffer[] = [];
  const aborted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  const read = (async () => {
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  })();
  try {
    await Promise.race([read, aborted]);
  } catch (error) {
    body.destroy();
    read.catch(() => {});
    throw error;
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function memoryTarget(id: string): BackupTarget {
  const objects = new Map<string, Stored>();
  const infoOf = (key: string, stored: Stored) => ({
    key,
    sizeBytes: stored.bytes.length,
    lastModified: stored.lastModified,
    metadata: { ...stored.metadata },
  });
  return {
    id,
    provider: 'memory',
    capabilities: { listIncludesMetadata: true },
    async put(key, body, options = {}): Promise<BackupObjectInfo> {
      checkKey(key);
      const bytes = await bytesOf(body, options.signal);
      const stored = { bytes, metadata: { ...options.metadata }, lastModified: new Date() };
      objects.set(key, stored);
      return infoOf(key, stored);
    },
    async get(key, _options?: CallOptions): Promise<BackupObject | null> {
      checkKey(key);
      const stored = objects.get(key);
      if (stored === undefined) return null;
      return { info: infoOf(key, stored), body: Readable.from([Buffer.from(stored.bytes)]) };
    },
    async *list(options = {}) {
      const prefix = options.prefix ?? '';
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      for (const key of keys) {
        const stored = objects.get(key);
        if (stored !== undefined) yield infoOf(key, stored);
      }
    },
    async delete(key) {
      checkKey(key);
      objects.delete(key);
    },
  };
}

backupTargetContract('in-memory reference', async () => ({ target: memoryTarget('memory-test'), close: async () => {} }));
