/**
 * Core's migrations: the shared domain tables and core machinery. Flows own the rest of the schema.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationSet } from '../storage/migrations.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;
const DAY = 86_400;

/**
 * The seed's catalogue. Decision (documented in docs/configuration.md): every plan is a 30-day subscription;
 * the two small plans carry a daily allowance and a capped rate, the 1 GB and 5 GB plans a monthly allowance
 * with unlimited MIR as the seed says.
 */
export const SEED_PLANS = [
  {
    code: 'DAY10MB',
    name: '10 Mo / jour',
    price_fcfa: 1000,
    quota_bytes: 10 * MB,
    quota_period: 'day',
    validity_seconds: 30 * DAY,
    rate_down_kbps: 1024,
    rate_up_kbps: 512,
  },
  {
    code: 'DAY100MB',
    name: '100 Mo / jour',
    price_fcfa: 5000,
    quota_bytes: 100 * MB,
    quota_period: 'day',
    validity_seconds: 30 * DAY,
    rate_down_kbps: 2048,
    rate_up_kbps: 1024,
  },
  {
    code: 'MONTH1GB',
    name: '1 Go / mois',
    price_fcfa: 10000,
    quota_bytes: GB,
    quota_period: 'month',
    validity_seconds: 30 * DAY,
    rate_down_kbps: null,
    rate_up_kbps: null,
  },
  {
    code: 'MONTH5GB',
    name: '5 Go / mois',
    price_fcfa: 50000,
    quota_bytes: 5 * GB,
    quota_period: 'month',
    validity_seconds: 30 * DAY,
    rate_down_kbps: null,
    rate_up_kbps: null,
  },
] as const;

export const coreMigrations: MigrationSet = {
  owner: 'core',
  migrations: {
    core_0001_domain_tables: {
      async up(db: Kysely<any>) {
        await sql`create table resellers (
          id uuid primary key default gen_random_uuid(),
          name text not null,
          slug text not null unique,
          phone text,
          email text,
          share_percent numeric(5,2) not null default 50 check (share_percent between 0 and 100),
          fee_percent numeric(5,2) not null default 5 check (fee_percent between 0 and 100),
          status text not null default 'active' check (status in ('active','suspended')),
          created_at timestamptz not null default now()
        )`.execute(db);
        await sql`create table subscribers (
          id uuid primary key default gen_random_uuid(),
          subscriber_ref text not null unique,
          msisdn text not null unique,
          status text not null default 'active' check (status in ('active','suspended','closed')),
          reseller_id uuid references resellers(id),
          created_at timestamptz not null default now()
        )`.execute(db);
        await sql`create index subscribers_reseller_idx on subscribers (reseller_id)`.execute(db);
        await sql`create table subscriber_devices (
          id uuid primary key default gen_random_uuid(),
          subscriber_id uuid not null references subscribers(id) on delete cascade,
          mac_address text not null,
          first_seen_at timestamptz not null default now(),
          last_seen_at timestamptz not null default now(),
          unique (subscriber_id, mac_address)
        )`.execute(db);
        await sql`create index subscriber_devices_mac_idx on subscriber_devices (mac_address)`.execute(db);
        await sql`create table plans (
          id uuid primary key default gen_random_uuid(),
          reseller_id uuid references resellers(id),
          code text not null,
          name text not null,
          price_fcfa integer not null check (price_fcfa >= 0),
          quota_bytes bigint check (quota_bytes is null or quota_bytes > 0),
          quota_period text check (quota_period in ('day','month')),
          validity_seconds integer not null check (validity_seconds > 0),
          rate_down_kbps integer,
          rate_up_kbps integer,
          active boolean not null default true,
          created_at timestamptz not null default now()
        )`.execute(db);
        await sql`create unique index plans_default_code_uq on plans (code) where reseller_id is null`.execute(db);
        await sql`create unique index plans_reseller_code_uq on plans (reseller_id, code) where reseller_id is not null`.execute(db);
        for (const p of SEED_PLANS) {
          await db
            .insertInto('plans')
            .values({ ...p, reseller_id: null })
            .execute();
        }
        await sql`create table audit_log (
          id bigserial primary key,
          at timestamptz not null default now(),
          actor_role text not null,
          actor_id text,
          action text not null,
          target_type text,
          target_id text,
          reseller_id uuid,
          details jsonb not null default '{}'::jsonb,
          request_id text
        )`.execute(db);
        await sql`create index audit_log_reseller_at_idx on audit_log (reseller_id, at)`.execute(db);
        // Append-only by construction, not by convention.
        await sql`create function audit_log_append_only() returns trigger language plpgsql as $$
          begin raise exception 'audit_log is append-only'; end $$`.execute(db);
        await sql`create trigger audit_log_no_change before update or delete on audit_log
          for each row execute function audit_log_append_only()`.execute(db);
      },
    },
    core_0002_machinery: {
      async up(db: Kysely<any>) {
        await sql`create table core_api_tokens (
          id uuid primary key default gen_random_uuid(),
          name text not null,
          role text not null check (role in ('noc','reseller','subscriber')),
          reseller_id uuid references resellers(id),
          subscriber_id uuid references subscribers(id),
          token_hash text not null unique,
          created_at timestamptz not null default now(),
          expires_at timestamptz,
          revoked_at timestamptz,
          last_used_at timestamptz,
          check (role <> 'reseller' or reseller_id is not null),
          check (role <> 'subscriber' or subscriber_id is not null)
        )`.execute(db);
        await sql`create table core_tasks (
          id bigserial primary key,
          name text not null,
          payload jsonb not null,
          status text not null default 'pending' check (status in ('pending','running','done','dead')),
          attempts integer not null default 0,
          max_attempts integer not null,
          run_at timestamptz not null default now(),
          locked_by text,
          locked_until timestamptz,
          last_error text,
          dedupe_key text unique,
          request_id text,
          created_at timestamptz not null default now(),
          finished_at timestamptz
        )`.execute(db);
        await sql`create index core_tasks_due_idx on core_tasks (run_at) where status in ('pending','running')`.execute(db);
        await sql`create table core_job_runs (
          id bigserial primary key,
          job_id text not null,
          scheduled_for timestamptz not null,
          trigger text not null check (trigger in ('schedule','missed','manual')),
          node text not null,
          claim text,
          status text not null check (status in ('running','succeeded','failed','timeout')),
          attempt integer not null default 1,
          started_at timestamptz not null default now(),
          finished_at timestamptz,
          error text,
          result jsonb
        )`.execute(db);
        // One run per tick across replicas: the insert that wins the unique index runs the job.
        await sql`create unique index core_job_runs_tick_uq on core_job_runs (claim, scheduled_for)`.execute(db);
        await sql`create index core_job_runs_job_idx on core_job_runs (job_id, started_at desc)`.execute(db);
      },
    },
    core_0003_subscriptions: {
      async up(db: Kysely<any>) {
        await sql`create table subscriptions (
          id uuid primary key default gen_random_uuid(),
          subscriber_id uuid not null references subscribers(id),
          plan_id uuid not null references plans(id),
          reseller_id uuid references resellers(id),
          starts_at timestamptz not null default now(),
          expires_at timestamptz not null,
          source text not null check (source in ('payment','voucher','grant')),
          source_ref text not null,
          status text not null default 'active' check (status in ('active','cancelled','refunded')),
          created_at timestamptz not null default now(),
          unique (source, source_ref),
          check (expires_at > starts_at)
        )`.execute(db);
        await sql`create index subscriptions_active_idx on subscriptions (subscriber_id, expires_at) where status = 'active'`.execute(db);
      },
    },
    core_0004_audit_task_index: {
      async up(db: Kysely<any>) {
        // Task handlers record their outcome in the audit log with details.task_id (a CoA's ACK/NAK, …); callers
        // that enqueued a task find its outcome by that id, which must not scan the whole log.
        await sql`create index audit_log_task_id_idx on audit_log ((details->>'task_id'))`.execute(db);
      },
    },
    core_0005_task_attempts_default: {
      async up(db: Kysely<any>) {
        // Null max_attempts = the handler's default, known only where the handler is registered.
        await sql`alter table core_tasks alter column max_attempts drop not null`.execute(db);
      },
    },
  },
};
