/**
 * @rgz/plugin-radius: the `radius` plugin. A native RADIUS server on UDP (Access-Request with PAP/CHAP, accounting into
 * `radius_sessions`), the NAS registry (`radius_nas` + config, `/api/radius/nas`, core's `nasDirectory`), a UDP
 * CoA/Disconnect client contributed to `NasClients`, the handler of core's `nas.policy-change` task, and (when
 * `rest.enabled`) the FreeRADIUS rlm_rest backend under `/radius/rest/`, deciding with the same service as the UDP server.
 * NAS dialects (MikroTik, CoovaChilli, WISPr, …) are separate plugins contributing to `NasVendors`.
 */

import { defineEvent, definePlugin, type Kysely, NasClients, type NasVendor, NasVendors, nasDirectory, nasPolicyChange, token } from '@rgz/core';
import { handlePolicyChange } from './coa/policy-change.js';
import { UdpNasClient } from './coa/udp-nas-client.js';
import { type RadiusDictionary, standardDictionary } from './codec/index.js';
import { configSchema, staleAfterSeconds } from './config.js';
import { NasRegistry } from './nas/registry.js';
import { registerNasRoutes } from './nas/routes.js';
import { registerRestRoutes } from './rest/routes.js';
import { migrations, type RadiusDatabase } from './schema.js';
import { AccountingWriter } from './server/accounting-writer.js';
import { buildDictionary } from './server/dictionary.js';
import { createRadiusMetrics } from './server/metrics.js';
import { RadiusServer } from './server/radius-server.js';
import { RadiusService } from './server/service.js';
import { registerSessionRoutes } from './sessions/routes.js';

export { UdpNasClient, type UdpNasClientOptions } from './coa/udp-nas-client.js';
export { type ConfigNas, configSchema, type RadiusConfig } from './config.js';
export type { NasEntry } from './nas/registry.js';
export type { RadiusDatabase, RadiusNasTable, RadiusSessionsTable } from './schema.js';
export { REJECT_REASONS, type RejectReason } from './server/auth.js';
export { normalizeMac } from './server/mac.js';

/** What a running radius plugin exposes (tests, CLI): bound ports and a few levers. */
export interface RadiusServerHandle {
  /** Bound address of the authentication listener (undefined before start or with `listen: false`). */
  readonly auth: { address: string; port: number } | undefined;
  readonly acct: { address: string; port: number } | undefined;
  /** Re-read the NAS table now. */
  refreshNas(): Promise<void>;
  /** Wait until every accounting record received so far is committed. */
  flushAccounting(): Promise<void>;
  /** Close sessions silent past the timeout now (what the scheduled job does); returns how many. */
  closeStaleSessions(now?: Date): Promise<number>;
}

export const radiusServer = token<RadiusServerHandle>('radius.server');

/** Published when the NAS table changes, so every replica re-reads it at once. */
const nasChanged = defineEvent<{ origin: string }>('radius.nas-changed');

export default definePlugin({
  name: 'radius',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Native RADIUS server: PAP/CHAP, accounting with Gigawords, BlastRADIUS-safe, CoA/Disconnect client',
  config: configSchema,
  provides: [nasDirectory, radiusServer],

  setup(ctx) {
    const config = ctx.config;
    const db = ctx.db as unknown as Kysely<RadiusDatabase>;
    const metrics = createRadiusMetrics(ctx.metrics, config.successRateWindowSeconds);
    const registry = new NasRegistry(db, config.nas, ctx.log);
    const stale = staleAfterSeconds(config);

    ctx.migrations(migrations);
    ctx.resellerOwned({ table: 'radius_nas' });
    ctx.resellerOwned({ table: 'radius_sessions', viaSubscriber: 'subscriber_id' });
    ctx.provide(nasDirectory, registry);

    // Registries are frozen at start: read the dialects once, not per packet.
    let vendors: ReadonlyMap<string, NasVendor> = new Map();
    let dictionary: RadiusDictionary = standardDictionary;
    const vendor = (id: string) => vendors.get(id);

    const client = new UdpNasClient({ id: config.coa.clientId, retransmit: config.coa.retransmit, dictionary: () => dictionary });
    ctx.contribute(NasClients, client);

    const writer = new AccountingWriter(db, { batchWindowMs: config.accounting.batchWindowMs, maxBatch: config.accounting.maxBatch }, metrics, ctx.log);
    const service = new RadiusService({
      auth: { db, kv: ctx.kv, config, timeZone: ctx.server.timezone, staleAfterSeconds: stale, vendor },
      writer,
      metrics,
      log: ctx.log,
    });
    const server = new RadiusServer(
      {
        auth: config.auth,
        acct: config.acct,
        recvBufferSize: config.recvBufferSize,
        duplicateCacheSeconds: config.duplicateCacheSeconds,
        maxInFlight: config.maxInFlight,
      },
      {
        registry,
        dictionary: () => dictionary,
        service,
        metrics,
        log: ctx.log,
      },
    );
    let listening = false;

    const closeStaleSessions = async (now = new Date()): Promise<number> => {
      const before = new Date(now.getTime() - stale * 1000);
      const result = await db
        .updateTable('radius_sessions')
        .set((eb) => ({ session_stop: eb.ref('last_update'), terminate_cause: 'Stale-Timeout', last_status: 'stale' }))
        .where('session_stop', 'is', null)
        .where('last_update', '<', before)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    };

    ctx.provide(radiusServer, {
      get auth() {
        return listening ? server.address('auth') : undefined;
      },
      get acct() {
        return listening ? server.address('acct') : undefined;
      },
      refreshNas: () => registry.refresh(),
      flushAccounting: () => writer.idle(),
      closeStaleSessions,
    });

    const origin = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const router = ctx.router();
    registerNasRoutes(router, {
      db,
      registry,
      vendors: () => vendors,
      async changed() {
        await registry.refresh();
        await ctx.events.publish(nasChanged, { origin });
      },
      audit: (actor, entry) => ctx.audit(actor, entry),
    });
    registerSessionRoutes(router, { tasks: ctx.tasks, audit: (actor, entry) => ctx.audit(actor, entry) });
    if (config.rest.enabled && config.rest.token !== undefined) {
      registerRestRoutes(ctx.router('/radius/rest'), {
        token: config.rest.token,
        registry,
        dictionary: () => dictionary,
        service,
        metrics,
        log: ctx.log,
        tags: [ctx.name],
      });
    }
    ctx.on(nasChanged, async (payload) => {
      if (payload.origin !== origin) await registry.refresh();
    });

    ctx.tasks.handle(
      nasPolicyChange,
      (payload, task) =>
        handlePolicyChange(
          {
            db,
            kv: ctx.kv,
            config,
            timeZone: ctx.server.timezone,
            staleAfterSeconds: stale,
            registry,
            vendor,
            client: () => ctx.collect(NasClients).get(config.coa.client),
            metrics,
            log: ctx.log,
            audit: (entry) => ctx.audit(null, entry),
          },
          payload,
          task,
        ),
      {
        maxAttempts: config.coa.attempts + config.coa.disconnectAttempts,
        backoffSeconds: config.coa.backoffSeconds,
        timeoutSeconds: Math.ceil((2 * config.coa.retransmit.maxDurationMs) / 1000) + 30,
      },
    );

    ctx.schedule({
      id: 'close-stale-sessions',
      cron: config.accounting.staleJobCron,
      scope: 'global',
      timeoutSeconds: 120,
      description: `Close radius_sessions without accounting for ${stale} s (terminate_cause Stale-Timeout)`,
      async run() {
        return { closed: await closeStaleSessions() };
      },
    });

    ctx.onStart(async () => {
      vendors = new Map(ctx.collect(NasVendors));
      dictionary = buildDictionary(vendors.values());
      for (const nas of config.nas) {
        if (!vendors.has(nas.vendor)) {
          throw new Error(
            `plugins.radius.config.nas "${nas.identifier}": no NAS dialect "${nas.vendor}" is loaded (known: ${[...vendors.keys()].join(', ') || 'none'}); add its plugin, e.g. @rgz/nas-${nas.vendor}`,
          );
        }
        if (nas.secret.length < 16) ctx.log.warn({ nas: nas.identifier }, 'NAS shared secret shorter than 16 characters (RFC 2865 §3 recommends at least 16)');
      }
      await registry.refresh();
      registry.start(config.nasRefreshSeconds);
    });
    // UDP listeners only in a serving process: `rgz jobs run` next to a running server must not take 1812/1813.
    ctx.onServe(async () => {
      if (config.listen) {
        await server.start();
        listening = true;
      }
    });
    ctx.onStop(async () => {
      registry.stop();
      if (listening) await server.stop();
      listening = false;
      await writer.close();
      await client.close();
    });
  },
});
