/**
 * Ledger, read side: what the money flows booked, for the documents built from it — the monthly reseller invoices
 * (`@rgz/plugin-reports`) and the regulator's revenue figures (`@rgz/plugin-arcep`). The billing plugin owns the
 * double-entry ledger and provides `ledgerReader`; readers get it through `deps` or `ctx.lookup(ledgerReader)`, never
 * by importing billing. Writing the ledger is not part of this contract.
 *
 * Amounts are integer FCFA as `bigint` (the ledger computes in BigInt; XOF has no minor unit). A posting is one
 * balanced set of ledger lines (a payment, its refund, later a voucher sale or a payout); its figures are read from
 * the lines, by account family, as credit − debit:
 *   providerFee   provider_fees:*            the payment provider's take
 *   resellerFee   reseller_fee:<reseller>    the reseller's fee (seed: 5 % of gross)
 *   resellerShare revenue:reseller:<reseller> the reseller's share of the net (seed: 50 %)
 *   rgzShare      revenue:rgz                RGZ's share of the net
 *   gross         = providerFee + resellerFee + resellerShare + rgzShare (what the payer paid)
 *   settlement    payable:reseller:<reseller> money settled with the reseller: negative when RGZ paid the reseller
 *                 out or when the reseller kept the cash of a sale
 * so a refund (the payment posting mirrored) has every figure negated. Periods are `[from, to)` on the time the
 * posting was booked, not the time the payer paid.
 * Reads are unscoped (the system's view); an HTTP route that exposes them scopes by reseller itself.
 */

import { token } from '../plugin/tokens.js';

/** The split of one posting or of a sum of postings, FCFA. */
export interface LedgerFigures {
  readonly gross: bigint;
  readonly providerFee: bigint;
  readonly resellerFee: bigint;
  readonly resellerShare: bigint;
  readonly rgzShare: bigint;
  /** Net credit on the reseller's `payable` account (payouts, cash the reseller kept). */
  readonly settlement: bigint;
}

/** One posting as a document shows it. */
export interface LedgerPostingView extends LedgerFigures {
  readonly postingId: string;
  /** `payment`, `refund`; other kinds may appear (voucher sales, payouts): show them by name, never drop them. */
  readonly kind: string;
  /** When it was booked (the ledger lines' time). */
  readonly bookedAt: Date;
  readonly resellerId: string | null;
  /** Payment provider instance id (`kkiapay`), when the posting concerns a provider payment. */
  readonly provider: string | null;
  /** Billing's payment id. */
  readonly paymentId: string | null;
  /** The provider's transaction id: the reference the payer and the provider know. */
  readonly paymentRef: string | null;
  /** Our order reference (`RGZP-…`). */
  readonly orderRef: string | null;
  /** The voucher (code or batch reference) when the posting is a voucher sale. */
  readonly voucherRef: string | null;
  /** Plan code bought, when known. */
  readonly planCode: string | null;
  /** When the payer paid, as the provider reports it. */
  readonly performedAt: Date | null;
  readonly memo: string | null;
}

/** Totals over postings, with counts by kind. */
export interface LedgerTotals extends LedgerFigures {
  /** Postings of kind `payment`. */
  readonly payments: number;
  /** Postings of kind `refund`. */
  readonly refunds: number;
  /** Postings by kind (every kind, including `payment` and `refund`). */
  readonly countsByKind: Readonly<Record<string, number>>;
}

/** What a reseller's invoice is made of, from the ledger alone. */
export interface ResellerStatement {
  readonly resellerId: string;
  readonly from: Date;
  readonly to: Date;
  /**
   * The reseller's balance at `from` and at `to`: Σ (credit − debit) over its `reseller_fee`, `revenue:reseller` and
   * `payable` accounts. Positive: RGZ owes the reseller; negative: the reseller owes RGZ.
   */
  readonly openingBalance: bigint;
  readonly closingBalance: bigint;
  /** Postings booked in `[from, to)` that concern the reseller, oldest first (then by id). */
  readonly postings: readonly LedgerPostingView[];
  readonly totals: LedgerTotals;
}

/** Revenue of one group (a reseller, a provider, a plan) over a period. */
export interface LedgerRevenueLine extends LedgerTotals {
  /** The reseller id, provider id or plan code; null for what has none (a sale without a reseller, an unknown plan). */
  readonly key: string | null;
}

export interface LedgerRevenue {
  readonly from: Date;
  readonly to: Date;
  readonly total: LedgerTotals;
  /** Sorted by key, null last. */
  readonly byReseller: readonly LedgerRevenueLine[];
  readonly byProvider: readonly LedgerRevenueLine[];
  readonly byPlan: readonly LedgerRevenueLine[];
  /** By posting kind (`payment`, `refund`, `voucher_sale`…): a refund line's figures are negative. */
  readonly byKind: readonly LedgerRevenueLine[];
}

export interface LedgerReader {
  /** The reseller's postings and totals in `[from, to)` with its opening and closing balances. */
  resellerStatement(resellerId: string, from: Date, to: Date): Promise<ResellerStatement>;
  /** The reseller's balance from every posting booked before `at` (see `ResellerStatement.openingBalance`). */
  balance(resellerId: string, at: Date): Promise<bigint>;
  /** Revenue booked in `[from, to)`, in total and per reseller, provider and plan. */
  revenue(from: Date, to: Date): Promise<LedgerRevenue>;
  /** Resellers with at least one posting in `[from, to)` or a non-zero balance at `to`, sorted by id. */
  resellersToInvoice(from: Date, to: Date): Promise<string[]>;
}

/** Provided by `@rgz/plugin-billing`. */
export const ledgerReader = token<LedgerReader>('core.ledger-reader');
