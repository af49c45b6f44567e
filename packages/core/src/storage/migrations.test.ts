import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreMigrations } from '../domain/migrations.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../testing/index.js';
import { openDatabase } from './database.js';
import { type MigrationSet, migrateUp, migrationStatus, validateMigrationNames } from './migrations.js';

const CORE_NAMES = Object.keys(coreMigrations.migrations).sort();

async function recorded(db: Kysely<any>): Promise<Array<{ name: string; owner: string }>> {
  return (await sql<{ name: string; owner: string }>`select name, owner from core_migrations order by name`.execute(db)).rows;
}

async function tableExists(db: Kysely<any>, table: string): Promise<boolean> {
  const r = await sql<{ t: string | null }>`select to_regclass(${table})::text as t`.execute(db);
  return r.rows[0]?.t != null;
}

describe.each(BACKENDS)('migrations (%s)', (backend) => {
  let tdb: TestDatabase;
  let db: Kysely<any>;

  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = tdb.database.db;
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it('lists every core migration as pending on an empty database', async () => {
    const status = await migrationStatus(db, [coreMigrations]);
    expect(status.map((s) => s.name)).toEqual(CORE_NAMES);
    expect(status.every((s) => s.owner === 'core' && s.appliedAt === null)).toBe(true);
  });

  it('applies core migrations once, in name order, and records them', async () => {
    const applied = await migrateUp(db, [coreMigrations]);
    expect(applied).toEqual(CORE_NAMES);
    expect(await recorded(db)).toEqual(CORE_NAMES.map((name) => ({ name, owner: 'core' })));
    for (const t of ['resellers', 'subscribers', 'plans', 'audit_log', 'core_tasks', 'core_job_runs', 'core_api_tokens']) {
      expect(await tableExists(db, t), t).toBe(true);
    }
    // The seed catalogue went in with the first migration.
    const plans = await sql<{ n: number }>`select count(*)::int as n from plans where reseller_id is null`.execute(db);
    expect(plans.rows[0]?.n).toBe(4);
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    expect(await migrateUp(db, [coreMigrations])).toEqual([]);
    expect(await recorded(db)).toHaveLength(CORE_NAMES.length);
    const plans = await sql<{ n: number }>`select count(*)::int as n from plans`.execute(db);
    expect(plans.rows[0]?.n).toBe(4);
  });

  it('migrationStatus shows applied and pending migrations per owner', async () => {
    const plugin: MigrationSet = {
      owner: 'demo-plugin',
      migrations: {
        demo_plugin_0002_second: { up: (d) => sql`create table demo_plugin_b (id int)`.execute(d).then(() => {}) },
        demo_plugin_0001_first: { up: (d) => sql`create table demo_plugin_a (id int)`.execute(d).then(() => {}) },
      },
    };
    const before = await migrationStatus(db, [coreMigrations, plugin]);
    expect(before.map((s) => [s.name, s.appliedAt !== null])).toEqual([
      ...CORE_NAMES.map((n) => [n, true]),
      ['demo_plugin_0001_first', false],
      ['demo_plugin_0002_second', false],
    ]);
    expect(before.find((s) => s.name === 'core_0001_domain_tables')?.appliedAt).toBeInstanceOf(Date);

    // Names within a set run in sorted order, whatever the object order.
    expect(await migrateUp(db, [coreMigrations, plugin])).toEqual(['demo_plugin_0001_first', 'demo_plugin_0002_second']);
    const after = await migrationStatus(db, [coreMigrations, plugin]);
    expect(after.filter((s) => s.owner === 'demo-plugin').every((s) => s.appliedAt instanceof Date)).toBe(true);
    expect((await recorded(db)).filter((r) => r.owner === 'demo-plugin').map((r) => r.name)).toEqual(['demo_plugin_0001_first', 'demo_plugin_0002_second']);
  });

  it('rejects a badly named migration, naming it, before applying anything', async () => {
    let ran = false;
    const bad: MigrationSet = {
      owner: 'sms-letexto',
      migrations: {
        sms_letexto_0001_ok: {
          async up() {
            ran = true;
          },
        },
        create_stuff: {
          async up() {
            ran = true;
          },
        },
      },
    };
    await expect(migrateUp(db, [bad])).rejects.toThrow(/"create_stuff".*sms_letexto_<nnnn>_<what>/);
    expect(ran).toBe(false);
    // Another plugin's prefix is rejected too: tables and names carry the owner's prefix.
    expect(() => validateMigrationNames({ owner: 'sms-letexto', migrations: { payment_0001_x: { up: async () => {} } } })).toThrow(/payment_0001_x/);
    expect(() => validateMigrationNames({ owner: 'sms-letexto', migrations: { sms_letexto_001_x: { up: async () => {} } } })).toThrow(/sms_letexto_001_x/);
    expect(() => validateMigrationNames({ owner: 'sms-letexto', migrations: { sms_letexto_0001_x: { up: async () => {} } } })).not.toThrow();
  });

  it('rolls back a failing migration, does not record it, and keeps the ones before it', async () => {
    const set: MigrationSet = {
      owner: 'flaky',
      migrations: {
        flaky_0001_good: { up: (d) => sql`create table flaky_good (id int)`.execute(d).then(() => {}) },
        flaky_0002_bad: {
          async up(d) {
            await sql`create table flaky_half (id int)`.execute(d);
            await sql`insert into flaky_good values (1)`.execute(d);
            throw new Error('boom in flaky_0002');
          },
        },
        flaky_0003_after: { up: (d) => sql`create table flaky_after (id int)`.execute(d).then(() => {}) },
      },
    };
    await expect(migrateUp(db, [set])).rejects.toThrow(/flaky_0002_bad.*boom in flaky_0002|boom in flaky_0002/);
    const names = (await recorded(db)).filter((r) => r.owner === 'flaky').map((r) => r.name);
    expect(names).toEqual(['flaky_0001_good']);
    expect(await tableExists(db, 'flaky_good')).toBe(true);
    expect(await tableExists(db, 'flaky_half')).toBe(false);
    expect(await tableExists(db, 'flaky_after')).toBe(false);
    const rows = await sql<{ n: number }>`select count(*)::int as n from flaky_good`.execute(db);
    expect(rows.rows[0]?.n).toBe(0);
    // The lock was released: a fixed set migrates on the next run.
    const fixed: MigrationSet = { owner: 'flaky', migrations: { ...set.migrations, flaky_0002_bad: { up: async () => {} } } };
    expect(await migrateUp(db, [fixed])).toEqual(['flaky_0002_bad', 'flaky_0003_after']);
  });

  it('names the failing migration in the error', async () => {
    const set: MigrationSet = { owner: 'oops', migrations: { oops_0001_x: { up: () => Promise.reject(new Error('no such column')) } } };
    const err = (await migrateUp(db, [set]).then(
      () => new Error('expected migrateUp to reject'),
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(err.code).toBe('migration_failed');
    expect(err.message).toContain('oops_0001_x');
    expect(err.message).toContain('no such column');
  });
});

describe('concurrent migrateUp (real backend)', () => {
  it('applies each migration exactly once across two database handles', async () => {
    const tdb = await createTestDatabase('real');
    const other = await openDatabase({ url: tdb.url as string, poolMax: 2 });
    try {
      const calls = new Map<string, number>();
      // Slow migrations widen the race window: without the lock both handles would run them.
      const slow: MigrationSet = {
        owner: 'race',
        migrations: Object.fromEntries(
          ['race_0001_a', 'race_0002_b', 'race_0003_c'].map((name) => [
            name,
            {
              async up(d: Kysely<any>) {
                calls.set(name, (calls.get(name) ?? 0) + 1);
                await sql`select pg_sleep(0.1)`.execute(d);
                await sql.raw(`create table ${name} (id int)`).execute(d);
              },
            },
          ]),
        ),
      };
      const sets = [coreMigrations, slow];
      const [a, b] = await Promise.all([migrateUp(tdb.database.db, sets), migrateUp(other.db, sets)]);
      const all = [...CORE_NAMES, 'race_0001_a', 'race_0002_b', 'race_0003_c'];
      // One handle won the lock and applied everything; the other found nothing left to do.
      expect([a, b].map((x) => x.length).sort()).toEqual([0, all.length]);
      expect(a.length ? a : b).toEqual(all);
      const rows = await recorded(tdb.database.db);
      expect(rows.map((r) => r.name)).toEqual(all);
      expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
      expect([...calls.values()]).toEqual([1, 1, 1]);
    } finally {
      await other.close();
      await tdb.drop();
    }
  });
});
