/**
 * The ledger and the ways plans are sold into it, as contracts between plugins that must not import each other.
 *
 * - `ledgerWriter`: provided by the plugin that owns the double-entry ledger (`@rgz/plugin-billing`). Other flows that
 *   take money post through it, inside their own database transaction, so the sale and what it pays for commit or
 *   roll back together. Its presence also tells the portal page that plans can be bought (`ordersPath`).
 * - `voucherRedeemer`: provided by the prepaid-voucher plugin (`@rgz/plugin-vouchers`). The portal page shows its
 *   "Code prépayé" field only when it is bound, and posts codes to `redeemPath`.
 *
 * Amounts are integer FCFA (XOF has no minor unit), never floats.
 */
import type { Transaction } from 'kysely';
import type { CoreDatabase } from '../domain/schema.js';
import { token } from '../plugin/tokens.js';

/** One prepaid voucher redeemed: the reseller sold it for cash and now owes RGZ its share. */
export interface VoucherSale {
  /** The voucher's id: one posting per voucher (posting it twice books nothing the second time). */
  readonly voucherId: string;
  /** Its batch, for the memo and reports. */
  readonly batchId: string;
  /** The reseller who sold it and holds the cash. */
  readonly resellerId: string;
  /** Price the voucher was sold for, in FCFA (a non-negative safe integer; 0 books nothing). */
  readonly amountFcfa: number;
  readonly planCode: string;
  /** Printed serial (`V12-0042`), for the memo. */
  readonly serial?: string;
}

/** What a voucher sale booked, to the franc. `resellerOwes` = gross − reseller fee − reseller share = RGZ's share. */
export interface VoucherSalePosting {
  readonly postingId: string;
  readonly grossFcfa: number;
  readonly resellerFeeFcfa: number;
  readonly resellerShareFcfa: number;
  readonly rgzShareFcfa: number;
}

export interface LedgerWriter {
  /** Route where a subscriber buys a plan (`POST`, subscriber token), e.g. `/api/billing/orders`. */
  readonly ordersPath: string;
  /**
   * Book a voucher sale inside the caller's transaction, with the same split rules as a payment and no provider fee.
   * Returns null when nothing was booked: the voucher was already posted, or its price is 0.
   */
  postVoucherSale(trx: Transaction<CoreDatabase>, sale: VoucherSale): Promise<VoucherSalePosting | null>;
}

/** The ledger's writer (billing provides it). */
export const ledgerWriter = token<LedgerWriter>('core.ledger-writer');

/** A successful redemption: the voucher's plan is active for the subscriber. */
export interface VoucherRedemption {
  /** `redeemed` now, or `already_redeemed` by this same subscriber earlier (a retried request). */
  readonly status: 'redeemed' | 'already_redeemed';
  readonly voucherId: string;
  readonly serial: string;
  readonly subscriptionId: string;
  readonly planCode: string;
  readonly startsAt: Date;
  readonly expiresAt: Date;
}

export interface VoucherRedeemer {
  /** Route the portal page posts `{code}` to with the subscriber's token, e.g. `/api/vouchers/redeem`. */
  readonly redeemPath: string;
  /**
   * Redeem a code typed by a subscriber (rate-limited per subscriber and per client IP). Failures throw an `RgzError`
   * with a stable code (`voucher_unknown`, `voucher_expired`, `voucher_rate_limited`, …).
   */
  redeem(input: { subscriberId: string; code: string; clientIp: string }): Promise<VoucherRedemption>;
}

/** Prepaid voucher redemption (the vouchers plugin provides it). */
export const voucherRedeemer = token<VoucherRedeemer>('core.voucher-redeemer');
