/**
 * @rgz/plugin-snmp — seed flow 7: every 5 minutes, poll every enabled gateway, access point and CPE of the inventory
 * over SNMP (v2c or v3) through the `CpeProfile` extension point (vendor packages, plus the generic IF-MIB profile
 * contributed here), store the results in day-partitioned time-series tables (TimescaleDB hypertables when the
 * extension is there) with a retention policy, and publish per-site aggregates on /metrics. Requires the inventory
 * plugin (read through core's `inventoryReader`). Config, tables, metrics and cardinality: README.md.
 */
import { CpeProfiles, definePlugin, inventoryReader, type Kysely, sql } from '@rgz/core';
import { configSchema } from './config.js';
import { createGenericProfile } from './generic-profile.js';
import { runPoll, type SnmpContext } from './job.js';
import { registerLatestRoutes } from './latest-routes.js';
import { createSnmpMetrics } from './metrics.js';
import { registerRoutes } from './routes.js';
import type { SnmpDatabase } from './schema.js';
import { dropExpired, ensurePartitions, snmpMigrations, storageMode } from './storage.js';

export { configSchema, type SnmpConfig } from './config.js';
export { type CounterState, computeRates, counterDelta, type InterfaceRate, primaryInterface, rateOf, rebooted } from './counters.js';
export { createGenericProfile, genericPlan, HR_PROCESSOR_LOAD, parseGeneric } from './generic-profile.js';
export { buildRecords, type PollSummary, runPoll, type SnmpContext } from './job.js';
export { detectProfile, POLL_RESULTS, type PollOptions, type PollOutcome, type PollResultKind, type PollTarget, pollDevice, runPool } from './poller.js';
export type { SnmpDatabase, SnmpTables } from './schema.js';
export { type ClientOptions, compareOids, decodeVarbind, SnmpClient, SnmpError, type SnmpErrorKind, type SnmpTarget } from './session.js';
export { dropExpired, ensurePartitions, partitionName, type StorageMode, snmpMigrations, storageMode } from './storage.js';

export default definePlugin({
  name: 'snmp',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'SNMP polling of CPEs and gateways into time series, through CPE vendor profiles',
  config: configSchema,
  requires: ['inventory'],

  setup(ctx) {
    const config = ctx.config;
    const db = ctx.db as unknown as Kysely<SnmpDatabase>;
    ctx.migrations(snmpMigrations({ timescale: config.timescale }));
    for (const table of ['snmp_samples', 'snmp_interface_samples', 'snmp_device_state']) ctx.resellerOwned({ table });
    if (config.genericProfile) ctx.contribute(CpeProfiles, createGenericProfile());

    const sctx: SnmpContext = {
      name: ctx.name,
      config,
      db,
      log: ctx.log,
      metrics: createSnmpMetrics(ctx.metrics),
      inventory: () => ctx.lookup(inventoryReader),
      profiles: () => ctx.collect(CpeProfiles),
    };

    ctx.schedule({
      id: 'poll',
      cron: config.cron,
      ...(config.timezone ? { timezone: config.timezone } : {}),
      scope: 'global',
      timeoutSeconds: config.jobTimeoutSeconds,
      description: 'Poll every enabled device of the inventory over SNMP (seed flow 7)',
      run: (job) => runPoll(sctx, { signal: job.signal }),
    });

    const maintain = async () => {
      const created = await ensurePartitions(db, new Date(), config.partitionsAhead + 1);
      const dropped = await dropExpired(db, config.retentionDays);
      if (created.length || dropped.length) ctx.log.info({ created, dropped }, 'snmp partitions maintained');
      return { created, dropped };
    };
    ctx.schedule({
      id: 'maintain',
      cron: config.maintenanceCron,
      ...(config.timezone ? { timezone: config.timezone } : {}),
      scope: 'global',
      timeoutSeconds: 600,
      missed: 'run-once',
      description: `Create the next ${config.partitionsAhead} days of SNMP partitions; drop those older than ${config.retentionDays} days`,
      run: () => maintain(),
    });

    const router = ctx.router();
    registerRoutes(router, sctx);
    registerLatestRoutes(router, sctx);

    ctx.onStart(async () => {
      if (!ctx.lookup(inventoryReader)) ctx.log.warn('no inventoryReader is provided: nothing will be polled');
      const mode = await storageMode(db);
      if (mode === 'partitioned' && config.timescale === 'auto') {
        // Installable but not installed when the tables were made: say how to get hypertables next time.
        const available = await sql<{ ok: boolean }>`select exists(select 1 from pg_available_extensions where name = 'timescaledb') as ok`
          .execute(db)
          .then((r) => !!r.rows[0]?.ok)
          .catch(() => false);
        if (available)
          ctx.log.info('timescaledb is available but was not installed when the SNMP tables were created: they use daily partitions (see README, TimescaleDB)');
      }
      ctx.log.info({ mode, retentionDays: config.retentionDays }, 'snmp time-series storage');
      await maintain();
    });
  },
});
