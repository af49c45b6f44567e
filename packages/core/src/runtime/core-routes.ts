/**
 * Core's own routes: liveness/readiness, metrics, the API reference, and the admin surface shared by every
 * deployment (resellers, tokens, subscribers, plans, jobs, plugins, audit).
 */
import { z } from '@hono/zod-openapi';
import type { ExpressionBuilder } from 'kysely';
import type { AuditInput, Principal, TokenService } from '../access/principals.js';
import { plansOnSale } from '../domain/plans.js';
import type { CoreDatabase } from '../domain/schema.js';
import { httpErrors } from '../errors/rgz-error.js';
import { renderReferencePage } from '../http/reference-page.js';
import { defineRoute, jsonContent as json, type PluginRouter } from '../http/router.js';
import type { Kv } from '../kv/kv.js';
import type { Metrics } from '../metrics/registry.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Database } from '../storage/database.js';
import type { TaskQueue } from '../tasks/task-queue.js';
import type { LoadedPluginInfo } from './kernel.js';
import { registerPlanRoutes } from './plan-routes.js';
import { PlanSchema, planView } from './plan-view.js';
import { registerSubscriberRoutes } from './subscriber-routes.js';

export interface CoreRouteDeps {
  database: Database;
  kv: Kv;
  metrics: Metrics;
  scheduler: Scheduler;
  tokens: TokenService;
  tasks: TaskQueue;
  plugins: () => LoadedPluginInfo[];
  openApiDocument: () => unknown;
  audit(actor: Principal | null, entry: AuditInput): Promise<void>;
}

const Reseller = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    slug: z.string(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    share_percent: z.number(),
    fee_percent: z.number(),
    status: z.enum(['active', 'suspended']),
  })
  .openapi('Reseller');

const Subscriber = z
  .object({
    id: z.string().uuid(),
    subscriber_ref: z.string(),
    msisdn: z.string(),
    status: z.string(),
    reseller_id: z.string().uuid().nullable(),
    created_at: z.string(),
  })
  .openapi('Subscriber');

export function registerCoreRoutes(router: PluginRouter, deps: CoreRouteDeps): void {
  const { database, kv, metrics, scheduler, tokens } = deps;

  router.add(
    defineRoute({
      method: 'get',
      path: '/health',
      access: 'public',
      tags: ['core'],
      summary: 'Liveness: the process answers',
      responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/ready',
      access: 'public',
      tags: ['core'],
      summary: 'Readiness: the database and the KV answer',
      responses: {
        200: json(z.object({ status: z.literal('ready'), database: z.boolean(), kv: z.boolean() }), 'Ready'),
        503: json(z.object({ status: z.literal('not_ready'), database: z.boolean(), kv: z.boolean() }), 'A dependency does not answer'),
      },
    }),
    async (c) => {
      const [dbOk, kvOk] = await Promise.all([database.ping(2000), kv.ping().catch(() => false)]);
      return dbOk && kvOk
        ? c.json({ status: 'ready' as const, database: dbOk, kv: kvOk }, 200)
        : c.json({ status: 'not_ready' as const, database: dbOk, kv: kvOk }, 503);
    },
  );

  router.raw(
    { method: 'get', path: '/metrics', access: 'public', summary: 'Prometheus metrics of this replica', tags: ['core'], contentType: 'text/plain' },
    async (c) => {
      return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
    },
  );

  router.raw(
    { method: 'get', path: '/docs', access: 'public', summary: 'Readable API reference (HTML)', tags: ['core'], contentType: 'text/html' },
    async (c) => {
      return c.html(renderReferencePage(deps.openApiDocument()));
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/whoami',
      access: ['noc', 'reseller', 'subscriber'],
      tags: ['core'],
      summary: 'The principal behind the bearer token',
      responses: {
        200: json(
          z.object({
            role: z.enum(['noc', 'reseller', 'subscriber']),
            name: z.string(),
            reseller_id: z.string().nullable(),
            subscriber_id: z.string().nullable(),
            token_id: z.string(),
            expires_at: z.string().nullable().openapi({ description: 'When the token stops working (null: never)' }),
            reseller: z
              .object({ id: z.string(), name: z.string(), slug: z.string(), status: z.string() })
              .nullable()
              .openapi({ description: 'The reseller a reseller token acts for' }),
          }),
          'Principal',
        ),
      },
    }),
    async (c) => {
      const p = c.get('principal') as Principal;
      const token = await database.db.selectFrom('core_api_tokens').select('expires_at').where('id', '=', p.tokenId).executeTakeFirst();
      const reseller = p.resellerId
        ? ((await c.get('db').selectFrom('resellers').select(['id', 'name', 'slug', 'status']).where('id', '=', p.resellerId).executeTakeFirst()) ?? null)
        : null;
      return c.json(
        {
          role: p.role,
          name: p.name,
          reseller_id: p.resellerId,
          subscriber_id: p.subscriberId,
          token_id: p.tokenId,
          expires_at: token?.expires_at ? new Date(token.expires_at).toISOString() : null,
          reseller,
        },
        200,
      );
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/resellers',
      access: ['noc', 'reseller'],
      tags: ['core'],
      summary: 'Resellers (a reseller sees itself)',
      responses: { 200: json(z.object({ items: z.array(Reseller) }), 'Resellers') },
    }),
    async (c) => {
      const rows = await c.get('db').selectFrom('resellers').selectAll().orderBy('name').execute();
      return c.json({ items: rows.map((r) => ({ ...r, share_percent: Number(r.share_percent), fee_percent: Number(r.fee_percent) })) }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/api/core/resellers',
      access: ['noc'],
      tags: ['core'],
      summary: 'Create a reseller (revendeur)',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({
                name: z.string().min(1).max(200),
                slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
                phone: z.string().max(20).optional(),
                email: z.string().email().optional(),
                share_percent: z.number().min(0).max(100).optional(),
                fee_percent: z.number().min(0).max(100).optional(),
              }),
            },
          },
        },
      },
      responses: { 201: json(Reseller, 'Created'), 409: json(z.object({ code: z.string() }), 'Slug taken') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const row = await c
        .get('db')
        .insertInto('resellers')
        .values({
          name: body.name,
          slug: body.slug,
          phone: body.phone ?? null,
          email: body.email ?? null,
          ...(body.share_percent !== undefined ? { share_percent: body.share_percent } : {}),
          ...(body.fee_percent !== undefined ? { fee_percent: body.fee_percent } : {}),
        })
        .onConflict((oc) => oc.column('slug').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw httpErrors.conflict('reseller_slug_taken', `a reseller with slug "${body.slug}" exists`);
      await deps.audit(c.get('principal'), {
        action: 'reseller.create',
        targetType: 'reseller',
        targetId: row.id,
        resellerId: row.id,
        details: { name: row.name, slug: row.slug },
      });
      return c.json({ ...row, share_percent: Number(row.share_percent), fee_percent: Number(row.fee_percent) }, 201);
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/api/core/tokens',
      access: ['noc'],
      tags: ['core'],
      summary: 'Issue an API token for a NOC admin or a reseller (shown once)',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({
                name: z.string().min(1).max(100),
                role: z.enum(['noc', 'reseller']),
                reseller_id: z.string().uuid().optional(),
                ttl_days: z.number().int().positive().max(3650).optional(),
              }),
            },
          },
        },
      },
      responses: { 201: json(z.object({ id: z.string(), token: z.string() }), 'Issued') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.role === 'reseller' && !body.reseller_id) throw httpErrors.badRequest('reseller_id_required', 'a reseller token needs reseller_id');
      if (body.reseller_id) {
        const exists = await c.get('db').selectFrom('resellers').select('id').where('id', '=', body.reseller_id).executeTakeFirst();
        if (!exists) throw httpErrors.notFound('reseller_not_found', `no reseller ${body.reseller_id}`);
      }
      const issued = await tokens.issue({
        role: body.role,
        name: body.name,
        resellerId: body.reseller_id ?? null,
        ...(body.ttl_days ? { ttlSeconds: body.ttl_days * 86400 } : {}),
      });
      await deps.audit(c.get('principal'), {
        action: 'token.issue',
        targetType: 'token',
        targetId: issued.id,
        resellerId: body.reseller_id ?? null,
        details: { role: body.role, name: body.name },
      });
      return c.json(issued, 201);
    },
  );

  router.add(
    defineRoute({
      method: 'delete',
      path: '/api/core/tokens/{id}',
      access: ['noc'],
      tags: ['core'],
      summary: 'Revoke an API token',
      request: { params: z.object({ id: z.string().uuid() }) },
      responses: { 204: { description: 'Revoked' }, 404: json(z.object({ code: z.string() }), 'Unknown or already revoked') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await tokens.revoke(id))) throw httpErrors.notFound('token_not_found', `no active token ${id}`);
      await deps.audit(c.get('principal'), { action: 'token.revoke', targetType: 'token', targetId: id });
      return c.body(null, 204);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/subscribers',
      access: ['noc', 'reseller'],
      tags: ['core'],
      summary: 'Search subscribers by phone, reference or device MAC address (a reseller sees its own)',
      request: {
        query: z.object({
          q: z.string().max(40).optional().openapi({ description: 'Part of the phone number or reference; a MAC address (any separator) matches a device' }),
          mac: z.string().max(40).optional().openapi({ description: 'Part of a device MAC address (aa:bb:cc…, any separator)', example: 'aa:bb:cc:dd:ee:ff' }),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(Subscriber) }), 'Subscribers') },
    }),
    async (c) => {
      const { q, mac, limit } = c.req.valid('query');
      let query = c.get('db').selectFrom('subscribers').selectAll().orderBy('created_at', 'desc').limit(limit);
      // Devices are stored lower-case and colon-separated; an operator may type AA-BB-CC or aabbcc.
      const macPattern = (text: string) => {
        const hex = text.toLowerCase().replace(/[^0-9a-f]/g, '');
        return hex.length >= 4 && /^[0-9a-fA-F:.\-\s]+$/.test(text) ? `%${hex.match(/.{1,2}/g)?.join(':') ?? hex}%` : null;
      };
      const byMac = (pattern: string) => (eb: ExpressionBuilder<CoreDatabase, 'subscribers'>) =>
        eb.exists(
          eb.selectFrom('subscriber_devices as d').select('d.id').whereRef('d.subscriber_id', '=', 'subscribers.id').where('d.mac_address', 'like', pattern),
        );
      if (mac !== undefined) {
        const pattern = macPattern(mac);
        if (!pattern) throw httpErrors.badRequest('invalid_mac', `"${mac}" is not (part of) a MAC address: hexadecimal digits, at least 4`);
        query = query.where(byMac(pattern));
      }
      if (q) {
        const pattern = q.includes(':') || q.includes('-') ? macPattern(q) : null;
        query = query.where((eb) =>
          eb.or([eb('msisdn', 'like', `%${q}%`), eb('subscriber_ref', 'like', `%${q.toUpperCase()}%`), ...(pattern ? [byMac(pattern)(eb)] : [])]),
        );
      }
      const rows = await query.execute();
      return c.json({ items: rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() })) }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/plans',
      access: 'public',
      tags: ['core'],
      summary: 'Plans on sale: the default catalogue, with a reseller’s overrides when `reseller` is given',
      request: { query: z.object({ reseller: z.string().uuid().optional() }) },
      responses: { 200: json(z.object({ items: z.array(PlanSchema) }), 'Plans') },
    }),
    async (c) => {
      const { reseller } = c.req.valid('query');
      return c.json({ items: (await plansOnSale(c.get('db'), reseller ?? null)).map(planView) }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/jobs',
      access: ['noc'],
      tags: ['core'],
      summary: 'Scheduled jobs with their next and last run',
      responses: {
        200: json(
          z.object({
            items: z.array(
              z.object({ id: z.string(), cron: z.string(), timezone: z.string(), scope: z.string(), next_run: z.string().nullable(), last_run: z.unknown() }),
            ),
          }),
          'Jobs',
        ),
      },
    }),
    async (c) => {
      const items = (await scheduler.info()).map((j) => ({
        id: j.id,
        cron: j.cron,
        timezone: j.timezone,
        scope: j.scope,
        next_run: j.nextRun?.toISOString() ?? null,
        last_run: j.lastRun,
      }));
      return c.json({ items }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/api/core/jobs/{id}/run',
      access: ['noc'],
      tags: ['core'],
      summary:
        'Run a scheduled job now and wait for its outcome; with `{"wait": false}` answer 202 with the run id at once and poll GET /api/core/jobs/runs/{run_id}',
      request: {
        params: z.object({ id: z.string().min(1).max(200) }),
        body: { required: false, content: { 'application/json': { schema: z.object({ wait: z.boolean().optional() }) } } },
      },
      responses: {
        200: json(z.object({ ran: z.boolean(), status: z.string().optional(), run_id: z.string().optional(), error: z.string().optional() }), 'Outcome'),
        202: json(z.object({ ran: z.literal(true), status: z.literal('running'), run_id: z.string() }), 'Started'),
        409: json(z.object({ code: z.string() }), 'A run of this job is in progress'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      let wait = true;
      if (c.req.header('content-type')?.includes('application/json')) {
        const body = z.object({ wait: z.boolean().optional() }).safeParse(await c.req.json().catch(() => ({})));
        if (!body.success) throw httpErrors.badRequest('validation_failed', body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        wait = body.data.wait ?? true;
      }
      await deps.audit(c.get('principal'), { action: 'job.run', targetType: 'job', targetId: id });
      if (!wait) {
        let started: (runId: string) => void = () => undefined;
        const runId = new Promise<string>((resolve) => {
          started = resolve;
        });
        // The run goes on after the answer (its outcome is stored on its core_job_runs row); not tied to the request.
        const run = scheduler.trigger(id, { onRun: started });
        run.catch((err: unknown) => c.get('log').error({ err, job: id }, 'job started from the API failed'));
        const first = await Promise.race([runId, run]);
        if (typeof first === 'string') return c.json({ ran: true as const, status: 'running' as const, run_id: first }, 202);
        throw httpErrors.conflict('job_running', `job "${id}" is already running; poll GET /api/core/jobs for its last run`);
      }
      const out = await scheduler.trigger(id);
      return c.json(
        {
          ran: out.ran,
          ...(out.status ? { status: out.status } : {}),
          ...(out.runId ? { run_id: out.runId } : {}),
          ...(out.error ? { error: out.error } : {}),
        },
        200,
      );
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/jobs/runs/{id}',
      access: ['noc'],
      tags: ['core'],
      summary: 'One run of a scheduled job: running, succeeded, failed or timeout, with its error and result',
      request: { params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'a run id') }) },
      responses: {
        200: json(
          z.object({
            id: z.string(),
            job_id: z.string(),
            trigger: z.string(),
            status: z.enum(['running', 'succeeded', 'failed', 'timeout']),
            attempt: z.number().int(),
            node: z.string(),
            started_at: z.string(),
            finished_at: z.string().nullable(),
            error: z.string().nullable(),
            result: z.unknown(),
          }),
          'Run',
        ),
        404: json(z.object({ code: z.string() }), 'No such run'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await database.db.selectFrom('core_job_runs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('job_run_not_found', `no job run ${id}`);
      return c.json(
        {
          id: String(row.id),
          job_id: row.job_id,
          trigger: row.trigger,
          status: row.status,
          attempt: Number(row.attempt),
          node: row.node,
          started_at: new Date(row.started_at).toISOString(),
          finished_at: row.finished_at ? new Date(row.finished_at).toISOString() : null,
          error: row.error,
          result: (typeof row.result === 'string' ? JSON.parse(row.result) : row.result) ?? null,
        },
        200,
      );
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/plugins',
      access: ['noc'],
      tags: ['core'],
      summary: 'Loaded plugins, versions and what each contributes',
      responses: { 200: json(z.object({ items: z.array(z.unknown()) }), 'Plugins') },
    }),
    (c) => c.json({ items: deps.plugins() }, 200),
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/audit',
      access: ['noc', 'reseller'],
      tags: ['core'],
      summary: 'Audit log, newest first (a reseller sees entries about itself); page with `before` = the previous page’s `next`',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          action: z.string().max(100).optional().openapi({ description: 'Exact action, or a prefix ending in a dot (`subscription.`)' }),
          target_type: z.string().max(100).optional(),
          target_id: z.string().max(200).optional(),
          actor_id: z.string().max(200).optional().openapi({ description: 'Token id of the actor' }),
          from: z.string().datetime({ offset: true }).optional().openapi({ description: 'at ≥ from (ISO 8601)' }),
          to: z.string().datetime({ offset: true }).optional().openapi({ description: 'at < to (ISO 8601)' }),
          before: z.coerce.number().int().positive().optional().openapi({ description: 'Only entries with an id below this' }),
        }),
      },
      responses: {
        200: json(
          z.object({
            items: z.array(
              z
                .object({
                  id: z.number().int(),
                  at: z.string(),
                  actor_role: z.string(),
                  actor_id: z.string().nullable(),
                  action: z.string(),
                  target_type: z.string().nullable(),
                  target_id: z.string().nullable(),
                  reseller_id: z.string().nullable(),
                  details: z.record(z.string(), z.unknown()),
                  request_id: z.string().nullable(),
                })
                .openapi('AuditEntry'),
            ),
            next: z.number().int().nullable().openapi({ description: 'Pass as `before` for the next page; null on the last page' }),
          }),
          'Entries',
        ),
      },
    }),
    async (c) => {
      const f = c.req.valid('query');
      let q = c.get('db').selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(f.limit);
      if (f.action?.endsWith('.')) q = q.where('action', 'like', `${f.action.replace(/[\\%_]/g, '\\$&')}%`);
      else if (f.action) q = q.where('action', '=', f.action);
      if (f.target_type) q = q.where('target_type', '=', f.target_type);
      if (f.target_id) q = q.where('target_id', '=', f.target_id);
      if (f.actor_id) q = q.where('actor_id', '=', f.actor_id);
      if (f.from) q = q.where('at', '>=', new Date(f.from));
      if (f.to) q = q.where('at', '<', new Date(f.to));
      if (f.before) q = q.where('id', '<', f.before);
      const rows = await q.execute();
      const last = rows.at(-1);
      return c.json(
        {
          items: rows.map((r) => ({
            ...r,
            id: Number(r.id),
            at: new Date(r.at).toISOString(),
            details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
          })),
          next: rows.length === f.limit && last ? Number(last.id) : null,
        },
        200,
      );
    },
  );

  registerSubscriberRoutes(router, { db: database.db, tasks: deps.tasks });
  registerPlanRoutes(router);
}
