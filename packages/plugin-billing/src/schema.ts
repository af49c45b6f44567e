/**
 * Kysely types of the billing tables (created by ./migrations.ts). Amounts are integer FCFA in `bigint` columns;
 * core's pg type parser returns int8 as a JS number (exact below 2^53), sums are read as text and parsed as BigInt.
 */
import type { CoreDatabase } from '@rgz/core';

/** Kysely's column type shape (structural, so no direct kysely dependency is needed). */
type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;

type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = unknown> = ColumnType<T, T | string, T | string>;
type Amount = ColumnType<number, number | bigint | string, number | bigint | string>;
type GeneratedAmount = ColumnType<number, number | bigint | string | undefined, number | bigint | string>;
type NullableAmount = ColumnType<number | null, number | bigint | string | null | undefined, number | bigint | string | null>;

export type OrderStatus = 'pending' | 'paid' | 'failed' | 'amount_mismatch' | 'refunded' | 'checkout_failed';

export interface OrdersTable {
  id: Generated<string>;
  /** Our reference, sent to the provider and echoed back (`RGZP-` + 16 random characters). */
  reference: string;
  subscriber_id: string;
  reseller_id: string | null;
  plan_id: string;
  plan_code: string;
  amount_fcfa: Amount;
  /** Provider instance id chosen for the checkout. */
  provider: string;
  status: Generated<OrderStatus>;
  /** Known at checkout for redirect/push providers, after payment for widget ones. */
  provider_transaction_id: string | null;
  checkout: Json | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type EventKind = 'webhook' | 'callback';

export interface PaymentEventsTable {
  id: Generated<number>;
  provider: string;
  /** Dedupe key: the provider's event id, or `callback:<transaction id>` for browser callbacks. */
  event_id: string;
  kind: EventKind;
  provider_transaction_id: string;
  /** Our reference as the event claims it (unverified). */
  claimed_reference: string | null;
  claimed_status: string | null;
  claimed_amount_fcfa: NullableAmount;
  /** The body exactly as received (never the headers: they carry the shared secret). */
  raw_body: string;
  received_at: GeneratedTimestamp;
}

export type PaymentStatus = 'pending' | 'credited' | 'failed' | 'amount_mismatch' | 'orphan' | 'duplicate' | 'refunded';

export interface PaymentsTable {
  id: Generated<string>;
  provider: string;
  provider_transaction_id: string;
  order_id: string | null;
  /** Our reference as the provider reports it. */
  reference: string | null;
  subscriber_id: string | null;
  reseller_id: string | null;
  plan_id: string | null;
  status: PaymentStatus;
  /** Provider-neutral status as last verified (succeeded, pending, failed, refunded, …). */
  provider_status: string;
  /** Gross amount charged, as the provider reports it. */
  amount_fcfa: Amount;
  /** The order's price (what we expected). */
  expected_fcfa: NullableAmount;
  /** Fee booked for this payment (reported or computed). */
  fee_fcfa: NullableAmount;
  performed_at: NullableTimestamp;
  subscription_id: string | null;
  /** `needs_review` for amount mismatches, orphans, duplicates and provider/DB disagreements; `resolved` later. */
  review: string | null;
  review_reason: string | null;
  raw: Json | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

/** The columns settlement updates on a payment row. */
export interface PaymentUpdate {
  status?: PaymentStatus;
  provider_status?: string;
  order_id?: string | null;
  reference?: string | null;
  subscriber_id?: string | null;
  reseller_id?: string | null;
  plan_id?: string | null;
  amount_fcfa?: number | bigint | string;
  expected_fcfa?: number | bigint | string | null;
  fee_fcfa?: number | bigint | string | null;
  performed_at?: Date | string | null;
  subscription_id?: string | null;
  review?: string | null;
  review_reason?: string | null;
  updated_at?: Date;
}

/** `voucher_sale`: a prepaid voucher redeemed (posted by the vouchers plugin through core's `ledgerWriter`). */
export type PostingKind = 'payment' | 'refund' | 'voucher_sale';

export interface PostingsTable {
  id: Generated<string>;
  kind: PostingKind;
  /** The payment of a `payment` or `refund` posting; null for a voucher sale. */
  payment_id: string | null;
  /** The voucher of a `voucher_sale` posting (`vouchers_vouchers.id`; no foreign key: another plugin's table). */
  voucher_id: ColumnType<string | null, string | null | undefined, string | null>;
  reseller_id: string | null;
  memo: string | null;
  created_at: GeneratedTimestamp;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  posting_id: string;
  account: string;
  /** The reseller the posting concerns (isolation), on every line of the posting. */
  reseller_id: string | null;
  provider: string | null;
  payment_id: string | null;
  voucher_id: ColumnType<string | null, string | null | undefined, string | null>;
  debit_fcfa: Amount;
  credit_fcfa: Amount;
  created_at: GeneratedTimestamp;
}

export interface RefundsTable {
  id: Generated<string>;
  payment_id: string;
  /** Sent to the provider as idempotency key where it has one. */
  refund_reference: string;
  status: 'requested' | 'pending' | 'succeeded' | 'failed';
  amount_fcfa: NullableAmount;
  reason: string | null;
  provider_refund_ref: string | null;
  requested_by: string | null;
  error: string | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface ImportRowsTable {
  id: Generated<number>;
  import_id: string;
  provider: string;
  provider_transaction_id: string;
  amount_fcfa: Amount;
  status: string | null;
  reference: string | null;
  performed_at: Date;
  created_at: GeneratedTimestamp;
}

export interface ImportsTable {
  id: Generated<string>;
  provider: string;
  rows: number;
  inserted: number;
  uploaded_by: string | null;
  created_at: GeneratedTimestamp;
}

export type ItemKind = 'match' | 'missing_in_db' | 'duplicate' | 'amount_mismatch' | 'status_mismatch' | 'orphan' | 'not_found' | 'unverified';

export interface ReconciliationRunsTable {
  id: Generated<string>;
  /** The UTC day reconciled (YYYY-MM-DD). */
  day: string;
  trigger: string;
  status: 'running' | 'succeeded' | 'failed';
  candidates: Generated<number>;
  revenue_fcfa: GeneratedAmount;
  mismatch_fcfa: GeneratedAmount;
  counts: Json<Record<string, number>>;
  incident: string | null;
  error: string | null;
  started_at: GeneratedTimestamp;
  finished_at: NullableTimestamp;
}

export interface ReconciliationItemsTable {
  id: Generated<number>;
  run_id: string;
  provider: string;
  provider_transaction_id: string;
  kind: ItemKind;
  /** What the run did: none, inserted (missing in DB → credited), activated (pending → credited), flagged. */
  action: string;
  sources: string[];
  db_status: string | null;
  provider_status: string | null;
  db_amount_fcfa: NullableAmount;
  provider_amount_fcfa: NullableAmount;
  payment_id: string | null;
  order_reference: string | null;
  detail: string | null;
}

export interface BillingTables {
  billing_orders: OrdersTable;
  billing_payment_events: PaymentEventsTable;
  billing_payments: PaymentsTable;
  billing_postings: PostingsTable;
  billing_ledger_entries: LedgerEntriesTable;
  billing_refunds: RefundsTable;
  billing_reconciliation_imports: ImportsTable;
  billing_reconciliation_import_rows: ImportRowsTable;
  billing_reconciliation_runs: ReconciliationRunsTable;
  billing_reconciliation_items: ReconciliationItemsTable;
}

export type BillingDatabase = CoreDatabase & BillingTables;
