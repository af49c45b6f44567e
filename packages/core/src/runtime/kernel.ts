/**
 * The kernel composes a server from plugins: validate every plugin's config, order them, open storage, run each
 * `setup` (registration only), then on `start()` migrate under a lock, freeze the registries and start hooks,
 * the task worker and the scheduler; `listen()` serves HTTP; `stop()` drains and closes in reverse order.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { Container } from 'inversify';
import type { Kysely } from 'kysely';
import type { DestinationStream } from 'pino';
import semver from 'semver';
import { type Principal, TokenService, writeAudit } from '../access/principals.js';
import { OwnershipRegistry, ResellerScopePlugin } from '../access/reseller-scope.js';
import { configErrorFromZod, type ServerConfig, safeParseCoercingStrings } from '../config/server-config.js';
import { coreMigrations } from '../domain/migrations.js';
import type { CoreDatabase } from '../domain/schema.js';
import { ConfigError, RgzError } from '../errors/rgz-error.js';
import { KvEventBus } from '../events/event-bus.js';
import { embeddedDatabaseAccess } from '../extension-points/backup-target.js';
import type { AppEnv } from '../http/app-env.js';
import { notFound, onError } from '../http/problem.js';
import { PluginRouter } from '../http/router.js';
import type { Kv } from '../kv/kv.js';
import { createMemoryKv } from '../kv/memory-kv.js';
import { createRedisKv } from '../kv/redis-kv.js';
import { createLogger, type Logger, withRequestContext } from '../logging/logger.js';
import { type CoreMetrics, createMetrics, type Metrics } from '../metrics/registry.js';
import type { CliCommand, RgzPlugin, SetupContext } from '../plugin/define-plugin.js';
import type { Point, Token } from '../plugin/tokens.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { type Database, openDatabase } from '../storage/database.js';
import { type MigrationSet, migrateUp, migrationStatus } from '../storage/migrations.js';
import { PgTaskQueue } from '../tasks/task-queue.js';
import { CORE_VERSION } from '../version.js';
import { registerCoreRoutes } from './core-routes.js';
import { orderPlugins, type PluginInstance } from './plugin-order.js';
import { registerProcessMetrics } from './process-metrics.js';

export interface PluginLoad {
  plugin: RgzPlugin;
  /** Instance name override. */
  name?: string | undefined;
  /** Raw options, validated by the plugin's schema. */
  config?: Record<string, unknown>;
  /** Where it came from, for messages. */
  source?: string;
}

export interface KernelOptions {
  config: ServerConfig;
  plugins: PluginLoad[];
  /** Replace container bindings (tests): `[token, value]`. */
  overrides?: Array<[Token<any>, unknown]>;
  /** Pre-opened storage (tests share one). */
  database?: Database;
  kv?: Kv;
  logDestination?: DestinationStream;
}

export interface LoadedPluginInfo {
  name: string;
  plugin: string;
  version: string;
  source: string;
  routes: string[];
  jobs: string[];
  contributions: string[];
  provides: string[];
  migrations: string[];
}

export interface Kernel {
  readonly app: OpenAPIHono<AppEnv>;
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly database: Database;
  readonly db: Kysely<CoreDatabase>;
  readonly kv: Kv;
  readonly metrics: Metrics;
  readonly coreMetrics: CoreMetrics;
  readonly events: KvEventBus;
  readonly tasks: PgTaskQueue;
  readonly scheduler: Scheduler;
  readonly tokens: TokenService;
  readonly plugins: LoadedPluginInfo[];
  /** CLI subcommands contributed by plugins. */
  readonly commands: ReadonlyMap<string, CliCommand & { plugin: string }>;
  get<T>(token: Token<T>): T;
  collect<T>(point: Point<T>): ReadonlyMap<string, T>;
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<Array<{ owner: string; name: string; appliedAt: Date | null }>>;
  /**
   * Migrate, run start hooks, start the task worker and scheduler (as configured), and, unless `serve` is false,
   * the plugins' serve hooks (their network listeners). CLI commands start with serve: false.
   */
  start(options?: { worker?: boolean; scheduler?: boolean; serve?: boolean }): Promise<void>;
  /** Serve HTTP; resolves with the bound port. */
  listen(port?: number, host?: string): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export async function createKernel(options: KernelOptions): Promise<Kernel> {
  const { config } = options;
  const log = createLogger({ service: config.service, level: config.log.level, ...(options.logDestination ? { destination: options.logDestination } : {}) });

  // 1. Check plugins and their config before touching storage: config errors are the common case.
  const instances: Array<PluginInstance & { config: unknown }> = [];
  for (const load of options.plugins) {
    const plugin = load.plugin;
    const name = load.name ?? plugin.name;
    if (!semver.satisfies(CORE_VERSION, plugin.core, { includePrerelease: true })) {
      throw new RgzError(
        'plugin_incompatible',
        `plugin "${name}" ${plugin.version} needs @rgz/core ${plugin.core}, but this server runs @rgz/core ${CORE_VERSION}; install a matching version of the plugin`,
      );
    }
    let parsed: unknown = {};
    if (plugin.config) {
      const result = safeParseCoercingStrings(plugin.config, load.config ?? {});
      if (!result.success) throw configErrorFromZod(`plugins.${name}.config`, result.error, load.config ?? {});
      parsed = result.data;
    }
    instances.push({ name, plugin, source: load.source ?? plugin.name, config: parsed });
  }
  const ordered = orderPlugins(instances) as Array<PluginInstance & { config: unknown }>;

  // 2. Storage and core services.
  const database =
    options.database ?? (await openDatabase({ url: config.database.url, poolMax: config.database.poolMax, embeddedDataDir: config.database.embeddedDataDir }));
  const kv =
    options.kv ?? (config.redis.url || config.redis.sentinels?.length || config.redis.cluster?.length ? await createRedisKv(config.redis) : createMemoryKv());
  const db = database.db;
  try {
    return await assemble();
  } catch (err) {
    // Close what this call opened, so a failed start-up leaves no pool or Redis connection behind.
    if (!options.kv) await kv.close().catch(() => {});
    if (!options.database) await database.close().catch(() => {});
    throw err;
  }

  async function assemble(): Promise<Kernel> {
    const { metrics, core: coreMetrics } = createMetrics();
    const events = new KvEventBus(kv, log);
    const tasks = new PgTaskQueue(db, log.child({ component: 'tasks' }), coreMetrics, config.tasks, database);
    const scheduler = new Scheduler(db, log.child({ component: 'scheduler' }), coreMetrics, config.timezone);
    const tokens = new TokenService(db, { cacheMs: 5_000 });
    const ownership = new OwnershipRegistry();
    const container = new Container();
    const pointImpls = new Map<string, Map<string, { impl: unknown; by: string }>>();
    let frozen = false;
    const migrationSets: MigrationSet[] = [coreMigrations];
    const startHooks: Array<{ plugin: string; fn: () => void | Promise<void> }> = [];
    const serveHooks: Array<{ plugin: string; fn: () => void | Promise<void> }> = [];
    const stopHooks: Array<{ plugin: string; fn: () => void | Promise<void> }> = [];
    const routers: Array<{ plugin: string; prefix: string; router: PluginRouter }> = [];
    const infos: LoadedPluginInfo[] = [];
    const commands = new Map<string, CliCommand & { plugin: string }>();
    const publicUrl = process.env.RGZ_PUBLIC_URL ?? `http://localhost:${config.http.port}`;
    registerProcessMetrics(metrics, database, kv);

    const collect = <T>(p: Point<T>): ReadonlyMap<string, T> => {
      const live = pointImpls.get(p.id) ?? new Map();
      pointImpls.set(p.id, live);
      return new Proxy(new Map<string, T>(), {
        get(_target, prop) {
          const snapshot = new Map([...live].map(([k, v]) => [k, v.impl as T]));
          const value = Reflect.get(snapshot, prop, snapshot);
          return typeof value === 'function' ? value.bind(snapshot) : value;
        },
      });
    };
    const get = <T>(t: Token<T>): T => {
      if (!container.isBound(t.symbol)) throw new RgzError('token_unbound', `no plugin provides "${t.id}"`);
      return container.get<T>(t.symbol);
    };
    for (const [t, value] of options.overrides ?? []) container.bind(t.symbol).toConstantValue(value);
    if (database.dumpDataDir && !container.isBound(embeddedDatabaseAccess.symbol)) {
      const dump = database.dumpDataDir;
      container.bind(embeddedDatabaseAccess.symbol).toConstantValue({ dumpDataDir: () => dump() });
    }

    // 3. Setup, in dependency order.
    for (const inst of ordered) {
      const plog = log.child({ plugin: inst.name });
      const info: LoadedPluginInfo = {
        name: inst.name,
        plugin: inst.plugin.name,
        version: inst.plugin.version,
        source: inst.source,
        routes: [],
        jobs: [],
        contributions: [],
        provides: [],
        migrations: [],
      };
      const ctx: SetupContext<unknown, any> = {
        name: inst.name,
        config: inst.config,
        log: plog,
        db,
        kv,
        events,
        tasks,
        metrics,
        tokens,
        server: { timezone: config.timezone, service: config.service, publicUrl },
        router(prefix = `/api/${inst.name}`) {
          if (!prefix.startsWith('/')) throw new ConfigError(`plugins.${inst.name}`, `router prefix "${prefix}" must start with /`);
          const router = new PluginRouter();
          routers.push({ plugin: inst.name, prefix, router });
          return router;
        },
        provide(t, value) {
          if (frozen) throw new RgzError('setup_over', `${inst.name}: provide() is only allowed during setup`);
          if (options.overrides?.some(([o]) => o.id === t.id)) return;
          if (container.isBound(t.symbol)) throw new RgzError('token_duplicate', `"${t.id}" is provided twice (second time by plugin "${inst.name}")`);
          container.bind(t.symbol).toConstantValue(value);
          info.provides.push(t.id);
        },
        contribute(p, impl) {
          if (frozen) throw new RgzError('setup_over', `${inst.name}: contribute() is only allowed during setup`);
          const key = p.keyOf(impl);
          const map = pointImpls.get(p.id) ?? new Map();
          pointImpls.set(p.id, map);
          const existing = map.get(key);
          if (existing) {
            throw new RgzError(
              'point_duplicate_key',
              `"${p.id}" implementation "${key}" is contributed by both "${existing.by}" and "${inst.name}"; give one a different id in config`,
            );
          }
          map.set(key, { impl, by: inst.name });
          info.contributions.push(`${p.id}:${key}`);
        },
        collect,
        lookup: <T>(t: Token<T>) => (container.isBound(t.symbol) ? container.get<T>(t.symbol) : undefined),
        migrations(migrations) {
          const set = { owner: inst.plugin.name, migrations };
          migrationSets.push(set);
          info.migrations.push(...Object.keys(migrations));
        },
        resellerOwned(rule) {
          ownership.add(rule);
        },
        schedule(job) {
          const id = job.id.startsWith(`${inst.name}.`) ? job.id : `${inst.name}.${job.id}`;
          scheduler.register({ ...job, id });
          info.jobs.push(id);
        },
        on(event, handler) {
          events.on(event, handler);
        },
        command(command) {
          const other = commands.get(command.name);
          if (other || ['start', 'migrate', 'config', 'plugins', 'jobs', 'admin', 'help'].includes(command.name)) {
            throw new RgzError(
              'command_duplicate',
              `CLI command "${command.name}" of plugin "${inst.name}" is already taken${other ? ` by "${other.plugin}"` : ' by rgz itself'}`,
            );
          }
          commands.set(command.name, { ...command, plugin: inst.name });
        },
        audit: (actor, entry, options) => writeAudit(options?.trx ?? db, actor, entry),
        onStart(fn) {
          startHooks.push({ plugin: inst.name, fn });
        },
        onServe(fn) {
          serveHooks.push({ plugin: inst.name, fn });
        },
        onStop(fn) {
          stopHooks.push({ plugin: inst.name, fn });
        },
      };
      const deps: Record<string, unknown> = {};
      for (const [key, dep] of Object.entries(inst.plugin.deps ?? {})) {
        deps[key] = dep.kind === 'point' ? collect(dep) : get(dep as Token<unknown>);
      }
      try {
        await inst.plugin.setup(ctx, deps as never);
      } catch (err) {
        if (err instanceof RgzError) throw err;
        throw new RgzError('plugin_setup_failed', `plugin "${inst.name}" failed during setup: ${(err as Error).message}`, { cause: err });
      }
      infos.push(info);
    }

    // 4. HTTP: global middleware, core routes, then plugin routers (hono copies routes at mount, so mount last).
    const app = new OpenAPIHono<AppEnv>();
    const scopedDb = (principal: Principal | null): Kysely<CoreDatabase> =>
      principal?.role === 'reseller' && principal.resellerId ? db.withPlugin(new ResellerScopePlugin(ownership, principal.resellerId)) : db;
    const trustProxy = new Set(config.http.trustProxy);
    app.use('*', async (c, next) => {
      const incoming = c.req.header('x-request-id');
      const requestId = incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
      c.set('requestId', requestId);
      c.header('x-request-id', requestId);
      // The node adapter's socket; absent for in-process app.request() calls (tests).
      const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ?? '';
      const forwarded = c.req.header('x-forwarded-for');
      c.set('clientIp', forwarded && trustProxy.has(remote) ? (forwarded.split(',')[0] as string).trim() : remote);
      const reqLog = log.child({ request_id: requestId });
      c.set('log', reqLog);
      c.set('principal', null);
      c.set('db', db);
      let resolved: Promise<Principal | null> | undefined;
      c.set('services', {
        principal: () => {
          resolved ??= (async () => {
            const auth = c.req.header('authorization');
            const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
            if (!m) return null;
            // Cached for a few seconds inside TokenService; revocation clears it.
            return tokens.verify(m[1] as string);
          })();
          return resolved;
        },
        scopedDb,
      });
      const started = process.hrtime.bigint();
      await withRequestContext(requestId, () => next());
      const route = c.req.routePath && c.res.status !== 404 ? c.req.routePath : 'unmatched';
      const labels = { method: c.req.method, route, status: String(c.res.status) };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      coreMetrics.apiRequests.inc(labels);
      coreMetrics.apiDuration.observe(labels, seconds);
      // One access line per request (the seed's api_logs pipeline); /metrics and /health scrapes at debug.
      const quiet = route === '/metrics' || route === '/health' || route === '/ready';
      reqLog[quiet ? 'debug' : 'info'](
        { method: c.req.method, route, status: c.res.status, duration_ms: Math.round(seconds * 1e4) / 10, client_ip: c.get('clientIp') },
        'request',
      );
    });
    const limitBody = bodyLimit({ maxSize: 1024 * 1024 });
    // Only requests that carry a body; touching the body of a GET makes the node adapter build a full Request.
    app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
    app.onError(onError);
    app.notFound(notFound);
    app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'rgz_… API token' });

    const openApiInfo = {
      openapi: '3.1.0',
      info: { title: 'RGZ API', version: CORE_VERSION, description: 'Every route of this server, from every loaded plugin.' },
    };
    const coreRouter = new PluginRouter();
    registerCoreRoutes(coreRouter, {
      database,
      kv,
      metrics,
      scheduler,
      tokens,
      tasks,
      plugins: () => infos,
      openApiDocument: () => app.getOpenAPI31Document(openApiInfo),
      audit: (actor, entry) => writeAudit(db, actor, entry),
    });
    const mounted: Array<{ plugin: string; prefix: string; router: PluginRouter }> = [{ plugin: 'core', prefix: '/', router: coreRouter }, ...routers];
    for (const { plugin, prefix, router } of mounted) {
      const undeclared = router.undeclared();
      if (undeclared.length) {
        throw new RgzError(
          'route_access_missing',
          `plugin "${plugin}" registers ${undeclared.join(', ')} without an access declaration; use router.route(defineRoute({ …, access })) or router.raw({ …, access })`,
        );
      }
      app.route(prefix, router);
      const info = infos.find((i) => i.name === plugin);
      if (info) info.routes.push(...[...router.declared.keys()].map((k) => k.replace(' ', ` ${prefix === '/' ? '' : prefix}`)));
    }
    app.doc31('/openapi.json', openApiInfo);

    // 5. Lifecycle.
    let server: ServerType | undefined;
    let started = false;
    let stopping: Promise<void> | undefined;
    const kernel: Kernel = {
      app,
      config,
      log,
      database,
      db,
      kv,
      metrics,
      coreMetrics,
      events,
      tasks,
      scheduler,
      tokens,
      plugins: infos,
      commands,
      get,
      collect,
      migrate: () => migrateUp(db, migrationSets),
      migrationStatus: () => migrationStatus(db, migrationSets),
      async start(opts = {}) {
        if (started) return;
        started = true;
        frozen = true;
        const applied = await migrateUp(db, migrationSets);
        if (applied.length) log.info({ migrations: applied }, 'migrations applied');
        await events.start();
        for (const hook of startHooks) {
          try {
            await hook.fn();
          } catch (err) {
            if (err instanceof ConfigError) throw err;
            throw new RgzError('plugin_start_failed', `plugin "${hook.plugin}" failed to start: ${(err as Error).message}`, { cause: err });
          }
        }
        if (opts.serve ?? true) {
          for (const hook of serveHooks) {
            try {
              await hook.fn();
            } catch (err) {
              if (err instanceof ConfigError) throw err;
              throw new RgzError('plugin_start_failed', `plugin "${hook.plugin}" failed to start serving: ${(err as Error).message}`, { cause: err });
            }
          }
        }
        if (opts.worker ?? config.tasks.worker) tasks.start();
        if (opts.scheduler ?? config.scheduler.enabled) await scheduler.start();
      },
      listen(port = config.http.port, host = config.http.host) {
        return new Promise((resolve, reject) => {
          const s = serve({ fetch: app.fetch, port, hostname: host }, (address: AddressInfo) => resolve({ port: address.port }));
          s.once('error', reject);
          server = s;
        });
      },
      stop() {
        stopping ??= (async () => {
          const graceMs = config.http.shutdownGraceSeconds * 1000;
          if (server) {
            const s = server;
            // Stop accepting, let in-flight requests finish, then cut idle keep-alive sockets.
            const closed = new Promise<void>((r) => s.close(() => r()));
            if ('closeIdleConnections' in s) (s as { closeIdleConnections(): void }).closeIdleConnections();
            await Promise.race([closed, new Promise((r) => setTimeout(r, graceMs).unref())]);
            if ('closeAllConnections' in s) (s as { closeAllConnections(): void }).closeAllConnections();
          }
          await scheduler.stop(graceMs);
          await tasks.stop(graceMs);
          for (const hook of [...stopHooks].reverse()) {
            try {
              await hook.fn();
            } catch (err) {
              log.error({ err, plugin: hook.plugin }, 'stop hook failed');
            }
          }
          await events.stop();
          if (!options.kv) await kv.close();
          if (!options.database) await database.close();
        })();
        return stopping;
      },
    };
    return kernel;
  }
}
