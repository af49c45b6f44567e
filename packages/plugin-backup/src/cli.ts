/**
 * `rgz backup …`: run a backup now, list backups on the targets, verify one, restore one, apply retention.
 * Exit codes: 0 success, 1 failure (backup or verification failed, restore refused), 2 usage.
 */
import { parseArgs } from 'node:util';
import { type CliCommand, RgzError } from '@rgz/core';
import type { BackupService } from './service.js';

export const USAGE = `Usage: rgz backup <subcommand> [options]

Subcommands:
  run [--no-verify] [--json]                 Back up now: dump, encrypt, upload to every target, verify, retention
  list [--target ID] [--json]                Backups found on the targets, newest first
  verify ID [--target ID] [--identity FILE] [--json]
                                             Download, check sha256, decrypt, restore into a scratch database,
                                             compare every table's row count and checksum with the manifest
  restore ID --into URL|DIR [--force] [--target ID] [--identity FILE] [--json]
                                             Restore into an empty PostgreSQL database (URL), or for an embedded
                                             backup into a new PGlite data folder (DIR); --force replaces a
                                             non-empty one
  prune [--dry-run] [--json]                 Delete backups older than retention.days now`;

const OPTIONS = {
  json: { type: 'boolean' },
  target: { type: 'string' },
  identity: { type: 'string' },
  into: { type: 'string' },
  force: { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

type Io = { out(line: string): void; err(line: string): void };

function mb(bytes: number | null): string {
  return bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export function backupCommand(service: () => BackupService): CliCommand {
  return {
    name: 'backup',
    summary: 'Encrypted PostgreSQL backups: run, list, verify, restore, prune',
    usage: USAGE,
    async run(argv, io) {
      let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
      try {
        parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
      } catch (err) {
        io.err(`${(err as Error).message}\n\n${USAGE}`);
        return 2;
      }
      const { values: v, positionals } = parsed;
      const [sub, id] = positionals;
      const usage = (message: string) => {
        io.err(`${message}\n\n${USAGE}`);
        return 2;
      };
      try {
        switch (sub) {
          case 'run':
            return await run(service(), !v['no-verify'], !!v.json, io);
          case 'list': {
            const items = await service().list({ targetId: v.target });
            if (v.json) io.out(JSON.stringify(items));
            else if (items.length === 0) io.out('no backups on the targets');
            else {
              for (const b of items) {
                const where = Object.entries(b.targets)
                  .map(([t, s]) => `${t}${s.archive && s.manifest ? '' : s.archive ? '(no manifest)' : '(manifest only)'}`)
                  .join(',');
                io.out(`${b.id}  ${b.createdAt.toISOString()}  ${mb(b.sizeBytes).padStart(12)}  ${where}  ${b.status ?? '-'}/${b.verifyStatus ?? '-'}`);
              }
            }
            return 0;
          }
          case 'verify': {
            if (!id) return usage('name the backup: rgz backup verify ID (see rgz backup list)');
            const report = await service().verify(id, { trigger: 'cli', targetId: v.target, identityFile: v.identity });
            if (v.json) io.out(JSON.stringify(report));
            else {
              io.out(
                `${report.outcome === 'passed' ? 'PASSED' : 'FAILED'}  ${report.id} from ${report.target ?? '-'} (${report.tables.length} tables, ${report.durationMs} ms)`,
              );
              for (const t of report.tables)
                io.out(`  ${t.ok ? 'ok  ' : 'BAD '} ${t.table}  rows ${t.actualRows ?? '-'}/${t.expectedRows}${t.problem ? `  ${t.problem}` : ''}`);
              for (const p of report.problems) io.err(`  ${report.stage}: ${p}`);
            }
            return report.outcome === 'passed' ? 0 : 1;
          }
          case 'restore': {
            if (!id) return usage('name the backup: rgz backup restore ID --into URL');
            if (!v.into) return usage('--into is required: a postgres:// URL of an empty database (or a folder, for an embedded backup)');
            const report = await service().restore(id, { into: v.into, force: !!v.force, targetId: v.target, identityFile: v.identity });
            if (v.json) io.out(JSON.stringify(report));
            else {
              io.out(`${report.problems.length ? 'RESTORED WITH DIFFERENCES' : 'RESTORED'}  ${report.id} from ${report.target} into ${report.into}`);
              if (report.movedAside) io.out(`  the previous folder was moved to ${report.movedAside}`);
              for (const t of report.tables)
                if (t.problem !== 'not in the manifest')
                  io.out(`  ${t.ok ? 'ok  ' : 'BAD '} ${t.table}  rows ${t.actualRows ?? '-'}/${t.expectedRows}${t.problem ? `  ${t.problem}` : ''}`);
              if (report.extraTables.length) io.out(`  tables not in the backup, left as they were: ${report.extraTables.join(', ')}`);
            }
            return report.problems.length ? 1 : 0;
          }
          case 'prune': {
            const results = await service().prune({ dryRun: !!v['dry-run'] });
            if (v.json) io.out(JSON.stringify(results));
            else
              for (const r of results)
                io.out(
                  `${r.target}: ${v['dry-run'] ? 'would delete' : 'deleted'} ${r.deleted.length} objects, kept ${r.kept.length} backups${r.deleted.length ? `\n  ${r.deleted.join('\n  ')}` : ''}`,
                );
            return 0;
          }
          default:
            return usage(sub ? `unknown subcommand "${sub}"` : 'name a subcommand');
        }
      } catch (err) {
        if (err instanceof RgzError) {
          io.err(`rgz backup: ${err.message}`);
          return err.status === 400 ? 2 : 1;
        }
        throw err;
      }
    },
  };
}

async function run(service: BackupService, verify: boolean, json: boolean, io: Io): Promise<number> {
  const summary = await service.run({ trigger: 'cli', verify });
  if (json) io.out(JSON.stringify(summary));
  else {
    io.out(`${summary.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED'}  ${summary.id}  ${mb(summary.sizeBytes)}  ${summary.durationMs} ms`);
    for (const t of summary.targets) io.out(`  ${t.ok ? 'uploaded' : 'FAILED  '} ${t.target}${t.error ? `  ${t.error}` : ''}`);
    io.out(
      `  verification: ${summary.verify ? `${summary.verify.outcome}${summary.verify.problems.length ? ` (${summary.verify.problems.join('; ')})` : ''}` : 'skipped'}`,
    );
    for (const r of summary.retention ?? []) if (r.deleted.length) io.out(`  retention on ${r.target}: deleted ${r.deleted.length} objects`);
    if (summary.error) io.err(`  ${summary.error}`);
  }
  return summary.status === 'succeeded' ? 0 : 1;
}
