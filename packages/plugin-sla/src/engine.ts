/**
 * One SLA run: resolve the targets (config, the portal's /health, the inventory's gateways), probe them all with a
 * bounded concurrency, store one `sla_probes` row each, update the metrics, then judge breaches — `down` after N
 * failures in a row (resolved by the next success) and `objective` when the uptime of the current period falls below
 * the objective — and hand each opened/resolved breach to the incident task.
 */
import { type InventoryReader, type Kysely, type Logger, type Metrics, sql, type TaskQueue, type TaskType } from '@rgz/core';
import type { SlaConfig, TargetConfig } from './config.js';
import { dnsProbe, httpProbe, icmpProbe, type ProbeResult } from './probes.js';
import type { ProbeKind, SlaDatabase } from './schema.js';
import { currentPeriodKey, type Period, uptime } from './uptime.js';

export interface Target {
  readonly id: string;
  readonly kind: ProbeKind;
  /** What is probed (host, URL, name@server), for the API and logs. */
  readonly address: string;
  readonly siteId: string | null;
  readonly siteName: string | null;
  readonly resellerId: string | null;
  readonly source: 'config' | 'portal' | 'inventory';
  probe(signal?: AbortSignal): Promise<ProbeResult>;
}

export interface BreachPayload {
  type: 'opened' | 'resolved';
  breachId: number;
  kind: 'down' | 'objective';
  targetId: string;
  probeKind: ProbeKind;
  address: string;
  siteId: string | null;
  siteName: string | null;
  resellerId: string | null;
  periodKey: string;
  openedAt: string;
  at: string;
  title: string;
  summary: string;
  priority: 'P0' | 'P1' | 'P2';
}

export interface SlaMetrics {
  record(target: Target, result: ProbeResult): void;
  uptime(target: Target, ratio: number): void;
  forget(ids: ReadonlySet<string>): void;
}

export function createSlaMetrics(metrics: Metrics): SlaMetrics {
  const labels = ['target', 'kind', 'site'] as const;
  const success = metrics.gauge({ name: 'sla_probe_success', help: 'Last probe of the target: 1 up, 0 down', labelNames: [...labels] });
  const latency = metrics.gauge({
    name: 'sla_probe_latency_seconds',
    help: 'Last probe round trip (ICMP average, HTTP full response, DNS answer), seconds',
    labelNames: [...labels],
  });
  const loss = metrics.gauge({ name: 'sla_probe_loss_ratio', help: 'ICMP echo requests lost in the last probe, 0..1', labelNames: ['target', 'site'] });
  const ratio = metrics.gauge({
    name: 'sla_uptime_ratio',
    help: 'Successful probes / probes of the target in the current SLA period (day or month, server time zone)',
    labelNames: ['target', 'site'],
  });
  const known = new Map<string, { kind: string; site: string }>();
  return {
    record(t, r) {
      const l = { target: t.id, kind: t.kind, site: t.siteName ?? '' };
      known.set(t.id, { kind: t.kind, site: l.site });
      success.set(l, r.success ? 1 : 0);
      if (r.latencyMs !== null) latency.set(l, r.latencyMs / 1000);
      else latency.remove(l);
      if (t.kind === 'icmp' && r.loss !== null) loss.set({ target: t.id, site: l.site }, r.loss);
    },
    uptime(t, value) {
      ratio.set({ target: t.id, site: t.siteName ?? '' }, value);
    },
    // Targets gone from config/inventory: their series go too (the label set stays bounded by the live targets).
    forget(ids) {
      for (const [id, l] of known) {
        if (ids.has(id)) continue;
        success.remove({ target: id, kind: l.kind, site: l.site });
        latency.remove({ target: id, kind: l.kind, site: l.site });
        loss.remove({ target: id, site: l.site });
        ratio.remove({ target: id, site: l.site });
        known.delete(id);
      }
    },
  };
}

export interface EngineDeps {
  db: Kysely<SlaDatabase>;
  tasks: TaskQueue;
  log: Logger;
  config: SlaConfig;
  metrics: SlaMetrics;
  timeZone: string;
  publicUrl: string;
  incidentTask: TaskType<BreachPayload>;
  inventory(): InventoryReader | undefined;
}

export interface RunResult {
  run_at: string;
  targets: number;
  up: number;
  down: number;
  results: Array<{ target_id: string; kind: ProbeKind; success: boolean; latency_ms: number | null; loss: number | null; error: string | null }>;
  breaches_opened: number;
  breaches_resolved: number;
}

/** Run `fn` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

export class SlaEngine {
  constructor(private readonly deps: EngineDeps) {}

  /** The targets of this run. */
  async targets(): Promise<Target[]> {
    const { config, publicUrl } = this.deps;
    const inventory = this.deps.inventory();
    const sites = inventory ? await inventory.listSites() : [];
    const byId = new Map(sites.map((s) => [s.id, s]));
    const byName = new Map(sites.map((s) => [s.name, s]));
    const out: Target[] = [];
    const make = (t: TargetConfig | (TargetConfig & { kind: 'http' }), source: Target['source']): Target => {
      const site = t.site === undefined ? undefined : (byId.get(t.site) ?? byName.get(t.site));
      if (t.site !== undefined && !site) this.deps.log.warn({ target: t.id, site: t.site }, 'sla: target names a site the inventory does not have');
      const base = {
        id: t.id,
        kind: t.kind,
        siteId: site?.id ?? null,
        siteName: site?.name ?? null,
        resellerId: t.resellerId ?? site?.resellerId ?? null,
        source,
      };
      if (t.kind === 'icmp') {
        const o = { ...config.icmp, command: t.command ?? config.icmp.command };
        return { ...base, address: t.host, probe: (signal) => icmpProbe(t.host, { ...o, ...(signal ? { signal } : {}) }) };
      }
      if (t.kind === 'http') {
        const url = t.url ?? `${publicUrl.replace(/\/$/, '')}/health`;
        return {
          ...base,
          address: url,
          probe: (signal) => httpProbe(url, { timeoutMs: config.http.timeoutMs, expectStatus: t.expectStatus, ...(signal ? { signal } : {}) }),
        };
      }
      return {
        ...base,
        address: `${t.name}@${t.server}`,
        probe: (signal) =>
          dnsProbe(t.name, { server: t.server, type: t.type, timeoutMs: config.dns.timeoutMs, tries: config.dns.tries, ...(signal ? { signal } : {}) }),
      };
    };
    if (config.portalHealth) out.push(make({ id: 'portal-health', kind: 'http' }, 'portal'));
    for (const t of config.targets) out.push(make(t, 'config'));
    if (config.inventoryGateways && inventory) {
      const gateways = await inventory.listDevices({ kinds: ['gateway'], enabled: true });
      for (const g of gateways) {
        const site = g.siteId ? byId.get(g.siteId) : undefined;
        const t = make(
          { id: `gw-${g.id}`, kind: 'icmp', host: g.address, ...(site ? { site: site.id } : {}), ...(g.resellerId ? { resellerId: g.resellerId } : {}) },
          'inventory',
        );
        out.push(t);
      }
    }
    return out;
  }

  async run(signal?: AbortSignal): Promise<RunResult> {
    const { db, config, log } = this.deps;
    const runAt = new Date();
    const targets = await this.targets();
    this.deps.metrics.forget(new Set(targets.map((t) => t.id)));
    const results = await pool(targets, config.concurrency, async (t) => {
      const at = new Date();
      const r = await t.probe(signal);
      this.deps.metrics.record(t, r);
      return { target: t, at, result: r };
    });
    signal?.throwIfAborted();
    for (let i = 0; i < results.length; i += 500) {
      await db
        .insertInto('sla_probes')
        .values(
          results.slice(i, i + 500).map(({ target: t, at, result: r }) => ({
            run_at: runAt,
            at,
            target_id: t.id,
            kind: t.kind,
            site_id: t.siteId,
            reseller_id: t.resellerId,
            success: r.success,
            latency_ms: r.latencyMs,
            loss: r.loss,
            error: r.error,
            detail: JSON.stringify(r.detail),
          })),
        )
        .execute();
    }
    const down = results.filter((r) => !r.result.success);
    for (const d of down) log.warn({ target: d.target.id, kind: d.target.kind, address: d.target.address, error: d.result.error }, 'sla probe failed');

    const { opened, resolved } = await this.judge(targets, runAt);
    await this.cleanup(runAt).catch((err) => log.warn({ err }, 'sla: retention cleanup failed'));
    return {
      run_at: runAt.toISOString(),
      targets: targets.length,
      up: results.length - down.length,
      down: down.length,
      results: results.map(({ target: t, result: r }) => ({
        target_id: t.id,
        kind: t.kind,
        success: r.success,
        latency_ms: r.latencyMs === null ? null : Math.round(r.latencyMs * 1000) / 1000,
        loss: r.loss,
        error: r.error,
      })),
      breaches_opened: opened,
      breaches_resolved: resolved,
    };
  }

  /** Open and resolve breaches after a run; returns how many changed. */
  private async judge(targets: readonly Target[], now: Date): Promise<{ opened: number; resolved: number }> {
    const { db, config } = this.deps;
    if (targets.length === 0) return { opened: 0, resolved: 0 };
    const byId = new Map(targets.map((t) => [t.id, t]));
    const ids = targets.map((t) => t.id);
    let opened = 0;
    let resolved = 0;

    // Down: the last N probes of a target all failed. Resolved by a success.
    const n = config.breach.consecutiveFailures;
    const { rows: recent } = await sql<{ target_id: string; success: boolean; rn: number }>`
      select target_id, success, rn from (
        select target_id, success, row_number() over (partition by target_id order by at desc, id desc) as rn
        from sla_probes where target_id in (${sql.join(ids)})
      ) t where rn <= ${n}`.execute(db);
    const history = new Map<string, boolean[]>();
    for (const r of recent) {
      const list = history.get(r.target_id) ?? [];
      list[Number(r.rn) - 1] = r.success;
      history.set(r.target_id, list);
    }
    const openDown = new Map(
      (await db.selectFrom('sla_breaches').selectAll().where('kind', '=', 'down').where('resolved_at', 'is', null).where('target_id', 'in', ids).execute()).map(
        (b) => [b.target_id, b],
      ),
    );
    for (const t of targets) {
      const h = history.get(t.id) ?? [];
      const failing = h.length >= n && h.slice(0, n).every((s) => s === false);
      const open = openDown.get(t.id);
      if (failing && !open) {
        if (await this.open(t, 'down', '', now, { consecutive_failures: n })) opened++;
      } else if (open && h[0] === true) {
        if (await this.resolve(open.id, t, 'down', open.period_key, new Date(open.opened_at), now)) resolved++;
      }
    }

    // Objective: the uptime of the current period below the objective, with enough samples.
    const period: Period = config.breach.period;
    const key = currentPeriodKey(period, now, this.deps.timeZone);
    const rows = await uptime(db, { period, key, timeZone: this.deps.timeZone, group: 'target', targetIds: ids });
    const objective = config.breach.objectivePercent;
    const openObjective = await db
      .selectFrom('sla_breaches')
      .selectAll()
      .where('kind', '=', 'objective')
      .where('resolved_at', 'is', null)
      .where('target_id', 'in', ids)
      .execute();
    const openNow = new Map(openObjective.filter((b) => b.period_key === key).map((b) => [b.target_id, b]));
    for (const r of rows) {
      const t = byId.get(r.key as string);
      if (!t) continue;
      this.deps.metrics.uptime(t, r.uptime);
      const below = r.total >= config.breach.minSamples && r.uptime * 100 < objective;
      const open = openNow.get(t.id);
      if (below && !open) {
        if (await this.open(t, 'objective', key, now, { uptime: r.uptime, successes: r.successes, total: r.total, objective_percent: objective, period }))
          opened++;
      } else if (open && !below) {
        if (await this.resolve(open.id, t, 'objective', key, new Date(open.opened_at), now)) resolved++;
      }
    }
    // Objective breaches of a period that is over: the period is closed, so is the incident.
    for (const b of openObjective.filter((x) => x.period_key !== key)) {
      const t = byId.get(b.target_id);
      if (t && (await this.resolve(b.id, t, 'objective', b.period_key, new Date(b.opened_at), now))) resolved++;
    }
    return { opened, resolved };
  }

  private describe(t: Target, kind: 'down' | 'objective', periodKey: string, details: Record<string, unknown>) {
    const where = t.siteName ? ` (site ${t.siteName})` : '';
    if (kind === 'down') {
      return {
        title: `SLA: ${t.id} down${where}`,
        summary: `${t.kind.toUpperCase()} probe of ${t.address} failed ${String(details.consecutive_failures ?? '')} times in a row`,
        priority: this.deps.config.breach.downPriority,
      };
    }
    const pct = typeof details.uptime === 'number' ? (details.uptime * 100).toFixed(2) : '?';
    return {
      title: `SLA: ${t.id} below ${this.deps.config.breach.objectivePercent} % for ${periodKey}${where}`,
      summary: `uptime ${pct} % (${String(details.successes)}/${String(details.total)} probes) of ${t.kind.toUpperCase()} ${t.address}`,
      priority: this.deps.config.breach.objectivePriority,
    };
  }

  private async open(t: Target, kind: 'down' | 'objective', periodKey: string, now: Date, details: Record<string, unknown>): Promise<boolean> {
    const { db, tasks } = this.deps;
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('sla_breaches')
        .values({
          target_id: t.id,
          kind,
          period_key: periodKey,
          site_id: t.siteId,
          reseller_id: t.resellerId,
          opened_at: now,
          resolved_at: null,
          details: JSON.stringify(details),
        })
        .onConflict((oc) => oc.columns(['target_id', 'kind', 'period_key']).where('resolved_at', 'is', null).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) return false;
      const d = this.describe(t, kind, periodKey, details);
      await tasks.enqueue(this.deps.incidentTask, this.payload('opened', Number(row.id), t, kind, periodKey, now, now, d), {
        trx,
        dedupeKey: `sla:${row.id}:opened`,
      });
      return true;
    });
  }

  private async resolve(id: number, t: Target, kind: 'down' | 'objective', periodKey: string, openedAt: Date, now: Date): Promise<boolean> {
    const { db, tasks } = this.deps;
    return db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('sla_breaches')
        .set({ resolved_at: now })
        .where('id', '=', id)
        .where('resolved_at', 'is', null)
        .returning('details')
        .executeTakeFirst();
      if (!row) return false;
      const d = this.describe(t, kind, periodKey, row.details as Record<string, unknown>);
      await tasks.enqueue(this.deps.incidentTask, this.payload('resolved', id, t, kind, periodKey, openedAt, now, d), { trx, dedupeKey: `sla:${id}:resolved` });
      return true;
    });
  }

  private payload(
    type: 'opened' | 'resolved',
    breachId: number,
    t: Target,
    kind: 'down' | 'objective',
    periodKey: string,
    openedAt: Date,
    at: Date,
    d: { title: string; summary: string; priority: 'P0' | 'P1' | 'P2' },
  ): BreachPayload {
    return {
      type,
      breachId,
      kind,
      targetId: t.id,
      probeKind: t.kind,
      address: t.address,
      siteId: t.siteId,
      siteName: t.siteName,
      resellerId: t.resellerId,
      periodKey,
      openedAt: openedAt.toISOString(),
      at: at.toISOString(),
      ...d,
    };
  }

  private async cleanup(now: Date): Promise<void> {
    const before = new Date(now.getTime() - this.deps.config.retentionDays * 86_400_000);
    await this.deps.db.deleteFrom('sla_probes').where('at', '<', before).execute();
  }
}
