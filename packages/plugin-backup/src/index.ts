/**
 * @rgz/plugin-backup — the `backup` plugin (seed flow 11): a daily job (03:00, server time zone) dumps the running
 * PostgreSQL with pg_dump (custom format, the client matching the server's major version) — or the embedded PGlite
 * data directory — encrypts it with age to the configured public keys, uploads it to every `BackupTarget` it
 * contributes (folders and S3-compatible buckets), verifies it by restoring into a scratch database and comparing
 * every table's row count and checksum with the manifest, and deletes backups older than the retention period.
 * `rgz backup run | list | verify | restore | prune`, `/api/backup`, metrics `backup_*`, incidents through
 * `IncidentSink`s. See README.md.
 */
import { BackupTargets, ConfigError, definePlugin, IncidentSinks, type Kysely } from '@rgz/core';
import { readIdentityFile, recipientsOf } from './age.js';
import { embeddedDatabaseAccess } from './backup.js';
import { backupCommand } from './cli.js';
import { configSchema } from './config.js';
import { createBackupMetrics } from './metrics.js';
import { backupMigrations } from './migrations.js';
import { registerRoutes } from './routes.js';
import type { BackupTables } from './schema.js';
import { BackupService } from './service.js';
import { createTarget } from './targets/index.js';

export { decryptStream, encryptStream, parseIdentities, readIdentityFile } from './age.js';
export { dumpEmbedded, dumpPostgres, type EmbeddedDatabaseAccess, embeddedDatabaseAccess, resolveDumpUrl, serverInfo, uploadEverywhere } from './backup.js';
export { type BackupConfig, configSchema, type FolderTargetConfig, type S3TargetConfig, type TargetConfig } from './config.js';
export { backupPrefix, dataKey, idTime, isBackupId, type Manifest, manifestKey, newBackupId, parseKey, parseManifest, readManifest } from './manifest.js';
export { backupMigrations } from './migrations.js';
export { findPgTool } from './pgtools.js';
export { applyRetention, type RetentionOptions, type RetentionResult } from './retention.js';
export type { BackupTables } from './schema.js';
export { type BackupFailed, type BackupListing, BackupService, backupFailed, type RunSummary } from './service.js';
export { CHECKSUM_ALGORITHM, collectStats, compareWithManifest, type TableComparison, type TableStat } from './stats.js';
export { createTarget, FolderTarget, S3Target } from './targets/index.js';
export { type RestoreReport, restoreBackup, type VerifyReport, verifyBackup } from './verify.js';

export default definePlugin({
  name: 'backup',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Daily PostgreSQL backups: pg_dump, age encryption, upload through backup targets (folder, S3), retention, restore-and-compare verification',
  config: configSchema,

  setup(ctx) {
    const config = ctx.config;
    const db = ctx.db as unknown as Kysely<any>;
    ctx.migrations(backupMigrations);

    const targets = config.targets.map(createTarget);
    for (const target of targets) ctx.contribute(BackupTargets, target);

    const service = new BackupService({
      db,
      log: ctx.log,
      config,
      targets,
      metrics: createBackupMetrics(ctx.metrics),
      events: ctx.events,
      incidentSinks: () => ctx.collect(IncidentSinks),
      embedded: () => ctx.lookup(embeddedDatabaseAccess),
    });

    ctx.schedule({
      id: 'daily',
      cron: config.schedule,
      ...(config.timezone ? { timezone: config.timezone } : {}),
      scope: 'global',
      missed: 'run-once',
      timeoutSeconds: config.timeoutSeconds,
      description: 'Back up the database: dump, encrypt, upload to every target, verify, apply retention (seed flow 11)',
      async run(job) {
        const summary = await service.run({ trigger: job.trigger, signal: job.signal });
        if (summary.status !== 'succeeded') throw new Error(`backup ${summary.id} failed: ${summary.error}`);
        return {
          id: summary.id,
          size_bytes: summary.sizeBytes,
          sha256: summary.sha256,
          verify: summary.verify?.outcome ?? 'skipped',
          duration_ms: summary.durationMs,
        };
      },
    });

    registerRoutes(ctx.router(), {
      tags: [ctx.name],
      db: db as Kysely<BackupTables>,
      service: () => service,
      config,
      timezone: ctx.server.timezone,
      audit: (actor, entry) => ctx.audit(actor, entry),
    });
    ctx.command(backupCommand(() => service));

    ctx.onStart(async () => {
      if (config.verify.identityFile) {
        // A verification key that is not a recipient would fail every verification: say so at start.
        const own = await recipientsOf(await readIdentityFile(config.verify.identityFile));
        if (!own.some((r) => config.recipients.includes(r))) {
          throw new ConfigError(
            `plugins.${ctx.name}.config.verify.identityFile`,
            `the public key of ${config.verify.identityFile} (${own.join(', ')}) is not among recipients; add it (age-keygen -y ${config.verify.identityFile}) or use the matching key file`,
          );
        }
      }
      await service.recover();
    });
    ctx.onStop(() => service.stop());
  },
});
