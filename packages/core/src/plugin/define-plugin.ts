/**
 * The plugin contract: one `definePlugin({...})` value per package. `setup` only registers (routes, services,
 * contributions, jobs, tasks, migrations, event handlers, hooks); the kernel then migrates, mounts and starts
 * everything in dependency order. See docs/writing-a-plugin.md.
 */
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Access, AuditInput, Principal, TokenService } from '../access/principals.js';
import type { OwnershipRule } from '../access/reseller-scope.js';
import type { CoreDatabase } from '../domain/schema.js';
import type { EventBus, EventType } from '../events/event-bus.js';
import type { PluginRouter } from '../http/router.js';
import type { Kv } from '../kv/kv.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { JobDefinition } from '../scheduler/scheduler.js';
import type { Migration } from '../storage/migrations.js';
import type { TaskQueue } from '../tasks/task-queue.js';
import type { Point, Token, TokenType } from './tokens.js';

export type DepsMap = Record<string, Token<any> | Point<any>>;
export type ResolvedDeps<D extends DepsMap> = { [K in keyof D]: TokenType<D[K]> };

export interface SetupContext<C, DB = CoreDatabase> {
  /** Instance name (the plugin name unless config gives another). */
  readonly name: string;
  readonly config: C;
  readonly log: Logger;
  /** The whole database, unscoped (jobs and tasks act as the system). Typed with your tables via `DB`. */
  readonly db: Kysely<DB>;
  readonly kv: Kv;
  readonly events: EventBus;
  readonly tasks: TaskQueue;
  readonly metrics: Metrics;
  readonly tokens: TokenService;
  /** Server-wide settings a plugin may need. */
  readonly server: { timezone: string; service: string; publicUrl: string };
  /**
   * A router mounted at `prefix` (default `/api/<name>`). Call once per prefix; every route declares access.
   */
  router(prefix?: string): PluginRouter;
  /** Bind a service to a token in the one container. */
  provide<T>(token: Token<T>, value: T): void;
  /** Add an implementation to an extension point, under `point.keyOf(impl)`. */
  contribute<T>(point: Point<T>, impl: T): void;
  /**
   * An optional service: the value bound to `token`, or undefined when no plugin provides it. Call it in
   * handlers or onStart (after every setup), not during setup.
   */
  lookup<T>(token: Token<T>): T | undefined;
  /** Every implementation of a point, by key; filled when all setups have run (read it in handlers or onStart). */
  collect<T>(point: Point<T>): ReadonlyMap<string, T>;
  /** Your migrations, named `<plugin>_<nnnn>_<what>` (dashes in the plugin name become underscores). */
  migrations(migrations: Record<string, Migration>): void;
  /** Tables of yours that belong to a reseller: reseller principals then only ever reach their own rows. */
  resellerOwned(rule: OwnershipRule): void;
  schedule(job: JobDefinition): void;
  /**
   * A subcommand of the `rgz` CLI (`rgz <name> …`), run in a process where storage is migrated and no worker or
   * scheduler runs. Names are global: prefix them with your domain (`inventory`, `invoices`).
   */
  command(command: CliCommand): void;
  on<T>(event: EventType<T>, handler: (payload: T) => void | Promise<void>): void;
  /**
   * Append to the audit log (actor: the given principal, or system). With `trx` the entry is part of the caller's
   * transaction: it exists only if the change it records commits.
   */
  audit(actor: Principal | null, entry: AuditInput, options?: { trx?: Kysely<any> }): Promise<void>;
  onStart(fn: () => void | Promise<void>): void;
  /**
   * Runs after onStart, only in a process that serves (`rgz start`, test servers): bind network listeners here
   * (RADIUS, DNS, syslog), not in onStart, so `rgz jobs run` or a plugin command next to a running server does
   * not fight it for the ports. Stop them in onStop.
   */
  onServe(fn: () => void | Promise<void>): void;
  /** Runs in reverse dependency order on shutdown. */
  onStop(fn: () => void | Promise<void>): void;
}

export interface CliCommand {
  name: string;
  /** One line for `rgz --help`. */
  summary: string;
  /** Usage text shown on `rgz <name> --help` or a usage error. */
  usage?: string;
  /** Returns the process exit code. Write output through `io.out` (stdout) and `io.err` (stderr). */
  run(argv: string[], io: { out(line: string): void; err(line: string): void }): Promise<number>;
}

export interface PluginDefinition<S extends z.ZodType = z.ZodType, D extends DepsMap = DepsMap, DB = CoreDatabase> {
  /** The package name's suffix, e.g. `sms-letexto` for `@rgz/plugin-sms-letexto`. */
  readonly name: string;
  /** Equal to package.json's version (a test should check). */
  readonly version: string;
  /** Semver range of @rgz/core this plugin works with; checked at load. */
  readonly core: string;
  readonly description?: string;
  /** zod schema of `plugins[].config`; parsed before any setup runs. */
  readonly config?: S;
  /** Plugins (by name) that must be loaded too; a missing one fails start-up with its name. */
  readonly requires?: readonly string[];
  /** Tokens and points this plugin needs; resolved after the plugins that provide them have set up. */
  readonly deps?: D;
  /** Tokens this plugin provides (ordering: providers set up before dependants). */
  readonly provides?: readonly (Token<any> | Point<any>)[];
  setup(ctx: SetupContext<z.output<S>, DB>, deps: ResolvedDeps<D>): void | Promise<void>;
}

export interface RgzPlugin extends PluginDefinition<z.ZodType, DepsMap, any> {
  readonly __rgzPlugin: true;
}

/** Declare a plugin. The returned value is the package's default export. */
export function definePlugin<S extends z.ZodType = z.ZodObject<{}>, D extends DepsMap = {}, DB = CoreDatabase>(
  definition: PluginDefinition<S, D, DB>,
): PluginDefinition<S, D, DB> & RgzPlugin {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) {
    throw new Error(`plugin name "${definition.name}" must be lowercase letters, digits and dashes`);
  }
  return Object.freeze({ ...definition, __rgzPlugin: true as const }) as PluginDefinition<S, D, DB> & RgzPlugin;
}

export function isPlugin(value: unknown): value is RgzPlugin {
  return !!value && typeof value === 'object' && (value as { __rgzPlugin?: unknown }).__rgzPlugin === true;
}

export type { Access };
