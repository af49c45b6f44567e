/**
 * SNMP time series in PostgreSQL. `snmp_samples` (one row per device per poll) and `snmp_interface_samples` (one row
 * per interface per poll) are range-partitioned by day on `polled_at` (declarative partitioning, partitions
 * `<table>_pYYYYMMDD` in UTC, created ahead by the jobs, dropped after `retentionDays`), or TimescaleDB hypertables
 * with 1-day chunks when the extension is installed at migration time (`timescale: auto`). `snmp_device_state` holds
 * each device's latest poll, counters and detected profile (what the next poll computes deltas from, so any replica
 * can run the next tick). No foreign keys: devices live in the inventory plugin, and history outlives them.
 */
import { type Kysely, type Migration, sql } from '@rgz/core';
import type { SnmpDatabase } from './schema.js';

export type StorageMode = 'partitioned' | 'timescale';

export const TIME_SERIES_TABLES = ['snmp_samples', 'snmp_interface_samples'] as const;

async function timescaleInstalled(db: Kysely<any>): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`select exists(select 1 from pg_extension where extname = 'timescaledb') as ok`.execute(db);
  return !!r.rows[0]?.ok;
}

export function snmpMigrations(options: { timescale: 'auto' | 'off' }): Record<string, Migration> {
  return {
    snmp_0001_time_series: {
      async up(db: Kysely<any>) {
        const timescale = options.timescale === 'auto' && (await timescaleInstalled(db));
        const partition = timescale ? sql`` : sql`partition by range (polled_at)`;
        await sql`create table snmp_samples (
          device_id uuid not null,
          polled_at timestamptz not null,
          site_id uuid,
          reseller_id uuid,
          kind text not null,
          profile text,
          result text not null check (result in ('ok','timeout','malformed','auth','error','no_profile')),
          error text,
          duration_ms integer not null,
          uptime_seconds double precision,
          signal_dbm real,
          noise_dbm real,
          snr_db real,
          ccq_percent real,
          capacity_percent real,
          airtime_percent real,
          tx_rate_bps double precision,
          rx_rate_bps double precision,
          station_count integer,
          if_index integer,
          rx_bps double precision,
          tx_bps double precision,
          cpu_percent real,
          temperature_c real,
          counter_reset boolean not null default false,
          primary key (device_id, polled_at)
        ) ${partition}`.execute(db);
        await sql`create index snmp_samples_site_idx on snmp_samples (site_id, polled_at)`.execute(db);
        await sql`create index snmp_samples_reseller_idx on snmp_samples (reseller_id, polled_at)`.execute(db);

        await sql`create table snmp_interface_samples (
          device_id uuid not null,
          polled_at timestamptz not null,
          if_index integer not null,
          reseller_id uuid,
          name text,
          oper_status text,
          counter_bits smallint not null,
          in_octets numeric(20,0),
          out_octets numeric(20,0),
          in_bps double precision,
          out_bps double precision,
          in_errors bigint,
          out_errors bigint,
          in_discards bigint,
          speed_bps bigint,
          primary key (device_id, polled_at, if_index)
        ) ${partition}`.execute(db);
        await sql`create index snmp_interface_samples_reseller_idx on snmp_interface_samples (reseller_id, polled_at)`.execute(db);

        if (timescale) {
          for (const table of TIME_SERIES_TABLES) {
            await sql`select create_hypertable(${table}::regclass, 'polled_at', chunk_time_interval => interval '1 day')`.execute(db);
          }
        }

        await sql`create table snmp_device_state (
          device_id uuid primary key,
          reseller_id uuid,
          site_id uuid,
          kind text,
          profile text,
          detected_profile text,
          detected_at timestamptz,
          result text not null,
          error text,
          polled_at timestamptz not null,
          last_ok_at timestamptz,
          consecutive_failures integer not null default 0,
          uptime_seconds double precision,
          rx_bps double precision,
          tx_bps double precision,
          counters jsonb not null default '{}'::jsonb,
          sample jsonb
        )`.execute(db);
        await sql`create index snmp_device_state_reseller_idx on snmp_device_state (reseller_id)`.execute(db);

        await sql`create table snmp_storage (key text primary key, value text not null)`.execute(db);
        await sql`insert into snmp_storage (key, value) values ('mode', ${timescale ? 'timescale' : 'partitioned'})`.execute(db);
      },
      async down(db: Kysely<any>) {
        for (const t of ['snmp_interface_samples', 'snmp_samples', 'snmp_device_state', 'snmp_storage'])
          await sql`drop table if exists ${sql.table(t)} cascade`.execute(db);
      },
    },
  };
}

export async function storageMode(db: Kysely<SnmpDatabase>): Promise<StorageMode> {
  const r = await db.selectFrom('snmp_storage').select('value').where('key', '=', 'mode').executeTakeFirst();
  return r?.value === 'timescale' ? 'timescale' : 'partitioned';
}

const DAY_MS = 86_400_000;
const dayStart = (d: Date) => new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
const suffixOf = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '');

/** Partition name of the UTC day containing `d`, e.g. `snmp_samples_p20261124`. */
export function partitionName(table: string, d: Date): string {
  return `${table}_p${suffixOf(dayStart(d))}`;
}

/** Key of the advisory lock that serialises partition DDL across replicas ("RGZS"). */
const PARTITION_LOCK = 0x52475a53;

/**
 * Create the daily partitions covering [day of `from`, + `days`) for both tables (no-op for those that exist, and on
 * TimescaleDB). Returns the partitions created.
 */
export async function ensurePartitions(db: Kysely<SnmpDatabase>, from: Date, days: number): Promise<string[]> {
  if ((await storageMode(db)) !== 'partitioned') return [];
  const created: string[] = [];
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${PARTITION_LOCK}, 1)`.execute(trx);
    const existing = new Set(
      (
        await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
          join pg_class p on p.oid = i.inhparent where p.relname in ('snmp_samples', 'snmp_interface_samples')`.execute(trx)
      ).rows.map((r) => r.name),
    );
    for (let i = 0; i < days; i++) {
      const start = new Date(dayStart(from).getTime() + i * DAY_MS);
      const end = new Date(start.getTime() + DAY_MS);
      for (const table of TIME_SERIES_TABLES) {
        const name = partitionName(table, start);
        if (existing.has(name)) continue;
        await sql`create table if not exists ${sql.table(name)} partition of ${sql.table(table)}
          for values from (${sql.lit(start.toISOString())}) to (${sql.lit(end.toISOString())})`.execute(trx);
        created.push(name);
      }
    }
  });
  return created;
}

/** Drop what is older than `retentionDays` (whole partitions whose range ends before the cutoff, or Timescale chunks). */
export async function dropExpired(db: Kysely<SnmpDatabase>, retentionDays: number, now = new Date()): Promise<string[]> {
  const cutoff = new Date(dayStart(now).getTime() - retentionDays * DAY_MS);
  if ((await storageMode(db)) === 'timescale') {
    const dropped: string[] = [];
    for (const table of TIME_SERIES_TABLES) {
      const r = await sql<{ chunk: string }>`select drop_chunks(${table}::regclass, older_than => ${cutoff}::timestamptz)::text as chunk`.execute(db);
      dropped.push(...r.rows.map((x) => x.chunk));
    }
    return dropped;
  }
  const dropped: string[] = [];
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${PARTITION_LOCK}, 1)`.execute(trx);
    const parts = await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent where p.relname in ('snmp_samples', 'snmp_interface_samples')`.execute(trx);
    for (const { name } of parts.rows) {
      const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
      if (!m) continue;
      const end = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY_MS);
      if (end <= cutoff) {
        await sql`drop table if exists ${sql.table(name)}`.execute(trx);
        dropped.push(name);
      }
    }
  });
  return dropped.sort();
}
