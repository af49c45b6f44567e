/**
 * The on-disk spool: what could not be shipped (cluster down, cluster too slow, shutdown) waits here, in order, until
 * the shipper drains it. Append-only segment files `seg-<n>.log`, one record per line as `index TAB id TAB source`
 * (JSON never contains a raw TAB, so shipping needs no re-parse). Bounded: when `maxBytes` is reached new records are
 * refused and counted as dropped (`spool_full`) — the oldest data is kept, nothing already spooled is lost.
 *
 * A reader cursor (`cursor.json`: segment + byte offset) moves when a chunk is committed; a fully read segment is
 * deleted. A crash between shipping and committing re-sends a chunk, which the cluster answers with 409s (explicit
 * ids), so nothing is indexed twice. Each process starts a fresh segment, so a torn last line can only sit at the end
 * of an old segment, where the reader skips it (`spool_corrupt`).
 */

import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { IndexKind, OutRecord } from './records.js';
import { parseIndexName } from './records.js';

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  /** fsync after each append (slower; survives power loss, not only process crashes). */
  fsync: boolean;
}

export interface SpoolChunk {
  records: OutRecord[];
  /** Lines that could not be read back (torn or foreign), skipped. */
  corrupt: number;
  /** Advance the cursor past this chunk (its records are shipped, dead-lettered or re-spooled). */
  commit(): void;
}

const SEG = /^seg-(\d{12})\.log$/;
const segName = (n: number) => `seg-${String(n).padStart(12, '0')}.log`;

export class Spool {
  readonly #o: SpoolOptions;
  /** Segment numbers in order; the last one is the active (append) segment. */
  #segments: number[] = [];
  #sizes = new Map<number, number>();
  #fd: number | undefined;
  #active = 0;
  #cursor = { segment: 0, offset: 0 };
  #records = 0;
  #opened = false;
  #closed = false;

  /** Appends are written in pieces of at most this (so segments stay close to segmentBytes). */
  readonly #chunk: number;

  constructor(options: SpoolOptions) {
    this.#o = options;
    this.#chunk = Math.max(1024, Math.min(1 << 20, Math.floor(options.segmentBytes / 4)));
  }

  open(): void {
    if (this.#closed) throw new Error('spool is closed');
    if (this.#opened) return;
    mkdirSync(this.#o.dir, { recursive: true });
    const found = readdirSync(this.#o.dir)
      .map((f) => SEG.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const n of found) {
      const size = statSync(join(this.#o.dir, segName(n))).size;
      if (size === 0) {
        rmSync(join(this.#o.dir, segName(n)), { force: true });
        continue;
      }
      this.#segments.push(n);
      this.#sizes.set(n, size);
    }
    const cursorFile = join(this.#o.dir, 'cursor.json');
    if (existsSync(cursorFile)) {
      try {
        const c = JSON.parse(readFileSync(cursorFile, 'utf8')) as { segment: number; offset: number };
        if (this.#segments.includes(c.segment) && c.offset >= 0 && c.offset <= (this.#sizes.get(c.segment) ?? 0))
          this.#cursor = { segment: c.segment, offset: c.offset };
      } catch {
        // A damaged cursor: start from the oldest segment (resends are harmless).
      }
    }
    // Drop segments before the cursor (deleted late by a crash).
    for (const n of [...this.#segments]) if (n < this.#cursor.segment) this.#deleteSegment(n);
    if (!this.#segments.includes(this.#cursor.segment)) this.#cursor = { segment: this.#segments[0] ?? 0, offset: 0 };
    for (const n of this.#segments) this.#records += countLines(join(this.#o.dir, segName(n)), n === this.#cursor.segment ? this.#cursor.offset : 0);
    if (this.#records === 0) {
      // Nothing readable left (fully read, or only torn lines): start clean.
      for (const n of [...this.#segments]) this.#deleteSegment(n);
      this.#cursor = { segment: 0, offset: 0 };
    }
    // Always a fresh active segment: old files are immutable from here on.
    this.#active = (this.#segments.at(-1) ?? 0) + 1;
    this.#opened = true;
  }

  /** Bytes on disk not yet read (the cap applies to the files' total). */
  get bytes(): number {
    if (!this.#opened && !this.#closed) this.open();
    let total = 0;
    for (const size of this.#sizes.values()) total += size;
    return total;
  }

  /** Records waiting (counted since open, including those found on disk at open). */
  get records(): number {
    if (!this.#opened && !this.#closed) this.open();
    return this.#records;
  }

  get empty(): boolean {
    return this.#closed || this.records === 0;
  }

  /**
   * Append records in order; returns how many were written and how many were refused because the spool is full.
   * `force` ignores the cap (records taken out of the spool and put back).
   */
  append(records: readonly OutRecord[], force = false): { written: number; dropped: number; droppedByKind: Map<IndexKind, number> } {
    this.open();
    const droppedByKind = new Map<IndexKind, number>();
    if (records.length === 0) return { written: 0, dropped: 0, droppedByKind };
    let total = this.bytes;
    let text = '';
    let written = 0;
    let dropped = 0;
    for (const r of records) {
      const line = `${r.index}\t${r.id}\t${r.source}\n`;
      const size = Buffer.byteLength(line);
      if (!force && total + size > this.#o.maxBytes) {
        dropped++;
        droppedByKind.set(r.kind, (droppedByKind.get(r.kind) ?? 0) + 1);
        continue;
      }
      total += size;
      text += line;
      written++;
      if (text.length >= this.#chunk) {
        this.#write(text);
        text = '';
      }
    }
    if (text) this.#write(text);
    this.#records += written;
    return { written, dropped, droppedByKind };
  }

  #write(text: string): void {
    const bytes = Buffer.from(text);
    let activeSize = this.#sizes.get(this.#active) ?? 0;
    if (this.#fd !== undefined && activeSize > 0 && activeSize + bytes.length > this.#o.segmentBytes) {
      closeSync(this.#fd);
      this.#fd = undefined;
      this.#active++;
      activeSize = 0;
    }
    if (this.#fd === undefined) {
      this.#fd = openSync(join(this.#o.dir, segName(this.#active)), 'a+');
      if (!this.#segments.includes(this.#active)) this.#segments.push(this.#active);
    }
    let off = 0;
    while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off);
    if (this.#o.fsync) fsyncSync(this.#fd);
    this.#sizes.set(this.#active, activeSize + bytes.length);
  }

  /** The next chunk from the cursor (up to `maxRecords` / about `maxBytes`), or undefined when nothing is waiting. */
  read(maxRecords: number, maxBytes: number): SpoolChunk | undefined {
    if (this.#closed) return undefined;
    this.open();
    for (;;) {
      const seg = this.#cursor.segment;
      const size = this.#sizes.get(seg);
      if (size === undefined) {
        const next = this.#segments.find((n) => n > seg);
        if (next === undefined) return undefined;
        this.#cursor = { segment: next, offset: 0 };
        continue;
      }
      if (this.#cursor.offset >= size) {
        if (seg === this.#active) return undefined;
        this.#deleteSegment(seg);
        const next = this.#segments.find((n) => n > seg);
        if (next === undefined) return undefined;
        this.#cursor = { segment: next, offset: 0 };
        this.#saveCursor();
        continue;
      }
      return this.#readFrom(seg, this.#cursor.offset, size, maxRecords, maxBytes);
    }
  }

  #readFrom(seg: number, offset: number, size: number, maxRecords: number, maxBytes: number): SpoolChunk {
    const path = join(this.#o.dir, segName(seg));
    const fd = seg === this.#active && this.#fd !== undefined ? this.#fd : openSync(path, 'r');
    try {
      const len = Math.min(maxBytes, size - offset);
      const buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      const records: OutRecord[] = [];
      let corrupt = 0;
      let pos = 0;
      while (pos < got && records.length < maxRecords) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        const rec = parseLine(buf.toString('utf8', pos, nl));
        if (rec) records.push(rec);
        else corrupt++;
        pos = nl + 1;
      }
      if (pos === 0) {
        // No complete line in the window: a torn tail (old segment) or a line longer than the window. Skip it.
        const nl = findNewline(fd, offset, size);
        pos = (nl < 0 ? size : nl + 1) - offset;
        corrupt++;
      }
      const end = offset + pos;
      return {
        records,
        corrupt,
        commit: () => {
          if (this.#closed || this.#cursor.segment !== seg || this.#cursor.offset !== offset) return;
          this.#cursor = { segment: seg, offset: end };
          this.#records = Math.max(0, this.#records - records.length);
          if (end >= size && seg !== this.#active) {
            this.#deleteSegment(seg);
            const next = this.#segments.find((n) => n > seg);
            this.#cursor = { segment: next ?? this.#active, offset: 0 };
          }
          this.#saveCursor();
        },
      };
    } finally {
      if (fd !== this.#fd) closeSync(fd);
    }
  }

  #deleteSegment(n: number): void {
    rmSync(join(this.#o.dir, segName(n)), { force: true });
    this.#sizes.delete(n);
    this.#segments = this.#segments.filter((s) => s !== n);
  }

  #saveCursor(): void {
    const file = join(this.#o.dir, 'cursor.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(this.#cursor));
    renameSync(`${file}.tmp`, file);
  }

  close(): void {
    if (this.#fd !== undefined) {
      if (this.#o.fsync) fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#opened) {
      if ((this.#sizes.get(this.#active) ?? 0) === 0) this.#deleteSegment(this.#active);
      this.#saveCursor();
    }
    this.#opened = false;
    this.#closed = true;
    this.#segments = [];
    this.#sizes.clear();
    this.#records = 0;
  }
}

function parseLine(line: string): OutRecord | undefined {
  const t1 = line.indexOf('\t');
  const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
  if (t1 <= 0 || t2 <= t1 + 1) return undefined;
  const index = line.slice(0, t1);
  const parsed = parseIndexName(index);
  const source = line.slice(t2 + 1);
  if (!parsed || source.charCodeAt(0) !== 0x7b || source.charCodeAt(source.length - 1) !== 0x7d) return undefined;
  return { kind: parsed.kind, index, id: line.slice(t1 + 1, t2), source };
}

function findNewline(fd: number, from: number, size: number): number {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = from;
  while (pos < size) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n === 0) return -1;
    const i = buf.subarray(0, n).indexOf(0x0a);
    if (i >= 0) return pos + i;
    pos += n;
  }
  return -1;
}

function countLines(path: string, from: number): number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = from;
    let count = 0;
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      let i = -1;
      const view = buf.subarray(0, n);
      while ((i = view.indexOf(0x0a, i + 1)) >= 0) count++;
      pos += n;
    }
    return count;
  } finally {
    closeSync(fd);
  }
}
