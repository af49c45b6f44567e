/**
 * @rgz/plugin-dba — the `dba` plugin (seed flow 6, `rgz.qos.dba_recalculate`): every 5 minutes, share each site's
 * capacity among its online subscribers with max-min fairness (water-filling) that honours each plan's CIR floor, MIR
 * cap and burst; write `rgz:dba:mir:{reseller_id}` (TTL 600 s) and each subscriber's `rgz:dba:rate:{id}` (core's
 * rate-override contract); send the changes that pass a hysteresis to the NAS through core's `nas.policy-change` task
 * (the RADIUS plugin's CoA, in each NAS's dialect). Dry-run mode; every run recorded and explained under `/api/dba`.
 * Algorithm, config and what is pushed: README.md and docs/network-operations.md.
 */
import { definePlugin, inventoryReader, type Kysely } from '@rgz/core';
import { configSchema } from './config.js';
import { type DemandSource, radiusDemandSource } from './demand.js';
import { createDbaMetrics, DbaEngine } from './engine.js';
import { registerRoutes } from './routes.js';
import { type DbaDatabase, migrations } from './schema.js';
import { snmpDemandSource } from './snmp-demand.js';

export { type AllocationResult, type Computation, computeAllocations, type MemberInput, type SiteInput } from './allocate.js';
export { configSchema, type DbaConfig } from './config.js';
export { combineDemand, type DemandSample, type DemandSource, kbps, type OpenSession, sessionRates } from './demand.js';
export { DbaEngine, pushOutcome, type RunSummary } from './engine.js';
export { type Hysteresis, planCir, type RatePair, rateChanged, shouldPush } from './rates.js';
export type { DbaDatabase, DbaTables } from './schema.js';
export { type Claim, type Share, type SiteShares, waterFill, waterLevel } from './water-filling.js';

export default definePlugin({
  name: 'dba',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Dynamic bandwidth allocation: fair-share MIR per site every 5 minutes (water-filling with CIR floors), pushed by CoA past a hysteresis',
  config: configSchema,

  setup(ctx) {
    const config = ctx.config;
    const db = ctx.db as unknown as Kysely<DbaDatabase>;
    ctx.migrations(migrations);
    ctx.resellerOwned({ table: 'dba_site_results' });
    ctx.resellerOwned({ table: 'dba_allocations' });

    const radius = radiusDemandSource(db);
    const snmp = snmpDemandSource(db, ctx.log);
    const engine = new DbaEngine({
      db,
      kv: ctx.kv,
      tasks: ctx.tasks,
      log: ctx.log,
      config,
      metrics: createDbaMetrics(ctx.metrics),
      inventory: () => ctx.lookup(inventoryReader),
      sources(hasRadius) {
        const out: DemandSource[] = [];
        if (config.demand.sources.includes('radius') && hasRadius) out.push(radius);
        if (config.demand.sources.includes('snmp')) out.push(snmp);
        return out;
      },
    });

    ctx.schedule({
      id: 'recalculate',
      cron: config.cron,
      scope: 'global',
      timeoutSeconds: config.timeoutSeconds,
      description: 'DBA: fair-share MIR per site, rate changes past the hysteresis sent by CoA (seed flow 6)',
      run: ({ signal }) => engine.run({ trigger: 'schedule', dryRun: config.dryRun, signal }),
    });

    registerRoutes(ctx.router(), { tags: [ctx.name], engine, config });
  },
});
