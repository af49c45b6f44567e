/**
 * A `BackupTarget` on S3-compatible storage (AWS S3, Ceph radosgw, MinIO, Wasabi, Scaleway…) with
 * `@aws-sdk/client-s3`. Objects live under the configured key prefix; the store's own metadata carries ours
 * (`x-amz-meta-*`).
 *
 * Atomic puts come from S3 itself: an object appears only when a PutObject or CompleteMultipartUpload succeeds. A body
 * that fits in one part goes as one PutObject; a larger stream goes as a multipart upload of `partSizeMiB` parts, read
 * and sent one at a time (memory: one part), and any failure or abort calls AbortMultipartUpload, so nothing partial
 * is left (the store may keep orphan parts until then; a lifecycle rule "abort incomplete multipart uploads after
 * N days" is a good idea on the bucket). Bodies are sent as buffers, so every request is SigV4-signed with its
 * payload hash. The SDK's newer default CRC32 trailer checksums (aws-chunked) are turned off (`WHEN_REQUIRED`):
 * several S3-compatible stores, Ceph radosgw among them, reject them.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  type BackupBody,
  type BackupListOptions,
  type BackupObject,
  type BackupObjectInfo,
  type BackupPutOptions,
  type BackupTarget,
  BackupTargetError,
  type CallOptions,
  isValidBackupKey,
} from '@rgz/core';
import type { S3TargetConfig } from '../config.js';

const MAX_PARTS = 10_000;

export interface S3TargetOptions {
  /** ListObjectsV2 page size (S3's maximum and default: 1000). */
  listPageSize?: number;
}

export class S3Target implements BackupTarget {
  readonly provider = 's3';
  readonly capabilities: { listIncludesMetadata: false; maxObjectBytes: number };
  readonly id: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly pageSize: number;

  constructor(config: Omit<S3TargetConfig, 'kind'>, options: S3TargetOptions = {}) {
    this.id = config.id;
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.partSize = config.partSizeMiB * 1024 * 1024;
    this.pageSize = options.listPageSize ?? 1000;
    this.capabilities = { listIncludesMetadata: false, maxObjectBytes: this.partSize * MAX_PARTS };
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  private check(key: string): void {
    if (!isValidBackupKey(key)) throw new BackupTargetError('invalid_key', `invalid backup key ${JSON.stringify(key)}`, { key });
  }

  async put(key: string, body: BackupBody, options: BackupPutOptions = {}): Promise<BackupObjectInfo> {
    this.check(key);
    const signal = options.signal;
    const metadata = { ...(options.metadata ?? {}) };
    const source: Readable = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : body;
    if (signal) {
      if (signal.aborted) source.destroy();
      else signal.addEventListener('abort', () => source.destroy(), { once: true });
    }
    const fullKey = this.prefix + key;
    let uploadId: string | undefined;
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let total = 0;
      const flushPart = async () => {
        const partNumber = parts.length + 1;
        if (partNumber > MAX_PARTS) throw new BackupTargetError('too_large', `${key} exceeds ${MAX_PARTS} parts of ${this.partSize} bytes`, { key });
        if (uploadId === undefined) {
          const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: fullKey, Metadata: metadata }), {
            abortSignal: signal,
          });
          uploadId = created.UploadId;
          if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
        }
        const part = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key: fullKey, UploadId: uploadId, PartNumber: partNumber, Body: part, ContentLength: part.length }),
          { abortSignal: signal },
        );
        if (!res.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
        parts.push({ PartNumber: partNumber, ETag: res.ETag });
      };
      for await (const chunk of source) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
        pending.push(buf);
        pendingBytes += buf.length;
        total += buf.length;
        if (pendingBytes >= this.partSize) await flushPart();
      }
      signal?.throwIfAborted();
      if (uploadId === undefined) {
        const whole = Buffer.concat(pending, pendingBytes);
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: fullKey,
            Body: whole,
            ContentLength: whole.length,
            Metadata: metadata,
            ContentType: 'application/octet-stream',
          }),
          { abortSignal: signal },
        );
      } else {
        if (pendingBytes > 0) await flushPart();
        await this.client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: fullKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
          { abortSignal: signal },
        );
      }
      return { key, sizeBytes: total, lastModified: new Date(), metadata };
    } catch (err) {
      source.destroy();
      if (uploadId !== undefined) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: fullKey, UploadId: uploadId })).catch(() => {});
      }
      if (signal?.aborted) throw signal.reason ?? err;
      throw toTargetError(err, key, `cannot upload ${key} to s3://${this.bucket}/${this.prefix}`);
    }
  }

  async get(key: string, options: CallOptions = {}): Promise<BackupObject | null> {
    this.check(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { abortSignal: options.signal });
      const body = res.Body as Readable | undefined;
      if (!body) throw new Error('GetObject returned no body');
      return {
        info: { key, sizeBytes: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0), metadata: { ...(res.Metadata ?? {}) } },
        body,
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      throw toTargetError(err, key, `cannot read ${key} from s3://${this.bucket}/${this.prefix}`);
    }
  }

  async *list(options: BackupListOptions = {}): AsyncIterable<BackupObjectInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + (options.prefix ?? ''),
            MaxKeys: this.pageSize,
            ...(token ? { ContinuationToken: token } : {}),
          }),
          { abortSignal: options.signal },
        );
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err;
        throw toTargetError(err, undefined, `cannot list s3://${this.bucket}/${this.prefix}`);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(this.prefix)) continue;
        yield { key: o.Key.slice(this.prefix.length), sizeBytes: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    this.check(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), { abortSignal: options.signal });
    } catch (err) {
      if (isNotFound(err)) return;
      if (options.signal?.aborted) throw options.signal.reason ?? err;
      throw toTargetError(err, key, `cannot delete ${key} from s3://${this.bucket}/${this.prefix}`);
    }
  }

  /** Close the HTTP agent (tests; the server keeps targets for its life). */
  destroy(): void {
    this.client.destroy();
  }
}

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

function toTargetError(err: unknown, key: string | undefined, what: string): BackupTargetError {
  if (err instanceof BackupTargetError) return err;
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(e?.code ?? '') || e?.name === 'TimeoutError';
  const kind = status === 401 || status === 403 ? 'denied' : network || (status !== undefined && status >= 500) || status === 429 ? 'unavailable' : 'failed';
  const message = `${what}: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${(err as Error)?.message ?? String(err)}`;
  return new BackupTargetError(kind, message, { ...(key === undefined ? {} : { key }), cause: err });
}
