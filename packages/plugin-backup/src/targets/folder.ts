/**
 * A `BackupTarget` on a local or mounted (NAS) folder. Each object is a plain file at `<path>/<key>`, so an operator
 * can `age -d` a backup straight from the share; its metadata is a JSON file under `<path>/.rgz-meta/`. A put writes
 * to `<path>/.rgz-partial/` (same file system), fsyncs, then renames into place: a reader sees the old file or the
 * whole new one, and a failed or aborted put leaves only a temp file, which is removed.
 * The metadata is renamed in just before the data; in the instant between the two renames a reader of a *replaced*
 * key may see the new metadata with the old bytes (backups never replace a key, so this does not arise for them).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
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

const META_DIR = '.rgz-meta';
const PARTIAL_DIR = '.rgz-partial';
const RESERVED = new Set([META_DIR, PARTIAL_DIR]);

export class FolderTarget implements BackupTarget {
  readonly provider = 'folder';
  readonly capabilities = { listIncludesMetadata: true } as const;

  constructor(
    readonly id: string,
    readonly root: string,
  ) {}

  private check(key: string): void {
    if (!isValidBackupKey(key) || RESERVED.has(key.split('/')[0] as string)) {
      throw new BackupTargetError('invalid_key', `invalid backup key ${JSON.stringify(key)}`, { key });
    }
  }

  private fileOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  private metaOf(key: string): string {
    return `${join(this.root, META_DIR, ...key.split('/'))}.json`;
  }

  async put(key: string, body: BackupBody, options: BackupPutOptions = {}): Promise<BackupObjectInfo> {
    this.check(key);
    const signal = options.signal;
    const metadata = { ...(options.metadata ?? {}) };
    const partialDir = join(this.root, PARTIAL_DIR);
    const token = `${Date.now()}-${randomBytes(6).toString('hex')}`;
    const tmpData = join(partialDir, `${token}.data`);
    const tmpMeta = join(partialDir, `${token}.meta`);
    try {
      signal?.throwIfAborted();
      await mkdir(partialDir, { recursive: true });
      const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : body;
      const sink = createWriteStream(tmpData, { flags: 'wx' });
      if (signal) await pipeline(source, sink, { signal });
      else await pipeline(source, sink);
      await fsync(tmpData);
      await writeFile(tmpMeta, JSON.stringify(metadata), { flag: 'wx' });
      await fsync(tmpMeta);
      signal?.throwIfAborted();
      const file = this.fileOf(key);
      const meta = this.metaOf(key);
      await mkdir(dirname(file), { recursive: true });
      await mkdir(dirname(meta), { recursive: true });
      await rename(tmpMeta, meta);
      await rename(tmpData, file);
      await fsyncDir(dirname(file));
      const s = await stat(file);
      return { key, sizeBytes: s.size, lastModified: s.mtime, metadata };
    } catch (err) {
      if (!(body instanceof Uint8Array)) body.destroy();
      await unlink(tmpData).catch(() => {});
      await unlink(tmpMeta).catch(() => {});
      if (signal?.aborted) throw signal.reason ?? err;
      throw toTargetError(err, key, `cannot write ${key} to folder ${this.root}`);
    }
  }

  async get(key: string, options: CallOptions = {}): Promise<BackupObject | null> {
    this.check(key);
    options.signal?.throwIfAborted();
    const file = this.fileOf(key);
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw toTargetError(err, key, `cannot read ${key} from folder ${this.root}`);
    }
    if (!s.isFile()) return null;
    const metadata = await this.readMeta(key);
    const body = createReadStream(file, options.signal ? { signal: options.signal } : {});
    return { info: { key, sizeBytes: s.size, lastModified: s.mtime, metadata }, body };
  }

  private async readMeta(key: string): Promise<BackupMetadata> {
    try {
      return JSON.parse(await readFile(this.metaOf(key), 'utf8')) as BackupMetadata;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw toTargetError(err, key, `cannot read the metadata of ${key}`);
    }
  }

  async *list(options: BackupListOptions = {}): AsyncIterable<BackupObjectInfo> {
    const prefix = options.prefix ?? '';
    // Walk only below the folder the prefix names (when it is a valid path), then filter by plain string prefix.
    const dirPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const start = dirPart && isValidBackupKey(dirPart.slice(0, -1)) ? dirPart : '';
    const keys: string[] = [];
    await this.walk(start, prefix, keys, options.signal);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) {
      let s: Awaited<ReturnType<typeof stat>>;
      try {
        s = await stat(this.fileOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
        throw toTargetError(err, key, `cannot list ${key}`);
      }
      yield { key, sizeBytes: s.size, lastModified: s.mtime, metadata: await this.readMeta(key) };
    }
  }

  private async walk(dir: string, prefix: string, out: string[], signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(join(this.root, ...dir.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw toTargetError(err, undefined, `cannot list folder ${this.root}`);
    }
    for (const e of entries) {
      if (dir === '' && RESERVED.has(e.name)) continue;
      const key = `${dir}${e.name}`;
      if (e.isDirectory()) {
        // Descend only where keys can still start with the prefix.
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) await this.walk(`${key}/`, prefix, out, signal);
      } else if (e.isFile() && key.startsWith(prefix) && isValidBackupKey(key)) {
        out.push(key);
      }
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    this.check(key);
    options.signal?.throwIfAborted();
    for (const path of [this.fileOf(key), this.metaOf(key)]) {
      try {
        await unlink(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw toTargetError(err, key, `cannot delete ${key}`);
      }
    }
    // Tidy empty folders left behind (best effort; a concurrent put may refill one).
    await this.prune(dirname(this.fileOf(key)), this.root);
    await this.prune(dirname(this.metaOf(key)), join(this.root, META_DIR));
  }

  private async prune(dir: string, stop: string): Promise<void> {
    let current = dir;
    while (current.length > stop.length && current.startsWith(stop)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = dirname(current);
    }
  }
}

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(path: string): Promise<void> {
  try {
    await fsync(path);
  } catch {
    /* some file systems (SMB mounts) refuse fsync on a directory: the rename is still done */
  }
}

function toTargetError(err: unknown, key: string | undefined, what: string): BackupTargetError {
  if (err instanceof BackupTargetError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === 'ENOSPC' ? 'no space left on the device (disk full)' : (err as Error).message;
  const kind =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'denied' : code === 'ENOENT' || code === 'EIO' || code === 'ESTALE' ? 'unavailable' : 'failed';
  return new BackupTargetError(kind, `${what}: ${detail}`, { ...(key === undefined ? {} : { key }), cause: err });
}
