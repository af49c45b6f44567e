/**
 * Billing's implementation of core's `LedgerReader` (the read side of the ledger for invoices and the regulator's
 * report). Figures come from the ledger lines alone, grouped by posting and read by account family (see
 * core's extension-points/ledger-reader.ts): a refund, being its payment mirrored, comes out with every figure
 * negated; a posting kind billing does not know yet (voucher sales, payouts) is read the same way. Periods are on the
 * posting's booking time. Sums are computed by PostgreSQL as numeric and read as text into BigInt.
 */
import type { Kysely, LedgerFigures, LedgerPostingView, LedgerReader, LedgerRevenue, LedgerRevenueLine, LedgerTotals, ResellerStatement } from '@rgz/core';
import { sql } from '@rgz/core';
import { resellerAccounts } from './ledger.js';
import type { BillingDatabase } from './schema.js';
import { toBigInt } from './split.js';

/** Net credit per account family of one posting's lines (SQL select-list fragment over `e`). */
const FIGURES = sql`
  coalesce(sum(case when e.account like 'provider_fees:%' then e.credit_fcfa - e.debit_fcfa end), 0)::text as provider_fee,
  coalesce(sum(case when e.account like 'reseller_fee:%' then e.credit_fcfa - e.debit_fcfa end), 0)::text as reseller_fee,
  coalesce(sum(case when e.account like 'revenue:reseller:%' then e.credit_fcfa - e.debit_fcfa end), 0)::text as reseller_share,
  coalesce(sum(case when e.account = 'revenue:rgz' then e.credit_fcfa - e.debit_fcfa end), 0)::text as rgz_share,
  coalesce(sum(case when e.account like 'payable:reseller:%' then e.credit_fcfa - e.debit_fcfa end), 0)::text as settlement`;

interface FigureRow {
  provider_fee: string;
  reseller_fee: string;
  reseller_share: string;
  rgz_share: string;
  settlement: string;
}

function figures(r: FigureRow): LedgerFigures {
  const providerFee = toBigInt(r.provider_fee);
  const resellerFee = toBigInt(r.reseller_fee);
  const resellerShare = toBigInt(r.reseller_share);
  const rgzShare = toBigInt(r.rgz_share);
  return { gross: providerFee + resellerFee + resellerShare + rgzShare, providerFee, resellerFee, resellerShare, rgzShare, settlement: toBigInt(r.settlement) };
}

class TotalsBuilder {
  gross = 0n;
  providerFee = 0n;
  resellerFee = 0n;
  resellerShare = 0n;
  rgzShare = 0n;
  settlement = 0n;
  readonly countsByKind: Record<string, number> = {};

  add(kind: string, f: LedgerFigures, count = 1): void {
    this.gross += f.gross;
    this.providerFee += f.providerFee;
    this.resellerFee += f.resellerFee;
    this.resellerShare += f.resellerShare;
    this.rgzShare += f.rgzShare;
    this.settlement += f.settlement;
    this.countsByKind[kind] = (this.countsByKind[kind] ?? 0) + count;
  }

  build(): LedgerTotals {
    const counts = Object.fromEntries(Object.entries(this.countsByKind).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      gross: this.gross,
      providerFee: this.providerFee,
      resellerFee: this.resellerFee,
      resellerShare: this.resellerShare,
      rgzShare: this.rgzShare,
      settlement: this.settlement,
      payments: counts.payment ?? 0,
      refunds: counts.refund ?? 0,
      countsByKind: counts,
    };
  }
}

const byKey = (a: { key: string | null }, b: { key: string | null }) =>
  a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1;

export function createLedgerReader(db: Kysely<BillingDatabase>): LedgerReader {
  const balance = async (resellerId: string, at: Date): Promise<bigint> => {
    const r = await db
      .selectFrom('billing_ledger_entries')
      .select(sql<string>`(coalesce(sum(credit_fcfa), 0) - coalesce(sum(debit_fcfa), 0))::text`.as('balance'))
      .where('account', 'in', resellerAccounts(resellerId))
      .where('created_at', '<', at)
      .executeTakeFirstOrThrow();
    return toBigInt(r.balance);
  };

  return {
    balance,

    async resellerStatement(resellerId, from, to): Promise<ResellerStatement> {
      // Filtered on the lines (every line of a posting carries its reseller; indexed on reseller_id), not on postings.
      const rows = await sql<
        FigureRow & {
          posting_id: string;
          kind: string;
          memo: string | null;
          reseller_id: string | null;
          payment_id: string | null;
          booked_at: Date;
          provider: string | null;
          payment_ref: string | null;
          order_ref: string | null;
          plan_code: string | null;
          performed_at: Date | null;
          voucher_ref: string | null;
        }
      >`
        select p.id as posting_id, p.kind, p.memo, p.reseller_id, p.payment_id, p.created_at as booked_at,
          max(e.provider) as provider, pay.provider_transaction_id as payment_ref, coalesce(o.reference, pay.reference) as order_ref,
          coalesce(o.plan_code, pl.code) as plan_code, pay.performed_at, to_jsonb(p) ->> 'voucher_id' as voucher_ref,
          ${FIGURES}
        from billing_postings p
          join billing_ledger_entries e on e.posting_id = p.id
          left join billing_payments pay on pay.id = p.payment_id
          left join billing_orders o on o.id = pay.order_id
          left join plans pl on pl.id = pay.plan_id
        where e.reseller_id = ${resellerId} and e.created_at >= ${from} and e.created_at < ${to}
        group by p.id, p.kind, p.memo, p.reseller_id, p.payment_id, p.created_at, pay.provider_transaction_id, o.reference, pay.reference,
          o.plan_code, pl.code, pay.performed_at
        order by p.created_at, p.id`.execute(db);
      const totals = new TotalsBuilder();
      const postings: LedgerPostingView[] = rows.rows.map((r) => {
        const f = figures(r);
        totals.add(r.kind, f);
        return {
          ...f,
          postingId: r.posting_id,
          kind: r.kind,
          bookedAt: new Date(r.booked_at),
          resellerId: r.reseller_id,
          provider: r.provider,
          paymentId: r.payment_id,
          paymentRef: r.payment_ref,
          orderRef: r.order_ref,
          voucherRef: r.voucher_ref,
          planCode: r.plan_code,
          performedAt: r.performed_at ? new Date(r.performed_at) : null,
          memo: r.memo,
        };
      });
      const [openingBalance, closingBalance] = [await balance(resellerId, from), await balance(resellerId, to)];
      return { resellerId, from, to, openingBalance, closingBalance, postings, totals: totals.build() };
    },

    async revenue(from, to): Promise<LedgerRevenue> {
      // One row per (reseller, provider, plan, kind) with its figures and count; grouped further in JS.
      const rows = await sql<FigureRow & { reseller_id: string | null; provider: string | null; plan_code: string | null; kind: string; n: string }>`
        with per_posting as (
          select p.id, p.kind, p.reseller_id, max(e.provider) as provider, coalesce(o.plan_code, pl.code) as plan_code,
            ${FIGURES}
          from billing_postings p
            join billing_ledger_entries e on e.posting_id = p.id
            left join billing_payments pay on pay.id = p.payment_id
            left join billing_orders o on o.id = pay.order_id
            left join plans pl on pl.id = pay.plan_id
          where p.created_at >= ${from} and p.created_at < ${to}
          group by p.id, p.kind, p.reseller_id, o.plan_code, pl.code
        )
        select reseller_id::text as reseller_id, provider, plan_code, kind, count(*)::text as n,
          sum(provider_fee::numeric)::text as provider_fee, sum(reseller_fee::numeric)::text as reseller_fee,
          sum(reseller_share::numeric)::text as reseller_share, sum(rgz_share::numeric)::text as rgz_share,
          sum(settlement::numeric)::text as settlement
        from per_posting group by reseller_id, provider, plan_code, kind`.execute(db);
      const total = new TotalsBuilder();
      const groups = {
        reseller: new Map<string | null, TotalsBuilder>(),
        provider: new Map<string | null, TotalsBuilder>(),
        plan: new Map<string | null, TotalsBuilder>(),
        kind: new Map<string | null, TotalsBuilder>(),
      };
      const into = (map: Map<string | null, TotalsBuilder>, key: string | null) => {
        let b = map.get(key);
        if (!b) map.set(key, (b = new TotalsBuilder()));
        return b;
      };
      for (const r of rows.rows) {
        const f = figures(r);
        const n = Number(r.n);
        total.add(r.kind, f, n);
        into(groups.reseller, r.reseller_id).add(r.kind, f, n);
        into(groups.provider, r.provider).add(r.kind, f, n);
        into(groups.plan, r.plan_code).add(r.kind, f, n);
        into(groups.kind, r.kind).add(r.kind, f, n);
      }
      const lines = (map: Map<string | null, TotalsBuilder>): LedgerRevenueLine[] => [...map].map(([key, b]) => ({ key, ...b.build() })).sort(byKey);
      return {
        from,
        to,
        total: total.build(),
        byReseller: lines(groups.reseller),
        byProvider: lines(groups.provider),
        byPlan: lines(groups.plan),
        byKind: lines(groups.kind),
      };
    },

    async resellersToInvoice(from, to): Promise<string[]> {
      const r = await sql<{ reseller_id: string }>`
        select reseller_id::text as reseller_id from billing_postings
          where reseller_id is not null and created_at >= ${from} and created_at < ${to}
        union
        select reseller_id::text from billing_ledger_entries
          where reseller_id is not null and created_at < ${to}
            and (account like 'reseller_fee:%' or account like 'revenue:reseller:%' or account like 'payable:reseller:%')
          group by reseller_id having sum(credit_fcfa) <> sum(debit_fcfa)
        order by 1`.execute(db);
      return r.rows.map((x) => x.reseller_id);
    },
  };
}
