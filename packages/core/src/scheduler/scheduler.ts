/**
 * Scheduled jobs (the seed's Celery beat). Croner computes the ticks in the configured time zone; each replica
 * arms a timer for the next tick and, when it fires, tries to insert the `core_job_runs` row for that tick.
 * A unique index on (claim, scheduled_for) lets exactly one replica win a global job's tick, so no lock is held
 * while the job runs and the history is the lock. A tick is skipped while an earlier run of the same job is
 * still running (no overlap, across replicas). Missed ticks (the server was down) follow the job's policy.
 */
import { hostname } from 'node:os';
import { Cron } from 'croner';
import { type Kysely, sql } from 'kysely';
import type { CoreDatabase } from '../domain/schema.js';
import { RgzError } from '../errors/rgz-error.js';
import { type Logger, withRequestContext } from '../logging/logger.js';
import type { CoreMetrics } from '../metrics/registry.js';

/** First key of the per-job advisory lock (two-int form, so it never meets the migration lock's bigint key). */
const JOB_LOCK_CLASS = 0x52475a4a; // "RGZJ"

export interface JobContext {
  signal: AbortSignal;
  log: Logger;
  /** The tick this run is for (the manual trigger time for manual runs). */
  scheduledFor: Date;
  trigger: 'schedule' | 'missed' | 'manual';
  attempt: number;
}

export interface JobDefinition {
  /** Unique id; plugins' ids are prefixed with the plugin name (`reports.monthly-invoices`). */
  id: string;
  /** Cron pattern, 5 or 6 fields (seconds first when 6). */
  cron: string;
  /** IANA time zone; defaults to the server's `timezone`. */
  timezone?: string;
  /** `global`: one replica per tick. `local`: every replica (e.g. refreshing an in-memory cache). */
  scope?: 'global' | 'local';
  /** Seconds before the run is aborted (default 300). */
  timeoutSeconds?: number;
  /** Extra attempts after a failure, with exponential backoff from `retryBackoffSeconds` (default 0 retries). */
  retries?: number;
  retryBackoffSeconds?: number;
  /** What to do at start-up when ticks were missed while no replica ran: `skip` (default) or `run-once`. */
  missed?: 'skip' | 'run-once';
  description?: string;
  run(ctx: JobContext): Promise<unknown>;
}

export interface JobInfo {
  id: string;
  cron: string;
  timezone: string;
  scope: 'global' | 'local';
  nextRun: Date | null;
  lastRun: { status: string; startedAt: Date; finishedAt: Date | null; error: string | null } | null;
  description?: string | undefined;
}

export interface RunOutcome {
  ran: boolean;
  status?: 'succeeded' | 'failed' | 'timeout';
  runId?: string;
  result?: unknown;
  error?: string;
}

export class Scheduler {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<RunOutcome>>();
  private readonly aborts = new Set<AbortController>();
  private started = false;
  /** Aborted by stop(): cuts a retry backoff short so a stopping replica starts no new attempt. */
  private stopping = new AbortController();
  readonly node = `${hostname()}:${process.pid}`;

  constructor(
    private readonly db: Kysely<CoreDatabase>,
    private readonly log: Logger,
    private readonly metrics: CoreMetrics,
    private readonly defaultTimezone: string,
  ) {}

  register(job: JobDefinition): void {
    if (this.jobs.has(job.id)) throw new RgzError('job_duplicate', `job "${job.id}" is registered twice`);
    try {
      new Cron(job.cron, { timezone: job.timezone ?? this.defaultTimezone, paused: true });
    } catch (err) {
      throw new RgzError('job_cron_invalid', `job "${job.id}": cron "${job.cron}" is invalid: ${(err as Error).message}`);
    }
    this.jobs.set(job.id, job);
  }

  list(): JobDefinition[] {
    return [...this.jobs.values()];
  }

  async info(): Promise<JobInfo[]> {
    const last = await this.db
      .selectFrom('core_job_runs')
      .select(['job_id', 'status', 'started_at', 'finished_at', 'error'])
      .distinctOn('job_id')
      .orderBy('job_id')
      .orderBy('started_at', 'desc')
      .execute();
    const byJob = new Map(last.map((r) => [r.job_id, r]));
    return this.list().map((job) => {
      const r = byJob.get(job.id);
      return {
        id: job.id,
        cron: job.cron,
        timezone: job.timezone ?? this.defaultTimezone,
        scope: job.scope ?? 'global',
        nextRun: this.cron(job).nextRun(),
        lastRun: r ? { status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, error: r.error } : null,
        description: job.description,
      };
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    for (const job of this.jobs.values()) {
      if (job.missed === 'run-once') await this.catchUp(job);
      this.arm(job);
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.started = false;
    this.stopping.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const all = Promise.allSettled([...this.running.values()]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const a of this.aborts) a.abort(new Error('shutting down'));
    await all;
  }

  /** Run a job now, outside its schedule (CLI `rgz jobs run`, API). Waits for the outcome. */
  /** Run a job now (`manual`); `onRun` is told the run id as soon as the run is claimed (a caller that does not wait polls it). */
  async trigger(id: string, options: { onRun?: (runId: string) => void } = {}): Promise<RunOutcome> {
    const job = this.jobs.get(id);
    if (!job) throw new RgzError('job_not_found', `no job "${id}"; \`rgz jobs list\` shows the registered ones`, { status: 404 });
    return this.execute(job, new Date(), 'manual', options.onRun);
  }

  private cron(job: JobDefinition): Cron {
    return new Cron(job.cron, { timezone: job.timezone ?? this.defaultTimezone, paused: true });
  }

  private arm(job: JobDefinition): void {
    if (!this.started) return;
    const next = this.cron(job).nextRun();
    if (!next) return;
    // setTimeout's limit is ~24.8 days; a monthly job re-arms part way.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    const timer = setTimeout(
      () => {
        if (Date.now() + 5 < next.getTime()) return this.arm(job);
        void this.execute(job, next, 'schedule').finally(() => this.arm(job));
      },
      Math.max(0, delay),
    );
    timer.unref();
    this.timers.set(job.id, timer);
  }

  private async catchUp(job: JobDefinition): Promise<void> {
    const previous = this.cron(job).previousRuns(1, new Date())[0];
    if (!previous) return;
    const last = await this.db
      .selectFrom('core_job_runs')
      .select((eb) => eb.fn.max('scheduled_for').as('last'))
      .where('job_id', '=', job.id)
      .where('trigger', '<>', 'manual')
      .executeTakeFirst();
    // A job that never ran has missed nothing; one whose last tick is older than the previous tick has.
    if (!last?.last || new Date(last.last) >= previous) return;
    this.log.info({ job: job.id, missed_tick: previous.toISOString() }, 'running a tick missed while down');
    void this.execute(job, previous, 'missed');
  }

  private async execute(job: JobDefinition, scheduledFor: Date, trigger: JobContext['trigger'], onRun?: (runId: string) => void): Promise<RunOutcome> {
    if (this.running.has(job.id) && trigger !== 'manual') return { ran: false };
    const p = this.claimAndRun(job, scheduledFor, trigger, onRun);
    if (trigger !== 'manual') this.running.set(job.id, p);
    try {
      return await p;
    } finally {
      if (this.running.get(job.id) === p) this.running.delete(job.id);
    }
  }

  private async claimAndRun(job: JobDefinition, scheduledFor: Date, trigger: JobContext['trigger'], onRun?: (runId: string) => void): Promise<RunOutcome> {
    const scope = job.scope ?? 'global';
    const timeoutSeconds = job.timeoutSeconds ?? 300;
    const claim = scope === 'global' && trigger !== 'manual' ? job.id : null;
    // The no-overlap check and the insert run under a per-job lock: two concurrent claims (a manual run and a
    // tick, or two replicas' different ticks) cannot both see "nothing running" and both start.
    const inserted = await this.db.transaction().execute(async (trx) => {
      if (scope === 'global') await sql`select pg_advisory_xact_lock(${JOB_LOCK_CLASS}, hashtext(${job.id}))`.execute(trx);
      return sql<{ id: string }>`
        insert into core_job_runs (job_id, scheduled_for, trigger, node, claim, status)
        select ${job.id}, ${scheduledFor}, ${trigger}, ${this.node}, ${claim}, 'running'
        where not exists (
          select 1 from core_job_runs
          where job_id = ${job.id} and status = 'running' and ${scope === 'global'}
            and started_at > now() - make_interval(secs => ${timeoutSeconds + 60})
        )
        on conflict do nothing
        returning id`.execute(trx);
    });
    const runId = inserted.rows[0]?.id;
    if (runId === undefined) return { ran: false };
    onRun?.(String(runId));
    return withRequestContext(`job:${job.id}:${runId}`, () => this.runAttempts(job, String(runId), scheduledFor, trigger, timeoutSeconds));
  }

  private async runAttempts(
    job: JobDefinition,
    runId: string,
    scheduledFor: Date,
    trigger: JobContext['trigger'],
    timeoutSeconds: number,
  ): Promise<RunOutcome> {
    const log = this.log.child({ job: job.id, run_id: runId });
    const attempts = 1 + (job.retries ?? 0);
    let lastError = '';
    let status: 'failed' | 'timeout' = 'failed';
    let made = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      made = attempt;
      const abort = new AbortController();
      this.aborts.add(abort);
      const timer = setTimeout(() => abort.abort(new JobTimeout(timeoutSeconds)), timeoutSeconds * 1000);
      try {
        const result = await Promise.race([
          job.run({ signal: abort.signal, log, scheduledFor, trigger, attempt }),
          new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })),
        ]);
        await this.finish(runId, 'succeeded', attempt, null, result);
        this.metrics.jobRuns.inc({ job: job.id, outcome: 'succeeded' });
        log.info({ attempt }, 'job succeeded');
        return { ran: true, status: 'succeeded', runId, result };
      } catch (err) {
        status = err instanceof JobTimeout ? 'timeout' : 'failed';
        lastError = err instanceof Error ? err.message : String(err);
        log.warn({ err, attempt }, 'job attempt failed');
        // Retry unless the scheduler is stopping (a never-started scheduler still retries manual runs).
        if (attempt < attempts && !this.stopping.signal.aborted) {
          const backoff = (job.retryBackoffSeconds ?? 30) * 2 ** (attempt - 1);
          await abortableSleep(backoff * 1000, this.stopping.signal);
        }
        if (this.stopping.signal.aborted) break;
      } finally {
        clearTimeout(timer);
        this.aborts.delete(abort);
      }
    }
    await this.finish(runId, status, made, lastError, null);
    this.metrics.jobRuns.inc({ job: job.id, outcome: status });
    return { ran: true, status, runId, error: lastError };
  }

  private async finish(runId: string, status: string, attempt: number, error: string | null, result: unknown): Promise<void> {
    await this.db
      .updateTable('core_job_runs')
      .set({
        status: status as 'succeeded',
        attempt,
        finished_at: new Date(),
        error,
        result: result === undefined ? null : JSON.stringify(result),
      })
      .where('id', '=', runId)
      .execute();
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

class JobTimeout extends Error {
  constructor(seconds: number) {
    super(`job timed out after ${seconds}s`);
  }
}
