/**
 * A `BackupTarget` on a local or mounted folder (a second disk, an NFS/SMB share). Each object is a plain file at
 * `<root>/<key>`; its metadata is a JSON file under `<root>/.meta/`. A put writes to `<root>/.partial/` first (same
 * file system), then renames into place, so a reader sees the old file or the whole new one, and a failed or
 * aborted put leaves nothing under the key. For another store (S3, SFTP), keep the key check, the atomic put and
 * the sorted listing; the contract suite checks them.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BackupBody,
  type BackupListOptions,
  type BackupMetadata,
  type BackupObject,
  type BackupObjectInfo,
  type BackupPutOptions,
  type BackupTarget,
  BackupTargetError,
  type CallOptions,
  isValidBackupKey,
} from '@rgz/core';

const META = '.meta';
const PARTIAL = '.partial';

export class FolderTarget implements BackupTarget {
  readonly provider = 'folder';
  readonly capabilities = { listIncludesMetadata: true } as const;

  constructor(
    readonly id: string,
    readonly root: string,
  ) {}

  async put(key: string, body: BackupBody, options: BackupPutOptions = {}): Promise<BackupObjectInfo> {
    this.check(key);
    const metadata = { ...options.metadata };
    const temp = join(this.root, PARTIAL, `${Date.now()}-${randomBytes(6).toString('hex')}`);
    try {
      options.signal?.throwIfAborted();
      await mkdir(dirname(temp), { recursive: true });
      const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : body;
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }), ...(options.signal ? [{ signal: options.signal }] : []));
      options.signal?.throwIfAborted();
      await writeFile(`${temp}.json`, JSON.stringify(metadata));
      await mkdir(dirname(this.fileOf(key)), { recursive: true });
      await mkdir(dirname(this.metaOf(key)), { recursive: true });
      await rename(`${temp}.json`, this.metaOf(key));
      await rename(temp, this.fileOf(key));
    } catch (error) {
      if (!(body instanceof Uint8Array)) body.destroy();
      await rm(temp, { force: true });
      await rm(`${temp}.json`, { force: true });
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw failure(error, key, `cannot write ${key} to ${this.root}`);
    }
    const s = await stat(this.fileOf(key));
    return { key, sizeBytes: s.size, lastModified: s.mtime, metadata };
  }

  async get(key: string, options: CallOptions = {}): Promise<BackupObject | null> {
    this.check(key);
    options.signal?.throwIfAborted();
    const s = await stat(this.fileOf(key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
      throw failure(error, key, `cannot read ${key} from ${this.root}`);
    });
    if (s === null || !s.isFile()) return null;
    const metadata = await this.metadataOf(key);
    const body = createReadStream(this.fileOf(key), options.signal ? { signal: options.signal } : {});
    return { info: { key, sizeBytes: s.size, lastModified: s.mtime, metadata }, body };
  }

  async *list(options: BackupListOptions = {}): AsyncIterable<BackupObjectInfo> {
    const prefix = options.prefix ?? '';
    const keys: string[] = [];
    await this.walk('', prefix, keys, options.signal);
    // Keys are ASCII: string order is byte order.
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) {
      const s = await stat(this.fileOf(key)).catch(() => null);
      if (s === null) continue; // deleted meanwhile
      yield { key, sizeBytes: s.size, lastModified: s.mtime, metadata: await this.metadataOf(key) };
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    this.check(key);
    options.signal?.throwIfAborted();
    for (const file of [this.fileOf(key), this.metaOf(key)]) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw failure(error, key, `cannot delete ${key}`);
      });
    }
  }

  private check(key: string): void {
    const first = key.split('/')[0];
    if (!isValidBackupKey(key) || first === META || first === PARTIAL) {
      throw new BackupTargetError('invalid_key', `invalid backup key ${JSON.stringify(key)}`, { key });
    }
  }

  private fileOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private metaOf(key: string): string {
    return `${join(this.root, META, ...key.split('/'))}.json`;
  }

  private async metadataOf(key: string): Promise<BackupMetadata> {
    try {
      return JSON.parse(await readFile(this.metaOf(key), 'utf8')) as BackupMetadata;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw failure(error, key, `cannot read the metadata of ${key}`);
    }
  }

  /** Collect the keys under `dir` that start with `prefix`, descending only where such keys can be. */
  private async walk(dir: string, prefix: string, out: string[], signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.root, ...dir.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw failure(error, undefined, `cannot list ${this.root}`);
    }
    for (const entry of entries) {
      if (dir === '' && (entry.name === META || entry.name === PARTIAL)) continue;
      const key = `${dir}${entry.name}`;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) await this.walk(`${key}/`, prefix, out, signal);
      } else if (entry.isFile() && key.startsWith(prefix) && isValidBackupKey(key)) {
        out.push(key);
      }
    }
  }
}

function failure(error: unknown, key: string | undefined, what: string): BackupTargetError {
  if (error instanceof BackupTargetError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const kind =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'denied' : code === 'EIO' || code === 'ESTALE' || code === 'ENOENT' ? 'unavailable' : 'failed';
  return new BackupTargetError(kind, `${what}: ${(error as Error).message}`, { ...(key === undefined ? {} : { key }), cause: error });
}
