/**
 * The vouchers HTTP surface, under `/api/vouchers`. Batch routes take core's request database (`c.var.db`), already
 * limited to a reseller principal's own rows; the redemption route is the subscriber's.
 */
import {
  defineRoute,
  httpErrors,
  jsonContent as json,
  type Kysely,
  type PluginRouter,
  type Principal,
  problemContent as problem,
  z,
  UuidIdParam,
} from '@rgz/core';
import { batchCsv, batchOr404, batchPdf, batchViews, createBatch, revokeBatch } from './batches.js';
import type { VouchersContext } from './context.js';
import { redeem } from './redeem.js';
import type { VouchersDatabase } from './schema.js';

const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const BatchSchema = z
  .object({
    id: z.string(),
    number: z.number().int(),
    label: z.string().openapi({ description: 'Printed batch name; serials are `<label>-0001`…', example: 'V12' }),
    name: z.string().nullable().openapi({ description: "The creator's own note" }),
    reseller_id: z.string(),
    plan: z.object({ code: z.string(), name: z.string() }),
    price_fcfa: z.number().int(),
    count: z.number().int(),
    expires_at: z.string(),
    status: z.enum(['active', 'revoked']),
    counts: z.object({ active: z.number().int(), expired: z.number().int(), redeemed: z.number().int(), revoked: z.number().int() }),
    redeemed_fcfa: z.number().int().openapi({ description: 'Σ price of the redeemed vouchers (booked in the ledger at redemption)' }),
    pdf: z.object({ available: z.boolean(), expires_at: z.string().nullable(), downloads: z.number().int() }),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('VoucherBatch');

export function registerRoutes(ctx: VouchersContext, r: PluginRouter): void {
  const tags = [ctx.name];
  const db = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<VouchersDatabase>;
  const who = (c: { get(k: 'principal'): Principal | null }) => c.get('principal') as Principal;
  const base = `/api/${ctx.name}`;

  r.add(
    defineRoute({
      method: 'post',
      path: '/batches',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Create a batch of vouchers: the codes are in this answer only, the ticket sheet (PDF) is downloadable for a limited time',
      request: body(
        z.object({
          reseller_id: z.string().uuid().optional().openapi({ description: 'The selling reseller (NOC: required; a reseller: itself, may be omitted)' }),
          plan_code: z.string().min(1).max(64).openapi({ example: 'DAY10MB' }),
          count: z.number().int().min(1).max(5000).openapi({ example: 48 }),
          price_fcfa: z.number().int().min(0).max(10_000_000).optional().openapi({ description: "Price per voucher (default: the plan's price)" }),
          expires_at: z
            .string()
            .datetime({ offset: true })
            .optional()
            .openapi({ description: 'Last moment a code can be redeemed (default: config defaultValidityDays)' }),
          label: z.string().max(100).optional().openapi({ description: 'A note for the reseller (kiosk, market day)' }),
        }),
      ),
      responses: {
        201: json(
          z.object({
            batch: BatchSchema,
            codes: z.array(z.object({ serial: z.string(), code: z.string().openapi({ example: 'K7M2Q-9XR4T' }) })).openapi({
              description: 'The clear codes, shown ONCE: only their HMAC is stored',
            }),
            pdf: z.object({ url: z.string(), expires_at: z.string(), size_bytes: z.number().int() }),
          }),
          'Batch created',
        ),
        400: problem('reseller_required, batch_too_large, expiry_in_past, expiry_too_far, validation_failed'),
        403: problem('A reseller naming another reseller'),
        404: problem('reseller_not_found, plan_not_found'),
        409: problem('reseller_suspended, code_collision (nothing created: try again)'),
        503: problem('pdf_failed (nothing created)'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const created = await createBatch(ctx, db(c), who(c), input);
      const batch = await batchOr404(db(c), created.batchId);
      return c.json(
        {
          batch,
          codes: created.codes,
          pdf: { url: `${base}/batches/${created.batchId}/pdf`, expires_at: created.pdfExpiresAt.toISOString(), size_bytes: created.pdfBytes },
        },
        201,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/batches',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Batches, newest first (a reseller sees its own only)',
      request: {
        query: z.object({
          status: z.enum(['active', 'revoked']).optional(),
          reseller_id: z.string().uuid().optional().openapi({ description: 'NOC: one reseller’s batches' }),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(BatchSchema) }), 'Batches') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const items = await batchViews(db(c), {
        ...(q.status ? { status: q.status } : {}),
        ...(q.reseller_id ? { resellerId: q.reseller_id } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return c.json({ items }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/batches/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'A batch with its counts (active, expired, redeemed, revoked) and what its redemptions booked',
      request: { params: UuidIdParam },
      responses: { 200: json(BatchSchema, 'Batch'), 404: problem('No such batch (or not yours)') },
    }),
    async (c) => c.json(await batchOr404(db(c), c.req.valid('param').id), 200),
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/batches/{id}/revoke',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Withdraw every unredeemed voucher of the batch (redeemed ones stay as they are) and drop its PDF',
      request: {
        params: UuidIdParam,
        body: { required: false, content: { 'application/json': { schema: z.object({ reason: z.string().max(500).optional() }) } } },
      },
      responses: {
        200: json(z.object({ batch: BatchSchema, revoked: z.number().int().openapi({ description: 'Vouchers withdrawn by this call' }) }), 'Revoked'),
        404: problem('No such batch (or not yours)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const reason = (c.req.valid('json') as { reason?: string } | undefined)?.reason;
      const revoked = await revokeBatch(db(c), who(c), id, reason);
      return c.json({ batch: await batchOr404(db(c), id), revoked }, 200);
    },
  );

  const idOr404 = (raw: string | undefined): string => {
    if (!raw || !UUID.test(raw)) throw httpErrors.notFound('batch_not_found', `no batch ${String(raw).slice(0, 40)}`);
    return raw;
  };

  r.raw(
    {
      method: 'get',
      path: '/batches/:id/vouchers.csv',
      access: ['noc', 'reseller'],
      tags,
      summary: 'The batch’s vouchers as CSV: serial, status, expires_at, redeemed_at, subscriber_ref — never the codes',
      contentType: 'text/csv',
    },
    async (c) => {
      const id = idOr404(c.req.param('id'));
      const csv = await batchCsv(db(c), who(c), id);
      const batch = await batchOr404(db(c), id);
      return c.body(csv, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="vouchers-${batch.label}.csv"`,
        'cache-control': 'no-store',
      });
    },
  );

  r.raw(
    {
      method: 'get',
      path: '/batches/:id/pdf',
      access: ['noc', 'reseller'],
      tags,
      summary: 'The ticket sheet (A4, 24 tickets a page) while it is kept (config pdf.ttlSeconds); 410 pdf_gone afterwards',
      contentType: 'application/pdf',
    },
    async (c) => {
      const id = idOr404(c.req.param('id'));
      const { pdf, label } = await batchPdf(ctx, db(c), who(c), id);
      return c.body(new Uint8Array(pdf), 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="vouchers-${label}.pdf"`,
        'cache-control': 'no-store',
      });
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/redeem',
      access: ['subscriber'],
      tags,
      summary: 'Redeem a voucher code: the plan is activated as a paid plan is (rate-limited per subscriber and per IP)',
      request: body(
        z.object({ code: z.string().min(1).max(64).openapi({ description: 'As typed: case, spaces and dashes do not matter', example: 'k7m2q 9xr4t' }) }),
      ),
      responses: {
        200: json(
          z.object({
            status: z.enum(['redeemed', 'already_redeemed']).openapi({ description: '`already_redeemed`: by you, earlier (a retried request)' }),
            serial: z.string(),
            plan_code: z.string(),
            subscription: z.object({ id: z.string(), starts_at: z.string(), expires_at: z.string() }),
          }),
          'Plan active',
        ),
        400: problem('voucher_invalid_format (not counted as a guess)'),
        403: problem('voucher_wrong_reseller, subscriber_suspended'),
        404: problem('voucher_unknown'),
        409: problem('voucher_already_redeemed'),
        410: problem('voucher_expired, voucher_revoked'),
        429: problem('voucher_rate_limited (retry_after), redemption_in_progress'),
      },
    }),
    async (c) => {
      const { code } = c.req.valid('json');
      const p = who(c);
      const out = await redeem(ctx, { subscriberId: p.subscriberId as string, code, clientIp: c.get('clientIp'), actor: p });
      return c.json(
        {
          status: out.status,
          serial: out.serial,
          plan_code: out.planCode,
          subscription: { id: out.subscriptionId, starts_at: out.startsAt.toISOString(), expires_at: out.expiresAt.toISOString() },
        },
        200,
      );
    },
  );
}
