/**
 * Billing's tables. Foreign keys only into core tables (and billing's own); amounts are bigint FCFA; the ledger and
 * its postings are append-only (triggers) and every posting balances (deferred constraint trigger, checked at commit).
 */
import { type Kysely, type Migration, sql } from '@rgz/core';

export const billingMigrations: Record<string, Migration> = {
  billing_0001_orders_and_payments: {
    async up(db: Kysely<any>) {
      await sql`create table billing_orders (
        id uuid primary key default gen_random_uuid(),
        reference text not null unique check (reference ~ '^[A-Za-z0-9_-]{8,64}$'),
        subscriber_id uuid not null references subscribers(id),
        reseller_id uuid references resellers(id),
        plan_id uuid not null references plans(id),
        plan_code text not null,
        amount_fcfa bigint not null check (amount_fcfa > 0),
        provider text not null,
        status text not null default 'pending'
          check (status in ('pending','paid','failed','amount_mismatch','refunded','checkout_failed')),
        provider_transaction_id text,
        checkout jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create index billing_orders_subscriber_idx on billing_orders (subscriber_id, created_at desc)`.execute(db);
      await sql`create index billing_orders_reseller_idx on billing_orders (reseller_id, created_at)`.execute(db);
      await sql`create index billing_orders_created_idx on billing_orders (created_at)`.execute(db);

      // Raw provider events and browser callbacks, stored before anything else; a redelivery is a no-op.
      await sql`create table billing_payment_events (
        id bigserial primary key,
        provider text not null,
        event_id text not null,
        kind text not null check (kind in ('webhook','callback')),
        provider_transaction_id text not null,
        claimed_reference text,
        claimed_status text,
        claimed_amount_fcfa bigint,
        raw_body text not null,
        received_at timestamptz not null default now(),
        unique (provider, event_id)
      )`.execute(db);
      await sql`create index billing_payment_events_tx_idx on billing_payment_events (provider, provider_transaction_id)`.execute(db);
      await sql`create index billing_payment_events_received_idx on billing_payment_events (received_at)`.execute(db);

      await sql`create table billing_payments (
        id uuid primary key default gen_random_uuid(),
        provider text not null,
        provider_transaction_id text not null,
        order_id uuid references billing_orders(id),
        reference text,
        subscriber_id uuid references subscribers(id),
        reseller_id uuid references resellers(id),
        plan_id uuid references plans(id),
        status text not null check (status in ('pending','credited','failed','amount_mismatch','orphan','duplicate','refunded')),
        provider_status text not null,
        amount_fcfa bigint not null check (amount_fcfa >= 0),
        expected_fcfa bigint,
        fee_fcfa bigint,
        performed_at timestamptz,
        subscription_id uuid references subscriptions(id),
        review text check (review in ('needs_review','resolved')),
        review_reason text,
        raw jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (provider, provider_transaction_id)
      )`.execute(db);
      await sql`create index billing_payments_order_idx on billing_payments (order_id)`.execute(db);
      await sql`create index billing_payments_reseller_idx on billing_payments (reseller_id, created_at)`.execute(db);
      await sql`create index billing_payments_created_idx on billing_payments (created_at)`.execute(db);
      await sql`create index billing_payments_performed_idx on billing_payments (performed_at)`.execute(db);
      // At most one credited (or later refunded) payment per order: the database backs the duplicate rule.
      await sql`create unique index billing_payments_one_credit_per_order on billing_payments (order_id)
        where status in ('credited','refunded')`.execute(db);

      await sql`create table billing_refunds (
        id uuid primary key default gen_random_uuid(),
        payment_id uuid not null unique references billing_payments(id),
        refund_reference text not null unique,
        status text not null check (status in ('requested','pending','succeeded','failed')),
        amount_fcfa bigint,
        reason text,
        provider_refund_ref text,
        requested_by text,
        error text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
    },
  },

  billing_0002_ledger: {
    async up(db: Kysely<any>) {
      await sql`create table billing_postings (
        id uuid primary key default gen_random_uuid(),
        kind text not null check (kind in ('payment','refund')),
        payment_id uuid not null references billing_payments(id),
        reseller_id uuid references resellers(id),
        memo text,
        created_at timestamptz not null default now(),
        unique (kind, payment_id)
      )`.execute(db);
      await sql`create table billing_ledger_entries (
        id bigserial primary key,
        posting_id uuid not null references billing_postings(id),
        account text not null,
        reseller_id uuid references resellers(id),
        provider text,
        payment_id uuid references billing_payments(id),
        debit_fcfa bigint not null default 0 check (debit_fcfa >= 0),
        credit_fcfa bigint not null default 0 check (credit_fcfa >= 0),
        created_at timestamptz not null default now(),
        check ((debit_fcfa > 0) <> (credit_fcfa > 0))
      )`.execute(db);
      await sql`create index billing_ledger_account_idx on billing_ledger_entries (account, created_at)`.execute(db);
      await sql`create index billing_ledger_posting_idx on billing_ledger_entries (posting_id)`.execute(db);
      await sql`create index billing_ledger_reseller_idx on billing_ledger_entries (reseller_id)`.execute(db);

      // Append-only by construction, as core's audit_log: corrections are new postings.
      await sql`create function billing_ledger_append_only() returns trigger language plpgsql as $$
        begin raise exception '% is append-only: post a correcting entry instead', tg_table_name; end $$`.execute(db);
      await sql`create trigger billing_ledger_entries_no_change before update or delete on billing_ledger_entries
        for each row execute function billing_ledger_append_only()`.execute(db);
      await sql`create trigger billing_postings_no_change before update or delete on billing_postings
        for each row execute function billing_ledger_append_only()`.execute(db);
      await sql`create trigger billing_ledger_entries_no_truncate before truncate on billing_ledger_entries
        for each statement execute function billing_ledger_append_only()`.execute(db);

      // Every posting balances, checked when the transaction commits (all its lines are in by then).
      await sql`create function billing_posting_balanced() returns trigger language plpgsql as $$
        declare d numeric; c numeric;
        begin
          select coalesce(sum(debit_fcfa), 0), coalesce(sum(credit_fcfa), 0) into d, c
            from billing_ledger_entries where posting_id = new.posting_id;
          if d <> c then
            raise exception 'ledger posting % does not balance: debits % <> credits %', new.posting_id, d, c;
          end if;
          return null;
        end $$`.execute(db);
      await sql`create constraint trigger billing_ledger_balanced after insert on billing_ledger_entries
        deferrable initially deferred for each row execute function billing_posting_balanced()`.execute(db);
    },
  },

  billing_0003_reconciliation: {
    async up(db: Kysely<any>) {
      await sql`create table billing_reconciliation_imports (
        id uuid primary key default gen_random_uuid(),
        provider text not null,
        rows integer not null,
        inserted integer not null,
        uploaded_by text,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create table billing_reconciliation_import_rows (
        id bigserial primary key,
        import_id uuid not null references billing_reconciliation_imports(id),
        provider text not null,
        provider_transaction_id text not null,
        amount_fcfa bigint not null,
        status text,
        reference text,
        performed_at timestamptz not null,
        created_at timestamptz not null default now(),
        unique (provider, provider_transaction_id)
      )`.execute(db);
      await sql`create index billing_import_rows_performed_idx on billing_reconciliation_import_rows (performed_at)`.execute(db);
      await sql`create table billing_reconciliation_runs (
        id uuid primary key default gen_random_uuid(),
        day date not null,
        trigger text not null,
        status text not null check (status in ('running','succeeded','failed')),
        candidates integer not null default 0,
        revenue_fcfa bigint not null default 0,
        mismatch_fcfa bigint not null default 0,
        counts jsonb not null default '{}'::jsonb,
        incident text,
        error text,
        started_at timestamptz not null default now(),
        finished_at timestamptz
      )`.execute(db);
      // One run of a day at a time, across replicas and triggers.
      await sql`create unique index billing_reconciliation_one_running on billing_reconciliation_runs (day) where status = 'running'`.execute(db);
      await sql`create index billing_reconciliation_runs_day_idx on billing_reconciliation_runs (day, started_at desc)`.execute(db);
      await sql`create table billing_reconciliation_items (
        id bigserial primary key,
        run_id uuid not null references billing_reconciliation_runs(id),
        provider text not null,
        provider_transaction_id text not null,
        kind text not null,
        action text not null,
        sources text[] not null,
        db_status text,
        provider_status text,
        db_amount_fcfa bigint,
        provider_amount_fcfa bigint,
        payment_id uuid,
        order_reference text,
        detail text
      )`.execute(db);
      await sql`create index billing_reconciliation_items_run_idx on billing_reconciliation_items (run_id, kind)`.execute(db);
    },
  },

  /**
   * Voucher sales (a prepaid voucher redeemed, posted by the vouchers plugin through core's `ledgerWriter`): a posting
   * names either a payment (payment, refund) or a voucher (voucher_sale), never both; one voucher_sale per voucher.
   * Row triggers do not fire on DDL, so the append-only ledger keeps its rows as they are.
   */
  billing_0004_voucher_sales: {
    async up(db: Kysely<any>) {
      await sql`alter table billing_postings drop constraint billing_postings_kind_check`.execute(db);
      await sql`alter table billing_postings alter column payment_id drop not null`.execute(db);
      await sql`alter table billing_postings add column voucher_id uuid`.execute(db);
      await sql`alter table billing_postings add constraint billing_postings_kind_check
        check (kind in ('payment','refund','voucher_sale'))`.execute(db);
      await sql`alter table billing_postings add constraint billing_postings_subject_check
        check ((kind = 'voucher_sale') = (voucher_id is not null) and (kind = 'voucher_sale') = (payment_id is null))`.execute(db);
      await sql`alter table billing_postings add constraint billing_postings_kind_voucher_id_key unique (kind, voucher_id)`.execute(db);
      await sql`alter table billing_ledger_entries add column voucher_id uuid`.execute(db);
      await sql`create index billing_ledger_voucher_idx on billing_ledger_entries (voucher_id) where voucher_id is not null`.execute(db);
    },
  },
};
