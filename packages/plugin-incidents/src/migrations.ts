/**
 * The incidents tables: incidents (one per alert fingerprint while it is not resolved), their timeline (every change,
 * append-only), and the notifications sent for them (one row per channel and recipient per step, so a retried task
 * never sends twice what was already sent).
 */
import { type Kysely, type Migration, sql } from '@rgz/core';

export const incidentsMigrations: Record<string, Migration> = {
  incidents_0001_create_tables: {
    async up(db: Kysely<any>) {
      await sql`create table incidents_incidents (
        id uuid primary key default gen_random_uuid(),
        number bigserial not null unique,
        dedup_key text not null,
        source text not null check (source in ('alertmanager', 'sink')),
        title text not null,
        summary text,
        description text,
        priority text not null check (priority in ('P0', 'P1', 'P2')),
        status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
        alertname text,
        severity text,
        fingerprint text,
        labels jsonb not null default '{}',
        annotations jsonb not null default '{}',
        generator_url text,
        external_id text,
        alert_starts_at timestamptz,
        opened_at timestamptz not null default now(),
        last_seen_at timestamptz not null default now(),
        occurrences integer not null default 1,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at timestamptz,
        resolved_by text,
        escalation_level integer not null default 0,
        escalation_count integer not null default 0,
        next_escalation_at timestamptz,
        updated_at timestamptz not null default now()
      )`.execute(db);
      // At most one incident per alert (fingerprint) or sink incident id until it is resolved: the dedup rule.
      await sql`create unique index incidents_incidents_active_key on incidents_incidents (dedup_key) where status <> 'resolved'`.execute(db);
      await sql`create index incidents_incidents_dedup_idx on incidents_incidents (dedup_key, opened_at desc)`.execute(db);
      await sql`create index incidents_incidents_list_idx on incidents_incidents (status, priority, number desc)`.execute(db);
      await sql`create index incidents_incidents_escalation_idx on incidents_incidents (next_escalation_at) where status = 'open' and next_escalation_at is not null`.execute(
        db,
      );

      await sql`create table incidents_timeline (
        id bigserial primary key,
        incident_id uuid not null references incidents_incidents(id) on delete cascade,
        at timestamptz not null default now(),
        kind text not null check (kind in ('opened', 'escalated', 'acknowledged', 'resolved', 'commented', 'notified', 'notification_failed', 'priority_changed')),
        actor text not null,
        priority text not null check (priority in ('P0', 'P1', 'P2')),
        event_id text unique,
        detail jsonb not null default '{}'
      )`.execute(db);
      await sql`create index incidents_timeline_incident_idx on incidents_timeline (incident_id, id)`.execute(db);

      await sql`create table incidents_notifications (
        id bigserial primary key,
        incident_id uuid not null references incidents_incidents(id) on delete cascade,
        reason text not null check (reason in ('opened', 'escalated', 'resolved')),
        step integer not null default 0,
        level integer not null default 0,
        channel text not null,
        recipient text not null default '',
        status text not null default 'pending' check (status in ('pending', 'sent', 'failed', 'ambiguous', 'skipped')),
        attempts integer not null default 0,
        last_error text,
        provider_message_id text,
        created_at timestamptz not null default now(),
        sent_at timestamptz,
        unique (incident_id, reason, step, channel, recipient)
      )`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table incidents_notifications`.execute(db);
      await sql`drop table incidents_timeline`.execute(db);
      await sql`drop table incidents_incidents`.execute(db);
    },
  },
};
