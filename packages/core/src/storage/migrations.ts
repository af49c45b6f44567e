/**
 * Plugin-owned migrations, run in dependency order under one PostgreSQL advisory lock so that two replicas
 * starting together never migrate at once. Each migration is named `<plugin>_<nnnn>_<what>` and recorded in
 * `core_migrations`; re-running is a no-op.
 */
import { type Kysely, sql } from 'kysely';
import { RgzError } from '../errors/rgz-error.js';

export interface Migration {
  up(db: Kysely<any>): Promise<void>;
  down?(db: Kysely<any>): Promise<void>;
}

export interface MigrationSet {
  /** The owning plugin (core tables use `core`). */
  owner: string;
  migrations: Record<string, Migration>;
}

/** Any 64-bit number unique to RGZ; "RGZMIGR" in ASCII. */
const MIGRATION_LOCK_KEY = 0x52475a4d494752n;

const NAME_PATTERN = /^([a-z][a-z0-9_]*)_(\d{4})_([a-z0-9_]+)$/;

export function validateMigrationNames(set: MigrationSet): void {
  const prefix = set.owner.replace(/-/g, '_');
  for (const name of Object.keys(set.migrations)) {
    const m = NAME_PATTERN.exec(name);
    if (!m || m[1] !== prefix) {
      throw new RgzError(
        'migration_name_invalid',
        `migration "${name}" of ${set.owner} must be named ${prefix}_<nnnn>_<what> (e.g. ${prefix}_0001_create_tables)`,
      );
    }
  }
}

export interface MigrationStatus {
  owner: string;
  name: string;
  appliedAt: Date | null;
}

async function ensureTable(db: Kysely<any>): Promise<void> {
  await sql`create table if not exists core_migrations (
    name text primary key,
    owner text not null,
    applied_at timestamptz not null default now()
  )`.execute(db);
}

/** Apply every pending migration, sets in the order given (dependency order), names sorted within a set. */
export async function migrateUp(db: Kysely<any>, sets: MigrationSet[]): Promise<string[]> {
  for (const set of sets) validateMigrationNames(set);
  const applied: string[] = [];
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(conn);
    try {
      await ensureTable(conn);
      const done = new Set((await sql<{ name: string }>`select name from core_migrations`.execute(conn)).rows.map((r) => r.name));
      for (const set of sets) {
        for (const name of Object.keys(set.migrations).sort()) {
          if (done.has(name)) continue;
          const migration = set.migrations[name] as Migration;
          try {
            await conn.transaction().execute(async (trx) => {
              await migration.up(trx);
              await sql`insert into core_migrations (name, owner) values (${name}, ${set.owner})`.execute(trx);
            });
          } catch (err) {
            // Rolled back and not recorded; say which one so the operator knows where to look.
            throw new RgzError('migration_failed', `migration "${name}" of ${set.owner} failed and was rolled back: ${(err as Error).message}`, { cause: err });
          }
          applied.push(name);
        }
      }
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(conn);
    }
  });
  return applied;
}

export async function migrationStatus(db: Kysely<any>, sets: MigrationSet[]): Promise<MigrationStatus[]> {
  await ensureTable(db);
  const rows = (await sql<{ name: string; applied_at: Date }>`select name, applied_at from core_migrations`.execute(db)).rows;
  const appliedAt = new Map(rows.map((r) => [r.name, r.applied_at]));
  return sets.flatMap((set) =>
    Object.keys(set.migrations)
      .sort()
      .map((name) => ({ owner: set.owner, name, appliedAt: appliedAt.get(name) ?? null })),
  );
}
