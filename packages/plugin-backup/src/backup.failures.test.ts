/**
 * Failures are detected and reported — a failed run or verification, a metric, an incident — never called a
 * success: a corrupted archive, an archive whose content does not match its manifest, a wrong key, a full disk
 * (a 16 KiB tmpfs, as the target and as the work folder), a missing pg_dump and one of the wrong major version.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Kysely, openDatabase, sql } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVISORY_LOCK_CLASS } from './backup.js';
import { dataKey, manifestKey } from './manifest.js';
import { type BackupFailed, backupFailed } from './service.js';
import {
  type AgeKey,
  ageKey,
  bootBackup,
  fillShop,
  hasAge,
  incidentSinkPlugin,
  type Node,
  type RealWorld,
  RecordingIncidentSink,
  realDatabase,
  tempDir,
} from './test-support/harness.js';

function tryMount(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

describe('failures on real PostgreSQL', () => {
  let world: RealWorld;
  let dir: { path: string; remove(): Promise<void> };
  let key: AgeKey;
  let otherKey: AgeKey;
  let node: Node;
  const sink = new RecordingIncidentSink();
  let backupId: string;
  const base = () => ({
    recipients: [key.recipient],
    targets: [{ id: 'nas', kind: 'folder', path: join(dir.path, 'nas') }],
    database: { url: world.url },
    verify: { identityFile: key.file },
    workDir: join(dir.path, 'work'),
  });
  const archiveFile = (id: string) => join(dir.path, 'nas', ...dataKey(id, 'pg_dump-custom').split('/'));
  const manifestFile = (id: string) => join(dir.path, 'nas', ...manifestKey(id).split('/'));

  beforeAll(async () => {
    world = await realDatabase();
    await fillShop(world.tdb.database.db as unknown as Kysely<any>);
    dir = await tempDir('rgz-backup-fail-');
    key = await ageKey(dir.path, 'key');
    otherKey = await ageKey(dir.path, 'other');
    node = await bootBackup(world.tdb.database, base(), { plugins: [incidentSinkPlugin(sink)] });
    const run = await node.cli('run', '--json');
    expect(run.code).toBe(0);
    backupId = (JSON.parse(run.out[0] as string) as { id: string }).id;
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await world?.close();
    await dir?.remove();
  });

  it('a corrupted archive (bytes flipped) fails verification at the integrity check, and opens an incident', async () => {
    const file = archiveFile(backupId);
    const good = await readFile(file);
    const bad = Buffer.from(good);
    for (let i = 0; i < 16; i++) bad[Math.floor(bad.length / 2) + i] = (bad[Math.floor(bad.length / 2) + i] as number) ^ 0xff;
    await writeFile(file, bad);
    try {
      const r = await node.cli('verify', backupId, '--json');
      expect(r.code).toBe(1);
      const report = JSON.parse(r.out[0] as string) as { outcome: string; stage: string; problems: string[] };
      expect(report).toMatchObject({ outcome: 'failed', stage: 'integrity' });
      expect(report.problems[0]).toMatch(/corrupted or altered/);
      if (hasAge) {
        // The standard tool refuses it too.
        const age = spawnSync('age', ['-d', '-i', key.file, file], { encoding: 'utf8' });
        expect(age.status).not.toBe(0);
      }
      const incident = sink.events.find((e) => e.incident.labels.backup_id === backupId && e.incident.source === 'backup.verify');
      expect(incident?.incident).toMatchObject({ priority: 'P1', status: 'open', title: `Backup ${backupId} failed verification` });
      expect(incident?.incident.summary).toMatch(/integrity/);
      const text = await (await node.request('/metrics')).text();
      expect(text).toMatch(/^backup_verify_total\{outcome="failed"\} [1-9]/m);
      const row = await node.db.selectFrom('backup_runs').select('verify_status').where('id', '=', backupId).executeTakeFirstOrThrow();
      expect(row.verify_status).toBe('failed');
    } finally {
      await writeFile(file, good);
    }
  });

  it('a corrupted archive whose manifest was rewritten to match is still caught: age authenticates every chunk', async () => {
    const file = archiveFile(backupId);
    const good = await readFile(file);
    const goodManifest = await readFile(manifestFile(backupId), 'utf8');
    const bad = Buffer.from(good);
    bad[bad.length - 100] = (bad[bad.length - 100] as number) ^ 0x01;
    const m = JSON.parse(goodManifest) as { object: { sha256: string } };
    m.object.sha256 = createHash('sha256').update(bad).digest('hex');
    await writeFile(file, bad);
    await writeFile(manifestFile(backupId), JSON.stringify(m));
    try {
      const r = await node.cli('verify', backupId, '--json');
      expect(r.code).toBe(1);
      const report = JSON.parse(r.out[0] as string) as { outcome: string; stage: string; problems: string[] };
      expect(report).toMatchObject({ outcome: 'failed', stage: 'decrypt' });
      expect(report.problems[0]).toMatch(/cannot decrypt/);
    } finally {
      await writeFile(file, good);
      await writeFile(manifestFile(backupId), goodManifest);
    }
  });

  it('a restored copy that differs from the manifest (row count, checksum) fails at the comparison', async () => {
    const goodManifest = await readFile(manifestFile(backupId), 'utf8');
    const m = JSON.parse(goodManifest) as { tables: Array<{ name: string; rows: number; checksum: string | null }> };
    const customers = m.tables.find((t) => t.name === 'customers') as { rows: number };
    customers.rows += 1;
    const payments = m.tables.find((t) => t.name === 'payments') as { checksum: string };
    payments.checksum = '0'.repeat(32);
    await writeFile(manifestFile(backupId), JSON.stringify(m));
    try {
      const r = await node.cli('verify', backupId);
      expect(r.code).toBe(1);
      expect(r.out[0]).toMatch(/^FAILED/);
      expect(r.out.join('\n')).toMatch(/BAD {2}shop\.customers .*500 rows instead of 501/);
      expect(r.out.join('\n')).toMatch(/BAD {2}public\.payments .*checksum differs/);
    } finally {
      await writeFile(manifestFile(backupId), goodManifest);
    }
    expect((await node.cli('verify', backupId)).code).toBe(0);
  });

  it('a wrong key fails at decryption', async () => {
    const r = await node.cli('verify', backupId, '--identity', otherKey.file, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out[0] as string) as { outcome: string; stage: string; problems: string[] };
    expect(report).toMatchObject({ outcome: 'failed', stage: 'decrypt' });
    expect(report.problems[0]).toMatch(/no identity matched/);
    if (hasAge) expect(spawnSync('age', ['-d', '-i', otherKey.file, archiveFile(backupId)]).status).not.toBe(0);
  });

  it('a full disk on the target fails the backup, leaves nothing partial, and opens an incident', async () => {
    const full = join(dir.path, 'full');
    await mkdir(full, { recursive: true });
    if (!tryMount(full, '16k')) {
      console.warn('skipped: cannot mount a tmpfs (needs root)');
      return;
    }
    const events: BackupFailed[] = [];
    const n = await bootBackup(
      world.tdb.database,
      { ...base(), targets: [{ id: 'tiny', kind: 'folder', path: full }] },
      { plugins: [incidentSinkPlugin(sink)] },
    );
    n.kernel.events.on(backupFailed, (e) => {
      events.push(e);
    });
    try {
      const outcome = await n.kernel.scheduler.trigger('backup.daily');
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(/no space left on the device/);
      const id = /backup (rgz-\S+) failed/.exec(outcome.error ?? '')?.[1] as string;
      const row = await n.db.selectFrom('backup_runs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row.status).toBe('failed');
      expect(row.targets).toMatchObject([{ target: 'tiny', ok: false }]);
      // Nothing under the key, no temp file left.
      expect(await readdir(full)).toEqual(expect.not.arrayContaining(['db']));
      expect(await readdir(join(full, '.rgz-partial')).catch(() => [])).toEqual([]);
      expect(sink.events.find((e) => e.incident.id === `backup:backup:${id}`)?.incident.summary).toMatch(/no space left/);
      expect(events.map((e) => e.backupId)).toContain(id);
      const text = await (await n.request('/metrics')).text();
      expect(text).toMatch(/^backup_runs_total\{outcome="failed"\} 1$/m);
      expect(text).toMatch(/^backup_last_success_timestamp_seconds [1-9]/m); // the earlier good backup, from the table
    } finally {
      await n.stop();
      spawnSync('umount', [full]);
    }
  });

  it('a full disk in the work folder fails the backup during the dump', async () => {
    const work = join(dir.path, 'fullwork');
    await mkdir(work, { recursive: true });
    if (!tryMount(work, '16k')) {
      console.warn('skipped: cannot mount a tmpfs (needs root)');
      return;
    }
    const n = await bootBackup(world.tdb.database, { ...base(), workDir: work });
    try {
      const r = await n.cli('run');
      expect(r.code).toBe(1);
      expect(r.out[0]).toMatch(/^FAILED/);
      expect(r.err.join('\n')).toMatch(/ENOSPC|no space left/i);
      expect(await readdir(work)).toEqual([]);
    } finally {
      await n.stop();
      spawnSync('umount', [work]);
    }
  });

  it('a missing pg_dump fails the backup with the package to install', async () => {
    const empty = join(dir.path, 'no-bin');
    await mkdir(empty, { recursive: true });
    const n = await bootBackup(world.tdb.database, { ...base(), database: { url: world.url, binDir: empty } }, { plugins: [incidentSinkPlugin(sink)] });
    try {
      const r = await n.cli('run', '--json');
      expect(r.code).toBe(1);
      const summary = JSON.parse(r.out[0] as string) as { status: string; error: string };
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatch(/pg_dump not found .*postgresql-client-1\d/);
    } finally {
      await n.stop();
    }
  });

  it('a pg_dump of another major version is refused', async () => {
    const bin = join(dir.path, 'old-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 11.22"\n');
    await chmod(join(bin, 'pg_dump'), 0o755);
    const n = await bootBackup(world.tdb.database, { ...base(), database: { url: world.url, binDir: bin } });
    try {
      const r = await n.cli('run', '--json');
      expect(r.code).toBe(1);
      expect((JSON.parse(r.out[0] as string) as { error: string }).error).toMatch(
        /is PostgreSQL 11 but the server is PostgreSQL 1\d; install postgresql-client-1\d/,
      );
    } finally {
      await n.stop();
    }
  });

  it('a backup while another process holds the backup lock is refused without an incident', async () => {
    const holder = await openDatabase({ url: world.url, poolMax: 1 });
    const before = sink.events.length;
    try {
      await holder.db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(${ADVISORY_LOCK_CLASS}, 1)`.execute(conn);
        const r = await node.cli('run', '--json');
        expect(r.code).toBe(1);
        expect((JSON.parse(r.out[0] as string) as { error: string }).error).toMatch(/another backup of this database is running/);
        await sql`select pg_advisory_unlock(${ADVISORY_LOCK_CLASS}, 1)`.execute(conn);
      });
    } finally {
      await holder.close();
    }
    expect(sink.events.length).toBe(before);
  });

  it('a database URL that reaches another database is refused (the snapshot does not import)', async () => {
    const other = await realDatabase();
    const n = await bootBackup(world.tdb.database, { ...base(), database: { url: other.url } });
    try {
      const r = await n.cli('run', '--json');
      expect(r.code).toBe(1);
      expect((JSON.parse(r.out[0] as string) as { error: string }).error).toMatch(/pg_dump failed .*snapshot.*must reach the server's own database/s);
    } finally {
      await n.stop();
      await other.close();
    }
  });
});
