/**
 * The reports plugin's HTTP surface, under `/api/reports`. Handlers read through `c.get('db')`, which core scopes to
 * the reseller for reseller principals (`reports_invoices` is reseller-owned): a reseller lists and downloads only its
 * own documents, another reseller's id is a 404. The NOC sees all and issues credit notes.
 */
import {
  UuidIdParam,
  defineRoute,
  httpErrors,
  jsonContent as json,
  type Kysely,
  type PluginRouter,
  type Principal,
  problemContent as problem,
  RgzError,
  SIGNATURE_CONTEXT,
  type SigningKey,
  z,
} from '@rgz/core';
import { LANGUAGES } from './config.js';
import type { InvoiceService } from './invoices.js';
import { parseMonth } from './period.js';
import type { ReportsDatabase } from './schema.js';
import { registerVerifyRoute } from './verify-route.js';

const tags = ['reports'];

const FiguresSchema = z.object({
  payments: z.number().int(),
  refunds: z.number().int(),
  counts_by_kind: z.record(z.string(), z.number().int()),
  gross_fcfa: z.number().int(),
  provider_fee_fcfa: z.number().int(),
  reseller_fee_fcfa: z.number().int(),
  reseller_share_fcfa: z.number().int(),
  rgz_share_fcfa: z.number().int(),
  settlement_fcfa: z.number().int(),
  opening_balance_fcfa: z.number().int(),
  closing_balance_fcfa: z.number().int().openapi({ description: 'positive: RGZ owes the reseller; negative: the reseller owes RGZ' }),
});

const DocumentSchema = z
  .object({
    id: z.string().uuid(),
    kind: z.enum(['invoice', 'credit_note']),
    number: z.string().openapi({ example: 'RGZ-2026-000123' }),
    reseller_id: z.string().uuid(),
    period: z.string().openapi({ example: '2026-10' }),
    revision: z.number().int(),
    original_id: z.string().uuid().nullable(),
    reason: z.string().nullable(),
    language: z.enum(LANGUAGES),
    issued_at: z.string(),
    figures: FiguresSchema,
    pdf_sha256: z.string(),
    signature: z.string().openapi({ description: 'Ed25519 over "rgz-signed-document/v1 <content_sha256>", base64' }),
    content_sha256: z.string(),
    key_id: z.string(),
    links: z.object({ pdf: z.string(), credited_by: z.string().nullable() }),
  })
  .openapi('ReportsDocument');

const DeliverySchema = z.object({
  channel: z.enum(['email', 'archive']),
  target: z.string(),
  status: z.enum(['sent', 'failed', 'skipped']),
  detail: z.string().nullable(),
  message_id: z.string().nullable(),
  attempted_at: z.string(),
});

const LogEntrySchema = z
  .object({
    seq: z.number().int(),
    kind: z.enum(['invoice', 'credit_note']),
    number: z.string(),
    pdf_sha256: z.string(),
    content_sha256: z.string(),
    signature: z.string(),
    key_id: z.string(),
    created_at: z.string(),
    prev_hash: z.string(),
    entry_hash: z.string(),
  })
  .openapi('ReportsInvoiceLogEntry');

const num = (s: string | number | bigint) => {
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new RgzError('amount_too_large', `${s} FCFA is beyond 2^53`);
  return n;
};

export function registerRoutes(r: PluginRouter, deps: { service: InvoiceService; key: () => SigningKey; basePath: string }) {
  const scoped = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<ReportsDatabase>;
  const principalOf = (c: { get(k: 'principal'): Principal | null }) => c.get('principal') as Principal;
  const base = deps.basePath;

  const documents = (db: Kysely<ReportsDatabase>) =>
    db
      .selectFrom('reports_invoices as i')
      .leftJoin('reports_invoices as cn', (j) => j.onRef('cn.original_id', '=', 'i.id').on('cn.kind', '=', 'credit_note'))
      .select([
        'i.id',
        'i.kind',
        'i.number',
        'i.reseller_id',
        'i.period_label',
        'i.revision',
        'i.original_id',
        'i.reason',
        'i.language',
        'i.issued_at',
        'i.figures',
        'i.pdf_sha256',
        'i.signature',
        'i.content_sha256',
        'i.key_id',
        'cn.id as credited_by',
      ]);
  type Row = Awaited<ReturnType<ReturnType<typeof documents>['execute']>>[number];
  const docView = (d: Row): z.infer<typeof DocumentSchema> => {
    const f = (typeof d.figures === 'string' ? JSON.parse(d.figures) : d.figures) as import('./schema.js').StoredFigures;
    return {
      id: d.id,
      kind: d.kind,
      number: d.number,
      reseller_id: d.reseller_id,
      period: d.period_label,
      revision: d.revision,
      original_id: d.original_id,
      reason: d.reason,
      language: d.language,
      issued_at: new Date(d.issued_at).toISOString(),
      figures: {
        payments: f.payments,
        refunds: f.refunds,
        counts_by_kind: f.countsByKind,
        gross_fcfa: num(f.gross),
        provider_fee_fcfa: num(f.providerFee),
        reseller_fee_fcfa: num(f.resellerFee),
        reseller_share_fcfa: num(f.resellerShare),
        rgz_share_fcfa: num(f.rgzShare),
        settlement_fcfa: num(f.settlement),
        opening_balance_fcfa: num(f.openingBalance),
        closing_balance_fcfa: num(f.closingBalance),
      },
      pdf_sha256: d.pdf_sha256,
      signature: d.signature,
      content_sha256: d.content_sha256,
      key_id: d.key_id,
      links: { pdf: `${base}/invoices/${d.id}/pdf`, credited_by: d.credited_by ? `${base}/invoices/${d.credited_by}` : null },
    };
  };

  const publicKeyView = () => {
    const k = deps.key();
    return {
      algorithm: 'Ed25519' as const,
      key_id: k.keyId,
      public_key_pem: k.publicKeyPem,
      public_key_raw_base64: k.publicKeyRaw,
      signed_message: `${SIGNATURE_CONTEXT} <content_sha256>`,
    };
  };

  r.add(
    defineRoute({
      method: 'get',
      path: '/public-key',
      access: 'public',
      tags,
      summary: "The operator's Ed25519 public key that signs invoices and credit notes (PEM and raw base64)",
      responses: {
        200: json(
          z.object({
            algorithm: z.literal('Ed25519'),
            key_id: z.string(),
            public_key_pem: z.string(),
            public_key_raw_base64: z.string(),
            signed_message: z.string(),
          }),
          'Public key',
        ),
      },
    }),
    (c) => c.json(publicKeyView(), 200),
  );

  r.raw(
    { method: 'get', path: '/public-key.pem', access: 'public', tags, summary: 'The public key as a PEM file', contentType: 'application/x-pem-file' },
    (c) =>
      c.body(deps.key().publicKeyPem, 200, {
        'content-type': 'application/x-pem-file',
        'content-disposition': 'attachment; filename="rgz-invoices-public-key.pem"',
      }),
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/invoices',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Invoices and credit notes, newest first (a reseller sees only its own)',
      request: {
        query: z.object({
          period: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
            .optional()
            .openapi({ example: '2026-10' }),
          reseller_id: z.string().uuid().optional(),
          kind: z.enum(['invoice', 'credit_note']).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(DocumentSchema) }), 'Documents') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let query = documents(scoped(c));
      if (q.period) query = query.where('i.period_label', '=', q.period);
      if (q.reseller_id) query = query.where('i.reseller_id', '=', q.reseller_id);
      if (q.kind) query = query.where('i.kind', '=', q.kind);
      const rows = await query.orderBy('i.issued_at', 'desc').orderBy('i.number', 'desc').limit(q.limit).offset(q.offset).execute();
      return c.json({ items: rows.map(docView) }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/invoices/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'One document with its deliveries (e-mail, archive)',
      request: { params: UuidIdParam },
      responses: { 200: json(DocumentSchema.extend({ deliveries: z.array(DeliverySchema) }), 'Document'), 404: problem('No such document') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = scoped(c);
      const row = await documents(db).where('i.id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('invoice_not_found', `no invoice ${id}`);
      const deliveries = await db
        .selectFrom('reports_deliveries')
        .select(['channel', 'target', 'status', 'detail', 'message_id', 'attempted_at'])
        .where('invoice_id', '=', id)
        .orderBy('id')
        .execute();
      // A reseller sees that its e-mail went out, not where the operator archives.
      const visible = principalOf(c).role === 'noc' ? deliveries : deliveries.filter((d) => d.channel === 'email');
      return c.json({ ...docView(row), deliveries: visible.map((d) => ({ ...d, attempted_at: new Date(d.attempted_at).toISOString() })) }, 200);
    },
  );

  r.raw(
    {
      method: 'get',
      path: '/invoices/:id/pdf',
      access: ['noc', 'reseller'],
      tags,
      summary: 'The signed PDF, byte for byte as issued',
      contentType: 'application/pdf',
    },
    async (c) => {
      const id = c.req.param('id') ?? '';
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw httpErrors.notFound('invoice_not_found', `no invoice ${id}`);
      const row = await scoped(c).selectFrom('reports_invoices').select(['number', 'pdf', 'pdf_sha256']).where('id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('invoice_not_found', `no invoice ${id}`);
      const pdf = Buffer.from(row.pdf);
      return c.body(new Uint8Array(pdf), 200, {
        'content-type': 'application/pdf',
        'content-disposition': `attachment; filename="${row.number}.pdf"`,
        'x-rgz-sha256': row.pdf_sha256,
      });
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/invoices/{id}/credit-note',
      access: ['noc'],
      tags,
      summary: 'Cancel an invoice with a credit note (a new numbered, signed document); optionally re-issue the month from the ledger',
      request: {
        params: UuidIdParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                reason: z.string().trim().min(3).max(500),
                reissue: z.boolean().default(false).openapi({ description: 'issue a new invoice (next revision) for the same reseller and month' }),
              }),
            },
          },
        },
      },
      responses: {
        201: json(z.object({ credit_note: DocumentSchema, reissued: DocumentSchema.nullable() }), 'Credit note issued'),
        404: problem('No such invoice'),
        409: problem('Already credited, or not an invoice'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const p = principalOf(c);
      const out = await deps.service.creditNote(id, { reason: body.reason, reissue: body.reissue, actor: p.tokenId });
      const load = async (docId: string) => docView((await documents(scoped(c)).where('i.id', '=', docId).executeTakeFirstOrThrow()) as Row);
      return c.json({ credit_note: await load(out.creditNote.id), reissued: out.reissued ? await load(out.reissued.id) : null }, 201);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/runs',
      access: ['noc'],
      tags,
      summary: 'Issue the invoices of a month now (what the monthly job does); already issued ones are left as they are',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                month: z
                  .string()
                  .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
                  .openapi({ example: '2026-10' }),
                reseller_id: z.string().uuid().optional(),
              }),
            },
          },
        },
      },
      responses: {
        200: json(
          z.object({
            period: z.string(),
            created: z.array(z.object({ id: z.string(), number: z.string(), reseller_id: z.string() })),
            existing: z.array(z.object({ id: z.string(), number: z.string(), reseller_id: z.string() })),
            failed: z.array(z.object({ reseller_id: z.string(), error: z.string() })),
          }),
          'What was issued',
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const period = parseMonth(body.month, deps.service.timeZone);
      const run = await deps.service.generateMonth(period, { ...(body.reseller_id ? { resellerId: body.reseller_id } : {}), actor: principalOf(c).tokenId });
      const brief = (d: { id: string; number: string; resellerId: string }) => ({ id: d.id, number: d.number, reseller_id: d.resellerId });
      return c.json(
        {
          period: run.period,
          created: run.created.map(brief),
          existing: run.existing.map(brief),
          failed: run.failed.map((f) => ({ reseller_id: f.resellerId, error: f.error })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/invoice-log',
      access: ['noc', 'reseller'],
      tags,
      summary: 'The append-only, hash-chained invoice log (every document of every reseller: numbers and hashes only), for offline verification',
      responses: {
        200: json(
          z.object({
            algorithm: z.literal('sha256(prev_hash + canonical JSON of the other fields)'),
            head: z.string().nullable(),
            entries: z.array(LogEntrySchema),
          }),
          'Log',
        ),
      },
    }),
    async (c) => {
      const entries = await deps.service.logEntries();
      return c.json({ algorithm: 'sha256(prev_hash + canonical JSON of the other fields)' as const, head: entries.at(-1)?.entry_hash ?? null, entries }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'put',
      path: '/resellers/{id}/language',
      access: ['noc'],
      tags,
      summary: "A reseller's invoice language (default: the plugin's `language`)",
      request: { params: UuidIdParam, body: { required: true, content: { 'application/json': { schema: z.object({ language: z.enum(LANGUAGES) }) } } } },
      responses: { 200: json(z.object({ reseller_id: z.string(), language: z.enum(LANGUAGES) }), 'Saved'), 404: problem('No such reseller') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { language } = c.req.valid('json');
      const db = scoped(c);
      const reseller = await db.selectFrom('resellers').select('id').where('id', '=', id).executeTakeFirst();
      if (!reseller) throw httpErrors.notFound('reseller_not_found', `no reseller ${id}`);
      await db
        .insertInto('reports_reseller_prefs')
        .values({ reseller_id: id, language })
        .onConflict((oc) => oc.column('reseller_id').doUpdateSet({ language, updated_at: new Date() }))
        .execute();
      return c.json({ reseller_id: id, language }, 200);
    },
  );

  registerVerifyRoute(r, { service: deps.service, key: deps.key });
}
