/**
 * Kysely types of the tables core owns: the shared domain tables most flows need (resellers, subscribers,
 * subscriber_devices, plans, audit_log) and core's own machinery (tokens, tasks, job runs).
 * A plugin extends this with its own tables: `definePlugin<Schema, Deps, CoreDatabase & MyTables>` types `ctx.db` with both.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
type Json<T = unknown> = ColumnType<T, T | string, T | string>;

export type Role = 'noc' | 'reseller' | 'subscriber';

export interface ResellersTable {
  id: Generated<string>;
  name: string;
  /** Short stable identifier used in URLs, NAS-Identifier mapping and invoices. */
  slug: string;
  phone: string | null;
  email: string | null;
  /** Reseller share of net revenue in percent (the seed's 50/50 split). */
  share_percent: Generated<number>;
  /** Reseller fee in percent of gross (the seed's 5 % example). */
  fee_percent: Generated<number>;
  status: Generated<'active' | 'suspended'>;
  created_at: GeneratedTimestamp;
}

export interface SubscribersTable {
  id: Generated<string>;
  /** Public reference, also the RADIUS User-Name after portal login (e.g. RGZ-7K2Q9M). */
  subscriber_ref: string;
  /** E.164 phone number (+2290197000000). */
  msisdn: string;
  status: Generated<'active' | 'suspended' | 'closed'>;
  reseller_id: string | null;
  created_at: GeneratedTimestamp;
}

export interface SubscriberDevicesTable {
  id: Generated<string>;
  subscriber_id: string;
  /** Lower-case, colon-separated (aa:bb:cc:dd:ee:ff). */
  mac_address: string;
  first_seen_at: GeneratedTimestamp;
  last_seen_at: GeneratedTimestamp;
}

export interface PlansTable {
  id: Generated<string>;
  /** NULL: the operator's default catalogue; otherwise this reseller's override of the same `code`. */
  reseller_id: string | null;
  code: string;
  name: string;
  price_fcfa: number;
  /** NULL: no volume limit. */
  quota_bytes: number | null;
  /** Window the quota applies to. */
  quota_period: 'day' | 'month' | null;
  /** How long a purchase stays active. */
  validity_seconds: number;
  /** Maximum information rate; NULL means not limited (the seed: unlimited MIR from the 1 GB plan up). */
  rate_down_kbps: number | null;
  rate_up_kbps: number | null;
  active: Generated<boolean>;
  created_at: GeneratedTimestamp;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: GeneratedTimestamp;
  actor_role: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  reseller_id: string | null;
  details: Json<Record<string, unknown>>;
  request_id: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  role: Role;
  reseller_id: string | null;
  subscriber_id: string | null;
  /** SHA-256 of the secret part; the secret itself is shown once and never stored. */
  token_hash: string;
  created_at: GeneratedTimestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export interface TasksTable {
  id: Generated<string>;
  name: string;
  payload: Json;
  status: Generated<'pending' | 'running' | 'done' | 'dead'>;
  attempts: Generated<number>;
  /** Null: the handler's default, decided by the replica that runs it (and recorded on the first failure). */
  max_attempts: number | null;
  run_at: GeneratedTimestamp;
  locked_by: string | null;
  locked_until: NullableTimestamp;
  last_error: string | null;
  dedupe_key: string | null;
  request_id: string | null;
  created_at: GeneratedTimestamp;
  finished_at: NullableTimestamp;
}

export interface JobRunsTable {
  id: Generated<string>;
  job_id: string;
  /** The tick this run is for; unique per global job, so one replica wins each tick. */
  scheduled_for: Timestamp;
  trigger: 'schedule' | 'missed' | 'manual';
  node: string;
  /** Set to the job id for global jobs (unique with scheduled_for: one replica wins each tick); NULL for local jobs. */
  claim: string | null;
  status: 'running' | 'succeeded' | 'failed' | 'timeout';
  attempt: Generated<number>;
  started_at: GeneratedTimestamp;
  finished_at: NullableTimestamp;
  error: string | null;
  result: Json | null;
}

export interface SubscriptionsTable {
  id: Generated<string>;
  subscriber_id: string;
  plan_id: string;
  /** The reseller the plan was sold under (revenue split, isolation). */
  reseller_id: string | null;
  starts_at: GeneratedTimestamp;
  expires_at: Timestamp;
  /** How it was obtained: a payment, a voucher, or an admin grant (with a reason in the audit log). */
  source: 'payment' | 'voucher' | 'grant';
  /** Payment id, voucher id or audit reference; unique per source so a retried activation is a no-op. */
  source_ref: string;
  status: Generated<'active' | 'cancelled' | 'refunded'>;
  created_at: GeneratedTimestamp;
}

export interface CoreDatabase {
  subscriptions: SubscriptionsTable;
  resellers: ResellersTable;
  subscribers: SubscribersTable;
  subscriber_devices: SubscriberDevicesTable;
  plans: PlansTable;
  audit_log: AuditLogTable;
  core_api_tokens: ApiTokensTable;
  core_tasks: TasksTable;
  core_job_runs: JobRunsTable;
}

export type Reseller = Selectable<ResellersTable>;
export type Subscriber = Selectable<SubscribersTable>;
export type SubscriberDevice = Selectable<SubscriberDevicesTable>;
export type Plan = Selectable<PlansTable>;
export type NewPlan = Insertable<PlansTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type Subscription = Selectable<SubscriptionsTable>;
