/**
 * The radius plugin's tables (Kysely types) and migrations: the NAS registry and the accounting sessions, in the
 * seed's shape `radius_sessions (id, subscriber_id, nas_id, mac_address, bytes_in, bytes_out, session_start,
 * session_stop)` plus what RFC 2866 accounting needs to be idempotent and to address a CoA.
 */

import { type CoreDatabase, type Migration, sql } from '@rgz/core';
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;

export interface RadiusNasTable {
  id: Generated<string>;
  /** NAS-Identifier the NAS sends. Unique. */
  identifier: string;
  /** Source IP of its packets. Unique: the secret is chosen by it (RFC 2865 §3). */
  address: string;
  /** Shared secret in clear: RADIUS needs the secret itself (MD5/HMAC keys), a hash would be useless. */
  secret: string;
  /** NasVendor id. */
  vendor: string;
  reseller_id: string | null;
  coa_port: Generated<number>;
  require_message_authenticator: Generated<boolean>;
  coa_message_authenticator: Generated<boolean>;
  enabled: Generated<boolean>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface RadiusSessionsTable {
  id: Generated<number>;
  subscriber_id: string | null;
  /** NasRecord id: the radius_nas uuid, or `config:<identifier>` for a NAS from config. */
  nas_id: string;
  /** NAS-Identifier at the time (packet, else registry). */
  nas_identifier: string | null;
  nas_ip_address: string | null;
  acct_session_id: string;
  user_name: string | null;
  /** Normalised (aa:bb:cc:dd:ee:ff) Calling-Station-Id. */
  mac_address: string | null;
  /** Calling-Station-Id as the NAS sent it (CoA session identification uses it verbatim). */
  calling_station_id: string | null;
  framed_ip: string | null;
  /** Acct-Input (Gigawords·2^32 + Octets): bytes the NAS received from the subscriber = upload. */
  bytes_in: Generated<number>;
  /** Acct-Output: bytes sent to the subscriber = download. */
  bytes_out: Generated<number>;
  session_time: Generated<number>;
  session_start: Timestamp;
  session_stop: NullableTimestamp;
  /** Event time of the latest accounting record applied. */
  last_update: Timestamp;
  /** start | interim | stop | stale | nas-reboot */
  last_status: string;
  /** Acct-Terminate-Cause name, `NAS-Reboot` (Accounting-On/Off) or `Stale-Timeout` (closed by the job). */
  terminate_cause: string | null;
}

export interface RadiusTables {
  radius_nas: RadiusNasTable;
  radius_sessions: RadiusSessionsTable;
}

export type RadiusDatabase = CoreDatabase & RadiusTables;

export const migrations: Record<string, Migration> = {
  radius_0001_nas_and_sessions: {
    async up(db) {
      await sql`create table radius_nas (
        id uuid primary key default gen_random_uuid(),
        identifier text not null unique,
        address text not null unique,
        secret text not null,
        vendor text not null,
        reseller_id uuid references resellers(id),
        coa_port integer not null default 3799 check (coa_port between 1 and 65535),
        require_message_authenticator boolean not null default true,
        coa_message_authenticator boolean not null default false,
        enabled boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index radius_nas_reseller_idx on radius_nas (reseller_id)`.execute(db);
      await sql`create table radius_sessions (
        id bigserial primary key,
        subscriber_id uuid references subscribers(id),
        nas_id text not null,
        nas_identifier text,
        nas_ip_address text,
        acct_session_id text not null,
        user_name text,
        mac_address text,
        calling_station_id text,
        framed_ip text,
        bytes_in bigint not null default 0 check (bytes_in >= 0),
        bytes_out bigint not null default 0 check (bytes_out >= 0),
        session_time integer not null default 0,
        session_start timestamptz not null,
        session_stop timestamptz,
        last_update timestamptz not null,
        last_status text not null,
        terminate_cause text,
        unique (nas_id, acct_session_id)
      )`.execute(db);
      // Quota usage (sum over a window) and Simultaneous-Use (open sessions) per subscriber.
      await sql`create index radius_sessions_subscriber_idx on radius_sessions (subscriber_id, session_start)`.execute(db);
      // Accounting-On/Off (per NAS) and the stale-session job (by last_update) only touch open sessions.
      await sql`create index radius_sessions_open_nas_idx on radius_sessions (nas_id) where session_stop is null`.execute(db);
      await sql`create index radius_sessions_open_update_idx on radius_sessions (last_update) where session_stop is null`.execute(db);
    },
  },
};
