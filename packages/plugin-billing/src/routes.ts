/**
 * Billing's HTTP surface. Handlers use `c.get('db')`, which core has already scoped to the reseller for reseller
 * principals (billing_orders, billing_payments, billing_postings and billing_ledger_entries are reseller-owned).
 * Webhooks: `POST /hooks/payment/{providerId}` (public, raw body). Everything else under `/api/billing`.
 */
import {
  type Checkout,
  type CoreDatabase,
  defineRoute,
  httpErrors,
  jsonContent as json,
  type Kysely,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentWebhookEvent,
  PlanOfferSchema,
  type PluginRouter,
  type Principal,
  planOffer,
  problemContent as problem,
  problemResponse,
  sql,
  toCsv,
  UuidIdParam,
  WebhookRejected,
  z,
} from '@rgz/core';
import type { BillingContext } from './context.js';
import { storeEvent } from './ingress.js';
import { creditBalance, resellerAccounts } from './ledger.js';
import { newOrderReference, ORDER_REFERENCE, planOnSale } from './orders.js';
import { dayBefore, importCsv, runReconciliation } from './reconciliation.js';
import { refundPayment } from './refunds.js';
import type { BillingDatabase } from './schema.js';
import { toSafeNumber } from './split.js';

const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]*$/;
const TRANSACTION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const iso = (d: Date | string | null | undefined) => (d === null || d === undefined ? null : new Date(d).toISOString());
const amount = (v: number | string | bigint | null | undefined) => (v === null || v === undefined ? null : toSafeNumber(v));

const CheckoutSchema = z
  .object({
    kind: z.enum(['client_widget', 'redirect', 'push']),
    params: z.record(z.string(), z.unknown()).optional().openapi({ description: 'client_widget: the JS widget configuration (public values only)' }),
    script_url: z.string().optional().openapi({ description: 'client_widget: script the page loads (e.g. https://cdn.kkiapay.me/k.js)' }),
    url: z.string().optional().openapi({ description: 'redirect: the hosted payment page' }),
    provider_ref: z.string().optional().openapi({ description: 'redirect/push: the provider transaction id, known before payment' }),
  })
  .openapi('BillingCheckout');

const OrderSchema = z
  .object({
    reference: z.string().openapi({ example: 'RGZP-7K2Q9M4X8B3N5P6R' }),
    status: z.enum(['pending', 'paid', 'failed', 'amount_mismatch', 'refunded', 'checkout_failed']),
    amount_fcfa: z.number().int(),
    currency: z.literal('XOF'),
    provider: z.string(),
    plan: PlanOfferSchema,
    checkout: CheckoutSchema.nullable(),
    subscription: z
      .object({ id: z.string(), status: z.string(), starts_at: z.string(), expires_at: z.string() })
      .nullable()
      .openapi({ description: 'The activated plan, once paid' }),
    created_at: z.string(),
    updated_at: z.string(),
    links: z.object({ self: z.string(), callback: z.string() }),
  })
  .openapi('BillingOrder');

const PaymentSchema = z
  .object({
    id: z.string(),
    provider: z.string(),
    provider_transaction_id: z.string(),
    order_reference: z.string().nullable(),
    status: z.enum(['pending', 'credited', 'failed', 'amount_mismatch', 'orphan', 'duplicate', 'refunded']),
    provider_status: z.string(),
    amount_fcfa: z.number().int(),
    expected_fcfa: z.number().int().nullable(),
    fee_fcfa: z.number().int().nullable(),
    reseller_id: z.string().nullable(),
    subscriber_ref: z.string().nullable(),
    plan_code: z.string().nullable(),
    subscription_id: z.string().nullable(),
    review: z.string().nullable(),
    review_reason: z.string().nullable(),
    performed_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('BillingPayment');

const LedgerLineSchema = z
  .object({
    id: z.number().int(),
    posting_id: z.string(),
    posting_kind: z.enum(['payment', 'refund', 'voucher_sale']),
    account: z.string(),
    debit_fcfa: z.number().int(),
    credit_fcfa: z.number().int(),
    payment_id: z.string().nullable(),
    voucher_id: z.string().nullable().openapi({ description: 'The redeemed voucher of a voucher_sale posting' }),
    reseller_id: z.string().nullable(),
    provider: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('BillingLedgerLine');

const RunSchema = z
  .object({
    id: z.string(),
    day: z.string(),
    trigger: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    candidates: z.number().int(),
    counts: z.record(z.string(), z.number()),
    revenue_fcfa: z.number().int(),
    mismatch_fcfa: z.number().int(),
    mismatch_percent: z.number().nullable(),
    incident: z.string().nullable(),
    error: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi('BillingReconciliationRun');

const ItemSchema = z
  .object({
    provider: z.string(),
    provider_transaction_id: z.string(),
    kind: z.string(),
    action: z.string(),
    sources: z.array(z.string()),
    db_status: z.string().nullable(),
    provider_status: z.string().nullable(),
    db_amount_fcfa: z.number().int().nullable(),
    provider_amount_fcfa: z.number().int().nullable(),
    payment_id: z.string().nullable(),
    order_reference: z.string().nullable(),
    detail: z.string().nullable(),
  })
  .openapi('BillingReconciliationItem');

const PaymentFilters = z.object({
  status: z.enum(['pending', 'credited', 'failed', 'amount_mismatch', 'orphan', 'duplicate', 'refunded']).optional(),
  provider: z.string().regex(PROVIDER_ID).optional(),
  reseller_id: z.string().uuid().optional().openapi({ description: 'NOC only; a reseller always sees its own' }),
  subscriber_id: z.string().uuid().optional().openapi({ description: 'One subscriber’s payments' }),
  review: z.enum(['needs_review', 'resolved']).optional(),
  from: z.string().datetime({ offset: true }).optional().openapi({ description: 'created_at ≥ from (ISO 8601)' }),
  to: z.string().datetime({ offset: true }).optional().openapi({ description: 'created_at < to (ISO 8601)' }),
});

function checkoutView(checkout: unknown): z.infer<typeof CheckoutSchema> | null {
  if (!checkout || typeof checkout !== 'object') return null;
  const c = checkout as Checkout;
  switch (c.kind) {
    case 'client_widget':
      return { kind: c.kind, params: { ...c.params }, ...(c.scriptUrl ? { script_url: c.scriptUrl } : {}) };
    case 'redirect':
      return { kind: c.kind, url: c.url, ...(c.providerRef ? { provider_ref: c.providerRef } : {}) };
    case 'push':
      return { kind: c.kind, provider_ref: c.providerRef };
    default:
      return null;
  }
}

/**
 * `hooks`: the webhook routers — `/hooks/payment` (the URL given to providers as `notifyUrl`).
 */
export function registerRoutes(ctx: BillingContext, r: PluginRouter, hooks: readonly PluginRouter[]): void {
  const tags = [ctx.name];
  const scoped = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<BillingDatabase>;
  const principalOf = (c: { get(k: 'principal'): Principal | null }) => c.get('principal') as Principal;

  const chooseProvider = (requested: string | undefined): PaymentProvider => {
    const all = ctx.providers();
    const id = requested ?? ctx.config.defaultProvider ?? (all.size === 1 ? [...all.keys()][0] : undefined);
    if (!id) {
      throw all.size === 0
        ? httpErrors.unavailable('no_payment_provider', 'no payment provider is loaded')
        : httpErrors.badRequest('provider_required', `several payment providers are loaded (${[...all.keys()].join(', ')}): name one in "provider"`);
    }
    const provider = all.get(id);
    if (!provider) throw httpErrors.badRequest('provider_unknown', `no payment provider "${id}"; loaded: ${[...all.keys()].join(', ') || 'none'}`);
    return provider;
  };

  const orderView = async (db: Kysely<BillingDatabase>, reference: string) => {
    const row = await db
      .selectFrom('billing_orders as o')
      .innerJoin('plans as p', 'p.id', 'o.plan_id')
      .selectAll('o')
      .select([
        'p.code as p_code',
        'p.name as p_name',
        'p.quota_bytes',
        'p.quota_period',
        'p.validity_seconds',
        'p.rate_down_kbps',
        'p.rate_up_kbps',
        'p.price_fcfa',
      ])
      .where('o.reference', '=', reference)
      .executeTakeFirst();
    if (!row) return undefined;
    const sub = await db
      .selectFrom('billing_payments as pay')
      .innerJoin('subscriptions as s', 's.id', 'pay.subscription_id')
      .select(['s.id', 's.status', 's.starts_at', 's.expires_at'])
      .where('pay.order_id', '=', row.id)
      .where('pay.status', 'in', ['credited', 'refunded'])
      .executeTakeFirst();
    const base = `/api/${ctx.name}/orders/${row.reference}`;
    return {
      subscriberId: row.subscriber_id,
      view: {
        reference: row.reference,
        status: row.status,
        amount_fcfa: toSafeNumber(row.amount_fcfa),
        currency: 'XOF' as const,
        provider: row.provider,
        plan: planOffer({ ...row, code: row.p_code, name: row.p_name }),
        checkout: checkoutView(row.checkout),
        subscription: sub ? { id: sub.id, status: sub.status, starts_at: iso(sub.starts_at) as string, expires_at: iso(sub.expires_at) as string } : null,
        created_at: iso(row.created_at) as string,
        updated_at: iso(row.updated_at) as string,
        links: { self: base, callback: `${base}/callback` },
      },
    };
  };

  // --- providers -------------------------------------------------------------------------------------------------
  r.add(
    defineRoute({
      method: 'get',
      path: '/providers',
      access: ['subscriber', 'noc', 'reseller'],
      tags,
      summary: 'Payment providers a subscriber can pay with (checkout kinds, walled-garden hosts)',
      responses: {
        200: json(
          z.object({
            default: z.string().nullable(),
            items: z.array(
              z.object({
                id: z.string(),
                provider: z.string(),
                checkout_kinds: z.array(z.string()),
                refunds: z.string(),
                can_list: z.boolean(),
                walled_garden_hosts: z.array(z.string()),
              }),
            ),
          }),
          'Providers',
        ),
      },
    }),
    (c) => {
      const all = ctx.providers();
      const def = ctx.config.defaultProvider ?? (all.size === 1 ? ([...all.keys()][0] as string) : null);
      return c.json(
        {
          default: def,
          items: [...all.values()].map((p) => ({
            id: p.id,
            provider: p.provider,
            checkout_kinds: [...p.capabilities.checkoutKinds],
            refunds: p.capabilities.refunds,
            can_list: p.capabilities.canList,
            walled_garden_hosts: [...p.capabilities.walledGardenHosts],
          })),
        },
        200,
      );
    },
  );

  // --- orders ------------------------------------------------------------------------------------------------------
  r.add(
    defineRoute({
      method: 'post',
      path: '/orders',
      access: ['subscriber'],
      tags,
      summary: 'Buy a plan: creates an order under our reference and starts the provider checkout',
      request: body(
        z.object({
          plan_code: z.string().min(1).max(64).openapi({ example: 'DAY10MB' }),
          provider: z.string().regex(PROVIDER_ID).optional().openapi({ description: 'Provider instance id (default: config defaultProvider)' }),
        }),
      ),
      responses: {
        201: json(OrderSchema, 'Order created; complete the checkout, then poll GET /orders/{reference}'),
        400: problem('Invalid body or provider'),
        404: problem('No such plan on sale'),
        422: problem('The provider refused the checkout (amount out of range, …)'),
        503: problem('The provider is unreachable; nothing was charged'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const principal = principalOf(c);
      const db = scoped(c);
      const subscriber = await db
        .selectFrom('subscribers')
        .select(['id', 'msisdn', 'reseller_id', 'status'])
        .where('id', '=', principal.subscriberId as string)
        .executeTakeFirst();
      if (!subscriber) throw httpErrors.notFound('subscriber_not_found', 'the subscriber of this token no longer exists');
      if (subscriber.status !== 'active') throw httpErrors.forbidden(`subscriber is ${subscriber.status}`);
      const plan = await planOnSale(db, subscriber.reseller_id, input.plan_code);
      if (!plan) throw httpErrors.notFound('plan_not_found', `no plan "${input.plan_code}" on sale`);
      if (Number(plan.price_fcfa) <= 0) throw httpErrors.unprocessable('plan_free', `plan "${plan.code}" costs nothing; it cannot be bought`);
      const provider = chooseProvider(input.provider);
      const reference = newOrderReference();
      await db
        .insertInto('billing_orders')
        .values({
          reference,
          subscriber_id: subscriber.id,
          reseller_id: subscriber.reseller_id,
          plan_id: plan.id,
          plan_code: plan.code,
          amount_fcfa: plan.price_fcfa,
          provider: provider.id,
          provider_transaction_id: null,
          checkout: null,
        })
        .execute();
      let checkout: Checkout;
      try {
        checkout = await provider.createCheckout({
          reference,
          amount: { amountMinor: Number(plan.price_fcfa), currency: 'XOF' },
          description: plan.name,
          customer: { phone: subscriber.msisdn },
          ...(ctx.config.returnUrl ? { returnUrl: ctx.config.returnUrl } : {}),
          ...(ctx.config.cancelUrl ? { cancelUrl: ctx.config.cancelUrl } : {}),
          notifyUrl: ctx.webhookUrl(provider.id),
          locale: 'fr',
        });
      } catch (err) {
        await db.updateTable('billing_orders').set({ status: 'checkout_failed', updated_at: new Date() }).where('reference', '=', reference).execute();
        if (err instanceof PaymentProviderError) {
          c.get('log').warn({ err, provider: provider.id }, 'checkout failed');
          if (err.kind === 'permanent')
            throw httpErrors.unprocessable('checkout_refused', `the provider refused the checkout: ${err.message}`, { provider_reason: err.reason });
          throw httpErrors.unavailable('provider_unavailable', 'the payment provider cannot be reached; nothing was charged, try again');
        }
        throw err;
      }
      await db
        .updateTable('billing_orders')
        .set({
          checkout: JSON.stringify(checkout),
          provider_transaction_id: checkout.kind === 'client_widget' ? null : (checkout.providerRef ?? null),
          updated_at: new Date(),
        })
        .where('reference', '=', reference)
        .execute();
      const view = await orderView(db, reference);
      return c.json(view!.view, 201);
    },
  );

  const RefParam = z.object({
    ref: z
      .string()
      .regex(ORDER_REFERENCE)
      .openapi({ param: { name: 'ref', in: 'path' }, example: 'RGZP-7K2Q9M4X8B3N5P6R' }),
  });

  r.add(
    defineRoute({
      method: 'get',
      path: '/orders/{ref}',
      access: ['subscriber', 'noc', 'reseller'],
      tags,
      summary: 'An order and its status (the portal polls this after the checkout)',
      request: { params: RefParam },
      responses: { 200: json(OrderSchema, 'Order'), 404: problem('No such order (or not yours)') },
    }),
    async (c) => {
      const { ref } = c.req.valid('param');
      const found = await orderView(scoped(c), ref);
      const p = principalOf(c);
      if (!found || (p.role === 'subscriber' && found.subscriberId !== p.subscriberId)) throw httpErrors.notFound('order_not_found', `no order ${ref}`);
      return c.json(found.view, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/orders/{ref}/callback',
      access: ['subscriber'],
      tags,
      summary: "Record the browser's payment callback (the widget's transaction id); verified with the provider before anything is credited",
      request: {
        params: RefParam,
        ...body(
          z.object({
            transaction_id: z
              .string()
              .regex(TRANSACTION_ID)
              .openapi({ description: 'Provider transaction id from the widget / redirect', example: 'LVFNrK1nx' }),
          }),
        ),
      },
      responses: {
        202: json(z.object({ status: z.enum(['received', 'duplicate']), order_status: z.string() }), 'Stored; poll GET /orders/{ref}'),
        404: problem('No such order (or not yours)'),
        429: problem('Too many callbacks for this order'),
      },
    }),
    async (c) => {
      const { ref } = c.req.valid('param');
      const { transaction_id } = c.req.valid('json');
      const p = principalOf(c);
      const db = scoped(c);
      const order = await db
        .selectFrom('billing_orders')
        .select(['reference', 'provider', 'status', 'subscriber_id'])
        .where('reference', '=', ref)
        .executeTakeFirst();
      if (!order || order.subscriber_id !== p.subscriberId) throw httpErrors.notFound('order_not_found', `no order ${ref}`);
      const count = await db
        .selectFrom('billing_payment_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', 'callback')
        .where('claimed_reference', '=', ref)
        .executeTakeFirstOrThrow();
      const already = await db
        .selectFrom('billing_payment_events')
        .select('id')
        .where('provider', '=', order.provider)
        .where('event_id', '=', `callback:${transaction_id}`)
        .executeTakeFirst();
      if (!already && Number(count.n) >= ctx.config.maxCallbacksPerOrder) {
        throw httpErrors.tooManyRequests('too_many_callbacks', `at most ${ctx.config.maxCallbacksPerOrder} callbacks per order`);
      }
      const rawBody = JSON.stringify({ transaction_id, reference: ref });
      const result = await storeEvent(ctx, {
        provider: order.provider,
        eventId: `callback:${transaction_id}`,
        kind: 'callback',
        transactionId: transaction_id,
        claimedReference: ref,
        rawBody,
      });
      return c.json({ status: result === 'stored' ? ('received' as const) : ('duplicate' as const), order_status: order.status }, 202);
    },
  );

  // --- webhooks (raw) ---------------------------------------------------------------------------------------------
  const webhook: Parameters<PluginRouter['raw']>[1] = async (c) => {
    const id = c.req.param('providerId') ?? '';
    const provider = ctx.providers().get(id);
    if (!provider) {
      ctx.metrics.webhooks.inc({ provider: 'unknown', outcome: 'unknown_provider' });
      return problemResponse(c, {
        type: 'https://rgz.dev/problems/provider_unknown',
        title: 'No such payment provider',
        status: 404,
        code: 'provider_unknown',
        request_id: c.get('requestId'),
      });
    }
    const rawBody = await c.req.text();
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    let event: PaymentWebhookEvent;
    try {
      event = provider.verifyWebhook({ rawBody, headers, query: c.req.query(), method: c.req.method, remoteAddress: c.get('clientIp') });
    } catch (err) {
      if (err instanceof WebhookRejected) {
        ctx.metrics.webhooks.inc({ provider: id, outcome: `rejected_${err.reason}` });
        c.get('log').warn({ provider: id, reason: err.reason }, 'payment webhook rejected');
      }
      throw err;
    }
    if (event.type === 'ignored') {
      ctx.metrics.webhooks.inc({ provider: id, outcome: 'ignored' });
      return c.json({ status: 'ignored' }, 200);
    }
    if (!TRANSACTION_ID.test(event.providerRef)) {
      ctx.metrics.webhooks.inc({ provider: id, outcome: 'rejected_malformed' });
      throw new WebhookRejected('malformed', 'the transaction id is missing or malformed');
    }
    const result = await storeEvent(ctx, {
      provider: id,
      eventId: event.eventId,
      kind: 'webhook',
      transactionId: event.providerRef,
      claimedReference: event.reference ?? null,
      claimedStatus: event.status,
      claimedAmount: event.amount?.currency === 'XOF' ? event.amount.amountMinor : null,
      rawBody,
    });
    ctx.metrics.webhooks.inc({ provider: id, outcome: result });
    return c.json({ status: result === 'stored' ? 'received' : 'duplicate' }, 200);
  };
  for (const h of hooks) {
    h.raw(
      {
        method: 'post',
        path: '/:providerId',
        access: 'public',
        tags,
        summary: 'Payment provider webhook: authenticated by the provider, stored raw, verified later',
      },
      webhook,
    );
  }

  // --- payments ----------------------------------------------------------------------------------------------------
  const paymentsQuery = (db: Kysely<BillingDatabase>, p: Principal, f: z.infer<typeof PaymentFilters>) => {
    let q = db
      .selectFrom('billing_payments as pay')
      .leftJoin('billing_orders as o', 'o.id', 'pay.order_id')
      .leftJoin('subscribers as s', 's.id', 'pay.subscriber_id')
      .select([
        'pay.id',
        'pay.provider',
        'pay.provider_transaction_id',
        'pay.reference',
        'pay.status',
        'pay.provider_status',
        'pay.amount_fcfa',
        'pay.expected_fcfa',
        'pay.fee_fcfa',
        'pay.reseller_id',
        's.subscriber_ref',
        'o.plan_code',
        'pay.subscription_id',
        'pay.review',
        'pay.review_reason',
        'pay.performed_at',
        'pay.created_at',
      ]);
    if (f.status) q = q.where('pay.status', '=', f.status);
    if (f.provider) q = q.where('pay.provider', '=', f.provider);
    if (f.review) q = q.where('pay.review', '=', f.review);
    if (f.reseller_id && p.role === 'noc') q = q.where('pay.reseller_id', '=', f.reseller_id);
    if (f.subscriber_id) q = q.where('pay.subscriber_id', '=', f.subscriber_id);
    if (f.from) q = q.where('pay.created_at', '>=', new Date(f.from));
    if (f.to) q = q.where('pay.created_at', '<', new Date(f.to));
    return q.orderBy('pay.created_at', 'desc').orderBy('pay.id');
  };
  type PaymentRow = Awaited<ReturnType<ReturnType<typeof paymentsQuery>['execute']>>[number];
  const paymentView = (row: PaymentRow): z.infer<typeof PaymentSchema> => ({
    id: row.id,
    provider: row.provider,
    provider_transaction_id: row.provider_transaction_id,
    order_reference: row.reference,
    status: row.status,
    provider_status: row.provider_status,
    amount_fcfa: toSafeNumber(row.amount_fcfa),
    expected_fcfa: amount(row.expected_fcfa),
    fee_fcfa: amount(row.fee_fcfa),
    reseller_id: row.reseller_id,
    subscriber_ref: row.subscriber_ref ?? null,
    plan_code: row.plan_code ?? null,
    subscription_id: row.subscription_id,
    review: row.review,
    review_reason: row.review_reason,
    performed_at: iso(row.performed_at),
    created_at: iso(row.created_at) as string,
  });

  r.add(
    defineRoute({
      method: 'get',
      path: '/payments',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Payments, newest first (a reseller sees its own)',
      request: {
        query: PaymentFilters.extend({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(PaymentSchema), limit: z.number(), offset: z.number() }), 'Payments') },
    }),
    async (c) => {
      const { limit, offset, ...filters } = c.req.valid('query');
      const rows = await paymentsQuery(scoped(c), principalOf(c), filters).limit(limit).offset(offset).execute();
      return c.json({ items: rows.map(paymentView), limit, offset }, 200);
    },
  );

  r.raw(
    {
      method: 'get',
      path: '/payments.csv',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Payments as CSV (same filters as GET /payments, at most 100 000 rows)',
      contentType: 'text/csv',
    },
    async (c) => {
      const parsed = PaymentFilters.safeParse(c.req.query());
      if (!parsed.success) throw httpErrors.badRequest('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const rows = await paymentsQuery(scoped(c), principalOf(c), parsed.data).limit(100_000).execute();
      const columns = Object.keys(PaymentSchema.shape);
      return c.body(toCsv(columns, rows.map(paymentView)), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="payments.csv"',
      });
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/payments/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'A payment with its ledger lines',
      request: { params: UuidIdParam },
      responses: { 200: json(PaymentSchema.extend({ ledger: z.array(LedgerLineSchema) }), 'Payment'), 404: problem('No such payment') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = scoped(c);
      const row = await paymentsQuery(db, principalOf(c), {}).where('pay.id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('payment_not_found', `no payment ${id}`);
      const lines = await ledgerQuery(db).where('e.payment_id', '=', id).orderBy('e.id').execute();
      return c.json({ ...paymentView(row), ledger: lines.map(ledgerView) }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/payments/{id}/refund',
      access: ['noc'],
      tags,
      summary: 'Refund a credited payment in full: provider refund, reversing ledger entries, plan ended',
      request: {
        params: UuidIdParam,
        body: { required: false, content: { 'application/json': { schema: z.object({ reason: z.string().max(500).optional() }) } } },
      },
      responses: {
        200: json(
          z.object({ status: z.literal('succeeded'), payment_id: z.string(), refund_reference: z.string(), amount_fcfa: z.number().nullable() }),
          'Refunded and booked',
        ),
        202: json(
          z.object({ status: z.literal('pending'), payment_id: z.string(), refund_reference: z.string(), amount_fcfa: z.number().nullable() }),
          'The provider settles later; booked when it does',
        ),
        404: problem('No such payment'),
        409: problem('Not refundable (status, provider capability) or refused by the provider'),
        502: problem('No answer from the provider; asking again is safe'),
        503: problem('Provider unreachable'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      let reason: string | undefined;
      if (c.req.header('content-type')?.includes('application/json')) {
        const b = (await c.req.json().catch(() => ({}))) as { reason?: unknown };
        if (typeof b.reason === 'string') reason = b.reason.slice(0, 500);
      }
      const out = await refundPayment(ctx, id, principalOf(c), reason);
      const payload = { payment_id: out.paymentId, refund_reference: out.refundReference, amount_fcfa: out.amountFcfa };
      return out.status === 'pending' ? c.json({ status: 'pending' as const, ...payload }, 202) : c.json({ status: 'succeeded' as const, ...payload }, 200);
    },
  );

  // --- ledger & balances -----------------------------------------------------------------------------------------------
  const ledgerQuery = (db: Kysely<BillingDatabase>) =>
    db
      .selectFrom('billing_ledger_entries as e')
      .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
      .select([
        'e.id',
        'e.posting_id',
        'p.kind',
        'e.account',
        'e.debit_fcfa',
        'e.credit_fcfa',
        'e.payment_id',
        'e.voucher_id',
        'e.reseller_id',
        'e.provider',
        'e.created_at',
      ]);
  type LedgerRow = Awaited<ReturnType<ReturnType<typeof ledgerQuery>['execute']>>[number];
  const ledgerView = (l: LedgerRow): z.infer<typeof LedgerLineSchema> => ({
    id: Number(l.id),
    posting_id: l.posting_id,
    posting_kind: l.kind,
    account: l.account,
    debit_fcfa: toSafeNumber(l.debit_fcfa),
    credit_fcfa: toSafeNumber(l.credit_fcfa),
    payment_id: l.payment_id,
    voucher_id: l.voucher_id,
    reseller_id: l.reseller_id,
    provider: l.provider,
    created_at: iso(l.created_at) as string,
  });

  r.add(
    defineRoute({
      method: 'get',
      path: '/ledger',
      access: ['noc'],
      tags,
      summary: 'Ledger lines (oldest first) with the totals of the filter',
      request: {
        query: z.object({
          account: z.string().max(200).optional().openapi({ example: 'revenue:rgz' }),
          payment_id: z.string().uuid().optional(),
          voucher_id: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: {
        200: json(
          z.object({
            items: z.array(LedgerLineSchema),
            totals: z.object({
              debit_fcfa: z.number().int(),
              credit_fcfa: z.number().int(),
              balance_fcfa: z.number().int().openapi({ description: 'credit − debit' }),
            }),
          }),
          'Ledger',
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const db = scoped(c);
      let lines = ledgerQuery(db);
      let totals = db
        .selectFrom('billing_ledger_entries as e')
        .select([sql<string>`coalesce(sum(e.debit_fcfa), 0)::text`.as('d'), sql<string>`coalesce(sum(e.credit_fcfa), 0)::text`.as('c')]);
      if (q.account) {
        lines = lines.where('e.account', '=', q.account);
        totals = totals.where('e.account', '=', q.account);
      }
      if (q.payment_id) {
        lines = lines.where('e.payment_id', '=', q.payment_id);
        totals = totals.where('e.payment_id', '=', q.payment_id);
      }
      if (q.voucher_id) {
        lines = lines.where('e.voucher_id', '=', q.voucher_id);
        totals = totals.where('e.voucher_id', '=', q.voucher_id);
      }
      const [rows, t] = [await lines.orderBy('e.id').limit(q.limit).offset(q.offset).execute(), await totals.executeTakeFirstOrThrow()];
      const d = BigInt(t.d);
      const cr = BigInt(t.c);
      return c.json(
        { items: rows.map(ledgerView), totals: { debit_fcfa: toSafeNumber(d), credit_fcfa: toSafeNumber(cr), balance_fcfa: toSafeNumber(cr - d) } },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/resellers/{id}/balance',
      access: ['noc', 'reseller'],
      tags,
      summary: "A reseller's balance from the ledger: positive, RGZ owes the reseller; negative, the reseller owes RGZ",
      request: { params: UuidIdParam },
      responses: {
        200: json(
          z.object({
            reseller_id: z.string(),
            balance_fcfa: z.number().int(),
            accounts: z.record(z.string(), z.number().int()),
          }),
          'Balance',
        ),
        404: problem('No such reseller (a reseller only sees itself)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = scoped(c);
      const reseller = await db.selectFrom('resellers').select('id').where('id', '=', id).executeTakeFirst();
      if (!reseller) throw httpErrors.notFound('reseller_not_found', `no reseller ${id}`);
      const balances = await creditBalance(db, resellerAccounts(id));
      let total = 0n;
      const out: Record<string, number> = {};
      for (const [account, b] of balances) {
        total += b;
        out[account] = toSafeNumber(b);
      }
      return c.json({ reseller_id: id, balance_fcfa: toSafeNumber(total), accounts: out }, 200);
    },
  );

  // --- reconciliation ------------------------------------------------------------------------------------------------
  r.raw(
    {
      method: 'post',
      path: '/reconciliation/import',
      access: ['noc'],
      tags,
      summary: 'Upload a provider dashboard export (raw CSV body; ?provider=<id>): its transactions become reconciliation candidates',
    },
    async (c) => {
      const all = ctx.providers();
      const id = c.req.query('provider') ?? (all.size === 1 ? ([...all.keys()][0] as string) : undefined);
      if (!id) throw httpErrors.badRequest('provider_required', 'name the provider of this export: ?provider=<id>');
      if (!all.has(id)) throw httpErrors.badRequest('provider_unknown', `no payment provider "${id}"; loaded: ${[...all.keys()].join(', ') || 'none'}`);
      const text = await c.req.text();
      const result = await importCsv(ctx, id, text, principalOf(c).tokenId);
      c.get('log').info({ provider: id, rows: result.rows, inserted: result.inserted }, 'reconciliation CSV imported');
      return c.json(result, 201);
    },
  );

  const runView = (r: {
    id: string;
    day: string | Date;
    trigger: string;
    status: 'running' | 'succeeded' | 'failed';
    candidates: number;
    counts: unknown;
    revenue_fcfa: number | string;
    mismatch_fcfa: number | string;
    incident: string | null;
    error: string | null;
    started_at: Date;
    finished_at: Date | null;
  }): z.infer<typeof RunSchema> => {
    const revenue = BigInt(r.revenue_fcfa);
    const mismatch = BigInt(r.mismatch_fcfa);
    return {
      id: r.id,
      day: typeof r.day === 'string' ? r.day.slice(0, 10) : r.day.toISOString().slice(0, 10),
      trigger: r.trigger,
      status: r.status,
      candidates: Number(r.candidates),
      counts: (typeof r.counts === 'string' ? JSON.parse(r.counts) : r.counts) as Record<string, number>,
      revenue_fcfa: toSafeNumber(revenue),
      mismatch_fcfa: toSafeNumber(mismatch),
      mismatch_percent: revenue > 0n ? Number((mismatch * 1_000_000n) / revenue) / 10_000 : null,
      incident: r.incident,
      error: r.error,
      started_at: iso(r.started_at) as string,
      finished_at: iso(r.finished_at),
    };
  };
  const runSelect = (db: Kysely<BillingDatabase>) =>
    db
      .selectFrom('billing_reconciliation_runs')
      .select([
        'id',
        sql<string>`day::text`.as('day'),
        'trigger',
        'status',
        'candidates',
        'counts',
        'revenue_fcfa',
        'mismatch_fcfa',
        'incident',
        'error',
        'started_at',
        'finished_at',
      ]);

  r.add(
    defineRoute({
      method: 'post',
      path: '/reconciliation/runs',
      access: ['noc'],
      tags,
      summary:
        'Reconcile a day now (default: yesterday, UTC); the same as `rgz jobs run billing.reconcile` for a chosen day. `wait: false` answers 202 with the run id at once: poll GET /reconciliation/runs/{id}',
      request: {
        body: {
          required: false,
          content: {
            'application/json': {
              schema: z.object({
                day: z
                  .string()
                  .regex(/^\d{4}-\d{2}-\d{2}$/)
                  .optional(),
                wait: z.boolean().optional().openapi({ description: 'false: start the run and answer at once (default true: answer when it is finished)' }),
              }),
            },
          },
        },
      },
      responses: {
        201: json(RunSchema, 'Run finished'),
        202: json(z.object({ id: z.string(), day: z.string(), status: z.literal('running'), links: z.object({ self: z.string() }) }), 'Run started'),
        409: problem('A run of this day is in progress'),
      },
    }),
    async (c) => {
      let day = dayBefore(new Date());
      let wait = true;
      if (c.req.header('content-type')?.includes('application/json')) {
        const b = (await c.req.json().catch(() => ({}))) as { day?: unknown; wait?: unknown };
        if (typeof b.day === 'string') day = b.day;
        if (b.wait === false) wait = false;
      }
      if (!wait) {
        let started: (id: string) => void = () => undefined;
        const runId = new Promise<string>((resolve) => {
          started = resolve;
        });
        const run = runReconciliation(ctx, day, 'api', undefined, started);
        // The run goes on after the answer; its failure is recorded on its row (status failed, error).
        run.catch((err: unknown) => ctx.log.error({ err, day }, 'reconciliation started from the API failed'));
        const id = await Promise.race([runId, run.then((s) => s.id)]);
        return c.json({ id, day, status: 'running' as const, links: { self: `/api/${ctx.name}/reconciliation/runs/${id}` } }, 202);
      }
      // Not tied to the request: a client that gives up does not abort a half-done run.
      const summary = await runReconciliation(ctx, day, 'api');
      const row = await runSelect(ctx.db).where('id', '=', summary.id).executeTakeFirstOrThrow();
      return c.json(runView(row), 201);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/reconciliation/runs',
      access: ['noc'],
      tags,
      summary: 'Reconciliation runs, newest first',
      request: {
        query: z.object({
          day: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/)
            .optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(RunSchema) }), 'Runs') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let query = runSelect(ctx.db);
      if (q.day) query = query.where('day', '=', q.day);
      const rows = await query.orderBy('started_at', 'desc').limit(q.limit).execute();
      return c.json({ items: rows.map(runView) }, 200);
    },
  );

  const itemSelect = (db: Kysely<BillingDatabase>, runId: string) =>
    db
      .selectFrom('billing_reconciliation_items')
      .select([
        'id',
        'provider',
        'provider_transaction_id',
        'kind',
        'action',
        'sources',
        'db_status',
        'provider_status',
        'db_amount_fcfa',
        'provider_amount_fcfa',
        'payment_id',
        'order_reference',
        'detail',
      ])
      .where('run_id', '=', runId);
  type ItemRow = Awaited<ReturnType<ReturnType<typeof itemSelect>['execute']>>[number];
  const itemView = (i: ItemRow): z.infer<typeof ItemSchema> => ({
    provider: i.provider,
    provider_transaction_id: i.provider_transaction_id,
    kind: i.kind,
    action: i.action,
    sources: Array.isArray(i.sources)
      ? i.sources
      : String(i.sources)
          .replace(/^\{|\}$/g, '')
          .split(',')
          .filter(Boolean),
    db_status: i.db_status,
    provider_status: i.provider_status,
    db_amount_fcfa: amount(i.db_amount_fcfa),
    provider_amount_fcfa: amount(i.provider_amount_fcfa),
    payment_id: i.payment_id,
    order_reference: i.order_reference,
    detail: i.detail,
  });

  r.add(
    defineRoute({
      method: 'get',
      path: '/reconciliation/runs/{id}',
      access: ['noc'],
      tags,
      summary: 'A reconciliation run with its items (filter by kind; matches are many)',
      request: {
        params: UuidIdParam,
        query: z.object({
          kind: z.string().max(40).optional().openapi({
            description: 'match, missing_in_db, duplicate, amount_mismatch, status_mismatch, orphan, not_found, unverified; `mismatches` for all but match',
          }),
          limit: z.coerce.number().int().min(1).max(5000).default(1000),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: {
        200: json(
          RunSchema.extend({
            items: z.array(
              ItemSchema.extend({
                payment_review: z.string().nullable().openapi({ description: 'The linked payment’s review state now: needs_review, resolved or null' }),
                resolution: z
                  .object({ at: z.string(), resolution: z.string().nullable() })
                  .nullable()
                  .openapi({ description: 'The latest POST /payments/{id}/review of the linked payment' }),
              }),
            ),
          }),
          'Run',
        ),
        404: problem('No such run'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const run = await runSelect(ctx.db).where('id', '=', id).executeTakeFirst();
      if (!run) throw httpErrors.notFound('run_not_found', `no reconciliation run ${id}`);
      let items = itemSelect(ctx.db, id);
      if (q.kind === 'mismatches') items = items.where('kind', '<>', 'match');
      else if (q.kind) items = items.where('kind', '=', q.kind as never);
      const rows = await items.orderBy('id').limit(q.limit).offset(q.offset).execute();
      // Each mismatch with what became of it: the payment's review state and the resolution written by hand.
      const paymentIds = [...new Set(rows.map((i) => i.payment_id).filter((p): p is string => p !== null))];
      const reviews = new Map<string, string | null>();
      const resolutions = new Map<string, { at: string; resolution: string | null }>();
      if (paymentIds.length) {
        for (const p of await ctx.db.selectFrom('billing_payments').select(['id', 'review']).where('id', 'in', paymentIds).execute())
          reviews.set(p.id, p.review);
        const entries = await (ctx.db as unknown as Kysely<CoreDatabase>)
          .selectFrom('audit_log')
          .select(['target_id', 'at', 'details'])
          .where('action', '=', 'billing.payment.resolve')
          .where('target_id', 'in', paymentIds)
          .orderBy('id')
          .execute();
        for (const e of entries) {
          const details = (typeof e.details === 'string' ? JSON.parse(e.details) : e.details) as { resolution?: unknown };
          if (e.target_id)
            resolutions.set(e.target_id, { at: iso(e.at) as string, resolution: typeof details.resolution === 'string' ? details.resolution : null });
        }
      }
      const withOutcome = rows.map((i) => ({
        ...itemView(i),
        payment_review: i.payment_id ? (reviews.get(i.payment_id) ?? null) : null,
        resolution: i.payment_id ? (resolutions.get(i.payment_id) ?? null) : null,
      }));
      return c.json({ ...runView(run), items: withOutcome }, 200);
    },
  );

  r.raw(
    {
      method: 'get',
      path: '/reconciliation/runs/:id/items.csv',
      access: ['noc'],
      tags,
      summary: 'A reconciliation run’s items as CSV',
      contentType: 'text/csv',
    },
    async (c) => {
      const id = c.req.param('id') ?? '';
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw httpErrors.notFound('run_not_found', `no reconciliation run ${id}`);
      const run = await runSelect(ctx.db).where('id', '=', id).executeTakeFirst();
      if (!run) throw httpErrors.notFound('run_not_found', `no reconciliation run ${id}`);
      const rows = await itemSelect(ctx.db, id).orderBy('id').execute();
      const view = runView(run);
      const columns = ['day', ...Object.keys(ItemSchema.shape)];
      return c.body(
        toCsv(
          columns,
          rows.map((i) => ({ day: view.day, ...itemView(i) })),
        ),
        200,
        {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="reconciliation-${view.day}-${id.slice(0, 8)}.csv"`,
        },
      );
    },
  );
}
