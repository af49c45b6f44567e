/**
 * The sla plugin's tables: every probe result (`sla_probes`, one row per target per run: the uptime's raw material)
 * and the breaches it raised (`sla_breaches`, one open row per target and kind, and per period for objectives).
 * Site ids are the inventory's (no foreign key: plugin tables only point into core tables).
 */
import { type CoreDatabase, type Migration, sql } from '@rgz/core';
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
type Json<T = unknown> = ColumnType<T, T | string, T | string>;

export type ProbeKind = 'icmp' | 'http' | 'dns';

export interface SlaProbesTable {
  id: Generated<number>;
  /** The run (one per scheduled tick or manual trigger), to group a round of probes. */
  run_at: Timestamp;
  at: Timestamp;
  target_id: string;
  kind: ProbeKind;
  site_id: string | null;
  reseller_id: string | null;
  success: boolean;
  latency_ms: number | null;
  loss: number | null;
  error: string | null;
  detail: Json<Record<string, unknown>>;
}

export interface SlaBreachesTable {
  id: Generated<number>;
  target_id: string;
  kind: 'down' | 'objective';
  /** `YYYY-MM-DD` / `YYYY-MM` for objectives, '' for down. */
  period_key: string;
  site_id: string | null;
  reseller_id: string | null;
  opened_at: Timestamp;
  resolved_at: NullableTimestamp;
  details: Json<Record<string, unknown>>;
}

export interface SlaTables {
  sla_probes: SlaProbesTable;
  sla_breaches: SlaBreachesTable;
}

export type SlaDatabase = CoreDatabase & SlaTables;

export const migrations: Record<string, Migration> = {
  sla_0001_probes: {
    async up(db) {
      await sql`create table sla_probes (
        id bigserial primary key,
        run_at timestamptz not null,
        at timestamptz not null,
        target_id text not null,
        kind text not null check (kind in ('icmp','http','dns')),
        site_id text,
        reseller_id uuid references resellers(id) on delete set null,
        success boolean not null,
        latency_ms double precision,
        loss real,
        error text,
        detail jsonb not null default '{}'::jsonb
      )`.execute(db);
      await sql`create index sla_probes_target_at_idx on sla_probes (target_id, at)`.execute(db);
      await sql`create index sla_probes_at_idx on sla_probes (at)`.execute(db);
      await sql`create index sla_probes_reseller_at_idx on sla_probes (reseller_id, at)`.execute(db);
      await sql`create table sla_breaches (
        id bigserial primary key,
        target_id text not null,
        kind text not null check (kind in ('down','objective')),
        period_key text not null default '',
        site_id text,
        reseller_id uuid references resellers(id) on delete set null,
        opened_at timestamptz not null,
        resolved_at timestamptz,
        details jsonb not null default '{}'::jsonb
      )`.execute(db);
      // One open breach per target, kind and period: a second run cannot open it twice.
      await sql`create unique index sla_breaches_open_uq on sla_breaches (target_id, kind, period_key) where resolved_at is null`.execute(db);
    },
  },
};
