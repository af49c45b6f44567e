/**
 * The arcep plugin's HTTP surface under `/api/arcep`, NOC only (the regulator report is the operator's business),
 * except the public key.
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
  SIGNATURE_CONTEXT,
  type SigningKey,
  z,
} from '@rgz/core';
import { parseQuarter } from './period.js';
import type { ArcepDatabase } from './schema.js';
import type { ArcepService } from './service.js';
import { registerVerifyRoute } from './verify-route.js';

const tags = ['arcep'];
const DeliverySchema = z.object({
  target: z.string(),
  status: z.enum(['sent', 'failed']),
  http_status: z.number().int().nullable(),
  detail: z.string().nullable(),
  attempted_at: z.string(),
});
const ReportSchema = z
  .object({
    id: z.string().uuid(),
    exporter: z.string(),
    period: z.string().openapi({ example: '2026-T3' }),
    period_start: z.string(),
    period_end: z.string(),
    generated_at: z.string(),
    manifest_sha256: z.string(),
    manifest_signature: z.string(),
    key_id: z.string(),
    sources: z.record(z.string(), z.string()),
    files: z.array(
      z.object({ name: z.string(), content_type: z.string(), bytes: z.number().int(), sha256: z.string(), signature: z.string(), url: z.string() }),
    ),
    deliveries: z.array(DeliverySchema),
  })
  .openapi('ArcepReport');

export function registerRoutes(r: PluginRouter, deps: { service: ArcepService; key: () => SigningKey; basePath: string }) {
  const scoped = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<ArcepDatabase>;
  const view = async (db: Kysely<ArcepDatabase>, id: string): Promise<z.infer<typeof ReportSchema> | null> => {
    const rep = await db.selectFrom('arcep_reports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!rep) return null;
    const files = await db
      .selectFrom('arcep_report_files')
      .select(['name', 'content_type', 'bytes', 'sha256', 'signature'])
      .where('report_id', '=', id)
      .orderBy('name')
      .execute();
    const deliveries = await db
      .selectFrom('arcep_deliveries')
      .select(['target', 'status', 'http_status', 'detail', 'attempted_at'])
      .where('report_id', '=', id)
      .orderBy('id')
      .execute();
    return {
      id: rep.id,
      exporter: rep.exporter,
      period: rep.period_label,
      period_start: new Date(rep.period_start).toISOString(),
      period_end: new Date(rep.period_end).toISOString(),
      generated_at: new Date(rep.generated_at).toISOString(),
      manifest_sha256: rep.manifest_sha256,
      manifest_signature: rep.manifest_signature,
      key_id: rep.key_id,
      sources: (typeof rep.sources === 'string' ? JSON.parse(rep.sources) : rep.sources) as Record<string, string>,
      files: files.map((f) => ({
        name: f.name,
        content_type: f.content_type,
        bytes: Buffer.from(f.bytes).length,
        sha256: f.sha256,
        signature: f.signature,
        url: `${deps.basePath}/reports/${id}/files/${encodeURIComponent(f.name)}`,
      })),
      deliveries: deliveries.map((d) => ({ ...d, attempted_at: new Date(d.attempted_at).toISOString() })),
    };
  };

  r.add(
    defineRoute({
      method: 'get',
      path: '/public-key',
      access: 'public',
      tags,
      summary: "The operator's Ed25519 public key that signs the reports",
      responses: {
        200: json(
          z.object({
            algorithm: z.literal('Ed25519'),
            key_id: z.string(),
            public_key_pem: z.string(),
            public_key_raw_base64: z.string(),
            signed_message: z.string(),
          }),
          'Key',
        ),
      },
    }),
    (c) => {
      const k = deps.key();
      return c.json(
        {
          algorithm: 'Ed25519' as const,
          key_id: k.keyId,
          public_key_pem: k.publicKeyPem,
          public_key_raw_base64: k.publicKeyRaw,
          signed_message: `${SIGNATURE_CONTEXT} <sha256>`,
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/reports',
      access: ['noc'],
      tags,
      summary: 'Reports produced, newest first, with their files and every delivery attempt',
      responses: { 200: json(z.object({ items: z.array(ReportSchema) }), 'Reports') },
    }),
    async (c) => {
      const db = scoped(c);
      const ids = await db.selectFrom('arcep_reports').select('id').orderBy('period_start', 'desc').limit(100).execute();
      const items = [];
      for (const { id } of ids) items.push((await view(db, id)) as z.infer<typeof ReportSchema>);
      return c.json({ items }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/reports',
      access: ['noc'],
      tags,
      summary: 'Produce the report of a quarter now (what the quarterly job does); an existing one is returned unchanged',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                quarter: z
                  .string()
                  .regex(/^\d{4}-[TQ][1-4]$/)
                  .openapi({ example: '2026-T3' }),
              }),
            },
          },
        },
      },
      responses: { 201: json(ReportSchema, 'Produced'), 200: json(ReportSchema, 'Already produced'), 422: problem('A required source is missing') },
    }),
    async (c) => {
      const { quarter } = c.req.valid('json');
      const out = await deps.service.produce(parseQuarter(quarter, deps.service.timeZone), { actor: (c.get('principal') as Principal).tokenId });
      const body = (await view(scoped(c), out.id)) as z.infer<typeof ReportSchema>;
      return out.created ? c.json(body, 201) : c.json(body, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/reports/{id}',
      access: ['noc'],
      tags,
      summary: 'One report',
      request: { params: UuidIdParam },
      responses: { 200: json(ReportSchema, 'Report'), 404: problem('No such report') },
    }),
    async (c) => {
      const out = await view(scoped(c), c.req.valid('param').id);
      if (!out) throw httpErrors.notFound('report_not_found', 'no such report');
      return c.json(out, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/reports/{id}/deliver',
      access: ['noc'],
      tags,
      summary: 'Deliver again to the targets that have not received it (after a failure, or a target added since)',
      request: { params: UuidIdParam },
      responses: { 202: json(z.object({ status: z.literal('queued') }), 'Queued'), 404: problem('No such report') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const rep = await scoped(c).selectFrom('arcep_reports').select('id').where('id', '=', id).executeTakeFirst();
      if (!rep) throw httpErrors.notFound('report_not_found', 'no such report');
      await deps.service.redeliver(id);
      return c.json({ status: 'queued' as const }, 202);
    },
  );

  r.raw(
    {
      method: 'get',
      path: '/reports/:id/files/:name',
      access: ['noc'],
      tags,
      summary: 'One file of a report, as delivered',
      contentType: 'application/octet-stream',
    },
    async (c) => {
      const id = c.req.param('id') ?? '';
      const name = c.req.param('name') ?? '';
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw httpErrors.notFound('file_not_found', 'no such file');
      const f = await scoped(c)
        .selectFrom('arcep_report_files')
        .select(['bytes', 'content_type', 'sha256'])
        .where('report_id', '=', id)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!f) throw httpErrors.notFound('file_not_found', 'no such file');
      return c.body(new Uint8Array(Buffer.from(f.bytes)), 200, {
        'content-type': f.content_type,
        'content-disposition': `attachment; filename="${name}"`,
        'x-rgz-sha256': f.sha256,
      });
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/report-log',
      access: ['noc'],
      tags,
      summary: 'The append-only, hash-chained log of reports',
      responses: { 200: json(z.object({ head: z.string().nullable(), entries: z.array(z.record(z.string(), z.unknown())) }), 'Log') },
    }),
    async (c) => {
      const entries = await deps.service.logEntries();
      return c.json({ head: entries.at(-1)?.entry_hash ?? null, entries }, 200);
    },
  );

  registerVerifyRoute(r, { service: deps.service, key: deps.key });
}
