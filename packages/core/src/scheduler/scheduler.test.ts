import { Cron } from 'croner';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { coreMigrations } from '../domain/migrations.js';
import type { CoreDatabase } from '../domain/schema.js';
import { createLogger } from '../logging/logger.js';
import { createMetrics } from '../metrics/registry.js';
import { type Database, openDatabase } from '../storage/database.js';
import { migrateUp } from '../storage/migrations.js';
import { BACKENDS, createTestDatabase, sleep, type TestDatabase, waitFor } from '../testing/index.js';
import { type JobContext, type JobDefinition, Scheduler } from './scheduler.js';

const log = createLogger({ service: 'test', level: 'silent' });
const TZ = 'Africa/Porto-Novo';
/** Once a year: never fires during a test, so runs only come from triggers and catch-up. */
const YEARLY = '0 0 1 1 *';

function newScheduler(db: Kysely<CoreDatabase>): Scheduler {
  return new Scheduler(db, log, createMetrics().core, TZ);
}

async function runs(db: Kysely<CoreDatabase>, jobId: string) {
  return db.selectFrom('core_job_runs').selectAll().where('job_id', '=', jobId).orderBy('scheduled_for').orderBy('id').execute();
}

describe.each(BACKENDS)('scheduler (%s)', (backend) => {
  let tdb: TestDatabase;
  let second: Database | undefined;
  let db: Kysely<CoreDatabase>;
  let db2: Kysely<CoreDatabase>;
  let schedulers: Scheduler[] = [];
  let n = 0;
  const jobId = (what: string) => `test.${what}-${++n}`;
  const scheduler = (onSecondHandle = false) => {
    const s = newScheduler(onSecondHandle ? db2 : db);
    schedulers.push(s);
    return s;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = tdb.database.db;
    await migrateUp(db, [coreMigrations]);
    // Real backend: a second replica has its own connection pool. Embedded: one PGlite, shared handle.
    second = tdb.url ? await openDatabase({ url: tdb.url, poolMax: 4 }) : undefined;
    db2 = second?.db ?? db;
  });
  afterEach(async () => {
    await Promise.all(schedulers.map((s) => s.stop(500)));
    schedulers = [];
  });
  afterAll(async () => {
    await second?.close();
    await tdb.drop();
  });

  it('two replicas: each tick of a global job runs exactly once, local jobs run on each, and runs never overlap', async () => {
    const a = scheduler();
    const b = scheduler(true);
    const globalId = jobId('every-second');
    const localId = jobId('local-cache');
    const slowId = jobId('slow');
    const globalRuns: Array<{ by: string; tick: number }> = [];
    const localRuns: Record<string, number[]> = { a: [], b: [] };
    const slowSpans: Array<[number, number]> = [];
    for (const [by, s] of [
      ['a', a],
      ['b', b],
    ] as const) {
      s.register({
        id: globalId,
        cron: '* * * * * *',
        async run(ctx: JobContext) {
          globalRuns.push({ by, tick: ctx.scheduledFor.getTime() });
          expect(ctx.trigger).toBe('schedule');
          return { by };
        },
      });
      s.register({
        id: localId,
        cron: '* * * * * *',
        scope: 'local',
        async run(ctx) {
          localRuns[by]?.push(ctx.scheduledFor.getTime());
        },
      });
      s.register({
        id: slowId,
        cron: '* * * * * *',
        async run() {
          const start = Date.now();
          await sleep(1_300);
          slowSpans.push([start, Date.now()]);
        },
      });
    }
    await Promise.all([a.start(), b.start()]);
    // Generous bounds: on a loaded 2-core CI machine a tick can take most of a second on PGlite.
    await waitFor(() => globalRuns.length >= 3 && (localRuns.a?.length ?? 0) >= 3 && (localRuns.b?.length ?? 0) >= 3, 15_000);
    // Stop mid-second so both replicas have seen the same ticks.
    await waitFor(() => Date.now() % 1000 > 300 && Date.now() % 1000 < 700, 1_500, { intervalMs: 5 });
    await Promise.all([a.stop(3_000), b.stop(3_000)]);

    // Global: one run per tick, across both replicas, each recorded once.
    const rows = await runs(db, globalId);
    const ticks = globalRuns.map((r) => r.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(rows.map((r) => r.scheduled_for.getTime())).toEqual([...ticks].sort((x, y) => x - y));
    expect(rows.every((r) => r.status === 'succeeded' && r.trigger === 'schedule' && r.claim === globalId)).toBe(true);
    for (const t of ticks) expect(t % 1000).toBe(0);
    // Consecutive seconds: no tick was lost between the two replicas.
    const sorted = [...ticks].sort((x, y) => x - y);
    sorted.slice(1).forEach((t, i) => {
      expect(t - (sorted[i] as number)).toBe(1000);
    });
    // The recorded result says which replica ran it.
    expect(rows.map((r) => (r.result as { by: string }).by).sort()).toEqual(globalRuns.map((r) => r.by).sort());

    // Local: every replica ran every tick.
    expect(localRuns.a?.length).toBeGreaterThanOrEqual(3);
    expect(localRuns.b?.length).toBeGreaterThanOrEqual(3);
    // Each replica runs each local tick at most once (a tick may be skipped while its previous run is still going).
    for (const mine of [localRuns.a ?? [], localRuns.b ?? []]) expect(new Set(mine).size).toBe(mine.length);
    const localRows = await runs(db, localId);
    expect(localRows).toHaveLength((localRuns.a?.length ?? 0) + (localRuns.b?.length ?? 0));
    expect(localRows.every((r) => r.claim === null && r.status === 'succeeded')).toBe(true);

    // Slow global job: a tick is skipped while a run is in progress, on either replica.
    const slowRows = await runs(db, slowId);
    expect(slowRows.length).toBeGreaterThanOrEqual(1);
    expect(slowRows.length).toBeLessThan(ticks.length);
    const spans = [...slowSpans].sort((x, y) => x[0] - y[0]);
    spans.slice(1).forEach((s, i) => {
      expect(s[0]).toBeGreaterThanOrEqual((spans[i] as [number, number])[1]);
    });
  });

  it('records history: result on success, error on failure, and info() shows the last run', async () => {
    const s = scheduler();
    const ok = jobId('ok');
    const bad = jobId('bad');
    s.register({ id: ok, cron: YEARLY, run: async () => ({ invoices: 3 }) });
    s.register({
      id: bad,
      cron: YEARLY,
      run: async () => {
        throw new Error('SMTP refused');
      },
    });
    const good = await s.trigger(ok);
    expect(good).toMatchObject({ ran: true, status: 'succeeded', result: { invoices: 3 } });
    const failed = await s.trigger(bad);
    expect(failed).toMatchObject({ ran: true, status: 'failed', error: 'SMTP refused' });

    const [okRow] = await runs(db, ok);
    expect(okRow).toMatchObject({ status: 'succeeded', result: { invoices: 3 }, error: null, attempt: 1, trigger: 'manual', claim: null });
    expect(String(okRow?.id)).toBe(good.runId);
    expect(okRow?.finished_at).toBeInstanceOf(Date);
    const [badRow] = await runs(db, bad);
    expect(badRow).toMatchObject({ status: 'failed', error: 'SMTP refused', result: null, attempt: 1 });

    const info = await s.info();
    const okInfo = info.find((j) => j.id === ok);
    expect(okInfo).toMatchObject({ cron: YEARLY, timezone: TZ, scope: 'global', lastRun: { status: 'succeeded', error: null } });
    expect(okInfo?.nextRun).toBeInstanceOf(Date);
    expect(info.find((j) => j.id === bad)?.lastRun).toMatchObject({ status: 'failed', error: 'SMTP refused' });
  });

  it('marks a run that exceeds its timeout as timeout and aborts its signal', async () => {
    const s = scheduler();
    const id = jobId('hangs');
    let aborted = false;
    s.register({
      id,
      cron: YEARLY,
      timeoutSeconds: 0.2,
      run: (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason);
          }),
        ),
    });
    const started = Date.now();
    const out = await s.trigger(id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(out).toMatchObject({ ran: true, status: 'timeout' });
    expect(out.error).toMatch(/timed out/);
    expect(aborted).toBe(true);
    expect((await runs(db, id))[0]).toMatchObject({ status: 'timeout' });
  });

  it('retries a failing run with backoff and records the attempt that succeeded', async () => {
    const s = scheduler();
    await s.start();
    const id = jobId('retry');
    const attempts: Array<{ attempt: number; at: number }> = [];
    s.register({
      id,
      cron: YEARLY,
      retries: 3,
      retryBackoffSeconds: 0.1,
      async run(ctx) {
        attempts.push({ attempt: ctx.attempt, at: Date.now() });
        if (ctx.attempt < 3) throw new Error(`try ${ctx.attempt}`);
        return 'ok';
      },
    });
    const out = await s.trigger(id);
    expect(out).toMatchObject({ ran: true, status: 'succeeded', result: 'ok' });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(95);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(195);
    expect((await runs(db, id))[0]).toMatchObject({ status: 'succeeded', attempt: 3, error: null });
  });

  it('gives up after the last retry with the last error', async () => {
    const s = scheduler();
    const id = jobId('retry-fail');
    let calls = 0;
    s.register({
      id,
      cron: YEARLY,
      retries: 2,
      retryBackoffSeconds: 0.05,
      async run(ctx) {
        calls++;
        throw new Error(`fail ${ctx.attempt}`);
      },
    });
    // Not started: a manual run (API, CLI on a replica without the scheduler) still retries.
    const out = await s.trigger(id);
    expect(calls).toBe(3);
    expect(out).toMatchObject({ ran: true, status: 'failed', error: 'fail 3' });
    expect((await runs(db, id))[0]).toMatchObject({ status: 'failed', attempt: 3, error: 'fail 3' });
  });

  it('stop() interrupts a retry backoff instead of running another attempt', async () => {
    const s = scheduler();
    await s.start();
    const id = jobId('retry-stop');
    let calls = 0;
    s.register({
      id,
      cron: YEARLY,
      retries: 3,
      retryBackoffSeconds: 5,
      async run() {
        calls++;
        throw new Error('down');
      },
    });
    const pending = s.trigger(id);
    await waitFor(() => calls === 1, 3_000);
    const stoppedAt = Date.now();
    await s.stop(200);
    const out = await pending;
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect(calls).toBe(1);
    expect(out).toMatchObject({ ran: true, status: 'failed', error: 'down' });
    expect((await runs(db, id))[0]).toMatchObject({ status: 'failed', attempt: 1 });
  });

  it('manual trigger runs now and never overlaps a run in progress, even from several replicas at once', async ({ onTestFinished: onCleanup }) => {
    const id = jobId('manual');
    const triggers: string[] = [];
    const spans: Array<[number, number]> = [];
    // Real backend: four replicas with their own (cold) connection pools, so the claims really race.
    const handles = tdb.url ? await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: tdb.url as string, poolMax: 2 }))) : [];
    const replicas = handles.length ? handles.map((h) => newScheduler(h.db)) : [scheduler(), scheduler()];
    onCleanup(async () => {
      await Promise.all(replicas.map((r) => r.stop(500)));
      await Promise.all(handles.map((h) => h.close()));
    });
    for (const s of replicas) {
      s.register({
        id,
        cron: YEARLY,
        async run(ctx) {
          const start = Date.now();
          triggers.push(ctx.trigger);
          expect(Math.abs(ctx.scheduledFor.getTime() - start)).toBeLessThan(5_000);
          await sleep(100);
          spans.push([start, Date.now()]);
        },
      });
    }
    // NOC clicks at once, spread over the replicas.
    const outs = await Promise.all(replicas.flatMap((s) => [s.trigger(id), s.trigger(id)]));
    const ran = outs.filter((o) => o.ran);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.every((o) => o.status === 'succeeded')).toBe(true);
    expect(outs.filter((o) => !o.ran).length).toBeGreaterThanOrEqual(1);
    const sorted = [...spans].sort((x, y) => x[0] - y[0]);
    sorted.slice(1).forEach((sp, i) => {
      expect(sp[0], 'runs overlap').toBeGreaterThanOrEqual((sorted[i] as [number, number])[1]);
    });
    // Once it is over, the next trigger runs.
    expect(await replicas[0]?.trigger(id)).toMatchObject({ ran: true, status: 'succeeded' });
    expect(triggers.every((t) => t === 'manual')).toBe(true);
    const rows = await runs(db, id);
    expect(rows).toHaveLength(ran.length + 1);
    expect(rows.every((r) => r.trigger === 'manual' && r.status === 'succeeded' && r.claim === null)).toBe(true);
    await expect(replicas[0]?.trigger('test.nope')).rejects.toMatchObject({ code: 'job_not_found', status: 404 });
    await expect(replicas[0]?.trigger('test.nope')).rejects.toThrow(/test\.nope/);
  });

  it('missed ticks: run-once runs the previous tick once at start when the last recorded tick is older; skip does not', async () => {
    const previous = new Cron(YEARLY, { timezone: TZ, paused: true }).previousRuns(1, new Date())[0] as Date;
    const longAgo = new Date(previous.getTime() - 365 * 86_400_000);
    const once = jobId('missed-once');
    const skip = jobId('missed-skip');
    const upToDate = jobId('missed-uptodate');
    const never = jobId('missed-never');
    const history = (job: string, at: Date) => ({
      job_id: job,
      scheduled_for: at,
      trigger: 'schedule' as const,
      node: 'old',
      claim: job,
      status: 'succeeded' as const,
      finished_at: at,
    });
    await db
      .insertInto('core_job_runs')
      .values([history(once, longAgo), history(skip, longAgo), history(upToDate, previous)])
      .execute();
    // A manual run after the missed tick does not count as having run the schedule.
    await db
      .insertInto('core_job_runs')
      .values({ ...history(once, new Date()), trigger: 'manual', claim: null })
      .execute();

    const calls: Record<string, JobContext[]> = { [once]: [], [skip]: [], [upToDate]: [], [never]: [] };
    const def = (id: string, missed: 'skip' | 'run-once'): JobDefinition => ({
      id,
      cron: YEARLY,
      missed,
      async run(ctx) {
        calls[id]?.push(ctx);
      },
    });
    // Two replicas start together: the missed tick still runs once.
    const a = scheduler();
    const b = scheduler(true);
    for (const s of [a, b]) {
      s.register(def(once, 'run-once'));
      s.register(def(skip, 'skip'));
      s.register(def(upToDate, 'run-once'));
      s.register(def(never, 'run-once'));
    }
    await Promise.all([a.start(), b.start()]);
    await waitFor(async () => (await runs(db, once)).some((r) => r.trigger === 'missed' && r.status === 'succeeded'), 5_000);
    // stop() waits for both replicas' catch-up runs: anything either would do has been done.
    await Promise.all([a.stop(2_000), b.stop(2_000)]);
    const onceRows = (await runs(db, once)).filter((r) => r.trigger === 'missed');
    expect(onceRows).toHaveLength(1);
    expect(onceRows[0]?.scheduled_for.getTime()).toBe(previous.getTime());
    expect(calls[once]).toHaveLength(1);
    expect(calls[once]?.[0]?.trigger).toBe('missed');
    expect(calls[once]?.[0]?.scheduledFor.getTime()).toBe(previous.getTime());
    expect(calls[skip]).toHaveLength(0);
    expect(calls[upToDate]).toHaveLength(0);
    expect(calls[never]).toHaveLength(0);
    expect(await runs(db, skip)).toHaveLength(1);
    expect(await runs(db, never)).toHaveLength(0);
  });

  it('register rejects an invalid cron and a duplicate id, naming the job', () => {
    const s = scheduler();
    expect(() => s.register({ id: 'reports.monthly-invoices', cron: '61 * * * *', run: async () => {} })).toThrow(/reports\.monthly-invoices/);
    expect(() => s.register({ id: 'reports.weekly', cron: 'every tuesday', run: async () => {} })).toThrow(/reports\.weekly.*every tuesday/);
    s.register({ id: 'reports.ok', cron: '0 2 * * *', run: async () => {} });
    expect(() => s.register({ id: 'reports.ok', cron: '0 3 * * *', run: async () => {} })).toThrow(/reports\.ok/);
    expect(s.list().map((j) => j.id)).toEqual(['reports.ok']);
  });
});
