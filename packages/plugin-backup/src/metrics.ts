/** The plugin's Prometheus metrics (one registry with the rest of the server: `/metrics`). */
import type { Metrics } from '@rgz/core';

export interface BackupMetrics {
  lastSuccess: ReturnType<Metrics['gauge']>;
  size: ReturnType<Metrics['gauge']>;
  duration: ReturnType<Metrics['gauge']>;
  runs: ReturnType<Metrics['counter']>;
  verifies: ReturnType<Metrics['counter']>;
}

export function createBackupMetrics(metrics: Metrics): BackupMetrics {
  const m: BackupMetrics = {
    lastSuccess: metrics.gauge({
      name: 'backup_last_success_timestamp_seconds',
      help: 'Unix time of the last backup uploaded to every target and verified (0: none yet). Alert when older than ~26 h',
    }),
    size: metrics.gauge({ name: 'backup_size_bytes', help: 'Size of the last successful backup as stored (compressed and encrypted), bytes' }),
    duration: metrics.gauge({ name: 'backup_duration_seconds', help: 'Duration of the last backup run (dump, upload, verification, retention), seconds' }),
    runs: metrics.counter({ name: 'backup_runs_total', help: 'Backup runs on this replica by outcome (succeeded, failed)', labelNames: ['outcome'] }),
    verifies: metrics.counter({
      name: 'backup_verify_total',
      help: 'Backup verifications (restore and compare) on this replica by outcome (passed, failed)',
      labelNames: ['outcome'],
    }),
  };
  // Export every series from the start, so rate() and absent() see zeros rather than nothing.
  for (const outcome of ['succeeded', 'failed']) m.runs.inc({ outcome }, 0);
  for (const outcome of ['passed', 'failed']) m.verifies.inc({ outcome }, 0);
  return m;
}
