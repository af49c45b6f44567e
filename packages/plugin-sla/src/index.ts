/**
 * @rgz/plugin-sla — the `sla` plugin (seed flow 8, `rgz.sla.probe`): every 5 minutes, ICMP echo (latency, loss) through
 * the system `ping`, HTTP GET of the portal's `/health` (or any URL), and a recursive DNS lookup through a given
 * resolver, per target (config, plus every gateway of the inventory); results in `sla_probes`; uptime % = successes /
 * total per target, site and reseller, per day and month (`GET /api/sla/uptime`); breaches (N failures in a row, or
 * uptime below the objective over the period) raised as incidents through every loaded `IncidentSink`; metrics
 * `sla_probe_success`, `sla_probe_latency_seconds`, `sla_probe_loss_ratio`, `sla_uptime_ratio`.
 * Definitions and config: README.md and docs/network-operations.md.
 */
import { definePlugin, defineTask, IncidentSinks, inventoryReader, type Kysely } from '@rgz/core';
import { configSchema } from './config.js';
import { type BreachPayload, createSlaMetrics, SlaEngine } from './engine.js';
import { deliverBreach } from './incident.js';
import { registerRoutes } from './routes.js';
import { migrations, type SlaDatabase } from './schema.js';

export { configSchema, type SlaConfig, type TargetConfig } from './config.js';
export { type BreachPayload, type RunResult, SlaEngine, type Target } from './engine.js';
export { slaBreach } from './incident.js';
export { dnsProbe, httpProbe, icmpProbe, type PingSummary, type ProbeResult, parsePingOutput } from './probes.js';
export type { SlaDatabase, SlaTables } from './schema.js';
export { currentPeriodKey, type Group, type Period, periodBounds, type UptimeRow, uptime } from './uptime.js';

export default definePlugin({
  name: 'sla',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'SLA probes (ICMP, HTTP, DNS) every 5 minutes, uptime per target, site and reseller, breaches raised as incidents',
  config: configSchema,

  setup(ctx) {
    const config = ctx.config;
    const db = ctx.db as unknown as Kysely<SlaDatabase>;
    ctx.migrations(migrations);
    ctx.resellerOwned({ table: 'sla_probes' });
    ctx.resellerOwned({ table: 'sla_breaches' });

    const incidentTask = defineTask<BreachPayload>(`${ctx.name}.incident`);
    ctx.tasks.handle(incidentTask, (payload, task) => deliverBreach({ events: ctx.events, sinks: () => ctx.collect(IncidentSinks) }, payload, task), {
      maxAttempts: 10,
      backoffSeconds: 30,
      timeoutSeconds: 30,
    });

    const inventory = () => ctx.lookup(inventoryReader);
    const engine = new SlaEngine({
      db,
      tasks: ctx.tasks,
      log: ctx.log,
      config,
      metrics: createSlaMetrics(ctx.metrics),
      timeZone: ctx.server.timezone,
      publicUrl: ctx.server.publicUrl,
      incidentTask,
      inventory,
    });

    ctx.schedule({
      id: 'probe',
      cron: config.cron,
      scope: 'global',
      timeoutSeconds: config.timeoutSeconds,
      description: 'SLA probes: ICMP, HTTP /health, DNS per target; uptime and breaches (seed flow 8)',
      run: ({ signal }) => engine.run(signal),
    });

    registerRoutes(ctx.router(), { tags: [ctx.name], engine, timeZone: ctx.server.timezone, inventory });
  },
});
