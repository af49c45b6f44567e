/**
 * Following files line by line, the way `tail -F` does: the file is polled (fs.watch is unreliable across rotations and
 * network filesystems), read from the last consumed offset, and followed through rotation (a new inode at the path:
 * the old file is read to its end first) and truncation (size below the offset: start over). Lines go to the pipeline
 * only while it has room — the file itself is the buffer, nothing is dropped under load. Offsets survive restarts in
 * `tail-state.json` (file identity = device + inode + birth time); each line's document id is derived from that
 * identity and its byte offset, so a line read twice is indexed once.
 *
 * Used for the server's own JSON log (api), goflow2's `-transport.file` output (netflow) and FreeRADIUS's
 * `radius.log` or any raw log file (raw).
 */

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@rgz/core';
import { fileLineId } from '../util/ids.js';
import { type DecodedLine, decodeLine } from '../util/text.js';

export interface TailOptions {
  path: string;
  startAt: 'beginning' | 'end';
  maxLineBytes: number;
  pollMs: number;
}

/** Offsets of every tailed file, persisted together. */
export class TailState {
  #state: Record<string, { key: string; offset: number }> = {};
  #dirty = false;

  constructor(readonly file: string) {
    try {
      if (existsSync(file)) this.#state = JSON.parse(readFileSync(file, 'utf8')) as typeof this.state;
    } catch {
      this.#state = {};
    }
  }

  get state(): Record<string, { key: string; offset: number }> {
    return this.#state;
  }

  get(path: string): { key: string; offset: number } | undefined {
    return this.#state[path];
  }

  set(path: string, key: string, offset: number): void {
    const cur = this.#state[path];
    if (cur && cur.key === key && cur.offset === offset) return;
    this.#state[path] = { key, offset };
    this.#dirty = true;
  }

  save(): void {
    if (!this.#dirty) return;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.#state));
    renameSync(`${this.file}.tmp`, this.file);
    this.#dirty = false;
  }
}

const CHUNK = 1 << 20;

export class FileTailer {
  #fd: number | undefined;
  #key = '';
  #offset = 0;
  /** Inside an over-long line: skip to its end. */
  #skipping = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #buf = Buffer.allocUnsafe(CHUNK);
  #warnedMissing = false;
  #polling = false;

  constructor(
    readonly options: TailOptions,
    private readonly state: TailState,
    /** Offer a line; return false when there is no room (the tailer stops and retries from this line later). */
    private readonly onLine: (line: DecodedLine, id: string) => boolean,
    private readonly log: Logger,
    private readonly waitForRoom: (resume: () => void) => void,
  ) {}

  get offset(): number {
    return this.#offset;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.poll(), ms);
    this.#timer.unref();
  }

  /** One polling round (tests call it directly). */
  poll(): void {
    if (this.#polling) return;
    this.#polling = true;
    let blocked = false;
    try {
      blocked = this.#round();
    } catch (err) {
      this.log.warn({ err, path: this.options.path }, 'tailing failed; retrying');
      this.#closeFd();
    } finally {
      this.#polling = false;
    }
    if (blocked) this.waitForRoom(() => this.#schedule(0));
    else this.#schedule(this.options.pollMs);
  }

  /** Returns true when reading stopped because the pipeline is full. */
  #round(): boolean {
    if (this.#fd === undefined && !this.#open(false)) return false;
    for (;;) {
      const r = this.#readAvailable();
      if (r === 'blocked') return true;
      // At the end of what is there: rotated or truncated?
      let st: ReturnType<typeof statSync> | undefined;
      try {
        st = statSync(this.options.path);
      } catch {
        st = undefined;
      }
      const fdStat = fstatSync(this.#fd as number);
      if (st && identity(st) !== this.#key) {
        // Rotated: the old file is fully read (readAvailable returned 'eof'); flush a last line without LF, switch.
        if (this.#flushTail() === 'blocked') return true;
        this.#closeFd();
        if (!this.#open(true)) return false;
        continue;
      }
      if (fdStat.size < this.#offset) {
        this.log.info({ path: this.options.path }, 'tailed file truncated: reading from the start');
        this.#offset = 0;
        this.#skipping = false;
        continue;
      }
      this.state.set(this.options.path, this.#key, this.#offset);
      return false;
    }
  }

  #open(rotated: boolean): boolean {
    let fd: number;
    try {
      fd = openSync(this.options.path, 'r');
    } catch {
      if (!this.#warnedMissing) {
        this.log.warn({ path: this.options.path }, 'tailed file does not exist (yet); waiting for it');
        this.#warnedMissing = true;
      }
      return false;
    }
    this.#warnedMissing = false;
    const st = fstatSync(fd);
    this.#fd = fd;
    this.#key = identity(st);
    this.#skipping = false;
    const saved = this.state.get(this.options.path);
    if (saved && saved.key === this.#key && saved.offset <= st.size) this.#offset = saved.offset;
    else if (rotated || saved)
      this.#offset = 0; // a new file since last time: all of it is new
    else this.#offset = this.options.startAt === 'end' ? st.size : 0;
    this.state.set(this.options.path, this.#key, this.#offset);
    return true;
  }

  #closeFd(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #readAvailable(): 'eof' | 'blocked' {
    const fd = this.#fd as number;
    const max = this.options.maxLineBytes;
    for (;;) {
      const n = readSync(fd, this.#buf, 0, CHUNK, this.#offset);
      if (n === 0) return 'eof';
      let pos = 0;
      while (pos < n) {
        const nl = this.#buf.indexOf(0x0a, pos);
        if (nl < 0 || nl >= n) break;
        const lineStart = this.#offset + pos;
        if (this.#skipping) {
          this.#skipping = false;
        } else if (nl > pos) {
          const line = decodeLine(this.#buf.subarray(pos, nl), max);
          if (!this.onLine(line, fileLineId(this.#key, lineStart))) {
            this.#offset = lineStart;
            return 'blocked';
          }
        }
        pos = nl + 1;
      }
      const rest = n - pos;
      if (rest === 0) {
        this.#offset += n;
        continue;
      }
      // An incomplete line at the end of what was read.
      if (rest >= max || (pos === 0 && n === CHUNK)) {
        if (!this.#skipping) {
          const line = decodeLine(this.#buf.subarray(pos, pos + Math.min(rest, max)), max, rest + 1);
          const forced: DecodedLine = { ...line, truncated: true };
          if (!this.onLine(forced, fileLineId(this.#key, this.#offset + pos))) {
            this.#offset += pos;
            return 'blocked';
          }
          this.#skipping = true;
        }
        this.#offset += n;
        continue;
      }
      this.#offset += pos;
      if (n < CHUNK) return 'eof';
    }
  }

  /** The last line of a rotated file, if it has no LF. */
  #flushTail(): 'ok' | 'blocked' {
    const fd = this.#fd as number;
    const size = fstatSync(fd).size;
    if (size <= this.#offset || this.#skipping) return 'ok';
    const len = Math.min(size - this.#offset, this.options.maxLineBytes);
    const buf = Buffer.allocUnsafe(len);
    const n = readSync(fd, buf, 0, len, this.#offset);
    if (n > 0 && !this.onLine(decodeLine(buf.subarray(0, n), this.options.maxLineBytes), fileLineId(this.#key, this.#offset))) return 'blocked';
    this.#offset = size;
    return 'ok';
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#fd !== undefined) this.state.set(this.options.path, this.#key, this.#offset);
    this.#closeFd();
  }
}

function identity(st: { dev: number | bigint; ino: number | bigint; birthtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${Math.floor(st.birthtimeMs)}`;
}
