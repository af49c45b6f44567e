import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { coreMigrations } from '../domain/migrations.js';
import type { CoreDatabase } from '../domain/schema.js';
import { createLogger, currentRequestId, withRequestContext } from '../logging/logger.js';
import { createMetrics } from '../metrics/registry.js';
import { openDatabase } from '../storage/database.js';
import { migrateUp } from '../storage/migrations.js';
import { BACKENDS, createTestDatabase, deferred, sleep, type TestDatabase, waitFor } from '../testing/index.js';
import { defineTask, PgTaskQueue, type TaskContext } from './task-queue.js';

const log = createLogger({ service: 'test', level: 'silent' });

function newQueue(db: Kysely<CoreDatabase>, options: Partial<{ concurrency: number; pollIntervalMs: number }> = {}): PgTaskQueue {
  return new PgTaskQueue(db, log, createMetrics().core, { concurrency: 4, pollIntervalMs: 25, ...options });
}

async function taskRows(db: Kysely<CoreDatabase>, name: string) {
  return db.selectFrom('core_tasks').selectAll().where('name', '=', name).orderBy('id').execute();
}

describe.each(BACKENDS)('task queue (%s)', (backend) => {
  let tdb: TestDatabase;
  let db: Kysely<CoreDatabase>;
  let queues: PgTaskQueue[] = [];
  let n = 0;
  const uniqueName = (what: string) => `test.${what}.${++n}`;
  const queue = (options?: Partial<{ concurrency: number; pollIntervalMs: number }>) => {
    const q = newQueue(db, options);
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = tdb.database.db;
    await migrateUp(db, [coreMigrations]);
  });
  afterEach(async () => {
    await Promise.all(queues.map((q) => q.stop(200)));
    queues = [];
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it('runs an enqueued task once with its payload, then marks it done', async () => {
    const T = defineTask<{ phone: string; amounts: number[]; note: string }>(uniqueName('once'));
    const seen: Array<{ payload: unknown; ctx: Omit<TaskContext, 'log' | 'signal'> }> = [];
    const q = queue();
    q.handle(T, async (payload, ctx) => {
      seen.push({ payload, ctx: { taskId: ctx.taskId, attempt: ctx.attempt } });
    });
    q.start();
    const payload = { phone: '+2290197000000', amounts: [1000, 5000], note: 'forfait épuisé' };
    const id = await q.enqueue(T, payload);
    expect(id).toMatch(/^\d+$/);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'done', 5_000);
    const [row] = await taskRows(db, T.name);
    expect(seen).toEqual([{ payload, ctx: { taskId: id, attempt: 1 } }]);
    expect(row).toMatchObject({ status: 'done', attempts: 1, locked_by: null, locked_until: null, last_error: null });
    expect(row?.finished_at).toBeInstanceOf(Date);
    // Nothing left to run.
    await q.drain();
    expect(seen).toHaveLength(1);
  });

  it('rejects a second handler for the same task', () => {
    const T = defineTask<void>(uniqueName('dup'));
    const q = queue();
    q.handle(T, async () => {});
    expect(() => q.handle(T, async () => {})).toThrow(new RegExp(T.name.replace(/\./g, '\\.')));
  });

  it('outbox: a task enqueued in a rolled-back transaction never exists', async () => {
    const T = defineTask<{ n: number }>(uniqueName('outbox-rollback'));
    const runs: number[] = [];
    const q = queue();
    q.handle(T, async (p) => {
      runs.push(p.n);
    });
    q.start();
    await expect(
      db.transaction().execute(async (trx) => {
        expect(await q.enqueue(T, { n: 1 }, { trx })).toMatch(/^\d+$/);
        throw new Error('payment failed, roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await taskRows(db, T.name)).toEqual([]);
    // A committed sibling proves the worker was polling all along.
    const Marker = defineTask<void>(uniqueName('outbox-marker'));
    let marker = false;
    q.handle(Marker, async () => {
      marker = true;
    });
    await q.enqueue(Marker, undefined);
    await waitFor(() => marker, 5_000);
    expect(runs).toEqual([]);
  });

  it('outbox: a task enqueued in a committed transaction runs after the commit', async () => {
    const T = defineTask<{ n: number }>(uniqueName('outbox-commit'));
    const runs: number[] = [];
    const q = queue();
    q.handle(T, async (p) => {
      runs.push(p.n);
    });
    q.start();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('resellers')
        .values({ name: 'Outbox SARL', slug: `outbox-${n}`, phone: null, email: null })
        .execute();
      await q.enqueue(T, { n: 7 }, { trx });
    });
    await waitFor(() => runs.length === 1, 5_000);
    expect(runs).toEqual([7]);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'done', 5_000);
  });

  it('retries a failing task with growing backoff, then parks it as dead after maxAttempts', async () => {
    const T = defineTask<{ id: string }>(uniqueName('fail'));
    const starts: number[] = [];
    const attempts: number[] = [];
    const q = queue();
    q.handle(
      T,
      async (_p, ctx) => {
        starts.push(Date.now());
        attempts.push(ctx.attempt);
        throw new Error(`provider down (attempt ${ctx.attempt})`);
      },
      { maxAttempts: 4, backoffSeconds: 0.1 },
    );
    q.start();
    await q.enqueue(T, { id: 'x' });
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'dead', 10_000);
    const [row] = await taskRows(db, T.name);
    expect(row).toMatchObject({ status: 'dead', attempts: 4, max_attempts: 4, last_error: 'provider down (attempt 4)', locked_by: null });
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect(attempts).toEqual([1, 2, 3, 4]);
    // Exponential backoff with ±20 % jitter: 100, 200, 400 ms at least 80, 160, 320 ms.
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    gaps.forEach((gap, i) => {
      expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual(80 * 2 ** i - 5);
    });
    // A dead task is never claimed again.
    await q.drain();
    expect(attempts).toHaveLength(4);
  });

  it('an enqueue-time maxAttempts overrides the handler default', async () => {
    const T = defineTask<void>(uniqueName('fail-once'));
    let calls = 0;
    const q = queue();
    q.handle(
      T,
      async () => {
        calls++;
        throw new Error('nope');
      },
      { maxAttempts: 5, backoffSeconds: 0.05 },
    );
    await q.enqueue(T, undefined, { maxAttempts: 1 });
    await q.drain();
    expect(calls).toBe(1);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'dead', attempts: 1, max_attempts: 1, last_error: 'nope' });
  });

  it('a task enqueued where its handler is not registered gets the limit of the replica that runs it', async () => {
    const T = defineTask<void>(uniqueName('elsewhere'));
    // An API-only replica: no handler for T.
    const apiReplica = queue();
    await apiReplica.enqueue(T, undefined);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'pending', max_attempts: null });
    let calls = 0;
    const worker = queue();
    worker.handle(
      T,
      async () => {
        calls++;
        throw new Error('still failing');
      },
      { maxAttempts: 2, backoffSeconds: 0.05 },
    );
    worker.start();
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'dead', 10_000);
    expect(calls).toBe(2);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'dead', attempts: 2, max_attempts: 2, last_error: 'still failing' });
  });

  it('a task enqueued in a transaction starts at commit, not at the next poll (LISTEN/NOTIFY)', async () => {
    const T = defineTask<{ n: number }>(uniqueName('after-commit'));
    const ran = deferred<number>();
    // A poll interval far beyond the wait below: only the notification can start the task in time.
    const q = new PgTaskQueue(db, log, createMetrics().core, { concurrency: 2, pollIntervalMs: 60_000 }, tdb.database);
    queues.push(q);
    q.handle(T, async () => ran.resolve(Date.now()));
    q.start();
    expect(await q.listening()).toBe(true);
    await sleep(300); // the first poll (at start) has run and found nothing
    let committedAt = 0;
    await db.transaction().execute(async (trx) => {
      await q.enqueue(T, { n: 1 }, { trx });
      // Not visible, and not started, before commit.
      await sleep(200);
      expect(await Promise.race([ran.promise.then(() => 'ran'), sleep(0).then(() => 'waiting')])).toBe('waiting');
      committedAt = Date.now();
    });
    const startedAt = await Promise.race([ran.promise, sleep(10_000).then(() => Number.NaN)]);
    expect(startedAt - committedAt).toBeLessThan(5_000);
  });

  it('a burst of enqueues wakes another replica with a few coalesced notifications, not one each', async () => {
    const T = defineTask<{ i: number }>(uniqueName('burst'));
    const heard: string[] = [];
    const stopHearing = await tdb.database.listen('rgz_tasks', (name) => {
      if (name === T.name) heard.push(name);
    });
    // The enqueuing replica has no handler for T; the worker's poll interval is far beyond the wait below, so only
    // notifications can start the tasks in time.
    // A window far longer than the burst, so the count does not depend on how fast this machine inserts.
    const api = new PgTaskQueue(db, log, createMetrics().core, { concurrency: 4, pollIntervalMs: 60_000, notifyCoalesceMs: 1_000 }, tdb.database);
    queues.push(api);
    const worker = new PgTaskQueue(db, log, createMetrics().core, { concurrency: 8, pollIntervalMs: 60_000 }, tdb.database);
    queues.push(worker);
    const ran = new Set<number>();
    worker.handle(T, async ({ i }) => {
      ran.add(i);
    });
    api.start();
    worker.start();
    expect(await worker.listening()).toBe(true);
    await sleep(300);
    try {
      for (let i = 0; i < 60; i++) await api.enqueue(T, { i });
      await waitFor(() => ran.size === 60, 10_000, { message: 'every task run by the other replica' });
      // The first enqueue's notification at once, then one per elapsed window: a handful, not sixty.
      expect(heard.length).toBeGreaterThanOrEqual(1);
      expect(heard.length).toBeLessThanOrEqual(6);
    } finally {
      await stopHearing();
    }
  });

  it('succeeds on a retry after failures and clears the error', async () => {
    const T = defineTask<void>(uniqueName('flaky'));
    let calls = 0;
    const q = queue();
    q.handle(
      T,
      async () => {
        calls++;
        if (calls < 3) throw new Error(`flaky ${calls}`);
      },
      { maxAttempts: 5, backoffSeconds: 0.05 },
    );
    q.start();
    await q.enqueue(T, undefined);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'done', 5_000);
    expect(calls).toBe(3);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'done', attempts: 3, last_error: null });
  });

  it('ignores a second enqueue with the same dedupeKey', async () => {
    const T = defineTask<{ v: number }>(uniqueName('dedupe'));
    const runs: number[] = [];
    const q = queue();
    q.handle(T, async (p) => {
      runs.push(p.v);
    });
    const key = `payment:${n}`;
    const first = await q.enqueue(T, { v: 1 }, { dedupeKey: key });
    const second = await q.enqueue(T, { v: 2 }, { dedupeKey: key });
    expect(first).toMatch(/^\d+$/);
    expect(second).toBeNull();
    // Inside a transaction too.
    const third = await db.transaction().execute((trx) => q.enqueue(T, { v: 3 }, { trx, dedupeKey: key }));
    expect(third).toBeNull();
    await q.drain();
    expect(runs).toEqual([1]);
    expect(await taskRows(db, T.name)).toHaveLength(1);
    // Still ignored after the first one is done.
    expect(await q.enqueue(T, { v: 4 }, { dedupeKey: key })).toBeNull();
  });

  it('does not run a task before runAt', async () => {
    const T = defineTask<void>(uniqueName('later'));
    let calls = 0;
    const q = queue();
    q.handle(T, async () => {
      calls++;
    });
    await q.enqueue(T, undefined, { runAt: new Date(Date.now() + 60_000) });
    await q.drain();
    expect(calls).toBe(0);
    expect((await taskRows(db, T.name))[0]?.status).toBe('pending');
  });

  it('a task whose worker died is taken over by another queue once its lease runs out, and the stale worker cannot overwrite it', async () => {
    const T = defineTask<{ k: string }>(uniqueName('lease'));
    const gate = deferred();
    const runsA: number[] = [];
    const runsB: number[] = [];
    const a = queue();
    const b = queue();
    a.handle(T, async (_p, ctx) => {
      runsA.push(ctx.attempt);
      await gate.promise; // "crashed": never finishes while B looks
    });
    b.handle(T, async (_p, ctx) => {
      runsB.push(ctx.attempt);
    });
    a.start();
    await a.enqueue(T, { k: 'v' });
    await waitFor(() => runsA.length === 1, 5_000);
    const claimed = (await taskRows(db, T.name))[0];
    expect(claimed).toMatchObject({ status: 'running', attempts: 1 });
    expect(claimed?.locked_by).toBeTruthy();
    expect(claimed?.locked_until?.getTime()).toBeGreaterThan(Date.now());

    // While the lease holds, another worker leaves it alone.
    await b.drain();
    expect(runsB).toEqual([]);

    // The lease runs out (as if A's process had died long ago).
    await sql`update core_tasks set locked_until = now() - interval '1 second' where name = ${T.name}`.execute(db);
    await b.drain();
    expect(runsB).toEqual([2]);
    const taken = (await taskRows(db, T.name))[0];
    expect(taken).toMatchObject({ status: 'done', attempts: 2, locked_by: null });

    // A wakes up and finishes: its lease is gone, so its write changes nothing.
    gate.resolve();
    await a.stop(1_000);
    const final = (await taskRows(db, T.name))[0];
    expect(final).toMatchObject({ status: 'done', attempts: 2, locked_by: null });
    expect(final?.finished_at?.getTime()).toBe(taken?.finished_at?.getTime());
  });

  it('picks up a task left running by a vanished node with an expired lease', async () => {
    const T = defineTask<void>(uniqueName('orphan'));
    const id = await newQueue(db).enqueue(T, undefined);
    await sql`update core_tasks set status = 'running', attempts = 1, locked_by = 'ghost:1', locked_until = now() - interval '5 seconds' where id = ${Number(id)}`.execute(
      db,
    );
    const runs: number[] = [];
    const q = queue();
    q.handle(T, async (_p, ctx) => {
      runs.push(ctx.attempt);
    });
    q.start();
    await waitFor(() => runs.length === 1, 5_000);
    expect(runs).toEqual([2]);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'done', 5_000);
  });

  it('aborts an attempt that exceeds its timeout and retries it', async () => {
    const T = defineTask<void>(uniqueName('timeout'));
    const reasons: string[] = [];
    const q = queue();
    q.handle(
      T,
      async (_p, ctx) => {
        if (ctx.attempt === 1) {
          // Hang until aborted (bounded by the test timeout).
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
          reasons.push(String((ctx.signal.reason as Error).message));
          return;
        }
        expect(ctx.signal.aborted).toBe(false);
      },
      { timeoutSeconds: 0.2, backoffSeconds: 0.05, maxAttempts: 3 },
    );
    q.start();
    const started = Date.now();
    await q.enqueue(T, undefined);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'done', 5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/timed out/);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('stop() aborts in-flight tasks after the grace period and leaves them to be retried', async () => {
    const T = defineTask<void>(uniqueName('stop'));
    let aborted = false;
    const q = newQueue(db);
    q.handle(
      T,
      async (_p, ctx) => {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted = true;
      },
      { backoffSeconds: 0.05 },
    );
    q.start();
    await q.enqueue(T, undefined);
    await waitFor(async () => (await taskRows(db, T.name))[0]?.status === 'running', 5_000);
    await q.stop(50);
    expect(aborted).toBe(true);
    expect((await taskRows(db, T.name))[0]).toMatchObject({ status: 'pending', attempts: 1, last_error: 'shutting down', locked_by: null });
  });

  it('runs the handler with the request id that was current at enqueue time', async () => {
    const T = defineTask<void>(uniqueName('reqid'));
    const ids: Array<string | undefined> = [];
    const q = queue();
    q.handle(T, async () => {
      ids.push(currentRequestId());
    });
    q.start();
    await withRequestContext('req-otp-42', () => q.enqueue(T, undefined));
    await withRequestContext('req-other', async () => {
      await waitFor(() => ids.length === 1, 5_000);
    });
    expect(ids).toEqual(['req-otp-42']);
    expect((await taskRows(db, T.name))[0]?.request_id).toBe('req-otp-42');
  });
});

describe('task queue across replicas (real backend)', () => {
  it('two queues on separate connections run each of 200 tasks exactly once', async () => {
    const tdb = await createTestDatabase('real');
    const other = await openDatabase({ url: tdb.url as string, poolMax: 4 });
    const q1 = newQueue(tdb.database.db, { concurrency: 4, pollIntervalMs: 10 });
    const q2 = newQueue(other.db, { concurrency: 4, pollIntervalMs: 10 });
    try {
      await migrateUp(tdb.database.db, [coreMigrations]);
      const T = defineTask<{ i: number }>('test.fanout');
      const executions = new Map<number, number>();
      const byQueue = [0, 0];
      for (const [index, q] of [q1, q2].entries()) {
        q.handle(T, async ({ i }) => {
          executions.set(i, (executions.get(i) ?? 0) + 1);
          byQueue[index] = (byQueue[index] ?? 0) + 1;
          await sleep(2);
        });
      }
      q1.start();
      q2.start();
      for (let i = 0; i < 200; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => (j % 2 ? q1 : q2).enqueue(T, { i: i + j })));
      }
      await waitFor(
        async () => (await sql<{ n: number }>`select count(*)::int as n from core_tasks where status = 'done'`.execute(tdb.database.db)).rows[0]?.n === 200,
        30_000,
      );
      expect(executions.size).toBe(200);
      expect([...executions.values()].every((c) => c === 1)).toBe(true);
      expect((byQueue[0] as number) + (byQueue[1] as number)).toBe(200);
      expect(byQueue[0]).toBeGreaterThan(0);
      expect(byQueue[1]).toBeGreaterThan(0);
      const attempts = await sql<{ n: number }>`select count(*)::int as n from core_tasks where attempts <> 1`.execute(tdb.database.db);
      expect(attempts.rows[0]?.n).toBe(0);
    } finally {
      await Promise.all([q1.stop(500), q2.stop(500)]);
      await other.close();
      await tdb.drop();
    }
  });
});
