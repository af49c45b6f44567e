/**
 * @rgz/core — the only package a plugin depends on: the plugin contract, typed tokens and extension points,
 * storage, KV, scheduler, background tasks, events, metrics, logging, HTTP and access control.
 */
export { z } from '@hono/zod-openapi';
export type { Kysely, Transaction } from 'kysely';
export { sql } from 'kysely';
export {
  type Access,
  type AuditInput,
  auditInsert,
  hashToken,
  type IssuedToken,
  type IssueInput,
  type Principal,
  type Role,
  TokenService,
  type TokenServiceOptions,
  writeAudit,
} from './access/principals.js';
export { OwnershipRegistry, type OwnershipRule, ResellerScopePlugin } from './access/reseller-scope.js';
export {
  configErrorFromZod,
  parseServerConfig,
  pluginEntrySchema,
  redactConfig,
  type ServerConfig,
  type ServerConfigInput,
  safeParseCoercingStrings,
  serverConfigSchema,
} from './config/server-config.js';
export { coreMigrations, SEED_PLANS } from './domain/migrations.js';
export { plansOnSale } from './domain/plans.js';
export { type PortalClientAuthorised, portalClientAuthorised } from './domain/portal-events.js';
export {
  applyRateOverride,
  parseRateOverride,
  RATE_OVERRIDE_TTL_SECONDS,
  type RateOverride,
  rateOverrideKey,
  readRateOverride,
  writeRateOverride,
} from './domain/rate-override.js';
export type * from './domain/schema.js';
export {
  type ChainCheck,
  type ChainEntry,
  type ChainFields,
  canonicalJson,
  chainEntryHash,
  type DocumentCheck,
  GENESIS_HASH,
  loadConfiguredSigningKey,
  loadSigningKey,
  loadVerifyKey,
  SIGNATURE_CONTEXT,
  SIGNATURE_SLOT_PLACEHOLDER,
  SIGNATURE_SLOT_PREFIX,
  type SignedDocument,
  type SigningKey,
  type SigningKeyConfig,
  sha256Hex,
  signatureMessage,
  signDigest,
  signDocument,
  signingKeyConfigSchema,
  type VerifyKey,
  verifyChain,
  verifyDigest,
  verifyDocument,
} from './domain/signed-documents.js';
export {
  type ActivateInput,
  type ActivePlan,
  activateSubscription,
  findActivePlan,
  type NasPolicyChange,
  nasPolicyChange,
  type SubscriptionActivated,
  subscriptionActivated,
} from './domain/subscriptions.js';
export { quotaWindowStart, type UsageSource, usageSource } from './domain/usage.js';
export { ConfigError, httpErrors, RgzError, type RgzErrorOptions } from './errors/rgz-error.js';
export { defineEvent, type EventBus, type EventType } from './events/event-bus.js';
export * from './extension-points/index.js';
export type { AppEnv, AppVariables } from './http/app-env.js';
export { type Problem, problemResponse } from './http/problem.js';
export { defineRoute, jsonContent, PluginRouter, problemContent, type RawRouteConfig, type RgzRouteConfig, UuidIdParam } from './http/router.js';
export { type Kv, kvKeys } from './kv/kv.js';
export { createMemoryKv } from './kv/memory-kv.js';
export { createRedisKv, type RedisKvOptions } from './kv/redis-kv.js';
export { createLogger, currentRequestId, type Logger, withRequestContext } from './logging/logger.js';
export { type CoreMetrics, createMetrics, LATENCY_BUCKETS, type Metrics } from './metrics/registry.js';
export {
  type CliCommand,
  type DepsMap,
  definePlugin,
  isPlugin,
  type PluginDefinition,
  type ResolvedDeps,
  type RgzPlugin,
  type SetupContext,
} from './plugin/define-plugin.js';
export { type Point, point, type Token, type TokenType, token } from './plugin/tokens.js';
export { createKernel, type Kernel, type KernelOptions, type LoadedPluginInfo, type PluginLoad } from './runtime/kernel.js';
export { type PlanOffer, PlanOfferSchema, planOffer } from './runtime/plan-view.js';
export type { JobContext, JobDefinition, JobInfo, RunOutcome } from './scheduler/scheduler.js';
export { type Database, type DatabaseOptions, openDatabase } from './storage/database.js';
export { type Migration, type MigrationSet, migrateUp, migrationStatus, validateMigrationNames } from './storage/migrations.js';
export { defineTask, type EnqueueOptions, type TaskContext, type TaskHandlerOptions, type TaskQueue, type TaskType } from './tasks/task-queue.js';
export { CsvError, type CsvRow, parseCsv, parseCsvRows, toCsv } from './text/csv.js';
export { isTimeZone, localDate, localMidnight, zonedMidnight, zonedToUtc, zoneOffsetMs } from './time/zoned-time.js';
export { CORE_VERSION } from './version.js';
