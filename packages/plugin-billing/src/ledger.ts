/**
 * The double-entry ledger. A posting is a set of lines (`billing_ledger_entries`) whose debits equal its credits,
 * enforced by a deferred constraint trigger at commit; rows are never updated or deleted (triggers reject it), so a
 * correction is a new posting. Amounts are integer FCFA, one side per line.
 *
 * Accounts (see README "Ledger"):
 *   provider_clearing:<provider>   debit-normal  money the provider collected for us (gross)
 *   provider_fees:<provider>       credit-normal the provider's take out of that money
 *   reseller_fee:<reseller>        credit-normal the reseller's fee (seed: 5 % of gross)
 *   revenue:reseller:<reseller>    credit-normal the reseller's share of the net
 *   revenue:rgz                    credit-normal RGZ's share of the net
 *   payable:reseller:<reseller>    settlements with the reseller: debit when RGZ pays the reseller out, or when the
 *                                  reseller holds cash collected for a sale (a redeemed prepaid voucher)
 * A payment posting: Dr provider_clearing G = Cr provider_fees F + Cr reseller_fee R + Cr revenue:reseller S +
 * Cr revenue:rgz (N − S). A refund posting mirrors it line by line. A voucher sale (the reseller sold it for cash, no
 * provider): Dr payable:reseller G = Cr reseller_fee R + Cr revenue:reseller S + Cr revenue:rgz (N − S), F = 0, so
 * the reseller's balance moves by −(N − S): it owes RGZ its share.
 * Reseller balance = Σ (credit − debit) over that reseller's three accounts: positive, RGZ owes the reseller; negative,
 * the reseller owes RGZ. It is derived from the ledger alone.
 */
import { type CoreDatabase, type Kysely, type LedgerWriter, sql, type Transaction, type VoucherSale, type VoucherSalePosting } from '@rgz/core';
import type { BillingDatabase, PostingKind } from './schema.js';
import { type Split, splitPayment, toBigInt, toSafeNumber } from './split.js';

export const accounts = {
  providerClearing: (provider: string) => `provider_clearing:${provider}`,
  providerFees: (provider: string) => `provider_fees:${provider}`,
  resellerFee: (resellerId: string) => `reseller_fee:${resellerId}`,
  resellerRevenue: (resellerId: string) => `revenue:reseller:${resellerId}`,
  rgzRevenue: 'revenue:rgz',
  resellerPayable: (resellerId: string) => `payable:reseller:${resellerId}`,
} as const;

/** The accounts whose balance is what RGZ owes a reseller. */
export const resellerAccounts = (resellerId: string): string[] => [
  accounts.resellerFee(resellerId),
  accounts.resellerRevenue(resellerId),
  accounts.resellerPayable(resellerId),
];

export interface Line {
  account: string;
  debit: bigint;
  credit: bigint;
}

/** The lines of a payment posting (zero parts are left out). */
export function paymentLines(provider: string, resellerId: string | null, split: Split): Line[] {
  const lines: Line[] = [{ account: accounts.providerClearing(provider), debit: split.gross, credit: 0n }];
  const credit = (account: string, amount: bigint) => {
    if (amount > 0n) lines.push({ account, debit: 0n, credit: amount });
  };
  credit(accounts.providerFees(provider), split.providerFee);
  if (resellerId) {
    credit(accounts.resellerFee(resellerId), split.resellerFee);
    credit(accounts.resellerRevenue(resellerId), split.resellerShare);
  }
  credit(accounts.rgzRevenue, split.rgzShare);
  return lines;
}

/**
 * The lines of a voucher sale: the reseller collected the gross in cash (debit on its `payable` account), split as a
 * payment with no provider fee (zero parts are left out).
 */
export function voucherSaleLines(resellerId: string, split: Split): Line[] {
  const lines: Line[] = [{ account: accounts.resellerPayable(resellerId), debit: split.gross, credit: 0n }];
  const credit = (account: string, amount: bigint) => {
    if (amount > 0n) lines.push({ account, debit: 0n, credit: amount });
  };
  credit(accounts.resellerFee(resellerId), split.resellerFee);
  credit(accounts.resellerRevenue(resellerId), split.resellerShare);
  credit(accounts.rgzRevenue, split.rgzShare);
  return lines;
}

type Db = Kysely<BillingDatabase> | Transaction<BillingDatabase>;

/**
 * Insert one posting. Idempotent on (kind, payment) — or (kind, voucher) for a voucher sale: a second call for the
 * same subject returns null and writes nothing. Throws when the lines do not balance (the database would refuse it at
 * commit anyway).
 */
export async function post(
  trx: Db,
  input: {
    kind: PostingKind;
    paymentId?: string | null;
    voucherId?: string | null;
    provider: string | null;
    resellerId: string | null;
    memo?: string;
    lines: Line[];
  },
): Promise<string | null> {
  const subject = input.kind === 'voucher_sale' ? `voucher ${input.voucherId}` : `payment ${input.paymentId}`;
  if (input.kind === 'voucher_sale' ? !input.voucherId || input.paymentId : !input.paymentId || input.voucherId)
    throw new Error(`a ${input.kind} posting names ${input.kind === 'voucher_sale' ? 'a voucher' : 'a payment'} and nothing else`);
  const debits = input.lines.reduce((s, l) => s + l.debit, 0n);
  const credits = input.lines.reduce((s, l) => s + l.credit, 0n);
  if (debits !== credits) throw new Error(`posting for ${subject} does not balance: ${debits} ≠ ${credits}`);
  for (const l of input.lines)
    if (l.debit > 0n === l.credit > 0n || l.debit < 0n || l.credit < 0n) throw new Error(`line on ${l.account} must have exactly one positive side`);
  const posting = await trx
    .insertInto('billing_postings')
    .values({
      kind: input.kind,
      payment_id: input.paymentId ?? null,
      voucher_id: input.voucherId ?? null,
      reseller_id: input.resellerId,
      memo: input.memo ?? null,
    })
    .onConflict((oc) => oc.columns(input.kind === 'voucher_sale' ? ['kind', 'voucher_id'] : ['kind', 'payment_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!posting) return null;
  await trx
    .insertInto('billing_ledger_entries')
    .values(
      input.lines.map((l) => ({
        posting_id: posting.id,
        account: l.account,
        reseller_id: input.resellerId,
        provider: input.provider,
        payment_id: input.paymentId ?? null,
        voucher_id: input.voucherId ?? null,
        debit_fcfa: l.debit.toString(),
        credit_fcfa: l.credit.toString(),
      })),
    )
    .execute();
  return posting.id;
}

/**
 * Book a redeemed voucher (core's `LedgerWriter.postVoucherSale`), in the caller's transaction: the split of a payment
 * with no provider fee, under the reseller's fee and share as they are now. Null when the voucher was already booked
 * or its price is 0.
 */
export async function postVoucherSale(trx: Db, sale: VoucherSale): Promise<VoucherSalePosting | null> {
  const gross = toBigInt(sale.amountFcfa, 'voucher price');
  if (gross < 0n) throw new RangeError(`voucher price ${gross} is negative`);
  if (gross === 0n) return null;
  const reseller = await trx.selectFrom('resellers').select(['fee_percent', 'share_percent']).where('id', '=', sale.resellerId).executeTakeFirst();
  if (!reseller) throw new Error(`no reseller ${sale.resellerId} for voucher ${sale.voucherId}`);
  const split = splitPayment({
    gross,
    reportedFee: 0,
    commissionPercent: 0,
    reseller: { feePercent: String(reseller.fee_percent), sharePercent: String(reseller.share_percent) },
  });
  const postingId = await post(trx, {
    kind: 'voucher_sale',
    voucherId: sale.voucherId,
    provider: null,
    resellerId: sale.resellerId,
    memo: `voucher ${sale.serial ?? sale.voucherId} (batch ${sale.batchId}, plan ${sale.planCode}) sold for cash by the reseller`,
    lines: voucherSaleLines(sale.resellerId, split),
  });
  if (!postingId) return null;
  return {
    postingId,
    grossFcfa: toSafeNumber(split.gross),
    resellerFeeFcfa: toSafeNumber(split.resellerFee),
    resellerShareFcfa: toSafeNumber(split.resellerShare),
    rgzShareFcfa: toSafeNumber(split.rgzShare),
  };
}

/** Core's `LedgerWriter`, as billing provides it. */
export function createLedgerWriter(ordersPath: string): LedgerWriter {
  return {
    ordersPath,
    postVoucherSale: (trx: Transaction<CoreDatabase>, sale: VoucherSale) => postVoucherSale(trx as unknown as Transaction<BillingDatabase>, sale),
  };
}

/** The refund posting of a payment: its payment posting's lines with sides swapped. Null when already reversed. */
export async function reversePayment(trx: Db, paymentId: string, memo: string): Promise<string | null> {
  const original = await trx
    .selectFrom('billing_ledger_entries as e')
    .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
    .select(['e.account', 'e.provider', 'e.reseller_id', sql<string>`e.debit_fcfa::text`.as('debit'), sql<string>`e.credit_fcfa::text`.as('credit')])
    .where('p.kind', '=', 'payment')
    .where('p.payment_id', '=', paymentId)
    .orderBy('e.id')
    .execute();
  if (original.length === 0) throw new Error(`payment ${paymentId} has no payment posting to reverse`);
  const first = original[0] as (typeof original)[number];
  return post(trx, {
    kind: 'refund',
    paymentId,
    provider: first.provider ?? '',
    resellerId: first.reseller_id,
    memo,
    lines: original.map((l) => ({ account: l.account, debit: toBigInt(l.credit), credit: toBigInt(l.debit) })),
  });
}

/** Σ credit − Σ debit over accounts, as BigInt (read as text: sums of bigint are numeric in PostgreSQL). */
export async function creditBalance(db: Db, accountList: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>(accountList.map((a) => [a, 0n]));
  if (accountList.length === 0) return out;
  const rows = await db
    .selectFrom('billing_ledger_entries')
    .select(['account', sql<string>`(coalesce(sum(credit_fcfa), 0) - coalesce(sum(debit_fcfa), 0))::text`.as('balance')])
    .where('account', 'in', accountList)
    .groupBy('account')
    .execute();
  for (const r of rows) out.set(r.account, toBigInt(r.balance));
  return out;
}

/** Postings whose debits differ from their credits: always empty (the deferred trigger refuses such a commit). */
export async function unbalancedPostings(db: Db): Promise<Array<{ posting_id: string; debits: string; credits: string }>> {
  const r = await sql<{ posting_id: string; debits: string; credits: string }>`
    select posting_id, sum(debit_fcfa)::text as debits, sum(credit_fcfa)::text as credits
    from billing_ledger_entries group by posting_id having sum(debit_fcfa) <> sum(credit_fcfa)`.execute(db);
  return r.rows;
}
