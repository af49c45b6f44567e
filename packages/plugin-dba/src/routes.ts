/**
 * DBA's HTTP surface under `/api/dba`: the runs and their explanation (NOC: everything; a reseller: the sites it owns
 * and their subscribers, through the scoped database handle), and a manual run (NOC), optionally dry.
 */
import { defineRoute, httpErrors, jsonContent as json, type Kysely, type PluginRouter, problemContent as problem, z } from '@rgz/core';
import type { DbaConfig } from './config.js';
import type { DbaEngine } from './engine.js';
import type { DbaDatabase } from './schema.js';

const Pair = z.object({ down: z.number().nullable(), up: z.number().nullable() });

const RunSchema = z
  .object({
    id: z.number().int(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    trigger: z.enum(['schedule', 'manual']),
    dry_run: z.boolean(),
    status: z.enum(['running', 'succeeded', 'failed']),
    sites: z.number().int(),
    subscribers: z.number().int(),
    congested_sites: z.number().int(),
    pushes: z.number().int().openapi({ description: 'Rate changes sent (dry run: that would have been sent)' }),
    suppressed: z.number().int().openapi({ description: 'Changes held back by the hysteresis' }),
    error: z.string().nullable(),
  })
  .openapi('DbaRun');

const SiteSchema = z
  .object({
    site_id: z.string(),
    site_name: z.string(),
    reseller_id: z.string().nullable(),
    subscribers: z.number().int(),
    skipped: z.string().nullable(),
    capacity: Pair,
    demand: Pair,
    allocated: Pair,
    level: Pair.openapi({ description: 'Water level (fair share) when congested, else null' }),
    congested: z.object({ down: z.boolean(), up: z.boolean() }),
    floor_scale: z.object({ down: z.number(), up: z.number() }).openapi({ description: '< 1 when the CIR floors exceed the capacity and were scaled down' }),
  })
  .openapi('DbaSiteResult');

const AllocationSchema = z
  .object({
    subscriber_id: z.string(),
    site_id: z.string(),
    plan_code: z.string(),
    sessions: z.number().int(),
    demand: Pair,
    plan_mir: Pair.openapi({ description: 'null = unlimited' }),
    cir: Pair,
    share: Pair,
    mir: Pair,
    burst: Pair,
    previous: Pair,
    decision: z.enum(['push', 'would_push', 'hold', 'same']),
    task_id: z.string().nullable(),
    push_status: z.string().nullable().openapi({ description: 'queued, ack, nak, timeout, error, no_session, skipped, failed, done' }),
    push_detail: z.record(z.string(), z.unknown()).nullable(),
    explanation: z.string(),
  })
  .openapi('DbaAllocation');

const fmt = (v: number | null) => (v === null ? 'unlimited' : `${v} kbit/s`);

export interface RouteDeps {
  tags: string[];
  engine: DbaEngine;
  config: DbaConfig;
}

export function registerRoutes(r: PluginRouter, deps: RouteDeps): void {
  const { tags, engine, config } = deps;
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as unknown as Kysely<DbaDatabase>;
  const isReseller = (c: { get(k: 'principal'): unknown }) => (c.get('principal') as { role: string } | null)?.role === 'reseller';

  const runView = (row: {
    id: number;
    started_at: Date;
    finished_at: Date | null;
    trigger: 'schedule' | 'manual';
    dry_run: boolean;
    status: 'running' | 'succeeded' | 'failed';
    sites: number;
    subscribers: number;
    congested_sites: number;
    pushes: number;
    suppressed: number;
    error: string | null;
  }) => ({
    id: Number(row.id),
    started_at: new Date(row.started_at).toISOString(),
    finished_at: row.finished_at ? new Date(row.finished_at).toISOString() : null,
    trigger: row.trigger,
    dry_run: row.dry_run,
    status: row.status,
    sites: row.sites,
    subscribers: row.subscribers,
    congested_sites: row.congested_sites,
    pushes: row.pushes,
    suppressed: row.suppressed,
    error: row.error,
  });

  /** A reseller's view of runs: the counts over its own sites. */
  async function resellerCounts(db: Kysely<DbaDatabase>, runIds: number[]) {
    if (runIds.length === 0) return new Map<number, { sites: number; subscribers: number; congested: number; pushes: number; suppressed: number }>();
    const sites = await db
      .selectFrom('dba_site_results')
      .select((eb) => [
        'run_id',
        eb.fn.countAll<number>().as('sites'),
        eb.fn.sum<number>('subscribers').as('subscribers'),
        eb.fn
          .countAll<number>()
          .filterWhere((w) => w.or([w('congested_down', '=', true), w('congested_up', '=', true)]))
          .as('congested'),
      ])
      .where('run_id', 'in', runIds)
      .where('skipped', 'is', null)
      .groupBy('run_id')
      .execute();
    const allocs = await db
      .selectFrom('dba_allocations')
      .select((eb) => [
        'run_id',
        eb.fn.countAll<number>().filterWhere('decision', 'in', ['push', 'would_push']).as('pushes'),
        eb.fn.countAll<number>().filterWhere('decision', '=', 'hold').as('suppressed'),
      ])
      .where('run_id', 'in', runIds)
      .groupBy('run_id')
      .execute();
    const out = new Map<number, { sites: number; subscribers: number; congested: number; pushes: number; suppressed: number }>();
    for (const id of runIds) out.set(id, { sites: 0, subscribers: 0, congested: 0, pushes: 0, suppressed: 0 });
    for (const s of sites)
      Object.assign(out.get(Number(s.run_id)) ?? {}, { sites: Number(s.sites), subscribers: Number(s.subscribers ?? 0), congested: Number(s.congested) });
    for (const a of allocs) Object.assign(out.get(Number(a.run_id)) ?? {}, { pushes: Number(a.pushes), suppressed: Number(a.suppressed) });
    return out;
  }

  r.add(
    defineRoute({
      method: 'get',
      path: '/runs',
      access: ['noc', 'reseller'],
      tags,
      summary: 'DBA runs, newest first (a reseller sees the counts of its own sites)',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: { 200: json(z.object({ runs: z.array(RunSchema) }), 'Runs') },
    }),
    async (c) => {
      const { limit, offset } = c.req.valid('query');
      const db = dbOf(c);
      const rows = await db.selectFrom('dba_runs').selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
      let runs = rows.map(runView);
      if (isReseller(c)) {
        const counts = await resellerCounts(
          db,
          runs.map((r) => r.id),
        );
        runs = runs.map((r) => {
          const k = counts.get(r.id);
          return {
            ...r,
            sites: k?.sites ?? 0,
            subscribers: k?.subscribers ?? 0,
            congested_sites: k?.congested ?? 0,
            pushes: k?.pushes ?? 0,
            suppressed: k?.suppressed ?? 0,
          };
        });
      }
      return c.json({ runs }, 200);
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/runs/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'One DBA run explained: per-site capacity, demand and fair share, per-subscriber inputs, outputs and the push outcome',
      request: {
        params: z.object({
          id: z.coerce
            .number()
            .int()
            .positive()
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
        query: z.object({
          site_id: z.string().optional(),
          subscriber_id: z.string().uuid().optional(),
          decision: z.enum(['push', 'would_push', 'hold', 'same']).optional(),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
          offset: z.coerce.number().int().min(0).default(0),
        }),
      },
      responses: {
        200: json(
          z.object({ run: RunSchema, sites: z.array(SiteSchema), allocations: z.array(AllocationSchema), total_allocations: z.number().int() }),
          'The run',
        ),
        404: problem('No such run'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const db = dbOf(c);
      const run = await db.selectFrom('dba_runs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!run) throw httpErrors.notFound('dba_run_not_found', `no DBA run ${id}`);
      // Outcomes of CoAs sent since: filled in now rather than at the next run.
      await engine.reconcile().catch(() => {});
      let sitesQ = db.selectFrom('dba_site_results').selectAll().where('run_id', '=', id);
      if (q.site_id) sitesQ = sitesQ.where('site_id', '=', q.site_id);
      const sites = await sitesQ.orderBy('site_name').execute();
      let allocQ = db.selectFrom('dba_allocations').where('run_id', '=', id);
      if (q.site_id) allocQ = allocQ.where('site_id', '=', q.site_id);
      if (q.subscriber_id) allocQ = allocQ.where('subscriber_id', '=', q.subscriber_id);
      if (q.decision) allocQ = allocQ.where('decision', '=', q.decision);
      const total = await allocQ.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      const allocations = await allocQ.selectAll().orderBy('site_id').orderBy('subscriber_id').limit(q.limit).offset(q.offset).execute();
      const siteById = new Map(sites.map((s) => [s.site_id, s]));
      const view = runView(run);
      if (isReseller(c)) {
        const k = (await resellerCounts(db, [view.id])).get(view.id);
        Object.assign(view, {
          sites: k?.sites ?? 0,
          subscribers: k?.subscribers ?? 0,
          congested_sites: k?.congested ?? 0,
          pushes: k?.pushes ?? 0,
          suppressed: k?.suppressed ?? 0,
        });
      }
      return c.json(
        {
          run: view,
          sites: sites.map((s) => ({
            site_id: s.site_id,
            site_name: s.site_name,
            reseller_id: s.reseller_id,
            subscribers: s.subscribers,
            skipped: s.skipped,
            capacity: { down: s.capacity_down_kbps, up: s.capacity_up_kbps },
            demand: { down: Number(s.demand_down_kbps), up: Number(s.demand_up_kbps) },
            allocated: { down: Number(s.allocated_down_kbps), up: Number(s.allocated_up_kbps) },
            level: {
              down: s.level_down_kbps === null ? null : Math.floor(s.level_down_kbps),
              up: s.level_up_kbps === null ? null : Math.floor(s.level_up_kbps),
            },
            congested: { down: s.congested_down, up: s.congested_up },
            floor_scale: { down: s.floor_scale_down, up: s.floor_scale_up },
          })),
          allocations: allocations.map((a) => {
            const site = siteById.get(a.site_id);
            return {
              subscriber_id: a.subscriber_id,
              site_id: a.site_id,
              plan_code: a.plan_code,
              sessions: a.sessions,
              demand: { down: a.demand_down_kbps, up: a.demand_up_kbps },
              plan_mir: { down: a.plan_down_kbps, up: a.plan_up_kbps },
              cir: { down: a.cir_down_kbps, up: a.cir_up_kbps },
              share: { down: a.share_down_kbps, up: a.share_up_kbps },
              mir: { down: a.mir_down_kbps, up: a.mir_up_kbps },
              burst: { down: a.burst_down_kbps, up: a.burst_up_kbps },
              previous: { down: a.previous_down_kbps, up: a.previous_up_kbps },
              decision: a.decision,
              task_id: a.task_id,
              push_status: a.push_status,
              push_detail: (a.push_detail as Record<string, unknown> | null) ?? null,
              explanation: explain(a, site, config),
            };
          }),
          total_allocations: Number(total?.n ?? 0),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/runs',
      access: ['noc'],
      tags,
      summary: 'Run the allocation now; `?dry_run=1` computes and records what would be pushed without writing rates or sending CoAs',
      request: { query: z.object({ dry_run: z.enum(['1', '0', 'true', 'false']).optional() }) },
      responses: {
        201: json(
          z.object({
            id: z.number().int(),
            dry_run: z.boolean(),
            sites: z.number().int(),
            subscribers: z.number().int(),
            congested_sites: z.number().int(),
            pushes: z.number().int(),
            suppressed: z.number().int(),
            skipped_sites: z.array(z.object({ site_id: z.string(), reason: z.string() })),
            timings_ms: z.record(z.string(), z.number()).openapi({ description: 'Milliseconds per phase' }),
            duration_ms: z.number(),
          }),
          'The run (details: GET /api/dba/runs/{id})',
        ),
      },
    }),
    async (c) => {
      const { dry_run } = c.req.valid('query');
      const dryRun = dry_run === undefined ? config.dryRun : dry_run === '1' || dry_run === 'true';
      const summary = await engine.run({ trigger: 'manual', dryRun });
      return c.json(summary, 201);
    },
  );
}

type AllocationRow = {
  demand_down_kbps: number;
  plan_down_kbps: number | null;
  cir_down_kbps: number;
  mir_down_kbps: number;
  previous_down_kbps: number | null;
  mir_up_kbps: number | null;
  previous_up_kbps: number | null;
  decision: string;
  push_status: string | null;
};
type SiteRow = { congested_down: boolean; level_down_kbps: number | null; floor_scale_down: number; capacity_down_kbps: number | null; subscribers: number };

/** One sentence per allocation (downstream; upstream follows the same rule). */
export function explain(a: AllocationRow, site: SiteRow | undefined, config: Pick<DbaConfig, 'hysteresis'>): string {
  const parts: string[] = [];
  if (site?.congested_down && site.level_down_kbps !== null) {
    const level = Math.floor(site.level_down_kbps);
    parts.push(`site congested downstream (${site.subscribers} online, capacity ${fmt(site.capacity_down_kbps)}): fair share ${level} kbit/s`);
    if (site.floor_scale_down < 1) parts.push(`CIR floors exceeded the capacity and were scaled by ${site.floor_scale_down.toFixed(3)}`);
    if (a.mir_down_kbps === a.cir_down_kbps && a.cir_down_kbps > level) parts.push(`held at its CIR floor ${a.cir_down_kbps} kbit/s`);
    else if (a.plan_down_kbps !== null && a.plan_down_kbps <= level) parts.push(`plan MIR ${a.plan_down_kbps} kbit/s is below the share: limit = plan`);
    else parts.push(`limit ${a.mir_down_kbps} kbit/s (demand ${a.demand_down_kbps} kbit/s)`);
  } else {
    parts.push(
      `site not congested downstream: limit = plan MIR (${a.plan_down_kbps === null ? `unlimited plan: site capacity ${a.mir_down_kbps} kbit/s` : `${a.plan_down_kbps} kbit/s`})`,
    );
  }
  const prev = `${fmt(a.previous_down_kbps)} down / ${fmt(a.previous_up_kbps)} up`;
  if (a.decision === 'same') parts.push(`unchanged from ${prev}`);
  else if (a.decision === 'hold')
    parts.push(`change from ${prev} within the hysteresis (${config.hysteresis.percent} % and ${config.hysteresis.kbps} kbit/s): not sent`);
  else if (a.decision === 'would_push') parts.push(`dry run: would send the change from ${prev}`);
  else parts.push(`change from ${prev} sent${a.push_status ? ` (${a.push_status})` : ''}`);
  return `${parts.join('; ')}.`;
}
