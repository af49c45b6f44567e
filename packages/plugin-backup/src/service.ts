/**
 * The backup flow as one service the job, the CLI and the API share: run (dump → upload → verify → retention),
 * verify, list, restore, prune. Every run and verification is a row (`backup_runs`, `backup_verifications`) and a
 * metric; a failure is logged at error level, published as the `backup.failed` event and opened as a P1 incident on
 * every loaded `IncidentSink`.
 */

import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BackupTarget,
  type CoreDatabase,
  defineEvent,
  type EventBus,
  type IncidentEvent,
  type IncidentSink,
  type Kysely,
  type Logger,
  RgzError,
  sql,
} from '@rgz/core';
import { readIdentityFile } from './age.js';
import {
  type DumpFile,
  dumpEmbedded,
  dumpPostgres,
  type EmbeddedDatabaseAccess,
  resolveDumpUrl,
  serverInfo,
  type UploadResult,
  uploadEverywhere,
} from './backup.js';
import type { BackupConfig } from './config.js';
import { newBackupId, parseKey } from './manifest.js';
import type { BackupMetrics } from './metrics.js';
import { withDatabase } from './pgtools.js';
import { applyRetention, type RetentionResult } from './retention.js';
import type { BackupTables } from './schema.js';
import { type RestoreReport, restoreBackup, type VerifyReport, verifyBackup } from './verify.js';

export interface BackupFailed {
  kind: 'backup' | 'verify';
  backupId: string;
  at: string;
  summary: string;
}
/** Published on every failed backup or verification (whether or not an IncidentSink is loaded). */
export const backupFailed = defineEvent<BackupFailed>('backup.failed');

export interface RunSummary {
  id: string;
  status: 'succeeded' | 'failed';
  databaseKind: 'postgres' | 'embedded' | null;
  sizeBytes: number | null;
  sha256: string | null;
  targets: UploadResult[];
  verify: Pick<VerifyReport, 'outcome' | 'stage' | 'problems' | 'target'> | null;
  retention: RetentionResult[] | null;
  durationMs: number;
  error: string | null;
}

export interface ServiceDeps {
  db: Kysely<CoreDatabase & BackupTables>;
  log: Logger;
  config: BackupConfig;
  targets: readonly BackupTarget[];
  metrics: BackupMetrics;
  events: EventBus;
  incidentSinks: () => ReadonlyMap<string, IncidentSink>;
  embedded: () => EmbeddedDatabaseAccess | undefined;
}

export class BackupService {
  private current: { id: string; done: Promise<RunSummary> } | null = null;
  private readonly stopping = new AbortController();
  readonly node = `${hostname()}:${process.pid}`;
  readonly workDir: string;

  constructor(private readonly deps: ServiceDeps) {
    this.workDir = deps.config.workDir ?? join(tmpdir(), 'rgz-backup');
  }

  get targets(): readonly BackupTarget[] {
    return this.deps.targets;
  }

  get running(): string | null {
    return this.current?.id ?? null;
  }

  /** Start a backup and return its id at once (API); `done` settles with the summary. */
  begin(options: { trigger: string; signal?: AbortSignal; verify?: boolean; now?: Date }): { id: string; done: Promise<RunSummary> } {
    if (this.current) throw new RgzError('backup_running', `backup ${this.current.id} is running; wait for it to finish`, { status: 409 });
    const createdAt = options.now ?? new Date();
    const id = newBackupId(createdAt);
    const done = this.execute(id, createdAt, options).finally(() => {
      if (this.current?.id === id) this.current = null;
    });
    this.current = { id, done };
    return { id, done };
  }

  /** Run a backup to the end. Resolves with a failed summary rather than throwing when the backup fails. */
  run(options: { trigger: string; signal?: AbortSignal; verify?: boolean; now?: Date }): Promise<RunSummary> {
    return this.begin(options).done;
  }

  stop(): void {
    this.stopping.abort(new Error('the server is stopping'));
  }

  private signal(extra?: AbortSignal): AbortSignal {
    return AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.deps.config.timeoutSeconds * 1000), ...(extra ? [extra] : [])]);
  }

  private async execute(id: string, createdAt: Date, options: { trigger: string; signal?: AbortSignal; verify?: boolean }): Promise<RunSummary> {
    const { db, log, config } = this.deps;
    const started = Date.now();
    const signal = this.signal(options.signal);
    const summary: RunSummary = {
      id,
      status: 'failed',
      databaseKind: null,
      sizeBytes: null,
      sha256: null,
      targets: [],
      verify: null,
      retention: null,
      durationMs: 0,
      error: null,
    };
    await db
      .insertInto('backup_runs')
      .values({ id, trigger: options.trigger, status: 'running', node: this.node, started_at: createdAt, targets: '[]' })
      .execute();
    log.info({ backup_id: id, trigger: options.trigger }, 'backup started');
    let dump: DumpFile | undefined;
    let concurrent = false;
    try {
      const info = await serverInfo(db);
      summary.databaseKind = info.kind;
      const common = {
        id,
        createdAt,
        db,
        recipients: config.recipients,
        workDir: this.workDir,
        checksumMaxRows: config.verify.checksumMaxRows,
        log,
        signal,
        database: { url: config.database.url, binDir: config.database.binDir },
        embedded: this.deps.embedded(),
      };
      dump = info.kind === 'postgres' ? await dumpPostgres(common) : await dumpEmbedded(common);
      summary.sizeBytes = dump.manifest.object.size_bytes;
      summary.sha256 = dump.manifest.object.sha256;
      summary.targets = await uploadEverywhere(dump, this.deps.targets, signal, log);
      await rm(dump.file, { force: true });
      const failedTargets = summary.targets.filter((t) => !t.ok);
      if (failedTargets.length === summary.targets.length) {
        throw new RgzError('backup_upload_failed', `no target accepted the backup: ${failedTargets.map((t) => `${t.target}: ${t.error}`).join('; ')}`);
      }
      if (options.verify ?? config.verify.afterBackup) {
        const firstOk = summary.targets.find((t) => t.ok)?.target;
        const report = await this.verifyRecorded(id, { trigger: 'after-backup', targetId: firstOk, signal });
        summary.verify = { outcome: report.outcome, stage: report.stage, problems: report.problems, target: report.target };
      }
      const problems = [
        ...failedTargets.map((t) => `upload to ${t.target} failed: ${t.error}`),
        ...(summary.verify?.outcome === 'failed' ? [`verification failed at ${summary.verify.stage}: ${summary.verify.problems.join('; ')}`] : []),
      ];
      if (problems.length === 0) {
        summary.status = 'succeeded';
        summary.retention = await this.retention(signal);
      } else {
        summary.error = problems.join('; ');
      }
    } catch (err) {
      summary.error = (err as Error).message;
      if (err instanceof RgzError && err.code === 'backup_running') {
        // Another replica (or a CLI run) holds the backup lock: that run reports its own outcome.
        concurrent = true;
        log.warn({ backup_id: id }, summary.error);
      } else log.error({ err, backup_id: id }, 'backup failed');
    } finally {
      if (dump) await rm(dump.file, { force: true });
      summary.durationMs = Date.now() - started;
    }
    await db
      .updateTable('backup_runs')
      .set({
        status: summary.status,
        finished_at: new Date(),
        database_kind: summary.databaseKind,
        size_bytes: summary.sizeBytes,
        sha256: summary.sha256,
        targets: JSON.stringify(summary.targets),
        verify_status: summary.verify ? (summary.verify.outcome === 'passed' ? 'passed' : 'failed') : 'skipped',
        retention: summary.retention ? JSON.stringify(summary.retention) : null,
        error: summary.error,
      })
      .where('id', '=', id)
      .execute();
    if (concurrent) return summary;
    const m = this.deps.metrics;
    m.runs.inc({ outcome: summary.status });
    m.duration.set(summary.durationMs / 1000);
    if (summary.status === 'succeeded') {
      m.lastSuccess.set(Date.now() / 1000);
      m.size.set(summary.sizeBytes ?? 0);
      log.info(
        { backup_id: id, size_bytes: summary.sizeBytes, duration_ms: summary.durationMs, verify: summary.verify?.outcome ?? 'skipped' },
        'backup succeeded',
      );
    } else if (summary.verify?.outcome !== 'failed') {
      // A failed verification already raised its own incident.
      await this.raise('backup', id, summary.error ?? 'backup failed');
    }
    return summary;
  }

  private async retention(signal: AbortSignal): Promise<RetentionResult[]> {
    const out: RetentionResult[] = [];
    for (const target of this.deps.targets) {
      try {
        out.push(
          await applyRetention(target, { days: this.deps.config.retention.days, keepMin: this.deps.config.retention.keepMin, signal, log: this.deps.log }),
        );
      } catch (err) {
        this.deps.log.error({ err, target: target.id }, 'retention failed');
        out.push({ target: target.id, deleted: [], kept: [], error: (err as Error).message });
      }
    }
    return out;
  }

  /** Delete expired backups now (CLI `prune`). */
  async prune(options: { dryRun?: boolean; now?: Date } = {}): Promise<RetentionResult[]> {
    const signal = this.signal();
    const out: RetentionResult[] = [];
    for (const target of this.deps.targets) {
      out.push(
        await applyRetention(target, {
          days: this.deps.config.retention.days,
          keepMin: this.deps.config.retention.keepMin,
          signal,
          log: this.deps.log,
          ...(options.dryRun ? { dryRun: true } : {}),
          ...(options.now ? { now: options.now } : {}),
        }),
      );
    }
    return out;
  }

  /** Where scratch databases are created: database.adminUrl, else the dump URL on database `postgres`. */
  private async adminUrl(): Promise<string | undefined> {
    const d = this.deps.config.database;
    if (d.adminUrl) return d.adminUrl;
    try {
      return withDatabase(await resolveDumpUrl(this.deps.db, d.url), 'postgres');
    } catch {
      return undefined;
    }
  }

  /** Verify a backup (CLI, API): `identityFile` overrides the configured one. */
  async verify(
    id: string,
    options: { trigger: string; targetId?: string | undefined; identityFile?: string | undefined; signal?: AbortSignal },
  ): Promise<VerifyReport> {
    return this.verifyRecorded(id, { ...options, signal: this.signal(options.signal) });
  }

  private async identities(identityFile: string | undefined): Promise<string[]> {
    const file = identityFile ?? this.deps.config.verify.identityFile;
    if (!file)
      throw new RgzError('backup_identity_missing', 'decrypting needs an age identity: give --identity FILE or set verify.identityFile', { status: 400 });
    return readIdentityFile(file);
  }

  private async verifyRecorded(
    id: string,
    options: { trigger: string; targetId?: string | undefined; identityFile?: string | undefined; signal: AbortSignal },
  ): Promise<VerifyReport> {
    const { db, log } = this.deps;
    const identities = await this.identities(options.identityFile);
    const row = await db
      .insertInto('backup_verifications')
      .values({ backup_id: id, target_id: options.targetId ?? null, trigger: options.trigger, outcome: 'running', started_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    let report: VerifyReport;
    try {
      report = await verifyBackup(id, {
        targets: this.deps.targets,
        targetId: options.targetId,
        identities,
        workDir: this.workDir,
        log,
        signal: options.signal,
        adminUrl: await this.adminUrl(),
        binDir: this.deps.config.database.binDir,
      });
    } catch (err) {
      await db
        .updateTable('backup_verifications')
        .set({ outcome: 'failed', finished_at: new Date(), detail: JSON.stringify({ problems: [(err as Error).message] }) })
        .where('id', '=', row.id)
        .execute();
      throw err;
    }
    await db
      .updateTable('backup_verifications')
      .set({
        outcome: report.outcome,
        stage: report.stage,
        target_id: report.target,
        finished_at: new Date(),
        detail: JSON.stringify({ problems: report.problems, tables: report.tables, duration_ms: report.durationMs }),
      })
      .where('id', '=', row.id)
      .execute();
    if (options.trigger !== 'after-backup') {
      await db.updateTable('backup_runs').set({ verify_status: report.outcome }).where('id', '=', id).where('status', '<>', 'running').execute();
    }
    this.deps.metrics.verifies.inc({ outcome: report.outcome });
    if (report.outcome === 'passed')
      log.info({ backup_id: id, target: report.target, tables: report.tables.length, duration_ms: report.durationMs }, 'backup verified');
    else await this.raise('verify', id, `verification failed at ${report.stage}: ${report.problems.join('; ')}`);
    return report;
  }

  /** Restore a backup into a database (CLI). */
  async restore(
    id: string,
    options: { into: string; force: boolean; targetId?: string | undefined; identityFile?: string | undefined },
  ): Promise<RestoreReport> {
    return restoreBackup(id, {
      targets: this.deps.targets,
      targetId: options.targetId,
      identities: await this.identities(options.identityFile),
      workDir: this.workDir,
      log: this.deps.log,
      signal: this.signal(),
      into: options.into,
      force: options.force,
      binDir: this.deps.config.database.binDir,
    });
  }

  /** Backups found on the targets, newest first, with what this server recorded about them. */
  async list(options: { targetId?: string | undefined } = {}): Promise<BackupListing[]> {
    const targets = options.targetId ? this.deps.targets.filter((t) => t.id === options.targetId) : this.deps.targets;
    if (options.targetId && targets.length === 0) throw new RgzError('backup_target_unknown', `no target "${options.targetId}"`, { status: 404 });
    const byId = new Map<string, BackupListing>();
    for (const target of targets) {
      for await (const o of target.list({ prefix: 'db/' })) {
        const parsed = parseKey(o.key);
        if (!parsed) continue;
        const entry = byId.get(parsed.id) ?? { id: parsed.id, createdAt: parsed.createdAt, sizeBytes: null, targets: {}, status: null, verifyStatus: null };
        const t = entry.targets[target.id] ?? { archive: false, manifest: false };
        if (parsed.part === 'manifest') t.manifest = true;
        else {
          t.archive = true;
          entry.sizeBytes = o.sizeBytes;
        }
        entry.targets[target.id] = t;
        byId.set(parsed.id, entry);
      }
    }
    const ids = [...byId.keys()];
    if (ids.length) {
      const rows = await this.deps.db.selectFrom('backup_runs').select(['id', 'status', 'verify_status']).where('id', 'in', ids).execute();
      for (const r of rows) {
        const e = byId.get(r.id) as BackupListing;
        e.status = r.status;
        e.verifyStatus = r.verify_status;
      }
    }
    return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  /** Mark runs and verifications left `running` by a stopped process as failed; load the gauges. */
  async recover(): Promise<void> {
    const { db, config, metrics } = this.deps;
    const cutoff = sql<Date>`now() - make_interval(secs => ${config.timeoutSeconds + 60})`;
    await db
      .updateTable('backup_runs')
      .set({ status: 'failed', finished_at: new Date(), error: 'interrupted: the process stopped during the backup' })
      .where('status', '=', 'running')
      .where('started_at', '<', cutoff)
      .execute();
    await db
      .updateTable('backup_verifications')
      .set({ outcome: 'failed', finished_at: new Date(), detail: JSON.stringify({ problems: ['interrupted: the process stopped during the verification'] }) })
      .where('outcome', '=', 'running')
      .where('started_at', '<', cutoff)
      .execute();
    const last = await db
      .selectFrom('backup_runs')
      .select(['finished_at', 'size_bytes'])
      .where('status', '=', 'succeeded')
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last?.finished_at) {
      metrics.lastSuccess.set(new Date(last.finished_at).getTime() / 1000);
      metrics.size.set(Number(last.size_bytes ?? 0));
    } else {
      metrics.lastSuccess.set(0);
    }
  }

  /** Log, publish, and open an incident on every IncidentSink that takes `opened` events. */
  private async raise(kind: 'backup' | 'verify', backupId: string, summary: string): Promise<void> {
    const { log, events } = this.deps;
    const at = new Date();
    const title = kind === 'backup' ? `Backup ${backupId} failed` : `Backup ${backupId} failed verification`;
    log.error({ backup_id: backupId, kind, summary }, title);
    await events.publish(backupFailed, { kind, backupId, at: at.toISOString(), summary }).catch((err) => log.error({ err }, 'cannot publish backup.failed'));
    const sinks = [...this.deps.incidentSinks().values()].filter((s) => s.accepts.includes('opened'));
    if (sinks.length === 0) {
      log.warn({ backup_id: backupId }, 'no IncidentSink is loaded: the failure is this log line and the backup.failed event');
      return;
    }
    const event: IncidentEvent = {
      eventId: `backup:${kind}:${backupId}:opened`,
      at,
      type: 'opened',
      incident: {
        id: `backup:${kind}:${backupId}`,
        title,
        priority: 'P1',
        status: 'open',
        openedAt: at,
        source: `backup.${kind}`,
        labels: { plugin: 'backup', kind, backup_id: backupId, priority: 'P1' },
        summary: summary.slice(0, 2000),
      },
    };
    for (const sink of sinks) {
      try {
        await sink.notify(event);
      } catch (err) {
        log.error({ err, sink: sink.id, backup_id: backupId }, 'incident sink refused the backup failure');
      }
    }
  }
}

export interface BackupListing {
  id: string;
  createdAt: Date;
  sizeBytes: number | null;
  /** Per target: archive and manifest present. */
  targets: Record<string, { archive: boolean; manifest: boolean }>;
  /** What this server recorded (null: not made by this server, or its row is gone). */
  status: string | null;
  verifyStatus: string | null;
}
