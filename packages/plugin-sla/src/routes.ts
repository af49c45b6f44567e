/**
 * SLA's HTTP surface under `/api/sla`: uptime per target, site or reseller for a day or a month, the latest probes,
 * the targets, the breaches (NOC: everything; a reseller: its own targets' rows, through the scoped database handle),
 * and a manual probe round (NOC).
 */
import { defineRoute, httpErrors, type InventoryReader, jsonContent as json, type Kysely, type PluginRouter, type Principal, z } from '@rgz/core';
import type { SlaEngine } from './engine.js';
import type { SlaDatabase } from './schema.js';
import { currentPeriodKey, periodBounds, uptime, validPeriodKey } from './uptime.js';

const ACCESS = ['noc', 'reseller'] as const;

const ProbeResultSchema = z.object({
  target_id: z.string(),
  kind: z.enum(['icmp', 'http', 'dns']),
  success: z.boolean(),
  latency_ms: z.number().nullable(),
  loss: z.number().nullable(),
  error: z.string().nullable(),
});

export interface RouteDeps {
  tags: string[];
  engine: SlaEngine;
  timeZone: string;
  inventory(): InventoryReader | undefined;
}

export function registerRoutes(r: PluginRouter, deps: RouteDeps): void {
  const { tags, engine, timeZone } = deps;
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as unknown as Kysely<SlaDatabase>;
  const principalOf = (c: { get(k: 'principal'): unknown }) => c.get('principal') as Principal;

  r.add(
    defineRoute({
      method: 'get',
      path: '/uptime',
      access: ACCESS,
      tags,
      summary: 'Uptime (successful probes / probes) per target, site or reseller over a local day or month',
      request: {
        query: z.object({
          period: z.enum(['day', 'month']).default('day'),
          date: z.string().optional().openapi({ description: 'YYYY-MM-DD (day) or YYYY-MM (month), server time zone; default: the current one' }),
          group: z.enum(['target', 'site', 'reseller']).default('target'),
          site_id: z.string().optional(),
          target_id: z.string().optional(),
        }),
      },
      responses: {
        200: json(
          z.object({
            period: z.enum(['day', 'month']),
            date: z.string(),
            from: z.string(),
            to: z.string(),
            timezone: z.string(),
            group: z.enum(['target', 'site', 'reseller']),
            rows: z.array(
              z.object({
                key: z.string().nullable().openapi({ description: 'Target id, site id or reseller id; null = probes without a site / reseller' }),
                name: z.string().nullable(),
                successes: z.number().int(),
                total: z.number().int(),
                uptime: z.number().openapi({ description: 'successes / total, 0..1' }),
                uptime_percent: z.number(),
              }),
            ),
          }),
          'Uptime rows',
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const date = q.date ?? currentPeriodKey(q.period, new Date(), timeZone);
      if (!validPeriodKey(q.period, date))
        throw httpErrors.badRequest('sla_bad_date', `date must be ${q.period === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'}`, { date });
      const db = dbOf(c);
      const rows = await uptime(db, {
        period: q.period,
        key: date,
        timeZone,
        group: q.group,
        ...(q.site_id ? { siteId: q.site_id } : {}),
        ...(q.target_id ? { targetId: q.target_id } : {}),
      });
      const { from, to } = await periodBounds(db, q.period, date, timeZone);
      const names = new Map<string, string>();
      if (q.group === 'site') for (const s of (await deps.inventory()?.listSites()) ?? []) names.set(s.id, s.name);
      return c.json(
        {
          period: q.period,
          date,
          from: from.toISOString(),
          to: to.toISOString(),
          timezone: timeZone,
          group: q.group,
          rows: rows.map((row) => ({
            key: row.key,
            name: row.key === null ? null : (names.get(row.key) ?? (q.group === 'target' ? row.key : null)),
            successes: row.successes,
            total: row.total,
            uptime: row.uptime,
            uptime_percent: Math.round(row.uptime * 100_000) / 1000,
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/probes',
      access: ACCESS,
      tags,
      summary: 'Latest probe results, newest first',
      request: {
        query: z.object({
          target_id: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
      responses: {
        200: json(
          z.object({
            probes: z.array(ProbeResultSchema.extend({ at: z.string(), site_id: z.string().nullable(), detail: z.record(z.string(), z.unknown()) })),
          }),
          'Probes',
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let query = dbOf(c).selectFrom('sla_probes').selectAll();
      if (q.target_id) query = query.where('target_id', '=', q.target_id);
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
      return c.json(
        {
          probes: rows.map((p) => ({
            at: new Date(p.at).toISOString(),
            target_id: p.target_id,
            kind: p.kind,
            site_id: p.site_id,
            success: p.success,
            latency_ms: p.latency_ms,
            loss: p.loss,
            error: p.error,
            detail: (p.detail as Record<string, unknown>) ?? {},
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/targets',
      access: ACCESS,
      tags,
      summary: 'What is probed: configured targets, the portal /health and the inventory gateways (a reseller sees its own)',
      responses: {
        200: json(
          z.object({
            targets: z.array(
              z.object({
                id: z.string(),
                kind: z.enum(['icmp', 'http', 'dns']),
                address: z.string(),
                site_id: z.string().nullable(),
                site_name: z.string().nullable(),
                reseller_id: z.string().nullable(),
                source: z.enum(['config', 'portal', 'inventory']),
              }),
            ),
          }),
          'Targets',
        ),
      },
    }),
    async (c) => {
      const p = principalOf(c);
      const all = await engine.targets();
      const visible = p.role === 'reseller' ? all.filter((t) => t.resellerId === p.resellerId) : all;
      return c.json(
        {
          targets: visible.map((t) => ({
            id: t.id,
            kind: t.kind,
            address: t.address,
            site_id: t.siteId,
            site_name: t.siteName,
            reseller_id: t.resellerId,
            source: t.source,
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/breaches',
      access: ACCESS,
      tags,
      summary: 'SLA breaches (down: N failures in a row; objective: uptime below the objective over the period)',
      request: { query: z.object({ open: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: {
        200: json(
          z.object({
            breaches: z.array(
              z.object({
                id: z.number().int(),
                target_id: z.string(),
                kind: z.enum(['down', 'objective']),
                period: z.string(),
                site_id: z.string().nullable(),
                opened_at: z.string(),
                resolved_at: z.string().nullable(),
                details: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
          'Breaches, newest first',
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let query = dbOf(c).selectFrom('sla_breaches').selectAll();
      if (q.open === 'true') query = query.where('resolved_at', 'is', null);
      if (q.open === 'false') query = query.where('resolved_at', 'is not', null);
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
      return c.json(
        {
          breaches: rows.map((b) => ({
            id: Number(b.id),
            target_id: b.target_id,
            kind: b.kind,
            period: b.period_key,
            site_id: b.site_id,
            opened_at: new Date(b.opened_at).toISOString(),
            resolved_at: b.resolved_at ? new Date(b.resolved_at).toISOString() : null,
            details: (b.details as Record<string, unknown>) ?? {},
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/probe',
      access: ['noc'],
      tags,
      summary: 'Probe every target now (outside the 5-minute schedule); results are stored and count for uptime',
      responses: {
        200: json(
          z.object({
            run_at: z.string(),
            targets: z.number().int(),
            up: z.number().int(),
            down: z.number().int(),
            results: z.array(ProbeResultSchema),
            breaches_opened: z.number().int(),
            breaches_resolved: z.number().int(),
          }),
          'The round',
        ),
      },
    }),
    async (c) => c.json(await engine.run(), 200),
  );
}
