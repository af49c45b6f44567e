/**
 * Kysely types of the vouchers tables (created by ./migrations.ts). Amounts are integer FCFA in `bigint` columns
 * (core's pg type parser returns int8 as a JS number, exact below 2^53).
 */
import type { CoreDatabase } from '@rgz/core';

/** Kysely's column type shape (structural, so no direct kysely dependency is needed). */
type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Amount = ColumnType<number, number | bigint | string, number | bigint | string>;

export interface BatchesTable {
  id: Generated<string>;
  /** Short sequential number printed on the tickets and in serials (`V12-0042`). */
  number: Generated<number>;
  reseller_id: string;
  plan_id: string;
  /** The plan as sold, copied at creation (a later change of the catalogue does not change printed tickets). */
  plan_code: string;
  plan_name: string;
  price_fcfa: Amount;
  count: number;
  expires_at: Timestamp;
  label: string | null;
  status: Generated<'active' | 'revoked'>;
  /** Token id of the NOC or reseller who created it. */
  created_by: string | null;
  created_at: GeneratedTimestamp;
  revoked_at: NullableTimestamp;
}

export type VoucherStatus = 'active' | 'redeemed' | 'revoked';

export interface VouchersTable {
  id: Generated<string>;
  batch_id: string;
  /** Denormalised from the batch: isolation and the redemption check need it without a join. */
  reseller_id: string;
  /** 1…count within the batch. */
  serial: number;
  /** Hex HMAC-SHA256 of the code under the plugin's key; the code itself is never stored. */
  code_hash: string;
  status: Generated<VoucherStatus>;
  expires_at: Timestamp;
  redeemed_at: NullableTimestamp;
  redeemed_by: string | null;
  subscription_id: string | null;
  revoked_at: NullableTimestamp;
  created_at: GeneratedTimestamp;
}

export interface BatchPdfsTable {
  batch_id: string;
  reseller_id: string;
  /** AES-256-GCM (iv ‖ tag ‖ ciphertext) of the ticket sheet, bound to the batch id. */
  sealed: Buffer;
  size_bytes: number;
  expires_at: Timestamp;
  downloads: Generated<number>;
  created_at: GeneratedTimestamp;
}

export interface VouchersTables {
  vouchers_batches: BatchesTable;
  vouchers_vouchers: VouchersTable;
  vouchers_batch_pdfs: BatchPdfsTable;
}

export type VouchersDatabase = CoreDatabase & VouchersTables;
