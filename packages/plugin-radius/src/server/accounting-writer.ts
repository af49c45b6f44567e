/**
 * Durable accounting with group commit. Each Accounting-Request waits for the transaction that stores its record;
 * the Accounting-Response is sent only after that commit (RFC 2866 §2: no answer unless recorded). Records arriving
 * within `batchWindowMs` of the first one, or while the previous batch is committing, share one transaction and one
 * multi-row INSERT … ON CONFLICT per round (the WAL flush per commit is what limits accounting/s, radius.md §13a).
 *
 * Idempotence: counters are session totals, so a record applied twice changes nothing (greatest() wins); a Stop sets
 * the stop time and cause; an Interim whose event time is at or after the recorded stop re-opens the session (it is
 * evidently alive: a lost Stop, a NAS-Reboot closure or the stale job); Accounting-On/Off closes the NAS's open
 * sessions that started before it. One failing record never blocks the others: a failed batch is retried record by
 * record, and only the failing ones go unanswered (the NAS retransmits them).
 */

import { type Kysely, type Logger, sql } from '@rgz/core';
import type { RadiusDatabase } from '../schema.js';
import type { AccountingRecord, SessionRecord } from './accounting.js';
import type { RadiusMetrics } from './metrics.js';

interface Pending {
  record: AccountingRecord;
  resolve(): void;
  reject(err: unknown): void;
}

export interface AccountingWriterOptions {
  batchWindowMs: number;
  maxBatch: number;
}

type Step = { kind: 'upsert'; rows: SessionRecord[] } | { kind: 'reset'; record: Extract<AccountingRecord, { kind: 'nas-reset' }> };

/** Split a batch into steps: rounds of upserts with unique (nas, session) keys, and NAS resets, in arrival order. */
export function plan(records: readonly AccountingRecord[]): Step[] {
  const steps: Step[] = [];
  let round = new Map<string, SessionRecord>();
  const close = () => {
    if (round.size === 0) return;
    // Sorted by key so concurrent transactions lock rows in the same order.
    steps.push({ kind: 'upsert', rows: [...round.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r) });
    round = new Map();
  };
  for (const r of records) {
    if (r.kind === 'nas-reset') {
      close();
      steps.push({ kind: 'reset', record: r });
      continue;
    }
    const key = `${r.nasId}\u0000${r.acctSessionId}`;
    if (round.has(key)) close();
    round.set(key, r);
  }
  close();
  return steps;
}

async function upsert(db: Kysely<RadiusDatabase>, rows: SessionRecord[]): Promise<void> {
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.nasId}, ${r.nasIdentifier}, ${r.nasIpAddress}, ${r.acctSessionId}, ${r.userName}, ${r.classSubscriberId}, ${r.macUser}, ${r.mac}, ${r.callingStationId}, ${r.framedIp}, ${r.bytesIn.toString()}, ${r.bytesOut.toString()}, ${String(r.sessionTime)}, ${r.sessionStart.toISOString()}, ${r.eventTime.toISOString()}, ${r.status}, ${r.terminateCause})`,
    ),
  );
  await sql`
    insert into radius_sessions as s (subscriber_id, nas_id, nas_identifier, nas_ip_address, acct_session_id, user_name, mac_address,
      calling_station_id, framed_ip, bytes_in, bytes_out, session_time, session_start, session_stop, last_update, last_status, terminate_cause)
    select
      coalesce(
        (select x.id from subscribers x where x.id = v.class_sub::uuid),
        (select x.id from subscribers x where x.subscriber_ref = v.user_name),
        (select d.subscriber_id from subscriber_devices d where d.mac_address = v.mac_user order by d.last_seen_at desc limit 1)
      ),
      v.nas_id, v.nas_identifier, v.nas_ip, v.acct_session_id, v.user_name, v.mac, v.calling, v.framed,
      v.bytes_in::bigint, v.bytes_out::bigint, v.session_time::integer, v.session_start::timestamptz,
      case when v.status = 'stop' then v.event_time::timestamptz end,
      v.event_time::timestamptz, v.status, v.cause
    from (values ${values}) as v(nas_id, nas_identifier, nas_ip, acct_session_id, user_name, class_sub, mac_user, mac, calling, framed,
      bytes_in, bytes_out, session_time, session_start, event_time, status, cause)
    on conflict (nas_id, acct_session_id) do update set
      subscriber_id = coalesce(s.subscriber_id, excluded.subscriber_id),
      nas_identifier = excluded.nas_identifier,
      nas_ip_address = coalesce(excluded.nas_ip_address, s.nas_ip_address),
      user_name = coalesce(excluded.user_name, s.user_name),
      mac_address = coalesce(excluded.mac_address, s.mac_address),
      calling_station_id = coalesce(excluded.calling_station_id, s.calling_station_id),
      framed_ip = coalesce(excluded.framed_ip, s.framed_ip),
      bytes_in = greatest(s.bytes_in, excluded.bytes_in),
      bytes_out = greatest(s.bytes_out, excluded.bytes_out),
      session_time = greatest(s.session_time, excluded.session_time),
      session_start = least(s.session_start, excluded.session_start),
      last_update = greatest(s.last_update, excluded.last_update),
      last_status = case when excluded.last_status = 'stop' or excluded.last_update >= s.last_update then excluded.last_status else s.last_status end,
      session_stop = case
        when excluded.last_status = 'stop' then excluded.session_stop
        when excluded.last_status = 'interim' and s.session_stop is not null and excluded.last_update >= s.session_stop then null
        else s.session_stop end,
      terminate_cause = case
        when excluded.last_status = 'stop' then excluded.terminate_cause
        when excluded.last_status = 'interim' and s.session_stop is not null and excluded.last_update >= s.session_stop then null
        else s.terminate_cause end`.execute(db);
}

async function reset(db: Kysely<RadiusDatabase>, r: Extract<AccountingRecord, { kind: 'nas-reset' }>): Promise<void> {
  const at = r.eventTime.toISOString();
  await sql`
    update radius_sessions set session_stop = ${at}::timestamptz, terminate_cause = 'NAS-Reboot', last_status = 'nas-reboot',
      last_update = greatest(last_update, ${at}::timestamptz)
    where nas_id = ${r.nasId} and session_stop is null and session_start <= ${at}::timestamptz`.execute(db);
}

async function apply(db: Kysely<RadiusDatabase>, records: readonly AccountingRecord[]): Promise<void> {
  const steps = plan(records);
  const run = (on: Kysely<RadiusDatabase>, step: Step) => (step.kind === 'upsert' ? upsert(on, step.rows) : reset(on, step.record));
  // The usual batch is one statement, atomic and committed on its own: BEGIN and COMMIT would be two more round trips.
  if (steps.length === 1) return run(db, steps[0] as Step);
  await db.transaction().execute(async (trx) => {
    for (const step of steps) await run(trx, step);
  });
}

const RETRYABLE = new Set(['40001', '40P01']);

export class AccountingWriter {
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly db: Kysely<RadiusDatabase>,
    private readonly options: AccountingWriterOptions,
    private readonly metrics: RadiusMetrics,
    private readonly log: Logger,
  ) {}

  /** Resolves once `record` is committed; rejects when it could not be stored (then do not answer the NAS). */
  submit(record: AccountingRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('accounting writer is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      this.#kick();
    });
  }

  /** Write everything queued, then refuse new records. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing || this.#queue.length > 0) {
      if (!this.#flushing) this.#start();
      await this.#flushing;
    }
  }

  /** Wait until everything submitted so far is written (tests). */
  async idle(): Promise<void> {
    while (this.#flushing || this.#queue.length > 0 || this.#timer) {
      if (this.#timer && !this.#flushing) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#start();
      }
      await (this.#flushing ?? new Promise((r) => setImmediate(r)));
    }
  }

  #kick(): void {
    if (this.#flushing) return; // the running flush takes the queue when it ends
    if (this.#queue.length >= this.options.maxBatch || this.options.batchWindowMs === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#start();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#start();
    }, this.options.batchWindowMs);
  }

  #start(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.options.maxBatch);
    this.#flushing = this.#flush(batch).finally(() => {
      this.#flushing = undefined;
      // What arrived during the commit forms the next group at once: it has already waited.
      if (this.#queue.length > 0) this.#start();
    });
  }

  async #flush(batch: Pending[]): Promise<void> {
    this.metrics.batch(batch.length);
    try {
      await this.#applyWithRetry(batch.map((p) => p.record));
      for (const p of batch) {
        this.metrics.stored(p.record.kind === 'session' ? p.record.status : `nas-${p.record.status}`);
        p.resolve();
      }
      return;
    } catch (err) {
      if (batch.length === 1) {
        this.log.error({ err }, 'accounting record not stored; no Accounting-Response (the NAS will retransmit)');
        batch[0]?.reject(err);
        return;
      }
      this.log.warn({ err, batch: batch.length }, 'accounting batch failed; storing its records one by one');
    }
    for (const p of batch) {
      try {
        await this.#applyWithRetry([p.record]);
        this.metrics.stored(p.record.kind === 'session' ? p.record.status : `nas-${p.record.status}`);
        p.resolve();
      } catch (err) {
        this.log.error({ err }, 'accounting record not stored; no Accounting-Response (the NAS will retransmit)');
        p.reject(err);
      }
    }
  }

  async #applyWithRetry(records: AccountingRecord[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await apply(this.db, records);
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 3 || code === undefined || !RETRYABLE.has(code)) throw err;
      }
    }
  }
}
