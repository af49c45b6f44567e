/**
 * @rgz/core — the only package a plugin depends on: the plugin contract, typed tokens and extension points,
 * storage, KV, scheduler, background tasks, events, metrics, logging, HTTP and access control.
 */
export { z } from '@hono/zod-openapi';
export type { Kysely, Transaction } from 'kysely';
export { sql } from 'kysely';

export { token, point, type Token, type Point, type TokenType } from './plugin/tokens.js';
export {
  definePlugin,
  isPlugin,
  type CliCommand,
  type PluginDefinition,
  type RgzPlugin,
  type SetupContext,
  type DepsMap,
  type ResolvedDeps,
} from './plugin/define-plugin.js';
export { RgzError, ConfigError, httpErrors, type RgzErrorOptions } from './errors/rgz-error.js';

export {
  parseServerConfig,
  serverConfigSchema,
  pluginEntrySchema,
  redactConfig,
  configErrorFromZod,
  safeParseCoercingStrings,
  type ServerConfig,
  type ServerConfigInput,
} from './config/server-config.js';

export { createLogger, currentRequestId, withRequestContext, type Logger } from './logging/logger.js';
export { createMetrics, LATENCY_BUCKETS, type Metrics, type CoreMetrics } from './metrics/registry.js';

export { openDatabase, type Database, type DatabaseOptions } from './storage/database.js';
export { migrateUp, migrationStatus, validateMigrationNames, type Migration, type MigrationSet } from './storage/migrations.js';
export type * from './domain/schema.js';
export { SEED_PLANS, coreMigrations } from './domain/migrations.js';
export { plansOnSale } from './domain/plans.js';
export { quotaWindowStart, usageSource, type UsageSource } from './domain/usage.js';
export {
  activateSubscription,
  findActivePlan,
  subscriptionActivated,
  nasPolicyChange,
  type NasPolicyChange,
  type ActivePlan,
  type ActivateInput,
  type SubscriptionActivated,
} from './domain/subscriptions.js';
export { portalClientAuthorised, type PortalClientAuthorised } from './domain/portal-events.js';
export {
  GENESIS_HASH,
  SIGNATURE_CONTEXT,
  SIGNATURE_SLOT_PLACEHOLDER,
  SIGNATURE_SLOT_PREFIX,
  canonicalJson,
  chainEntryHash,
  loadSigningKey,
  loadVerifyKey,
  sha256Hex,
  signDigest,
  signDocument,
  signatureMessage,
  verifyChain,
  verifyDigest,
  verifyDocument,
  type ChainCheck,
  type ChainEntry,
  type ChainFields,
  type DocumentCheck,
  type SignedDocument,
  type SigningKey,
  type VerifyKey,
} from './domain/signed-documents.js';
export {
  applyRateOverride,
  parseRateOverride,
  RATE_OVERRIDE_TTL_SECONDS,
  type RateOverride,
  rateOverrideKey,
  readRateOverride,
  writeRateOverride,
} from './domain/rate-override.js';

export { type Kv, kvKeys } from './kv/kv.js';
export { createMemoryKv } from './kv/memory-kv.js';
export { createRedisKv, type RedisKvOptions } from './kv/redis-kv.js';

export { defineEvent, type EventBus, type EventType } from './events/event-bus.js';
export { defineTask, type TaskQueue, type TaskType, type TaskContext, type TaskHandlerOptions, type EnqueueOptions } from './tasks/task-queue.js';
export type { JobDefinition, JobContext, JobInfo, RunOutcome } from './scheduler/scheduler.js';

export {
  type Principal,
  type Access,
  type Role,
  type AuditInput,
  type IssuedToken,
  type TokenServiceOptions,
  TokenService,
  hashToken,
} from './access/principals.js';
export { type OwnershipRule, OwnershipRegistry, ResellerScopePlugin } from './access/reseller-scope.js';

export { defineRoute, PluginRouter, type RgzRouteConfig, type RawRouteConfig } from './http/router.js';
export type { AppEnv, AppVariables } from './http/app-env.js';
export { problemResponse, type Problem } from './http/problem.js';

export { createKernel, type Kernel, type KernelOptions, type PluginLoad, type LoadedPluginInfo } from './runtime/kernel.js';
export { CORE_VERSION } from './version.js';

export * from './extension-points/index.js';
