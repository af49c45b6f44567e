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
 *                                  reseller holds cash collected for a sale (cash sales, later)
 * A payment posting: Dr provider_clearing G = Cr provider_fees F + Cr reseller_fee R + Cr revenue:reseller S +
 * Cr revenue:rgz (N − S). A refund posting mirrors it line by line.
 * Reseller balance = Σ (credit − debit) over that reseller's three accounts: positive, RGZ owes the reseller; negative,
 * the reseller owes RGZ. It is derived from the ledger alone.
 */
import { type Kysely, sql, type Transaction } from '@rgz/core';
import type { BillingDatabase, PostingKind } from './schema.js';
import { type Split, toBigInt } from './split.js';

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

type Db = Kysely<BillingDatabase> | Transaction<BillingDatabase>;

/**
 * Insert one posting. Idempotent on (kind, payment): a second call for the same payment returns null and writes
 * nothing. Throws when the lines do not balance (the database would refuse it at commit anyway).
 */
export async function post(
  trx: Db,
  input: { kind: PostingKind; paymentId: string; provider: string; resellerId: string | null; memo?: string; lines: Line[] },
): Promise<string | null> {
  const debits = input.lines.reduce((s, l) => s + l.debit, 0n);
  const credits = input.lines.reduce((s, l) => s + l.credit, 0n);
  if (debits !== credits) throw new Error(`posting for payment ${input.paymentId} does not balance: ${debits} ≠ ${credits}`);
  for (const l of input.lines)
    if (l.debit > 0n === l.credit > 0n || l.debit < 0n || l.credit < 0n) throw new Error(`line on ${l.account} must have exactly one positive side`);
  const posting = await trx
    .insertInto('billing_postings')
    .values({ kind: input.kind, payment_id: input.paymentId, reseller_id: input.resellerId, memo: input.memo ?? null })
    .onConflict((oc) => oc.columns(['kind', 'payment_id']).doNothing())
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
        payment_id: input.paymentId,
        debit_fcfa: l.debit.toString(),
        credit_fcfa: l.credit.toString(),
      })),
    )
    .execute();
  return posting.id;
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
