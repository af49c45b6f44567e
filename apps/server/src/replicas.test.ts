/**
 * Three `rgz start` processes on one PostgreSQL + Redis: they migrate once, run each scheduled tick once, run
 * each task once, take over a task from a replica killed mid-run, and finish in-flight requests on SIGTERM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, TokenService } from '@rgz/core';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Replica, startReplica } from './test-support/replicas.js';

const fixture = fileURLToPath(new URL('./test-support/fixtures/replica-plugin.ts', import.meta.url));

describe('three replicas on one PostgreSQL + Redis', () => {
  let tdb: TestDatabase;
  let replicas: Replica[] = [];
  let token = '';
  const db = () => tdb.database.db;

  beforeAll(async () => {
    tdb = await createTestDatabase('real');
    const dir = mkdtempSync(join(tmpdir(), 'rgz-replicas-'));
    const configPath = join(dir, 'rgz.config.yaml');
    writeFileSync(configPath, `plugins:\n  - package: ${JSON.stringify(fixture)}\ntasks:\n  pollIntervalMs: 100\n`);
    const env = { DATABASE_URL: tdb.url as string, REDIS_URL: TEST_REDIS_URL, RGZ_REDIS__KEY_PREFIX: `rep${process.pid}:` };
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(configPath, env)));
    token = (await new TokenService(db()).issue({ role: 'noc', name: 'replica-test' })).token;
  }, 120_000);

  afterAll(async () => {
    for (const r of replicas) r.proc.kill('SIGKILL');
    await tdb?.drop();
  });

  it('migrates once although all three start together', async () => {
    const runs = await sql<{ n: number }>`select count(*)::int as n from replica_migration_runs`.execute(db());
    expect(runs.rows[0]?.n).toBe(1);
    const dupes = await sql<{ n: number }>`select count(*)::int as n from (select name from core_migrations group by name having count(*) > 1) d`.execute(db());
    expect(dupes.rows[0]?.n).toBe(0);
  });

  it('runs each scheduled tick exactly once across replicas', async () => {
    await new Promise((r) => setTimeout(r, 4_500));
    const ticks = await sql<{ total: number; distinct_ticks: number }>`
      select count(*)::int as total, count(distinct scheduled_for)::int as distinct_ticks from replica_ticks`.execute(db());
    const row = ticks.rows[0] as { total: number; distinct_ticks: number };
    expect(row.distinct_ticks).toBeGreaterThanOrEqual(3);
    expect(row.total).toBe(row.distinct_ticks);
    const history = await db().selectFrom('core_job_runs').select(['scheduled_for']).where('job_id', '=', 'replica.tick').execute();
    expect(new Set(history.map((h) => h.scheduled_for.toISOString())).size).toBe(history.length);
  });

  it('runs each of 90 tasks exactly once across the replicas', async () => {
    const keys = Array.from({ length: 90 }, (_, i) => `k${i}`);
    const res = await fetch(`http://127.0.0.1:${replicas[0]?.port}/api/replica/enqueue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keys }),
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () => {
        const r = await sql<{ n: number }>`select count(*)::int as n from replica_task_runs where phase = 'done' and key like 'k%'`.execute(db());
        return (r.rows[0]?.n ?? 0) >= keys.length;
      },
      30_000,
      { intervalMs: 200, message: 'all tasks done' },
    );
    await new Promise((r) => setTimeout(r, 500));
    const perKey = await sql<{
      key: string;
      n: number;
    }>`select key, count(*)::int as n from replica_task_runs where phase = 'done' and key like 'k%' group by key`.execute(db());
    expect(perKey.rows).toHaveLength(keys.length);
    expect(perKey.rows.every((r) => r.n === 1)).toBe(true);
  });

  it('finishes a task whose replica was killed mid-run on another replica', async () => {
    const res = await fetch(`http://127.0.0.1:${replicas[0]?.port}/api/replica/enqueue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ keys: ['crash-me'], sleepMs: 2500 }),
    });
    expect(res.status).toBe(202);
    const started = await waitFor(
      async () => (await sql<{ node: string }>`select node from replica_task_runs where key = 'crash-me' and phase = 'start'`.execute(db())).rows[0],
      10_000,
      { intervalMs: 200, message: 'task start' },
    );
    const victim = replicas.find((r) => String(r.pid) === started.node) as Replica;
    expect(victim).toBeDefined();
    victim.proc.kill('SIGKILL');
    await victim.exited;
    // Dropped at once so that a failure below does not hand a dead replica to the next test.
    replicas = replicas.filter((r) => r !== victim);
    const done = await waitFor(
      async () => (await sql<{ node: string }>`select node from replica_task_runs where key = 'crash-me' and phase = 'done'`.execute(db())).rows[0],
      20_000,
      { intervalMs: 200, message: 'task finished elsewhere' },
    );
    expect(done.node).not.toBe(started.node);
    // The handler's 'done' row commits before the queue records the outcome, so wait for the queue's own word.
    const task = await waitFor(
      async () => {
        const row = await db()
          .selectFrom('core_tasks')
          .select(['status', 'attempts'])
          .where('name', '=', 'replica.work')
          .where(sql`payload->>'key'`, '=', 'crash-me')
          .executeTakeFirstOrThrow();
        return row.status === 'running' ? undefined : row;
      },
      5_000,
      { intervalMs: 200, message: 'the queue to record the outcome' },
    );
    expect(task.status).toBe('done');
    expect(task.attempts).toBe(2);
  }, 40_000);

  it('finishes in-flight requests on SIGTERM, then exits cleanly', async () => {
    const target = replicas[replicas.length - 1] as Replica;
    const inflight = fetch(`http://127.0.0.1:${target.port}/api/replica/slow?ms=1500`);
    // Awaited below; the no-op catch only keeps an early failure from surfacing as an unhandled rejection.
    inflight.catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    target.proc.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slept: 1500 });
    expect(await target.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${target.port}/health`)).rejects.toThrow();
  }, 30_000);
});
