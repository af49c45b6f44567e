/** The plugin's tables: one row per backup run, one per verification. */
import { type Kysely, type Migration, sql } from '@rgz/core';

export const backupMigrations: Record<string, Migration> = {
  backup_0001_runs: {
    async up(db: Kysely<any>) {
      await sql`create table backup_runs (
        id text primary key check (id ~ '^rgz-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$'),
        trigger text not null,
        status text not null check (status in ('running', 'succeeded', 'failed')),
        database_kind text,
        started_at timestamptz not null default now(),
        finished_at timestamptz,
        size_bytes bigint,
        sha256 text,
        targets jsonb not null default '[]',
        verify_status text check (verify_status in ('passed', 'failed', 'skipped')),
        retention jsonb,
        error text,
        node text not null
      )`.execute(db);
      await sql`create index backup_runs_started_idx on backup_runs (started_at desc)`.execute(db);
      await sql`create table backup_verifications (
        id uuid primary key default gen_random_uuid(),
        backup_id text not null,
        target_id text,
        trigger text not null,
        outcome text not null check (outcome in ('running', 'passed', 'failed')),
        stage text,
        started_at timestamptz not null default now(),
        finished_at timestamptz,
        detail jsonb
      )`.execute(db);
      await sql`create index backup_verifications_backup_idx on backup_verifications (backup_id, started_at desc)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table backup_verifications`.execute(db);
      await sql`drop table backup_runs`.execute(db);
    },
  },
};
