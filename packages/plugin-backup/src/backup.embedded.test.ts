/**
 * The embedded default (PGlite): its own dump path (`dumpDataDir()`, reached through the `core.embedded-database`
 * token), encrypted the same way, verified by loading it into a scratch in-memory PGlite, and restored into a new
 * data folder that PGlite then opens with the same rows. Without the token, the backup fails with a clear message.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { type Database, openDatabase, sql } from '@rgz/core';
import { Kysely as KyselyCtor, PostgresDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgeKey, ageKey, bootBackup, incidentSinkPlugin, type Node, RecordingIncidentSink, tempDir } from './test-support/harness.js';

/** The zero-setup default as core opens it: core itself binds the embedded-database token for it. */
async function embeddedDatabase(): Promise<{ database: Database }> {
  return { database: await openDatabase({ embeddedDataDir: 'memory://' }) };
}

describe('backup of the embedded database (PGlite)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let key: AgeKey;
  let database: Database;
  let node: Node;
  const sink = new RecordingIncidentSink();
  let backupId: string;
  const config = () => ({
    recipients: [key.recipient],
    targets: [{ id: 'local', kind: 'folder', path: join(dir.path, 'backups') }],
    verify: { identityFile: key.file },
    workDir: join(dir.path, 'work'),
  });

  beforeAll(async () => {
    dir = await tempDir('rgz-backup-embedded-');
    key = await ageKey(dir.path);
    ({ database } = await embeddedDatabase());
    node = await bootBackup(database, config(), { plugins: [incidentSinkPlugin(sink)] });
    await sql`create table vouchers (code text primary key, minutes int not null, sold_at timestamptz)`.execute(node.db);
    await sql`insert into vouchers select 'V' || g, 60 * (1 + g % 24), timestamptz '2026-05-01 00:00+01' + g * interval '1 hour' from generate_series(1, 2000) g`.execute(
      node.db,
    );
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await database?.close();
    await dir?.remove();
  });

  it('backs up, encrypts and verifies (scratch PGlite, row counts and checksums)', async () => {
    const r = await node.cli('run', '--json');
    const summary = JSON.parse(r.out[0] as string) as { id: string; status: string; databaseKind: string; verify: { outcome: string }; error: string | null };
    expect(summary.error).toBeNull();
    expect(summary).toMatchObject({ status: 'succeeded', databaseKind: 'embedded', verify: { outcome: 'passed' } });
    expect(r.code).toBe(0);
    backupId = summary.id;
    const listed = await node.cli('list', '--json');
    const items = JSON.parse(listed.out[0] as string) as Array<{ id: string; targets: Record<string, unknown> }>;
    expect(items[0]).toMatchObject({ id: backupId, targets: { local: { archive: true, manifest: true } } });
    const files = await readdir(join(dir.path, 'backups', 'db'), { recursive: true });
    expect(files.some((f) => String(f).endsWith(`${backupId}.pglite.tar.gz.age`))).toBe(true);
  });

  it('restores into a new PGlite data folder with the same rows, refusing a non-empty one without --force', async () => {
    const into = join(dir.path, 'restored');
    const r = await node.cli('restore', backupId, '--into', into, '--json');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out[0] as string) as { problems: string[]; tables: Array<{ table: string; actualRows: number; ok: boolean }> };
    expect(report.problems).toEqual([]);
    expect(report.tables.find((t) => t.table === 'public.vouchers')).toMatchObject({ actualRows: 2000, ok: true });

    // The folder is a working PGlite data directory on its own.
    const reopened = await openDatabase({ embeddedDataDir: into });
    try {
      const n = await sql<{ n: number }>`select count(*)::int as n from vouchers`.execute(reopened.db as never);
      expect(n.rows[0]?.n).toBe(2000);
    } finally {
      await reopened.close();
    }
    const again = await node.cli('restore', backupId, '--into', into);
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toMatch(/not empty/);
    const forced = await node.cli('restore', backupId, '--into', into, '--force');
    expect(forced.code).toBe(0);
    expect(forced.out.join('\n')).toMatch(/previous folder was moved to .*restored\.replaced-/);
  });

  it('refuses a postgres URL for an embedded backup', async () => {
    const r = await node.cli('restore', backupId, '--into', 'postgres://postgres@127.0.0.1/x');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/embedded \(PGlite\) backup: --into takes a folder/);
  });

  it('without access to dumpDataDir (an embedded Database from elsewhere), fails with a message that says what to do', async () => {
    const { dumpDataDir: _withheld, ...withoutDump } = database;
    const n = await bootBackup(
      withoutDump as Database,
      { ...config(), targets: [{ id: 'other', kind: 'folder', path: join(dir.path, 'other') }] },
      { plugins: [incidentSinkPlugin(sink)] },
    );
    try {
      const r = await n.cli('run', '--json');
      expect(r.code).toBe(1);
      expect((JSON.parse(r.out[0] as string) as { error: string }).error).toMatch(/embeddedDatabaseAccess.*copy the data folder/);
      expect(sink.events.at(-1)?.incident.source).toBe('backup.backup');
    } finally {
      await n.stop();
    }
  });

  it('keeps the work folder clean', async () => {
    expect(await readdir(join(dir.path, 'work'))).toEqual([]);
    await writeFile(join(dir.path, 'done'), '');
  });
});
