/**
 * Shipping to Elasticsearch/OpenSearch through `_bulk`.
 *
 * - Batching: a batch is sealed at `maxDocs` documents, `maxBytes` bytes or `flushMs` after its first document.
 * - Back-pressure: at most `maxInFlight` bulk requests at once and `maxPendingBatches` sealed batches waiting in
 *   memory; a batch that finds no room goes to the on-disk spool instead of growing the heap. Memory is bounded by
 *   (1 + maxPendingBatches + maxInFlight) × batch size whatever the cluster does.
 * - Retries: a failed request (connection refused, timeout, 429, 5xx) is retried `attempts` times with exponential
 *   backoff and jitter, waiting at least what a 429's `Retry-After` asks. Per-item failures in a 200 response: items
 *   answered 429/5xx are retried alone; items refused for good (400 mapping errors, …) go to the dead-letter files;
 *   409 on `create` means "already indexed" (a resend) and counts as shipped.
 * - Cluster down: when retries are exhausted the records are spooled and the shipper turns `down`: every new batch goes
 *   straight to the spool, and a probe with growing backoff (capped at `probeMaxMs`) ships the oldest spooled chunk;
 *   its success turns the shipper `up` again and the spool drains, oldest first, beside live batches.
 * - Shutdown: what is still in memory (current, pending and unanswered in-flight batches) is spooled.
 */

import type { Client } from '@elastic/elasticsearch';
import { type BulkOutcome, bulk } from './cluster.js';
import type { DeadLetter, DeadLetterEntry } from './dead-letter.js';
import type { IndexKind, Output, OutRecord } from './records.js';
import type { Spool } from './spool.js';

export interface ShipperOptions {
  maxDocs: number;
  maxBytes: number;
  flushMs: number;
  maxInFlight: number;
  maxPendingBatches: number;
  attempts: number;
  baseMs: number;
  maxMs: number;
  probeMaxMs: number;
  /** How long `close()` waits for in-flight requests before spooling their records. */
  closeTimeoutMs: number;
}

export interface ShipperEvents {
  records(kind: IndexKind, outcome: 'shipped' | 'spooled' | 'dropped' | 'dead_lettered', n: number): void;
  dropped(reason: string, n: number): void;
  request(outcome: 'ok' | 'partial' | 'retryable' | 'rejected' | 'too_large', seconds: number): void;
  state(up: boolean): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

type Sender = (records: readonly OutRecord[]) => Promise<BulkOutcome>;

export class Shipper implements Output {
  readonly #o: ShipperOptions;
  readonly #send: Sender;
  #current: OutRecord[] = [];
  #currentBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending: OutRecord[][] = [];
  #inFlight = new Set<OutRecord[]>();
  #draining = false;
  #up = true;
  #probeTimer: NodeJS.Timeout | undefined;
  #probeAttempt = 0;
  #closed = false;
  #waiters: Array<() => void> = [];
  #lastError = '';

  constructor(
    client: Client | Sender,
    private readonly spool: Spool,
    private readonly deadLetter: DeadLetter,
    private readonly events: ShipperEvents,
    options: ShipperOptions,
  ) {
    this.#o = options;
    this.#send = typeof client === 'function' ? (client as Sender) : (records) => bulk(client as Client, records);
  }

  get up(): boolean {
    return this.#up;
  }

  get lastError(): string {
    return this.#lastError;
  }

  /** Documents held in memory (current + pending + in flight). */
  get inMemory(): number {
    let n = this.#current.length;
    for (const b of this.#pending) n += b.length;
    for (const b of this.#inFlight) n += b.length;
    return n;
  }

  /** Start draining what a previous run left in the spool. */
  start(): void {
    this.spool.open();
    this.events.state(true);
    this.#pump();
  }

  write(record: OutRecord): void {
    if (this.#closed) {
      this.#toSpool([record]);
      return;
    }
    this.#current.push(record);
    this.#currentBytes += record.source.length + record.index.length + record.id.length + 40;
    if (this.#current.length >= this.#o.maxDocs || this.#currentBytes >= this.#o.maxBytes) this.#seal();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#seal();
      }, this.#o.flushMs);
      this.#timer.unref();
    }
  }

  #seal(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#current.length === 0) return;
    const batch = this.#current;
    this.#current = [];
    this.#currentBytes = 0;
    if (!this.#up || this.#closed) this.#toSpool(batch);
    else if (this.#slotsUsed() < this.#o.maxInFlight) void this.#sendLive(batch);
    else if (this.#pending.length < this.#o.maxPendingBatches) this.#pending.push(batch);
    else this.#toSpool(batch); // the cluster cannot keep up: disk, not heap
  }

  #toSpool(records: readonly OutRecord[], force = false): void {
    if (records.length === 0) return;
    let result: ReturnType<Spool['append']>;
    try {
      result = this.spool.append(records, force);
    } catch (err) {
      this.events.warn('spool write failed; records dropped', { err: (err as Error).message, records: records.length });
      this.events.dropped('spool_error', records.length);
      for (const [kind, n] of countKinds(records)) this.events.records(kind, 'dropped', n);
      return;
    }
    if (result.written > 0) {
      // Count by kind only for the written ones.
      const written = countKinds(records);
      for (const [kind, n] of result.droppedByKind) written.set(kind, (written.get(kind) ?? 0) - n);
      for (const [kind, n] of written) if (n > 0) this.events.records(kind, 'spooled', n);
    }
    if (result.dropped > 0) {
      this.events.dropped('spool_full', result.dropped);
      for (const [kind, n] of result.droppedByKind) this.events.records(kind, 'dropped', n);
    }
  }

  async #sendLive(batch: OutRecord[]): Promise<void> {
    this.#inFlight.add(batch);
    try {
      const { remaining, down } = await this.#ship(batch);
      // After close() the batch may already be spooled (close timed out waiting for us).
      if (this.#inFlight.has(batch)) this.#toSpool(remaining);
      if (down) this.#goDown();
    } finally {
      this.#inFlight.delete(batch);
      this.#pump();
    }
  }

  #slotsUsed(): number {
    return this.#inFlight.size + (this.#draining ? 1 : 0);
  }

  /** Ship with retries; returns the records that are still not accepted and whether the cluster looks down. */
  async #ship(records: readonly OutRecord[], attempts = this.#o.attempts): Promise<{ remaining: OutRecord[]; down: boolean }> {
    let todo: readonly OutRecord[] = records;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await this.#send(todo);
      const seconds = (performance.now() - started) / 1000;
      if (!outcome.ok) {
        this.#lastError = outcome.error;
        if (outcome.tooLarge) {
          this.events.request('too_large', seconds);
          if (todo.length > 1) {
            const half = Math.ceil(todo.length / 2);
            const a = await this.#ship(todo.slice(0, half), attempts);
            const b = await this.#ship(todo.slice(half), attempts);
            return { remaining: [...a.remaining, ...b.remaining], down: a.down || b.down };
          }
          this.#deadLetter(todo.map((record) => ({ record, status: 413, error: outcome.error })));
          return { remaining: [], down: false };
        }
        if (!outcome.retryable) {
          this.events.request('rejected', seconds);
          this.#deadLetter(todo.map((record) => ({ record, status: outcome.status ?? 0, error: outcome.error })));
          return { remaining: [], down: false };
        }
        this.events.request('retryable', seconds);
        if (attempt >= attempts || this.#closed) return { remaining: [...todo], down: true };
        await sleep(this.#backoff(attempt, outcome.retryAfterMs));
        continue;
      }
      const retry: OutRecord[] = [];
      const dead: DeadLetterEntry[] = [];
      const shipped = new Map<IndexKind, number>();
      for (let i = 0; i < todo.length; i++) {
        const record = todo[i] as OutRecord;
        const item = outcome.items[i] as { status: number; error?: { type?: string; reason?: string } };
        if ((item.status >= 200 && item.status < 300) || item.status === 409) {
          shipped.set(record.kind, (shipped.get(record.kind) ?? 0) + 1);
        } else if (item.status === 429 || item.status >= 500 || item.status === 0) {
          retry.push(record);
        } else {
          dead.push({ record, status: item.status, error: item.error ?? 'refused' });
        }
      }
      for (const [kind, n] of shipped) this.events.records(kind, 'shipped', n);
      this.#deadLetter(dead);
      this.events.request(retry.length || dead.length ? 'partial' : 'ok', seconds);
      if (retry.length === 0) return { remaining: [], down: false };
      this.#lastError = `${retry.length} items answered ${outcome.items.find((it) => it.status === 429 || it.status >= 500)?.status ?? 'retryable'}`;
      todo = retry;
      if (attempt >= attempts || this.#closed) return { remaining: retry, down: true };
      await sleep(this.#backoff(attempt));
    }
  }

  #deadLetter(entries: DeadLetterEntry[]): void {
    if (entries.length === 0) return;
    try {
      this.deadLetter.append(entries);
      for (const [kind, n] of countKinds(entries.map((e) => e.record))) this.events.records(kind, 'dead_lettered', n);
    } catch (err) {
      this.events.warn('dead-letter write failed; records dropped', { err: (err as Error).message });
      this.events.dropped('dead_letter_error', entries.length);
      for (const [kind, n] of countKinds(entries.map((e) => e.record))) this.events.records(kind, 'dropped', n);
    }
  }

  #backoff(attempt: number, atLeastMs = 0): number {
    const exp = Math.min(this.#o.maxMs, this.#o.baseMs * 2 ** (attempt - 1));
    return Math.max(atLeastMs, exp * (0.5 + Math.random() * 0.5));
  }

  #goDown(): void {
    if (this.#up) {
      this.#up = false;
      this.events.state(false);
      this.events.warn('cluster unavailable: spooling to disk until it answers again', { error: this.#lastError, spooled: this.spool.records });
      // Everything waiting in memory goes to disk now.
      for (const b of this.#pending.splice(0)) this.#toSpool(b);
      this.#probeAttempt = 0;
    }
    this.#scheduleProbe();
    this.#notify();
  }

  #scheduleProbe(): void {
    if (this.#probeTimer || this.#closed) return;
    this.#probeAttempt++;
    const delay = Math.min(this.#o.probeMaxMs, this.#o.baseMs * 2 ** Math.min(this.#probeAttempt - 1, 20)) * (0.75 + Math.random() * 0.25);
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      void this.#probe();
    }, delay);
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    if (this.#closed || this.#up) return;
    if (this.spool.empty) {
      this.#markUp();
      return;
    }
    this.#draining = true;
    let ok = false;
    try {
      ok = await this.#drainChunk(1);
    } finally {
      this.#draining = false;
    }
    if (ok) this.#markUp();
    else {
      this.#scheduleProbe();
      // A flush() that arrived while this probe was draining waits for idleness: tell it, or it waits its full timeout.
      this.#notify();
    }
  }

  #markUp(): void {
    if (this.#up) return;
    this.#up = true;
    this.#probeAttempt = 0;
    this.events.state(true);
    this.events.warn('cluster answers again: draining the spool', { spooled: this.spool.records });
    this.#pump();
  }

  /**
   * Ship one spooled chunk (a probe makes one attempt, not a retry series). Returns false when the cluster did not
   * take it; nothing is committed then, and the chunk is read again later.
   */
  async #drainChunk(attempts = this.#o.attempts): Promise<boolean> {
    const chunk = this.spool.read(this.#o.maxDocs, this.#o.maxBytes);
    if (!chunk) return true;
    if (chunk.corrupt > 0) this.events.dropped('spool_corrupt', chunk.corrupt);
    if (chunk.records.length === 0) {
      chunk.commit();
      return true;
    }
    const { remaining, down } = await this.#ship(chunk.records, attempts);
    // Closed meanwhile: leave the chunk uncommitted (the next run resends it; the cluster answers 409 for copies).
    if (this.#closed) return false;
    if (remaining.length === chunk.records.length && down) {
      this.#goDown();
      return false;
    }
    chunk.commit();
    // Accepted in part: what is left goes back to the spool's tail (uncapped: it was just taken out).
    if (remaining.length) this.#toSpool(remaining, true);
    if (down) {
      this.#goDown();
      return false;
    }
    return true;
  }

  #pump(): void {
    if (this.#closed) {
      this.#notify();
      return;
    }
    while (this.#up && this.#pending.length && this.#slotsUsed() < this.#o.maxInFlight) void this.#sendLive(this.#pending.shift() as OutRecord[]);
    if (this.#up && !this.#draining && !this.spool.empty && this.#slotsUsed() < this.#o.maxInFlight) void this.#drainLoop();
    this.#notify();
  }

  async #drainLoop(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#up && !this.#closed && !this.spool.empty) {
        // Live batches first: drain only with a free slot.
        if (this.#pending.length > 0) break;
        const ok = await this.#drainChunk();
        if (!ok) break;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.#draining = false;
      this.#notify();
      if (this.#up && !this.#closed && (this.#pending.length || !this.spool.empty)) setImmediate(() => this.#pump());
    }
  }

  #notify(): void {
    if (!this.#idle()) return;
    for (const w of this.#waiters.splice(0)) w();
  }

  #idle(): boolean {
    return this.#current.length === 0 && this.#pending.length === 0 && this.#inFlight.size === 0 && !this.#draining && (this.spool.empty || !this.#up);
  }

  /** Seal the current batch and wait until everything is shipped, or spooled while the cluster is down. */
  flush(timeoutMs = 30_000): Promise<void> {
    this.#seal();
    this.#pump();
    if (this.#idle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#waiters.push(done);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#seal();
    this.#closed = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    for (const b of this.#pending.splice(0)) this.#toSpool(b);
    const deadline = Date.now() + this.#o.closeTimeoutMs;
    while ((this.#inFlight.size > 0 || this.#draining) && Date.now() < deadline) await sleep(20);
    // Unanswered requests: spool their records (a late success makes the resend a harmless 409).
    for (const b of [...this.#inFlight]) {
      this.#inFlight.delete(b);
      this.#toSpool(b, true);
    }
    this.spool.close();
    this.#notify();
  }
}

function countKinds(records: readonly OutRecord[]): Map<IndexKind, number> {
  const m = new Map<IndexKind, number>();
  for (const r of records) m.set(r.kind, (m.get(r.kind) ?? 0) + 1);
  return m;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
