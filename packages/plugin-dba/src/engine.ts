/**
 * One DBA run, with its I/O: read the sites (inventory), who is online where (CPEs in the inventory, open RADIUS
 * sessions on NAS mapped to sites), their active plans and demand; compute (allocate.ts); then — unless dry run —
 * write each subscriber's rate override (`rgz:dba:rate:{id}`, core's rate-override contract) and each reseller's
 * aggregate (`rgz:dba:mir:{reseller_id}`), enqueue core's `nas.policy-change` (reason `rate_change`) for the
 * subscribers whose rate moved past the hysteresis, and record everything (`dba_runs`, `dba_site_results`,
 * `dba_allocations`). Outcomes of the CoAs (ACK/NAK, from the task and the RADIUS plugin's audit entries) are filled in
 * later by `reconcile()`.
 */
import {
  type InventoryReader,
  type Kv,
  type Kysely,
  kvKeys,
  type Logger,
  type Metrics,
  nasPolicyChange,
  sql,
  type TaskQueue,
  writeRateOverride,
} from '@rgz/core';
import { type AllocationResult, type Computation, computeAllocations, type MemberInput, type SiteInput } from './allocate.js';
import type { DbaConfig } from './config.js';
import { combineDemand, type DemandSample, type DemandSource, type OpenSession, readOpenSessions, tableExists } from './demand.js';
import type { RatePair } from './rates.js';
import type { DbaDatabase, Decision, PushStatus } from './schema.js';

export interface DbaMetrics {
  runs(outcome: 'succeeded' | 'failed', dryRun: boolean): void;
  pushes(count: number): void;
  lastRun(seconds: number, subscribers: number, congestedSites: number): void;
}

export function createDbaMetrics(metrics: Metrics): DbaMetrics {
  const runs = metrics.counter({ name: 'dba_runs_total', help: 'DBA runs by outcome and dry_run', labelNames: ['outcome', 'dry_run'] });
  const pushes = metrics.counter({ name: 'dba_rate_changes_total', help: 'Rate changes sent to NAS (nas.policy-change tasks enqueued) by DBA' });
  const duration = metrics.gauge({ name: 'dba_last_run_duration_seconds', help: 'Duration of the last DBA run on this replica' });
  const subscribers = metrics.gauge({ name: 'dba_subscribers', help: 'Online subscribers allocated by the last DBA run' });
  const congested = metrics.gauge({ name: 'dba_congested_sites', help: 'Sites congested (downstream or upstream) at the last DBA run' });
  return {
    runs: (outcome, dryRun) => runs.inc({ outcome, dry_run: String(dryRun) }),
    pushes: (n) => pushes.inc(n),
    lastRun(seconds, subs, sites) {
      duration.set(seconds);
      subscribers.set(subs);
      congested.set(sites);
    },
  };
}

export interface EngineDeps {
  db: Kysely<DbaDatabase>;
  kv: Kv;
  tasks: TaskQueue;
  log: Logger;
  config: DbaConfig;
  metrics: DbaMetrics;
  inventory(): InventoryReader | undefined;
  /** Demand sources, given whether `radius_sessions` exists. */
  sources(radius: boolean): DemandSource[];
}

export interface RunOptions {
  trigger: 'schedule' | 'manual';
  dryRun: boolean;
  signal?: AbortSignal;
  now?: Date;
}

export interface RunSummary {
  id: number;
  dry_run: boolean;
  sites: number;
  subscribers: number;
  congested_sites: number;
  /** Rate changes sent (or, in a dry run, that would be). */
  pushes: number;
  /** Changes below the hysteresis, not sent. */
  suppressed: number;
  skipped_sites: { site_id: string; reason: string }[];
  /** Milliseconds per phase: read, demand, plans, compute, apply, enqueue, record. */
  timings_ms: Record<string, number>;
  duration_ms: number;
}

const CHUNK = 500;

async function chunked<T>(items: readonly T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await fn(items.slice(i, i + size));
}

export class DbaEngine {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: EngineDeps) {}

  /** Run now; runs on this replica are serialised (the scheduled job is global, so one replica runs each tick). */
  run(options: RunOptions): Promise<RunSummary> {
    const next = this.queue.then(
      () => this.execute(options),
      () => this.execute(options),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  private async execute(options: RunOptions): Promise<RunSummary> {
    const { db, config, log } = this.deps;
    const started = Date.now();
    const now = options.now ?? new Date();
    const run = await db
      .insertInto('dba_runs')
      .values({
        trigger: options.trigger,
        dry_run: options.dryRun,
        status: 'running',
        error: null,
        summary: JSON.stringify({ hysteresis: config.hysteresis, cir: config.cir, burst_fraction: config.burstFraction, demand: config.demand.sources }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const runId = Number(run.id);
    try {
      await this.reconcile().catch((err) => log.warn({ err }, 'dba: reconciling earlier pushes failed'));
      const summary = await this.compute(runId, now, options);
      this.deps.metrics.runs('succeeded', options.dryRun);
      this.deps.metrics.lastRun((Date.now() - started) / 1000, summary.subscribers, summary.congested_sites);
      log.info({ run_id: runId, ...summary, skipped_sites: summary.skipped_sites.length }, options.dryRun ? 'dba dry run' : 'dba run');
      return { ...summary, duration_ms: Date.now() - started };
    } catch (err) {
      this.deps.metrics.runs('failed', options.dryRun);
      await db
        .updateTable('dba_runs')
        .set({ status: 'failed', finished_at: new Date(), error: (err as Error).message })
        .where('id', '=', runId)
        .execute();
      throw err;
    } finally {
      await this.cleanup(now).catch((err) => log.warn({ err }, 'dba: retention cleanup failed'));
    }
  }

  private async compute(runId: number, now: Date, options: RunOptions): Promise<Omit<RunSummary, 'duration_ms'>> {
    const { db, config } = this.deps;
    const abortIfNeeded = () => options.signal?.throwIfAborted();
    // Where the time goes, per phase (kept in the run's summary).
    const timings: Record<string, number> = {};
    let lap = performance.now();
    const mark = (phase: string) => {
      const t = performance.now();
      timings[phase] = Math.round(t - lap);
      lap = t;
      abortIfNeeded();
    };
    const inventory = this.deps.inventory();
    if (!inventory) throw new Error('no InventoryReader is provided: load @rgz/plugin-inventory (sites and their capacity)');
    const [sites, cpes] = await Promise.all([inventory.listSites(), inventory.listDevices({ kinds: ['cpe'], enabled: true })]);
    const siteById = new Map(sites.map((s) => [s.id, s]));
    const siteByName = new Map(sites.map((s) => [s.name, s]));
    const nasSite = (identifier: string | null): string | undefined => {
      const ref = identifier === null ? undefined : config.nasSites[identifier];
      return ref === undefined ? undefined : (siteById.get(ref) ?? siteByName.get(ref))?.id;
    };

    const radius = await tableExists(db, 'radius_sessions');
    const sessions: OpenSession[] = radius ? await readOpenSessions(db, now, config.demand.staleSeconds) : [];
    mark('read_ms');

    // Who belongs where: the CPE's site wins, else the site of the NAS an open session is on.
    const siteOf = new Map<string, string>();
    for (const d of cpes) {
      if (d.subscriberId && d.siteId && siteById.has(d.siteId) && !siteOf.has(d.subscriberId)) siteOf.set(d.subscriberId, d.siteId);
    }
    const sessionCount = new Map<string, number>();
    for (const s of sessions) {
      sessionCount.set(s.subscriberId, (sessionCount.get(s.subscriberId) ?? 0) + 1);
      const site = nasSite(s.nasIdentifier);
      if (site && !siteOf.has(s.subscriberId)) siteOf.set(s.subscriberId, site);
    }

    const readings = await Promise.all(
      this.deps.sources(radius).map((src) =>
        src.measure({
          now,
          sessions,
          cpes: cpes.filter((d) => d.subscriberId !== null).map((d) => ({ deviceId: d.id, subscriberId: d.subscriberId as string })),
          staleSeconds: config.demand.staleSeconds,
        }),
      ),
    );
    const demand = combineDemand(readings);
    mark('demand_ms');

    // Online: an open session, or a demand reading. Only those with a site and an active plan are allocated.
    const candidates = [...siteOf.keys()].filter((id) => sessionCount.has(id) || demand.has(id));
    const plans = await this.activePlans(candidates, now);
    const previous = await this.ratesInForce(now);
    mark('plans_ms');
    const zero: DemandSample = { downKbps: 0, upKbps: 0 };
    const members: MemberInput[] = [];
    const resellerOfSubscriber = new Map<string, string | null>();
    for (const id of candidates) {
      const plan = plans.get(id);
      if (!plan) continue;
      resellerOfSubscriber.set(id, plan.resellerId);
      const prev = previous.get(id);
      members.push({
        subscriberId: id,
        siteId: siteOf.get(id) as string,
        planCode: plan.code,
        rateDownKbps: plan.down,
        rateUpKbps: plan.up,
        demand: demand.get(id) ?? zero,
        sessions: sessionCount.get(id) ?? 0,
        previous: prev ? { down: prev.down, up: prev.up } : null,
        ...(prev ? { previousBurst: prev.burst } : {}),
      });
    }
    const siteInputs: SiteInput[] = sites.map((s) => ({
      id: s.id,
      name: s.name,
      resellerId: s.resellerId,
      capacityDownKbps: s.capacityDownKbps,
      capacityUpKbps: s.capacityUpKbps,
    }));
    const computed = computeAllocations(siteInputs, members, { cir: config.cir, burstFraction: config.burstFraction, hysteresis: config.hysteresis });
    mark('compute_ms');

    const pushes = computed.allocations.filter((a) => a.decision === 'push');
    const outcome = new Map<string, { taskId: string | null; status: PushStatus }>();
    if (!options.dryRun) {
      await this.apply(runId, now, computed, resellerOfSubscriber);
      mark('apply_ms');
      const withSession = pushes.filter((a) => a.sessions > 0);
      for (const a of pushes) if (a.sessions === 0) outcome.set(a.subscriberId, { taskId: null, status: 'no_session' });
      // One transaction per 500 tasks: one commit instead of one per insert (the worker picks them up at its next poll).
      await chunked(withSession, 500, (chunk) =>
        db.transaction().execute(async (trx) => {
          for (const a of chunk) {
            const taskId = await this.deps.tasks.enqueue(
              nasPolicyChange,
              { subscriberId: a.subscriberId, reason: 'rate_change' },
              { trx, dedupeKey: `dba:${runId}:${a.subscriberId}`, maxAttempts: config.push.maxAttempts },
            );
            outcome.set(a.subscriberId, { taskId, status: 'queued' });
          }
        }),
      );
      this.deps.metrics.pushes(withSession.length);
      mark('enqueue_ms');
    }
    await this.record(runId, computed, options.dryRun, outcome);
    mark('record_ms');

    const congested = computed.sites.filter((s) => s.down?.congested || s.up?.congested).length;
    const summary = {
      id: runId,
      dry_run: options.dryRun,
      sites: computed.sites.filter((s) => s.skipped === null).length,
      subscribers: computed.allocations.length,
      congested_sites: congested,
      pushes: pushes.length,
      suppressed: computed.allocations.filter((a) => a.decision === 'hold').length,
      skipped_sites: computed.sites.filter((s) => s.skipped !== null).map((s) => ({ site_id: s.site.id, reason: s.skipped as string })),
    };
    await db
      .updateTable('dba_runs')
      .set({
        status: 'succeeded',
        finished_at: new Date(),
        sites: summary.sites,
        subscribers: summary.subscribers,
        congested_sites: summary.congested_sites,
        pushes: summary.pushes,
        suppressed: summary.suppressed,
        summary: JSON.stringify({
          hysteresis: config.hysteresis,
          cir: config.cir,
          burst_fraction: config.burstFraction,
          demand: config.demand.sources,
          radius_sessions: radius,
          open_sessions: sessions.length,
          skipped_sites: summary.skipped_sites,
          timings_ms: timings,
        }),
      })
      .where('id', '=', runId)
      .execute();
    this.deps.log.debug({ run_id: runId, timings_ms: timings }, 'dba run phases');
    return { ...summary, timings_ms: timings };
  }

  /** Latest-started unexpired active subscription per subscriber (as core's findActivePlan), in batches. */
  private async activePlans(
    ids: readonly string[],
    now: Date,
  ): Promise<Map<string, { code: string; down: number | null; up: number | null; resellerId: string | null }>> {
    const out = new Map<string, { code: string; down: number | null; up: number | null; resellerId: string | null }>();
    await chunked(ids, 5000, async (chunk) => {
      const rows = await this.deps.db
        .selectFrom('subscriptions as s')
        .innerJoin('plans as p', 'p.id', 's.plan_id')
        .innerJoin('subscribers as sub', 'sub.id', 's.subscriber_id')
        .distinctOn('s.subscriber_id')
        .select(['s.subscriber_id', 'sub.reseller_id', 'p.code', 'p.rate_down_kbps', 'p.rate_up_kbps'])
        .where('s.subscriber_id', 'in', chunk)
        .where('s.status', '=', 'active')
        .where('sub.status', '=', 'active')
        .where('s.starts_at', '<=', now)
        .where('s.expires_at', '>', now)
        .orderBy('s.subscriber_id')
        .orderBy('s.starts_at', 'desc')
        .execute();
      for (const r of rows) out.set(r.subscriber_id, { code: r.code, down: r.rate_down_kbps, up: r.rate_up_kbps, resellerId: r.reseller_id });
    });
    return out;
  }

  /** Rates DBA set whose key has not expired yet (refreshed within the TTL). */
  private async ratesInForce(now: Date): Promise<Map<string, { down: number | null; up: number | null; burst: RatePair }>> {
    const since = new Date(now.getTime() - this.deps.config.ttlSeconds * 1000);
    const rows = await this.deps.db.selectFrom('dba_rates').selectAll().where('updated_at', '>=', since).execute();
    return new Map(rows.map((r) => [r.subscriber_id, { down: r.down_kbps, up: r.up_kbps, burst: { down: r.burst_down_kbps, up: r.burst_up_kbps } }]));
  }

  /** Rate keys first (the CoA task reads them), then the state table and the reseller aggregates. */
  private async apply(runId: number, now: Date, computed: Computation, resellerOf: ReadonlyMap<string, string | null>): Promise<void> {
    const { db, kv, config } = this.deps;
    const ttl = config.ttlSeconds;
    const computedAt = now.toISOString();
    await chunked(computed.allocations, 200, (chunk) =>
      Promise.all(
        chunk.map((a) =>
          writeRateOverride(
            kv,
            a.subscriberId,
            {
              down_kbps: a.effective.down,
              up_kbps: a.effective.up,
              computed_at: computedAt,
              ...(a.effectiveBurst.down !== null ? { burst_down_kbps: a.effectiveBurst.down } : {}),
              ...(a.effectiveBurst.up !== null ? { burst_up_kbps: a.effectiveBurst.up } : {}),
              source: 'dba',
            },
            ttl,
          ),
        ),
      ),
    );
    await chunked(computed.allocations, CHUNK, (chunk) =>
      db
        .insertInto('dba_rates')
        .values(
          chunk.map((a) => ({
            subscriber_id: a.subscriberId,
            down_kbps: a.effective.down,
            up_kbps: a.effective.up,
            burst_down_kbps: a.effectiveBurst.down,
            burst_up_kbps: a.effectiveBurst.up,
            site_id: a.siteId,
            run_id: runId,
            updated_at: now,
            pushed_at: a.decision === 'push' ? now : null,
          })),
        )
        .onConflict((oc) =>
          oc.column('subscriber_id').doUpdateSet((eb) => ({
            down_kbps: eb.ref('excluded.down_kbps'),
            up_kbps: eb.ref('excluded.up_kbps'),
            burst_down_kbps: eb.ref('excluded.burst_down_kbps'),
            burst_up_kbps: eb.ref('excluded.burst_up_kbps'),
            site_id: eb.ref('excluded.site_id'),
            run_id: eb.ref('excluded.run_id'),
            updated_at: eb.ref('excluded.updated_at'),
            pushed_at: eb.fn.coalesce('excluded.pushed_at', 'dba_rates.pushed_at'),
          })),
        )
        .execute(),
    );

    // The seed's rgz:dba:mir:{reseller_id}: totals over the reseller's allocated subscribers (kbit/s).
    type Totals = { cir: number; mir: number; burst: number; share: number };
    const aggregates = new Map<string, { down: Totals; up: Totals; subscribers: number; sites: Set<string> }>();
    for (const a of computed.allocations) {
      const reseller = resellerOf.get(a.subscriberId) ?? a.resellerId;
      if (!reseller) continue;
      let agg = aggregates.get(reseller);
      if (!agg) {
        agg = { down: { cir: 0, mir: 0, burst: 0, share: 0 }, up: { cir: 0, mir: 0, burst: 0, share: 0 }, subscribers: 0, sites: new Set() };
        aggregates.set(reseller, agg);
      }
      agg.subscribers++;
      agg.sites.add(a.siteId);
      agg.down.cir += a.cir.down;
      agg.down.mir += a.effective.down ?? 0;
      agg.down.burst += a.effectiveBurst.down ?? 0;
      agg.down.share += a.share.down;
      agg.up.cir += a.cir.up;
      agg.up.mir += a.effective.up ?? 0;
      agg.up.burst += a.effectiveBurst.up ?? 0;
      agg.up.share += a.share.up;
    }
    await Promise.all(
      [...aggregates].map(([reseller, agg]) =>
        kv.set(
          kvKeys.dbaMir(reseller),
          JSON.stringify({
            cir: agg.down.cir,
            mir: agg.down.mir,
            burst: agg.down.burst,
            allocated: agg.down.share,
            up: agg.up,
            subscribers: agg.subscribers,
            sites: agg.sites.size,
            unit: 'kbit/s',
            run_id: runId,
            computed_at: computedAt,
          }),
          ttl,
        ),
      ),
    );
  }

  private async record(
    runId: number,
    computed: Computation,
    dryRun: boolean,
    outcome: ReadonlyMap<string, { taskId: string | null; status: PushStatus }>,
  ): Promise<void> {
    const { db } = this.deps;
    await chunked(computed.sites, CHUNK, (chunk) =>
      db
        .insertInto('dba_site_results')
        .values(
          chunk.map((s) => ({
            run_id: runId,
            site_id: s.site.id,
            site_name: s.site.name,
            reseller_id: s.site.resellerId,
            subscribers: s.subscribers,
            skipped: s.skipped,
            capacity_down_kbps: s.site.capacityDownKbps,
            capacity_up_kbps: s.site.capacityUpKbps,
            demand_down_kbps: s.down?.demand ?? 0,
            demand_up_kbps: s.up?.demand ?? 0,
            allocated_down_kbps: s.down?.allocated ?? 0,
            allocated_up_kbps: s.up?.allocated ?? 0,
            level_down_kbps: s.down?.level ?? null,
            level_up_kbps: s.up?.level ?? null,
            congested_down: s.down?.congested ?? false,
            congested_up: s.up?.congested ?? false,
            floor_scale_down: s.down?.floorScale ?? 1,
            floor_scale_up: s.up?.floorScale ?? 1,
          })),
        )
        .execute(),
    );
    const decisionOf = (a: AllocationResult): Decision => (a.decision === 'push' && dryRun ? 'would_push' : a.decision);
    await chunked(computed.allocations, CHUNK, (chunk) =>
      db
        .insertInto('dba_allocations')
        .values(
          chunk.map((a) => {
            const o = outcome.get(a.subscriberId);
            return {
              run_id: runId,
              site_id: a.siteId,
              reseller_id: a.resellerId,
              subscriber_id: a.subscriberId,
              plan_code: a.planCode,
              sessions: a.sessions,
              demand_down_kbps: Math.round(a.demand.downKbps),
              demand_up_kbps: Math.round(a.demand.upKbps),
              plan_down_kbps: a.plan.down,
              plan_up_kbps: a.plan.up,
              cir_down_kbps: a.cir.down,
              cir_up_kbps: a.cir.up,
              share_down_kbps: a.share.down,
              share_up_kbps: a.share.up,
              mir_down_kbps: a.mir.down,
              mir_up_kbps: a.mir.up,
              burst_down_kbps: a.burst.down,
              burst_up_kbps: a.burst.up,
              previous_down_kbps: a.previous.down,
              previous_up_kbps: a.previous.up,
              decision: decisionOf(a),
              task_id: o?.taskId ?? null,
              push_status: o?.status ?? null,
              push_detail: null,
            };
          }),
        )
        .execute(),
    );
  }

  /**
   * Fill in the outcome of pushes still `queued`: the task's status and the RADIUS plugin's audit entries for it
   * (`radius.coa.ack|nak|timeout|error|skipped`, `radius.policy.no_session`, with `details.task_id`).
   */
  async reconcile(): Promise<number> {
    const { db } = this.deps;
    const queued = await db
      .selectFrom('dba_allocations as a')
      .innerJoin('dba_runs as r', 'r.id', 'a.run_id')
      .select(['a.task_id', 'r.started_at'])
      .where('a.push_status', '=', 'queued')
      .where('a.task_id', 'is not', null)
      .limit(5000)
      .execute();
    if (queued.length === 0) return 0;
    const taskIds = [...new Set(queued.map((q) => q.task_id as string))];
    const tasks = await db.selectFrom('core_tasks').select(['id', 'status', 'attempts', 'last_error']).where('id', 'in', taskIds).execute();
    const taskById = new Map(tasks.map((t) => [String(t.id), t]));
    const finished = taskIds.filter((id) => {
      const s = taskById.get(id)?.status;
      return s === 'done' || s === 'dead';
    });
    if (finished.length === 0) return 0;
    // Found by core's index on details->>'task_id'; the time bound (the oldest pending run) keeps it tight.
    const since = new Date(Math.min(...queued.map((q) => new Date(q.started_at).getTime())) - 60_000);
    const audits = await db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('at', '>=', since)
      .where('action', 'like', 'radius.%')
      .where(sql<string>`details->>'task_id'`, 'in', finished)
      .orderBy('id')
      .execute();
    const byTask = new Map<string, Array<{ action: string; details: Record<string, unknown> }>>();
    for (const a of audits) {
      const id = String((a.details as Record<string, unknown>).task_id);
      const list = byTask.get(id) ?? [];
      list.push({ action: a.action, details: a.details as Record<string, unknown> });
      byTask.set(id, list);
    }
    const outcomes = finished.map((taskId) => {
      const task = taskById.get(taskId) as { status: string; attempts: number; last_error: string | null };
      const { status, detail } = pushOutcome(task.status as 'done' | 'dead', byTask.get(taskId) ?? [], task.attempts, task.last_error);
      return { taskId, status, detail: JSON.stringify(detail) };
    });
    let updated = 0;
    // One statement per 500 outcomes.
    for (let i = 0; i < outcomes.length; i += 500) {
      const values = sql.join(outcomes.slice(i, i + 500).map((o) => sql`(${o.taskId}::text, ${o.status}::text, ${o.detail}::jsonb)`));
      const r = await sql`
        update dba_allocations as a set push_status = v.status, push_detail = v.detail
        from (values ${values}) as v(task_id, status, detail)
        where a.task_id = v.task_id and a.push_status = 'queued'`.execute(db);
      updated += Number(r.numAffectedRows ?? 0);
    }
    return updated;
  }

  private async cleanup(now: Date): Promise<void> {
    const { db, config } = this.deps;
    const before = new Date(now.getTime() - config.retentionDays * 86_400_000);
    await db.deleteFrom('dba_runs').where('started_at', '<', before).execute();
    // A subscriber no longer allocated: its key has expired, so the plan's rate applies again.
    await db
      .deleteFrom('dba_rates')
      .where('updated_at', '<', new Date(now.getTime() - config.ttlSeconds * 1000))
      .execute();
  }
}

/** From a finished task and the RADIUS plugin's audit entries to one outcome. */
export function pushOutcome(
  taskStatus: 'done' | 'dead',
  entries: ReadonlyArray<{ action: string; details: Record<string, unknown> }>,
  attempts: number,
  lastError: string | null,
): { status: PushStatus; detail: Record<string, unknown> } {
  const actions = entries.map((e) => e.action);
  const has = (a: string) => actions.includes(a);
  const errorCauses = entries.map((e) => e.details.error_cause).filter((c): c is number => typeof c === 'number');
  const detail = {
    task_status: taskStatus,
    attempts,
    actions,
    ...(errorCauses.length ? { error_causes: errorCauses } : {}),
    ...(lastError ? { last_error: lastError } : {}),
  };
  let status: PushStatus;
  if (has('radius.policy.no_session') || has('radius.policy.no_subscriber')) status = 'no_session';
  else if (taskStatus === 'done') status = has('radius.coa.ack') ? 'ack' : has('radius.coa.nak') ? 'nak' : has('radius.coa.skipped') ? 'skipped' : 'done';
  else status = has('radius.coa.nak') ? 'nak' : has('radius.coa.timeout') ? 'timeout' : has('radius.coa.error') ? 'error' : 'failed';
  return { status, detail };
}
