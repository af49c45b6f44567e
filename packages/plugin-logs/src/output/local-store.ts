/**
 * The embedded default: with no cluster configured, records are kept in local JSON-lines files, one per index per day
 * (`local/logstash-radius-2026.02.21.ndjson`, then `.1.ndjson`, `.2.ndjson`… when a file passes `maxFileBytes`).
 * Retention: files of days older than `retentionDays` are deleted, and the oldest files go first when the total
 * passes `maxTotalBytes`. Writes are buffered and flushed every `flushMs` (or at 1 MiB) with synchronous appends.
 * `rgz logs search` and `GET /api/logs/search` read these files (search.ts).
 */

import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Output, OutRecord } from './records.js';
import { parseIndexName } from './records.js';

export interface LocalStoreOptions {
  dir: string;
  maxFileBytes: number;
  retentionDays: number;
  maxTotalBytes: number;
  flushMs: number;
}

export interface LocalStoreEvents {
  stored(record: OutRecord[]): void;
  dropped(reason: string, records: OutRecord[]): void;
  evicted(files: number, bytes: number): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const LOCAL_FILE = /^(logstash-(?:api|radius|cpe|netflow)-\d{4}\.\d{2}\.\d{2})(?:\.(\d{1,6}))?\.ndjson$/;

interface OpenFile {
  fd: number;
  part: number;
  size: number;
}

export class LocalStore implements Output {
  readonly #o: LocalStoreOptions;
  #buffer = new Map<string, OutRecord[]>();
  #bufferedBytes = 0;
  #files = new Map<string, OpenFile>();
  #timer: NodeJS.Timeout | undefined;
  #housekeeping: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    options: LocalStoreOptions,
    private readonly events: LocalStoreEvents,
  ) {
    this.#o = options;
  }

  get dir(): string {
    return this.#o.dir;
  }

  start(): void {
    mkdirSync(this.#o.dir, { recursive: true });
    this.housekeep();
    this.#housekeeping = setInterval(() => this.housekeep(), 10 * 60_000);
    this.#housekeeping.unref();
  }

  write(record: OutRecord): void {
    if (this.#closed) {
      this.events.dropped('closed', [record]);
      return;
    }
    let list = this.#buffer.get(record.index);
    if (!list) {
      list = [];
      this.#buffer.set(record.index, list);
    }
    list.push(record);
    this.#bufferedBytes += record.source.length + 40;
    if (this.#bufferedBytes >= 1 << 20) this.flushSync();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flushSync(), this.#o.flushMs);
      this.#timer.unref();
    }
  }

  flushSync(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const buffered = this.#buffer;
    this.#buffer = new Map();
    this.#bufferedBytes = 0;
    for (const [index, records] of buffered) {
      try {
        // In pieces of at most a quarter file, so that rotation happens close to maxFileBytes.
        const piece = Math.max(1024, Math.floor(this.#o.maxFileBytes / 4));
        let text = '';
        for (const r of records) {
          text += withId(r);
          if (text.length >= piece) {
            this.#append(index, Buffer.from(text));
            text = '';
          }
        }
        if (text) this.#append(index, Buffer.from(text));
        this.events.stored(records);
      } catch (err) {
        this.events.warn('local log file write failed; records dropped', { index, err: (err as Error).message });
        this.events.dropped('local_write_error', records);
      }
    }
  }

  #append(index: string, bytes: Buffer): void {
    let file = this.#files.get(index);
    if (!file) {
      file = this.#openLatest(index);
      this.#files.set(index, file);
    }
    if (file.size > 0 && file.size + bytes.length > this.#o.maxFileBytes) {
      closeSync(file.fd);
      const part = file.part + 1;
      file = { fd: openSync(join(this.#o.dir, fileName(index, part)), 'a'), part, size: 0 };
      this.#files.set(index, file);
    }
    let off = 0;
    while (off < bytes.length) off += writeSync(file.fd, bytes, off, bytes.length - off);
    file.size += bytes.length;
    // Yesterday's file stays open until the next housekeeping; close files of other days than the newest two.
    if (this.#files.size > 8) this.#closeOldFds();
  }

  #openLatest(index: string): OpenFile {
    mkdirSync(this.#o.dir, { recursive: true });
    let part = 0;
    for (const f of readdirSync(this.#o.dir)) {
      const m = LOCAL_FILE.exec(f);
      if (m && m[1] === index) part = Math.max(part, Number(m[2] ?? 0));
    }
    const path = join(this.#o.dir, fileName(index, part));
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      size = 0;
    }
    return { fd: openSync(path, 'a'), part, size };
  }

  #closeOldFds(): void {
    const names = [...this.#files.keys()].sort();
    for (const index of names.slice(0, names.length - 4)) {
      closeSync((this.#files.get(index) as OpenFile).fd);
      this.#files.delete(index);
    }
  }

  /** Apply retention (age, then total size). */
  housekeep(now = Date.now()): void {
    let entries: Array<{ name: string; index: string; dayStart: number; part: number; size: number }>;
    try {
      entries = readdirSync(this.#o.dir)
        .map((name) => ({ name, m: LOCAL_FILE.exec(name) }))
        .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
        .map(({ name, m }) => {
          const parsed = parseIndexName(m[1] as string);
          return { name, index: m[1] as string, dayStart: parsed?.dayStart ?? 0, part: Number(m[2] ?? 0), size: statSync(join(this.#o.dir, name)).size };
        })
        .sort((a, b) => a.dayStart - b.dayStart || a.part - b.part);
    } catch {
      return;
    }
    const cutoff = now - this.#o.retentionDays * 86_400_000;
    let total = entries.reduce((s, e) => s + e.size, 0);
    let files = 0;
    let bytes = 0;
    const today = Math.floor(now / 86_400_000) * 86_400_000;
    for (const e of entries) {
      const expired = e.dayStart + 86_400_000 <= cutoff;
      const overCap = total > this.#o.maxTotalBytes && e.dayStart < today;
      if (!expired && !overCap) continue;
      const open = this.#files.get(e.index);
      if (open) {
        closeSync(open.fd);
        this.#files.delete(e.index);
      }
      rmSync(join(this.#o.dir, e.name), { force: true });
      total -= e.size;
      files++;
      if (!expired) bytes += e.size;
    }
    if (bytes > 0) this.events.evicted(files, bytes);
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flushSync();
    this.#closed = true;
    if (this.#housekeeping) clearInterval(this.#housekeeping);
    for (const f of this.#files.values()) closeSync(f.fd);
    this.#files.clear();
  }
}

function fileName(index: string, part: number): string {
  return part === 0 ? `${index}.ndjson` : `${index}.${part}.ndjson`;
}

/** The document with `_id` first, without re-serialising it. */
function withId(r: OutRecord): string {
  return r.source.length > 2 ? `{"_id":"${r.id}",${r.source.slice(1)}\n` : `{"_id":"${r.id}"}\n`;
}
