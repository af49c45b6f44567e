/**
 * The dba plugin's tables (Kysely types) and migrations: every run (`dba_runs`), its per-site results
 * (`dba_site_results`) and per-subscriber allocations (`dba_allocations`: inputs, outputs, the push and its ACK/NAK),
 * the rate last pushed to each subscriber (`dba_rates`, the hysteresis baseline) and the byte counters of open RADIUS
 * sessions at the previous run (`dba_session_snapshots`, to turn cumulative counters into rates).
 * Site ids are the inventory's (no foreign key: plugin tables only point into core tables).
 */
import { type CoreDatabase, type Migration, sql } from '@rgz/core';
import type { ColumnType, Generated } from 'kysely';

type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
type Json<T = unknown> = ColumnType<T, T | string, T | string>;

/** bigint columns come back as numbers (core's pg type parser). */
export interface DbaRunsTable {
  id: Generated<number>;
  started_at: GeneratedTimestamp;
  finished_at: NullableTimestamp;
  trigger: 'schedule' | 'manual';
  dry_run: boolean;
  status: 'running' | 'succeeded' | 'failed';
  sites: Generated<number>;
  subscribers: Generated<number>;
  congested_sites: Generated<number>;
  pushes: Generated<number>;
  suppressed: Generated<number>;
  error: string | null;
  /** Parameters used and sites skipped, for the explanation. */
  summary: Json<Record<string, unknown>>;
}

export interface DbaSiteResultsTable {
  run_id: number;
  site_id: string;
  site_name: string;
  reseller_id: string | null;
  subscribers: number;
  /** Why the site was not allocated (`no_capacity`), else null. */
  skipped: string | null;
  capacity_down_kbps: number | null;
  capacity_up_kbps: number | null;
  demand_down_kbps: number;
  demand_up_kbps: number;
  allocated_down_kbps: number;
  allocated_up_kbps: number;
  /** Water level when congested, else null. */
  level_down_kbps: number | null;
  level_up_kbps: number | null;
  congested_down: boolean;
  congested_up: boolean;
  floor_scale_down: number;
  floor_scale_up: number;
}

export type Decision = 'push' | 'would_push' | 'hold' | 'same';
export type PushStatus = 'queued' | 'ack' | 'nak' | 'timeout' | 'error' | 'no_session' | 'skipped' | 'failed' | 'done';

export interface DbaAllocationsTable {
  id: Generated<number>;
  run_id: number;
  site_id: string;
  /** The site's reseller (scopes what a reseller sees). */
  reseller_id: string | null;
  subscriber_id: string;
  plan_code: string;
  /** Open RADIUS sessions at the run. */
  sessions: number;
  demand_down_kbps: number;
  demand_up_kbps: number;
  /** Plan MIR; null = unlimited. */
  plan_down_kbps: number | null;
  plan_up_kbps: number | null;
  cir_down_kbps: number;
  cir_up_kbps: number;
  share_down_kbps: number;
  share_up_kbps: number;
  /** Computed limit; up is null when the site's upload capacity is unknown (not managed). */
  mir_down_kbps: number;
  mir_up_kbps: number | null;
  burst_down_kbps: number;
  burst_up_kbps: number | null;
  /** Rate in force before this run (last pushed, or the plan's). */
  previous_down_kbps: number | null;
  previous_up_kbps: number | null;
  decision: Decision;
  task_id: string | null;
  push_status: PushStatus | null;
  push_detail: Json<Record<string, unknown>> | null;
}

export interface DbaRatesTable {
  subscriber_id: string;
  down_kbps: number | null;
  up_kbps: number | null;
  burst_down_kbps: number | null;
  burst_up_kbps: number | null;
  site_id: string;
  run_id: number;
  /** Refreshed by every run (the KV key's TTL runs from here). */
  updated_at: GeneratedTimestamp;
  pushed_at: NullableTimestamp;
}

export interface DbaSessionSnapshotsTable {
  session_id: number;
  subscriber_id: string;
  bytes_in: number;
  bytes_out: number;
  last_update: ColumnType<Date, Date | string, Date | string>;
  rate_down_kbps: number;
  rate_up_kbps: number;
  seen_at: GeneratedTimestamp;
}

export interface DbaTables {
  dba_runs: DbaRunsTable;
  dba_site_results: DbaSiteResultsTable;
  dba_allocations: DbaAllocationsTable;
  dba_rates: DbaRatesTable;
  dba_session_snapshots: DbaSessionSnapshotsTable;
}

export type DbaDatabase = CoreDatabase & DbaTables;

export const migrations: Record<string, Migration> = {
  dba_0001_runs: {
    async up(db) {
      await sql`create table dba_runs (
        id bigserial primary key,
        started_at timestamptz not null default now(),
        finished_at timestamptz,
        trigger text not null check (trigger in ('schedule','manual')),
        dry_run boolean not null,
        status text not null check (status in ('running','succeeded','failed')),
        sites integer not null default 0,
        subscribers integer not null default 0,
        congested_sites integer not null default 0,
        pushes integer not null default 0,
        suppressed integer not null default 0,
        error text,
        summary jsonb not null default '{}'::jsonb
      )`.execute(db);
      await sql`create index dba_runs_started_idx on dba_runs (started_at desc)`.execute(db);
      await sql`create table dba_site_results (
        run_id bigint not null references dba_runs(id) on delete cascade,
        site_id text not null,
        site_name text not null,
        reseller_id uuid references resellers(id) on delete set null,
        subscribers integer not null,
        skipped text,
        capacity_down_kbps integer,
        capacity_up_kbps integer,
        demand_down_kbps bigint not null,
        demand_up_kbps bigint not null,
        allocated_down_kbps bigint not null,
        allocated_up_kbps bigint not null,
        level_down_kbps double precision,
        level_up_kbps double precision,
        congested_down boolean not null,
        congested_up boolean not null,
        floor_scale_down double precision not null,
        floor_scale_up double precision not null,
        primary key (run_id, site_id)
      )`.execute(db);
      await sql`create table dba_allocations (
        id bigserial primary key,
        run_id bigint not null references dba_runs(id) on delete cascade,
        site_id text not null,
        reseller_id uuid references resellers(id) on delete set null,
        subscriber_id uuid not null references subscribers(id) on delete cascade,
        plan_code text not null,
        sessions integer not null,
        demand_down_kbps integer not null,
        demand_up_kbps integer not null,
        plan_down_kbps integer,
        plan_up_kbps integer,
        cir_down_kbps integer not null,
        cir_up_kbps integer not null,
        share_down_kbps integer not null,
        share_up_kbps integer not null,
        mir_down_kbps integer not null,
        mir_up_kbps integer,
        burst_down_kbps integer not null,
        burst_up_kbps integer,
        previous_down_kbps integer,
        previous_up_kbps integer,
        decision text not null check (decision in ('push','would_push','hold','same')),
        task_id text,
        push_status text,
        push_detail jsonb
      )`.execute(db);
      await sql`create index dba_allocations_run_idx on dba_allocations (run_id, site_id)`.execute(db);
      await sql`create index dba_allocations_subscriber_idx on dba_allocations (subscriber_id, run_id desc)`.execute(db);
      await sql`create index dba_allocations_queued_idx on dba_allocations (run_id) where push_status = 'queued'`.execute(db);
      await sql`create table dba_rates (
        subscriber_id uuid primary key references subscribers(id) on delete cascade,
        down_kbps integer,
        up_kbps integer,
        burst_down_kbps integer,
        burst_up_kbps integer,
        site_id text not null,
        run_id bigint not null,
        updated_at timestamptz not null default now(),
        pushed_at timestamptz
      )`.execute(db);
      await sql`create table dba_session_snapshots (
        session_id bigint primary key,
        subscriber_id uuid not null,
        bytes_in bigint not null,
        bytes_out bigint not null,
        last_update timestamptz not null,
        rate_down_kbps integer not null,
        rate_up_kbps integer not null,
        seen_at timestamptz not null default now()
      )`.execute(db);
    },
  },
};
