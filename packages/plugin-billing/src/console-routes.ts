/**
 * Billing routes the operator console reads: revenue today and this month, every reseller's balance, a payment's
 * whole history (raw events, verification, ledger, refunds, plan, NAS task outcome, reconciliation items, audit),
 * and marking a flagged payment resolved. Payments, postings and ledger lines are read through the caller's scoped
 * handle; the tables without an owner column (events, refunds, reconciliation items) only after the payment itself
 * was found through it, so a reseller never reaches another reseller's rows.
 */
import {
  UuidIdParam,
  type CoreDatabase,
  defineRoute,
  httpErrors,
  jsonContent as json,
  type Kysely,
  type PluginRouter,
  type Principal,
  problemContent as problem,
  sql,
  z,
} from '@rgz/core';
import type { BillingContext } from './context.js';
import { creditBalance, resellerAccounts } from './ledger.js';
import type { BillingDatabase } from './schema.js';
import { toSafeNumber } from './split.js';

export interface ConsoleRouteOptions {
  /** Where "today" and "this month" begin (the server's time zone). */
  timeZone: string;
  audit(
    actor: Principal | null,
    entry: { action: string; targetType: string; targetId: string; resellerId: string | null; details: Record<string, unknown> },
  ): Promise<void>;
}

const iso = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : new Date(d).toISOString());
const amount = (v: number | string | bigint | null | undefined) => (v === null || v === undefined ? null : toSafeNumber(v));
const parsed = (v: unknown) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v);

const Revenue = z
  .object({
    from: z.string(),
    to: z.string(),
    gross_fcfa: z.number().int().openapi({ description: 'payments_fcfa + vouchers_fcfa' }),
    payments_fcfa: z.number().int().openapi({ description: 'Collected by payment providers, refunds in the window deducted' }),
    refunds_fcfa: z.number().int(),
    vouchers_fcfa: z.number().int().openapi({ description: 'Prepaid vouchers redeemed (cash the reseller collected)' }),
    rgz_revenue_fcfa: z.number().int().openapi({ description: 'RGZ’s share of these sales (revenue:rgz), as on the reseller’s invoice' }),
    reseller_revenue_fcfa: z.number().int().openapi({ description: 'Reseller fees and shares' }),
    payments: z.number().int().openapi({ description: 'Payment postings in the window' }),
  })
  .openapi('BillingRevenue');

export function registerConsoleRoutes(ctx: BillingContext, r: PluginRouter, options: ConsoleRouteOptions): void {
  const tags = [ctx.name];
  const scoped = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<BillingDatabase>;
  const principalOf = (c: { get(k: 'principal'): Principal | null }) => c.get('principal') as Principal;

  // Ledger lines are the one source: a payment is its provider_clearing debit, a refund its credit, a voucher sale
  // the payable debit of its posting; the scoped handle keeps a reseller to the lines of its own postings.
  const revenue = async (db: Kysely<BillingDatabase>, from: Date, to: Date): Promise<z.infer<typeof Revenue>> => {
    const row = await db
      .selectFrom('billing_ledger_entries as e')
      .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
      .select([
        sql<string>`coalesce(sum(case when p.kind = 'payment' and e.account like 'provider\\_clearing:%' then e.debit_fcfa else 0 end), 0)::text`.as('paid'),
        sql<string>`coalesce(sum(case when p.kind = 'refund' and e.account like 'provider\\_clearing:%' then e.credit_fcfa else 0 end), 0)::text`.as(
          'refunded',
        ),
        sql<string>`coalesce(sum(case when p.kind = 'voucher_sale' and e.account like 'payable:reseller:%' then e.debit_fcfa - e.credit_fcfa else 0 end), 0)::text`.as(
          'vouchers',
        ),
        sql<string>`coalesce(sum(case when e.account = 'revenue:rgz' then e.credit_fcfa - e.debit_fcfa else 0 end), 0)::text`.as('rgz'),
        sql<string>`coalesce(sum(case when e.account like 'reseller\\_fee:%' or e.account like 'revenue:reseller:%' then e.credit_fcfa - e.debit_fcfa else 0 end), 0)::text`.as(
          'reseller',
        ),
        sql<string>`count(distinct case when p.kind = 'payment' then p.id end)::text`.as('payments'),
      ])
      .where('e.created_at', '>=', from)
      .where('e.created_at', '<', to)
      .executeTakeFirstOrThrow();
    const paid = BigInt(row.paid);
    const refunded = BigInt(row.refunded);
    const vouchers = BigInt(row.vouchers);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      gross_fcfa: toSafeNumber(paid - refunded + vouchers),
      payments_fcfa: toSafeNumber(paid - refunded),
      refunds_fcfa: toSafeNumber(refunded),
      vouchers_fcfa: toSafeNumber(vouchers),
      rgz_revenue_fcfa: toSafeNumber(BigInt(row.rgz)),
      reseller_revenue_fcfa: toSafeNumber(BigInt(row.reseller)),
      payments: Number(row.payments),
    };
  };

  r.add(
    defineRoute({
      method: 'get',
      path: '/summary',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Revenue today and this month in the server’s time zone, from the ledger (a reseller sees its own sales)',
      request: {
        query: z.object({
          date: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD')
            .optional()
            .openapi({ description: 'The day (and its month) to sum; default: today' }),
        }),
      },
      responses: {
        200: json(z.object({ timezone: z.string(), date: z.string(), today: Revenue, month: Revenue }), 'Revenue'),
        400: problem('Bad date'),
      },
    }),
    async (c) => {
      const { date } = c.req.valid('query');
      const tz = options.timeZone;
      // Local midnights computed by PostgreSQL, which knows the zone rules (DST included) as the server's zone says.
      const at = date ? sql`(${date}::date + time '12:00')` : sql`(now() at time zone ${tz})`;
      const bounds = await sql<{ day: string; d0: Date; d1: Date; m0: Date; m1: Date }>`
        select to_char(${at}, 'YYYY-MM-DD') as day,
          date_trunc('day', ${at}) at time zone ${tz} as d0,
          (date_trunc('day', ${at}) + interval '1 day') at time zone ${tz} as d1,
          date_trunc('month', ${at}) at time zone ${tz} as m0,
          (date_trunc('month', ${at}) + interval '1 month') at time zone ${tz} as m1`
        .execute(ctx.db)
        .catch((err: unknown) => {
          throw httpErrors.badRequest('invalid_date', `"${date}" is not a date: ${(err as Error).message}`);
        });
      const b = bounds.rows[0];
      if (!b) throw new Error('no bounds');
      const db = scoped(c);
      const [today, month] = [await revenue(db, new Date(b.d0), new Date(b.d1)), await revenue(db, new Date(b.m0), new Date(b.m1))];
      return c.json({ timezone: tz, date: b.day, today, month }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/balances',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Every reseller’s balance from the ledger (a reseller sees itself): positive, RGZ owes the reseller; negative, the reseller owes RGZ',
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({
                reseller_id: z.string(),
                name: z.string(),
                slug: z.string(),
                balance_fcfa: z.number().int(),
                accounts: z.record(z.string(), z.number().int()),
              }),
            ),
          }),
          'Balances',
        ),
      },
    }),
    async (c) => {
      const db = scoped(c);
      const resellers = await db.selectFrom('resellers').select(['id', 'name', 'slug']).orderBy('name').execute();
      const balances = await creditBalance(
        db,
        resellers.flatMap((x) => resellerAccounts(x.id)),
      );
      const items = resellers.map((x) => {
        let total = 0n;
        const accounts: Record<string, number> = {};
        for (const account of resellerAccounts(x.id)) {
          const b = balances.get(account) ?? 0n;
          total += b;
          accounts[account] = toSafeNumber(b);
        }
        return { reseller_id: x.id, name: x.name, slug: x.slug, balance_fcfa: toSafeNumber(total), accounts };
      });
      return c.json({ items }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/payments/{id}/history',
      access: ['noc', 'reseller'],
      tags,
      summary:
        'A payment’s whole story: the raw provider events, the verified answer, the ledger lines, refunds, the plan activated, the NAS task (CoA outcome), reconciliation items and audit entries',
      request: { params: UuidIdParam },
      responses: {
        200: json(
          z.object({
            payment: z.record(z.string(), z.unknown()),
            verification: z.unknown().openapi({ description: 'The provider’s answer when the payment was verified (NOC only; null for a reseller)' }),
            order: z.record(z.string(), z.unknown()).nullable(),
            events: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'Webhooks and browser callbacks; raw_body for the NOC only' }),
            ledger: z.array(z.record(z.string(), z.unknown())),
            refunds: z.array(z.record(z.string(), z.unknown())),
            subscription: z.record(z.string(), z.unknown()).nullable(),
            nas_tasks: z.array(z.record(z.string(), z.unknown())),
            reconciliation: z.array(z.record(z.string(), z.unknown())),
            audit: z.array(z.record(z.string(), z.unknown())),
          }),
          'History',
        ),
        404: problem('No such payment (or not yours)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const noc = principalOf(c).role === 'noc';
      const db = scoped(c);
      const pay = await db
        .selectFrom('billing_payments as pay')
        .leftJoin('subscribers as s', 's.id', 'pay.subscriber_id')
        .selectAll('pay')
        .select('s.subscriber_ref')
        .where('pay.id', '=', id)
        .executeTakeFirst();
      if (!pay) throw httpErrors.notFound('payment_not_found', `no payment ${id}`);
      const order = pay.order_id ? await db.selectFrom('billing_orders').selectAll().where('id', '=', pay.order_id).executeTakeFirst() : undefined;
      // The payment was found through the scoped handle: its events and refunds are the caller's to see.
      const events = await ctx.db
        .selectFrom('billing_payment_events')
        .selectAll()
        .where('provider', '=', pay.provider)
        .where('provider_transaction_id', '=', pay.provider_transaction_id)
        .orderBy('id')
        .execute();
      const ledger = await db
        .selectFrom('billing_ledger_entries as e')
        .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
        .select(['e.id', 'e.posting_id', 'p.kind', 'p.memo', 'e.account', 'e.debit_fcfa', 'e.credit_fcfa', 'e.created_at'])
        .where('e.payment_id', '=', id)
        .orderBy('e.id')
        .execute();
      const refunds = await ctx.db.selectFrom('billing_refunds').selectAll().where('payment_id', '=', id).orderBy('created_at').execute();
      const subscription = pay.subscription_id
        ? await (db as unknown as Kysely<CoreDatabase>)
            .selectFrom('subscriptions as sub')
            .innerJoin('plans as pl', 'pl.id', 'sub.plan_id')
            .select(['sub.id', 'pl.code as plan_code', 'sub.starts_at', 'sub.expires_at', 'sub.status'])
            .where('sub.id', '=', pay.subscription_id)
            .executeTakeFirst()
        : undefined;
      const tasks = pay.subscription_id
        ? await ctx.db
            .selectFrom('core_tasks')
            .select(['id', 'status', 'attempts', 'last_error', 'created_at', 'finished_at', 'payload'])
            .where('name', '=', 'nas.policy-change')
            .where(sql<string>`payload->>'subscriptionId'`, '=', pay.subscription_id)
            .orderBy('id')
            .execute()
        : [];
      const taskIds = tasks.map((t) => String(t.id));
      const audit = await (db as unknown as Kysely<CoreDatabase>)
        .selectFrom('audit_log')
        .select(['id', 'at', 'actor_role', 'action', 'target_type', 'target_id', 'details'])
        .where((eb) =>
          eb.or([
            eb.and([eb('target_type', '=', 'billing_payment'), eb('target_id', '=', id)]),
            ...(taskIds.length ? [eb(sql<string>`details->>'task_id'`, 'in', taskIds)] : []),
          ]),
        )
        .orderBy('id')
        .limit(500)
        .execute();
      const items = await ctx.db
        .selectFrom('billing_reconciliation_items as i')
        .innerJoin('billing_reconciliation_runs as run', 'run.id', 'i.run_id')
        .select(['i.run_id', sql<string>`run.day::text`.as('day'), 'i.kind', 'i.action', 'i.db_status', 'i.provider_status', 'i.detail'])
        .where((eb) =>
          eb.or([
            eb('i.payment_id', '=', id),
            eb.and([eb('i.provider', '=', pay.provider), eb('i.provider_transaction_id', '=', pay.provider_transaction_id)]),
          ]),
        )
        .orderBy('i.id')
        .execute();
      return c.json(
        {
          payment: {
            id: pay.id,
            provider: pay.provider,
            provider_transaction_id: pay.provider_transaction_id,
            order_reference: pay.reference,
            status: pay.status,
            provider_status: pay.provider_status,
            amount_fcfa: toSafeNumber(pay.amount_fcfa),
            expected_fcfa: amount(pay.expected_fcfa),
            fee_fcfa: amount(pay.fee_fcfa),
            reseller_id: pay.reseller_id,
            subscriber_id: pay.subscriber_id,
            subscriber_ref: pay.subscriber_ref ?? null,
            subscription_id: pay.subscription_id,
            review: pay.review,
            review_reason: pay.review_reason,
            performed_at: iso(pay.performed_at),
            created_at: iso(pay.created_at),
            updated_at: iso(pay.updated_at),
          },
          verification: noc ? (parsed(pay.raw) ?? null) : null,
          order: order
            ? {
                reference: order.reference,
                status: order.status,
                plan_code: order.plan_code,
                amount_fcfa: toSafeNumber(order.amount_fcfa),
                provider: order.provider,
                created_at: iso(order.created_at),
              }
            : null,
          events: events.map((e) => ({
            id: Number(e.id),
            kind: e.kind,
            event_id: e.event_id,
            claimed_reference: e.claimed_reference,
            claimed_status: e.claimed_status,
            claimed_amount_fcfa: amount(e.claimed_amount_fcfa),
            received_at: iso(e.received_at),
            raw_body: noc ? e.raw_body : null,
          })),
          ledger: ledger.map((l) => ({
            id: Number(l.id),
            posting_id: l.posting_id,
            posting_kind: l.kind,
            memo: l.memo,
            account: l.account,
            debit_fcfa: toSafeNumber(l.debit_fcfa),
            credit_fcfa: toSafeNumber(l.credit_fcfa),
            created_at: iso(l.created_at),
          })),
          refunds: refunds.map((x) => ({
            id: x.id,
            refund_reference: x.refund_reference,
            status: x.status,
            amount_fcfa: amount(x.amount_fcfa),
            reason: x.reason,
            provider_refund_ref: x.provider_refund_ref,
            error: x.error,
            created_at: iso(x.created_at),
            updated_at: iso(x.updated_at),
          })),
          subscription: subscription
            ? {
                id: subscription.id,
                plan_code: subscription.plan_code,
                starts_at: iso(subscription.starts_at),
                expires_at: iso(subscription.expires_at),
                status: subscription.status,
              }
            : null,
          nas_tasks: tasks.map((t) => ({
            id: String(t.id),
            status: t.status,
            attempts: Number(t.attempts),
            reason: (parsed(t.payload) as { reason?: string } | null)?.reason ?? null,
            last_error: t.last_error,
            created_at: iso(t.created_at),
            finished_at: iso(t.finished_at),
          })),
          reconciliation: items.map((i) => ({
            run_id: i.run_id,
            day: i.day.slice(0, 10),
            kind: i.kind,
            action: i.action,
            db_status: i.db_status,
            provider_status: i.provider_status,
            detail: i.detail,
          })),
          audit: audit.map((a) => ({
            id: Number(a.id),
            at: iso(a.at),
            actor_role: a.actor_role,
            action: a.action,
            target_type: a.target_type,
            target_id: a.target_id,
            details: parsed(a.details),
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/payments/{id}/review',
      access: ['noc'],
      tags,
      summary: 'Resolve a payment flagged for review (amount mismatch, orphan, duplicate, provider disagreement), with what was done; audited',
      request: {
        params: UuidIdParam,
        body: {
          required: true,
          content: {
            'application/json': { schema: z.object({ resolution: z.string().trim().min(3, 'say what was done, in at least 3 characters').max(1000) }) },
          },
        },
      },
      responses: {
        200: json(z.object({ id: z.string(), review: z.literal('resolved'), review_reason: z.string().nullable() }), 'Resolved'),
        404: problem('No such payment'),
        409: problem('The payment is not flagged for review'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { resolution } = c.req.valid('json');
      const row = await ctx.db
        .updateTable('billing_payments')
        .set({ review: 'resolved', updated_at: new Date() })
        .where('id', '=', id)
        .where('review', '=', 'needs_review')
        .returning(['id', 'review_reason', 'reseller_id'])
        .executeTakeFirst();
      if (!row) {
        const exists = await ctx.db.selectFrom('billing_payments').select('review').where('id', '=', id).executeTakeFirst();
        if (!exists) throw httpErrors.notFound('payment_not_found', `no payment ${id}`);
        throw httpErrors.conflict('payment_not_flagged', `payment ${id} is not flagged for review (review: ${exists.review ?? 'none'})`);
      }
      await options.audit(principalOf(c), {
        action: 'billing.payment.resolve',
        targetType: 'billing_payment',
        targetId: id,
        resellerId: row.reseller_id,
        details: { resolution, review_reason: row.review_reason },
      });
      return c.json({ id: row.id, review: 'resolved' as const, review_reason: row.review_reason }, 200);
    },
  );
}
