/**
 * Retention: on each target, delete every backup created more than `days` × 24 h before `now` — its archive and its
 * manifest — and nothing else. The creation time comes from the backup id in the key (not the store's modification
 * time, which a copy or re-upload changes), and objects whose keys this plugin did not write are never touched.
 * The newest `keepMin` complete backups (with a manifest) are kept whatever their age. Run after a successful,
 * verified backup only, so a broken backup job never erodes the good copies.
 */
import type { BackupTarget, Logger } from '@rgz/core';
import { parseKey } from './manifest.js';

export interface RetentionOptions {
  days: number;
  keepMin: number;
  now?: Date;
  dryRun?: boolean;
  signal?: AbortSignal;
  log?: Logger;
}

export interface RetentionResult {
  target: string;
  /** Keys deleted (or that would be, on a dry run). */
  deleted: string[];
  /** Backup ids kept. */
  kept: string[];
  error?: string;
}

export async function applyRetention(target: BackupTarget, o: RetentionOptions): Promise<RetentionResult> {
  const now = o.now ?? new Date();
  const cutoff = now.getTime() - o.days * 86_400_000;
  const backups = new Map<string, { createdAt: Date; keys: string[]; complete: boolean }>();
  for await (const object of target.list({ prefix: 'db/', ...(o.signal ? { signal: o.signal } : {}) })) {
    const parsed = parseKey(object.key);
    if (!parsed) continue;
    const b = backups.get(parsed.id) ?? { createdAt: parsed.createdAt, keys: [], complete: false };
    b.keys.push(object.key);
    if (parsed.part === 'manifest') b.complete = true;
    backups.set(parsed.id, b);
  }
  const protectedIds = new Set(
    [...backups.entries()]
      .filter(([, b]) => b.complete)
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, o.keepMin)
      .map(([id]) => id),
  );
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const [id, b] of [...backups.entries()].sort(([a], [c]) => (a < c ? -1 : 1))) {
    if (b.createdAt.getTime() >= cutoff || protectedIds.has(id)) {
      kept.push(id);
      continue;
    }
    // Archive first, manifest last: an interrupted deletion leaves a manifest, which the next run deletes too.
    const ordered = [...b.keys].sort((x, y) => Number(x.endsWith('.manifest.json')) - Number(y.endsWith('.manifest.json')));
    for (const key of ordered) {
      if (!o.dryRun) await target.delete(key, o.signal ? { signal: o.signal } : {});
      deleted.push(key);
    }
    o.log?.info({ target: target.id, backup_id: id, created_at: b.createdAt.toISOString(), dry_run: !!o.dryRun }, 'retention: backup deleted');
  }
  return { target: target.id, deleted, kept };
}
