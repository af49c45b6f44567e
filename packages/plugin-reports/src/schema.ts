/**
 * The reports plugin's tables. Invoices and the invoice log are append-only (triggers refuse UPDATE, DELETE and
 * TRUNCATE): a correction is a credit note, a new numbered document. Counters are the only rows that change; they
 * are locked FOR UPDATE in the transaction that writes the document, so numbers and log sequence have no gaps.
 */
import { type CoreDatabase, type Kysely, type Migration, sql } from '@rgz/core';

type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, T | string, T | string>;
type Amount = ColumnType<number, number | bigint | string, number | bigint | string>;

export type DocumentKind = 'invoice' | 'credit_note';

/** Figures of a document as stored (strings: exact bigint FCFA). */
export interface StoredFigures {
  payments: number;
  refunds: number;
  countsByKind: Record<string, number>;
  gross: string;
  providerFee: string;
  resellerFee: string;
  resellerShare: string;
  rgzShare: string;
  settlement: string;
  openingBalance: string;
  closingBalance: string;
  feePercent: string;
  sharePercent: string;
}

export interface InvoicesTable {
  id: Generated<string>;
  kind: DocumentKind;
  number: string;
  reseller_id: string;
  /** The month covered, `[period_start, period_end)`, and its label (`2026-10`). */
  period_start: Timestamp;
  period_end: Timestamp;
  period_label: string;
  /** Invoices of one reseller and month: 0, then 1, 2… when re-issued after a credit note. */
  revision: Generated<number>;
  /** For a credit note: the invoice it cancels. */
  original_id: string | null;
  reason: string | null;
  language: 'fr' | 'en';
  gross_fcfa: Amount;
  closing_balance_fcfa: Amount;
  figures: Json<StoredFigures>;
  pdf: Uint8Array;
  pdf_sha256: string;
  content_sha256: string;
  signature: string;
  key_id: string;
  issued_at: Timestamp;
  created_by: string | null;
}

export interface InvoiceLogTable {
  seq: number;
  kind: DocumentKind;
  invoice_id: string;
  number: string;
  pdf_sha256: string;
  content_sha256: string;
  signature: string;
  key_id: string;
  prev_hash: string;
  entry_hash: string;
  created_at: Timestamp;
}

export interface CountersTable {
  name: string;
  year: number;
  value: Amount;
}

export interface DeliveriesTable {
  id: Generated<number>;
  invoice_id: string;
  channel: 'email' | 'archive';
  /** `smtp:<address>`, `folder:<path>`, `target:<BackupTarget id>`. */
  target: string;
  status: 'sent' | 'failed' | 'skipped';
  detail: string | null;
  message_id: string | null;
  attempted_at: GeneratedTimestamp;
}

export interface ResellerPrefsTable {
  reseller_id: string;
  language: 'fr' | 'en';
  updated_at: GeneratedTimestamp;
}

export interface ReportsTables {
  reports_invoices: InvoicesTable;
  reports_invoice_log: InvoiceLogTable;
  reports_counters: CountersTable;
  reports_deliveries: DeliveriesTable;
  reports_reseller_prefs: ResellerPrefsTable;
}

export type ReportsDatabase = CoreDatabase & ReportsTables;

export const reportsMigrations: Record<string, Migration> = {
  reports_0001_invoices: {
    async up(db: Kysely<any>) {
      await sql`create table reports_counters (
        name text not null,
        year integer not null,
        value bigint not null default 0 check (value >= 0),
        primary key (name, year)
      )`.execute(db);

      await sql`create table reports_invoices (
        id uuid primary key default gen_random_uuid(),
        kind text not null check (kind in ('invoice','credit_note')),
        number text not null unique,
        reseller_id uuid not null references resellers(id),
        period_start timestamptz not null,
        period_end timestamptz not null check (period_end > period_start),
        period_label text not null,
        revision integer not null default 0 check (revision >= 0),
        original_id uuid references reports_invoices(id),
        reason text,
        language text not null check (language in ('fr','en')),
        gross_fcfa bigint not null,
        closing_balance_fcfa bigint not null,
        figures jsonb not null,
        pdf bytea not null,
        pdf_sha256 text not null check (pdf_sha256 ~ '^[0-9a-f]{64}$'),
        content_sha256 text not null check (content_sha256 ~ '^[0-9a-f]{64}$'),
        signature text not null,
        key_id text not null,
        issued_at timestamptz not null,
        created_by text,
        check ((kind = 'credit_note') = (original_id is not null))
      )`.execute(db);
      // Re-running a month changes nothing: one invoice per reseller, month and revision; one credit note per invoice.
      await sql`create unique index reports_invoices_one_per_period on reports_invoices (reseller_id, period_start, revision) where kind = 'invoice'`.execute(
        db,
      );
      await sql`create unique index reports_invoices_one_credit_note on reports_invoices (original_id) where kind = 'credit_note'`.execute(db);
      await sql`create index reports_invoices_reseller_idx on reports_invoices (reseller_id, period_start desc)`.execute(db);
      await sql`create index reports_invoices_period_idx on reports_invoices (period_start)`.execute(db);

      await sql`create table reports_invoice_log (
        seq bigint primary key check (seq > 0),
        kind text not null check (kind in ('invoice','credit_note')),
        invoice_id uuid not null unique references reports_invoices(id),
        number text not null unique,
        pdf_sha256 text not null,
        content_sha256 text not null,
        signature text not null,
        key_id text not null,
        prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
        entry_hash text not null unique check (entry_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz not null
      )`.execute(db);

      await sql`create function reports_append_only() returns trigger language plpgsql as $$
        begin raise exception '% is append-only: issue a credit note instead of changing a document', tg_table_name; end $$`.execute(db);
      for (const table of ['reports_invoices', 'reports_invoice_log']) {
        await sql`create trigger ${sql.raw(`${table}_no_change`)} before update or delete on ${sql.table(table)}
          for each row execute function reports_append_only()`.execute(db);
        await sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
          for each statement execute function reports_append_only()`.execute(db);
      }

      await sql`create table reports_deliveries (
        id bigserial primary key,
        invoice_id uuid not null references reports_invoices(id),
        channel text not null check (channel in ('email','archive')),
        target text not null,
        status text not null check (status in ('sent','failed','skipped')),
        detail text,
        message_id text,
        attempted_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index reports_deliveries_invoice_idx on reports_deliveries (invoice_id, channel, target, id)`.execute(db);

      await sql`create table reports_reseller_prefs (
        reseller_id uuid primary key references resellers(id),
        language text not null check (language in ('fr','en')),
        updated_at timestamptz not null default now()
      )`.execute(db);
    },
  },
};
