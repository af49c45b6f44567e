/** Kysely types of the plugin's tables. */

/** Kysely's column type shape (structural, so no direct kysely dependency is needed). */
type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface BackupRunsTable {
  /** The backup id (`rgz-20261125T030000Z-1a2b3c4d`). */
  id: string;
  /** schedule / missed (scheduler), manual (`rgz jobs run`, `/api/core/jobs/…/run`), api, cli. */
  trigger: string;
  status: 'running' | 'succeeded' | 'failed';
  database_kind: string | null;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  /** Encrypted archive size. */
  size_bytes: number | null;
  sha256: string | null;
  /** Per target: `{ target, ok, error? }`. */
  targets: Json<Array<{ target: string; ok: boolean; error?: string }>>;
  verify_status: 'passed' | 'failed' | 'skipped' | null;
  /** Retention outcome per target. */
  retention: Json<unknown> | null;
  error: string | null;
  node: string;
}

export interface BackupVerificationsTable {
  id: Generated<string>;
  backup_id: string;
  target_id: string | null;
  trigger: string;
  outcome: 'running' | 'passed' | 'failed';
  stage: string | null;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  /** Table comparisons and problems. */
  detail: Json<unknown> | null;
}

export interface BackupTables {
  backup_runs: BackupRunsTable;
  backup_verifications: BackupVerificationsTable;
}
