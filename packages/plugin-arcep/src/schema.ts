/**
 * The arcep plugin's tables: each quarterly report (its input as aggregated, kept for audit), its files as delivered
 * (signed), the append-only hash-chained report log, and every delivery attempt. Reports, files and the log refuse
 * UPDATE and DELETE (triggers); a report is produced once per (period, exporter).
 */
import { type CoreDatabase, type Kysely, type Migration, sql } from '@rgz/core';

type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string, T | string>;

export interface ReportsTable {
  id: Generated<string>;
  exporter: string;
  period_kind: string;
  period_label: string;
  period_start: Timestamp;
  period_end: Timestamp;
  time_zone: string;
  generated_at: Timestamp;
  /** The `ReportInput` as given to the exporter (bigints as strings). */
  input: Json<unknown>;
  /** Which sources were present (`{"sessions":"present","incidents":"absent"}`). */
  sources: Json<Record<string, string>>;
  manifest_sha256: string;
  manifest_signature: string;
  key_id: string;
  created_by: string | null;
}

export interface ReportFilesTable {
  report_id: string;
  name: string;
  content_type: string;
  bytes: Uint8Array;
  sha256: string;
  /** Ed25519 over `rgz-signed-document/v1 <sha256>` of the file as delivered. */
  signature: string;
  /** For PDFs signed inside: the content hash the embedded signature covers. */
  embedded_content_sha256: string | null;
}

export interface ReportLogTable {
  seq: number;
  report_id: string;
  period_label: string;
  exporter: string;
  manifest_sha256: string;
  signature: string;
  key_id: string;
  generated_at: string;
  prev_hash: string;
  entry_hash: string;
  created_at: Timestamp;
}

export interface CountersTable {
  name: string;
  value: ColumnType<number, number | bigint | string, number | bigint | string>;
}

export interface DeliveriesTable {
  id: Generated<number>;
  report_id: string;
  /** `http:<url>` or `folder:<path>`. */
  target: string;
  status: 'sent' | 'failed';
  http_status: number | null;
  detail: string | null;
  attempted_at: GeneratedTimestamp;
}

export interface ArcepTables {
  arcep_reports: ReportsTable;
  arcep_report_files: ReportFilesTable;
  arcep_report_log: ReportLogTable;
  arcep_counters: CountersTable;
  arcep_deliveries: DeliveriesTable;
}

export type ArcepDatabase = CoreDatabase & ArcepTables;

export const arcepMigrations: Record<string, Migration> = {
  arcep_0001_reports: {
    async up(db: Kysely<any>) {
      await sql`create table arcep_reports (
        id uuid primary key default gen_random_uuid(),
        exporter text not null,
        period_kind text not null,
        period_label text not null,
        period_start timestamptz not null,
        period_end timestamptz not null check (period_end > period_start),
        time_zone text not null,
        generated_at timestamptz not null,
        input jsonb not null,
        sources jsonb not null,
        manifest_sha256 text not null check (manifest_sha256 ~ '^[0-9a-f]{64}$'),
        manifest_signature text not null,
        key_id text not null,
        created_by text,
        unique (exporter, period_label)
      )`.execute(db);
      await sql`create table arcep_report_files (
        report_id uuid not null references arcep_reports(id),
        name text not null,
        content_type text not null,
        bytes bytea not null,
        sha256 text not null,
        signature text not null,
        embedded_content_sha256 text,
        primary key (report_id, name)
      )`.execute(db);
      await sql`create table arcep_counters (name text primary key, value bigint not null default 0)`.execute(db);
      await sql`create table arcep_report_log (
        seq bigint primary key check (seq > 0),
        report_id uuid not null unique references arcep_reports(id),
        period_label text not null,
        exporter text not null,
        manifest_sha256 text not null,
        signature text not null,
        key_id text not null,
        generated_at text not null,
        prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
        entry_hash text not null unique check (entry_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz not null
      )`.execute(db);
      await sql`create function arcep_append_only() returns trigger language plpgsql as $$
        begin raise exception '% is append-only: produce a new report instead of changing one', tg_table_name; end $$`.execute(db);
      for (const table of ['arcep_reports', 'arcep_report_files', 'arcep_report_log']) {
        await sql`create trigger ${sql.raw(`${table}_no_change`)} before update or delete on ${sql.table(table)}
          for each row execute function arcep_append_only()`.execute(db);
        await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
          for each statement execute function arcep_append_only()`.execute(db);
      }
      await sql`create table arcep_deliveries (
        id bigserial primary key,
        report_id uuid not null references arcep_reports(id),
        target text not null,
        status text not null check (status in ('sent','failed')),
        http_status integer,
        detail text,
        attempted_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index arcep_deliveries_report_idx on arcep_deliveries (report_id, target, id)`.execute(db);
    },
  },
};
