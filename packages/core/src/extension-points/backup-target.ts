/**
 * Backup target: an object store where core puts its backups (database dumps, config, exports) off-site — S3-compatible
 * storage, SFTP, a local directory, another RGZ node. Core compresses and encrypts before `put`, so a target only sees
 * opaque bytes; it verifies by `get` (restore test) and applies retention itself with `list` + `delete`. A target is a
 * plain key → bytes + metadata store with atomic writes.
 */

import type { Readable } from 'node:stream';
import { RgzError } from '../errors/rgz-error.js';
import { point, token } from '../plugin/tokens.js';
import type { CallOptions, ExtensionIdentity } from './common.js';

/**
 * Object key: `/`-separated segments of `[A-Za-z0-9._-]`, no empty segment, no `.` or `..` segment, no leading or
 * trailing `/`, at most 1024 characters (`rgz/db/2026/11/24/rgz-20261124T0300Z.dump.zst.age`). Every target can store
 * such keys as S3 keys or file paths.
 */
export type BackupKey = string;

const KEY_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Whether `key` is a valid `BackupKey`. Targets call it first and throw `BackupTargetError('invalid_key')` if not. */
export function isValidBackupKey(key: string): boolean {
  if (key.length === 0 || key.length > 1024) return false;
  return key.split('/').every((segment) => KEY_SEGMENT.test(segment) && segment !== '.' && segment !== '..');
}

/**
 * User metadata stored with an object (checksums, source, encryption key id). Keys `[a-z0-9-]`, values printable
 * ASCII; at most 2 KiB in total (the S3 limit).
 */
export type BackupMetadata = Readonly<Record<string, string>>;

/** Object body: bytes in memory, or a stream for large dumps (never buffered whole by the target). */
export type BackupBody = Uint8Array | Readable;

/** An object's description, as `list` returns it and `get` / `put` report it. */
export interface BackupObjectInfo {
  readonly key: BackupKey;
  readonly sizeBytes: number;
  /** When the object was last written, as the store records it. */
  readonly lastModified: Date;
  /** Exactly the metadata given to `put`. `list` may omit it when the store cannot list it cheaply (see capabilities). */
  readonly metadata?: BackupMetadata;
}

/** An object read back. */
export interface BackupObject {
  readonly info: BackupObjectInfo & { readonly metadata: BackupMetadata };
  /** The bytes, streamed. The caller must consume or destroy it. */
  readonly body: Readable;
}

export interface BackupPutOptions extends CallOptions {
  readonly metadata?: BackupMetadata;
  /** Size in bytes when known in advance (some stores need it for a stream; otherwise they buffer or use multipart). */
  readonly sizeBytes?: number;
}

export interface BackupListOptions extends CallOptions {
  /** Only keys starting with this string (plain prefix, not a glob; `''` = all). */
  readonly prefix?: string;
}

export interface BackupCapabilities {
  /** `list` includes `metadata` for every object. */
  readonly listIncludesMetadata: boolean;
  /** Largest object accepted, bytes, if limited. */
  readonly maxObjectBytes?: number;
}

/** A backup target instance. `provider`: `s3`, `sftp`, `filesystem`, … */
export interface BackupTarget extends ExtensionIdentity {
  readonly capabilities: BackupCapabilities;

  /**
   * Store `body` under `key`, replacing any object there. Atomic: readers see the old object or the whole new one,
   * and a failed put (stream error, abort, network) leaves no partial object under `key`.
   * Throws `BackupTargetError` (`invalid_key` before any I/O).
   */
  put(key: BackupKey, body: BackupBody, options?: BackupPutOptions): Promise<BackupObjectInfo>;

  /** Read an object; `null` when there is none under `key`. */
  get(key: BackupKey, options?: CallOptions): Promise<BackupObject | null>;

  /** Objects whose key starts with `prefix`, in ascending key order (byte order), each once; paging is internal. */
  list(options?: BackupListOptions): AsyncIterable<BackupObjectInfo>;

  /** Remove an object. Idempotent: deleting a missing key succeeds. */
  delete(key: BackupKey, options?: CallOptions): Promise<void>;
}

/**
 * A failed target call. `invalid_key`/`too_large`: caller bug or limit, do not retry. `unavailable`: store unreachable
 * or 5xx, retry later. `denied`: credentials or permissions. `failed`: anything else the store reported.
 */
export type BackupTargetErrorKind = 'invalid_key' | 'too_large' | 'unavailable' | 'denied' | 'failed';

export class BackupTargetError extends RgzError {
  readonly kind: BackupTargetErrorKind;
  readonly key: string | undefined;
  constructor(kind: BackupTargetErrorKind, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(`backup_${kind}`, message, {
      status: kind === 'invalid_key' || kind === 'too_large' ? 400 : 502,
      fields: { kind, ...(options.key === undefined ? {} : { key: options.key }) },
      cause: options.cause,
    });
    this.name = 'BackupTargetError';
    this.kind = kind;
    this.key = options.key;
  }
}

/** Extension point: backup targets, keyed by instance id. */
export const BackupTargets = point<BackupTarget>('backup-target', (t) => t.id);

/** The embedded database's own dump, bound by core only when it runs on PGlite (backups of the zero-setup default). */
export interface EmbeddedDatabaseAccess {
  /** PGlite's `dumpDataDir('gzip')`: the data directory as a .tar.gz, taken between two queries. */
  dumpDataDir(): Promise<Blob>;
}

export const embeddedDatabaseAccess = token<EmbeddedDatabaseAccess>('core.embedded-database');
