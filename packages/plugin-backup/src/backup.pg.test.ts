/**
 * The whole flow on the real local PostgreSQL: a fresh database with a few tables → the daily job (through the
 * scheduler, so it lands in core_job_runs) → pg_dump → age → a folder target AND an S3 target (the S3 test server
 * of this package) → verification by restore into a scratch database. Then the standard tools by hand: Debian's
 * `age -d -i key.txt` and `pg_restore` into another database, compared table by table. Then the CLI and the API.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupTargets, type Kysely, openDatabase, sql } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataKey, manifestKey, parseManifest } from './manifest.js';
import { collectStats, pinOutputSettings } from './stats.js';
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
import { type S3TestServer, startS3TestServer } from './test-support/s3-server.js';

async function statsOf(url: string) {
  const d = await openDatabase({ url, poolMax: 1 });
  try {
    return await d.db.connection().execute(async (conn) => {
      await pinOutputSettings(conn as Kysely<any>, false);
      return collectStats(conn as Kysely<any>, 1e12);
    });
  } finally {
    await d.close();
  }
}

describe('backup on real PostgreSQL: folder + S3, verification, standard tools', () => {
  let world: RealWorld;
  let s3: S3TestServer;
  let dir: { path: string; remove(): Promise<void> };
  let key: AgeKey;
  let node: Node;
  const sink = new RecordingIncidentSink();
  let backupId: string;

  beforeAll(async () => {
    world = await realDatabase();
    await fillShop(world.tdb.database.db as unknown as Kysely<any>);
    s3 = await startS3TestServer({ buckets: ['backups'] });
    dir = await tempDir('rgz-backup-pg-');
    key = await ageKey(dir.path);
    node = await bootBackup(
      world.tdb.database,
      {
        recipients: [key.recipient],
        targets: [
          { id: 'nas', kind: 'folder', path: join(dir.path, 'nas') },
          {
            id: 'offsite',
            kind: 's3',
            endpoint: s3.endpoint,
            region: s3.region,
            bucket: 'backups',
            prefix: 'rgz/',
            accessKeyId: s3.accessKeyId,
            secretAccessKey: s3.secretAccessKey,
            forcePathStyle: true,
          },
        ],
        database: { url: world.url },
        verify: { identityFile: key.file },
        workDir: join(dir.path, 'work'),
      },
      { plugins: [incidentSinkPlugin(sink)] },
    );
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await s3?.close();
    await world?.close();
    await dir?.remove();
  });

  it('registers backup.daily at 03:00, global, in the server time zone', async () => {
    const job = (await node.kernel.scheduler.info()).find((j) => j.id === 'backup.daily');
    expect(job).toMatchObject({ cron: '0 3 * * *', scope: 'global', timezone: node.kernel.config.timezone });
    expect(node.kernel.scheduler.list().find((j) => j.id === 'backup.daily')?.missed).toBe('run-once');
  });

  it('runs the daily job: dump, encrypt, upload to both targets, verify — recorded in core_job_runs and backup_runs', async () => {
    const outcome = await node.kernel.scheduler.trigger('backup.daily');
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('succeeded');
    const result = outcome.result as { id: string; verify: string; size_bytes: number };
    backupId = result.id;
    expect(result.verify).toBe('passed');

    const jobRun = await node.db.selectFrom('core_job_runs').selectAll().where('job_id', '=', 'backup.daily').executeTakeFirstOrThrow();
    expect(jobRun.status).toBe('succeeded');
    const run = await node.db.selectFrom('backup_runs').selectAll().where('id', '=', backupId).executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'succeeded', verify_status: 'passed', database_kind: 'postgres', trigger: 'manual' });
    expect(run.targets).toEqual([
      { target: 'nas', ok: true },
      { target: 'offsite', ok: true },
    ]);
    const verification = await node.db.selectFrom('backup_verifications').selectAll().where('backup_id', '=', backupId).executeTakeFirstOrThrow();
    expect(verification).toMatchObject({ outcome: 'passed', stage: 'done', target_id: 'nas' });

    // The same object on both targets, and a manifest beside it.
    const onFolder = await readFile(join(dir.path, 'nas', ...dataKey(backupId, 'pg_dump-custom').split('/')));
    const fromS3 = s3.buckets.get('backups')?.get(`rgz/${dataKey(backupId, 'pg_dump-custom')}`);
    expect(fromS3?.bytes.equals(onFolder)).toBe(true);
    expect(onFolder.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect(s3.authFailures).toEqual([]);
    const manifest = parseManifest(await readFile(join(dir.path, 'nas', ...manifestKey(backupId).split('/')), 'utf8'), 'manifest');
    expect(manifest.object.size_bytes).toBe(onFolder.length);
    expect(manifest.database.name).toBe(new URL(world.url).pathname.slice(1));
    expect(manifest.database.server_version_num).toBeGreaterThanOrEqual(150000);
    expect(manifest.tool).toMatch(/^pg_dump \(PostgreSQL\) 15/);
    const byName = Object.fromEntries(manifest.tables.map((t) => [`${t.schema}.${t.name}`, t]));
    expect(byName['shop.customers']?.rows).toBe(500);
    expect(byName['public.payments']?.rows).toBe(1000);
    expect(byName['public.events_log']?.rows).toBe(50);
    expect(byName['public.empty_table']).toMatchObject({ rows: 0 });
    expect(byName['public.backup_runs']?.rows).toBe(1); // itself, 'running', in the dump's snapshot
    for (const t of manifest.tables) expect(t.checksum).toMatch(/^[0-9a-f]{32}$/);
  });

  it('exports the metrics', async () => {
    const text = await (await node.request('/metrics')).text();
    expect(text).toMatch(/^backup_runs_total\{outcome="succeeded"\} 1$/m);
    expect(text).toMatch(/^backup_verify_total\{outcome="passed"\} 1$/m);
    const last = Number(/^backup_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    expect(Date.now() / 1000 - last).toBeLessThan(120);
    expect(Number(/^backup_size_bytes (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(1000);
    expect(Number(/^backup_duration_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it.skipIf(!hasAge)('decrypts with Debian age and restores with pg_restore into another database, identical table by table', async () => {
    const target = await realDatabase();
    try {
      for (const source of ['nas', 'offsite'] as const) {
        const encrypted = join(dir.path, `${source}.dump.age`);
        const t = node.kernel.collect(BackupTargets).get(source);
        const object = await t?.get(dataKey(backupId, 'pg_dump-custom'));
        await pipeline(object?.body as Readable, createWriteStream(encrypted));
        const plain = join(dir.path, `${source}.dump`);
        const age = spawnSync('age', ['-d', '-i', key.file, '-o', plain, encrypted], { encoding: 'utf8' });
        expect(age.stderr).toBe('');
        expect(age.status).toBe(0);
        expect((await readFile(plain)).subarray(0, 5).toString()).toBe('PGDMP');
        if (source === 'nas') {
          const restore = spawnSync('pg_restore', ['--no-owner', '--exit-on-error', '-d', target.url, plain], { encoding: 'utf8' });
          expect(restore.stderr).toBe('');
          expect(restore.status).toBe(0);
        }
      }
      // The restored copy matches the manifest (taken in the dump's snapshot) in every table, and the user tables
      // match the live database, which has not changed since.
      const manifest = parseManifest(await readFile(join(dir.path, 'nas', ...manifestKey(backupId).split('/')), 'utf8'), 'manifest');
      const restored = await statsOf(target.url);
      expect(restored).toEqual(manifest.tables);
      const live = await statsOf(world.url);
      for (const name of ['customers', 'payments', 'events_log', 'empty_table']) {
        const r = restored.find((t) => t.name === name);
        expect(r).toBeDefined();
        expect(live.find((t) => t.name === name)).toEqual(r);
      }
    } finally {
      await target.close();
    }
  });

  it('lists, verifies and restores through the CLI; a non-empty database is refused without --force', async () => {
    const list = await node.cli('list');
    expect(list.code).toBe(0);
    expect(list.out.join('\n')).toContain(`${backupId}`);
    expect(list.out.join('\n')).toContain('nas,offsite');

    const verify = await node.cli('verify', backupId, '--target', 'offsite');
    expect(verify.err).toEqual([]);
    expect(verify.code).toBe(0);
    expect(verify.out[0]).toMatch(new RegExp(`^PASSED  ${backupId} from offsite`));

    const into = await realDatabase();
    try {
      const first = await node.cli('restore', backupId, '--into', into.url);
      expect(first.err).toEqual([]);
      expect(first.code).toBe(0);
      expect(first.out[0]).toMatch(/^RESTORED /);
      const again = await node.cli('restore', backupId, '--into', into.url);
      expect(again.code).toBe(1);
      expect(again.err.join('\n')).toMatch(/is not empty .*--force/);
      // Rows changed after the restore are put back by a forced restore.
      await sql`delete from payments where id <= 10`.execute(into.tdb.database.db);
      const forced = await node.cli('restore', backupId, '--into', into.url, '--force', '--json');
      expect(forced.code).toBe(0);
      const report = JSON.parse(forced.out[0] as string) as { problems: string[]; tables: Array<{ table: string; actualRows: number }> };
      expect(report.problems).toEqual([]);
      expect(report.tables.find((t) => t.table === 'public.payments')?.actualRows).toBe(1000);
    } finally {
      await into.close();
    }
    // No scratch database is left behind.
    const admin = await openDatabase({ url: world.url, poolMax: 1 });
    const left = await sql<{ datname: string }>`select datname from pg_database where datname like 'rgz_verify_%'`.execute(admin.db);
    await admin.close();
    expect(left.rows).toEqual([]);
    expect(sink.events).toEqual([]);
  });

  it('serves runs, status and backups to the NOC; a trigger answers 202 and the run completes', async () => {
    expect((await node.kernel.app.request('/api/backup/status')).status).toBe(401);
    const started = await node.request('/api/backup/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ verify: false }),
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const busy = await node.request('/api/backup/runs', { method: 'POST' });
    expect(busy.status).toBe(409);
    let run: { status: string; verify_status: string | null; trigger: string } = { status: 'running', verify_status: null, trigger: '' };
    for (let i = 0; i < 300 && run.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = (await (await node.request(`/api/backup/runs/${id}`)).json()) as typeof run;
    }
    expect(run).toMatchObject({ status: 'succeeded', verify_status: 'skipped', trigger: 'api' });
    const runs = (await (await node.request('/api/backup/runs')).json()) as { items: Array<{ id: string }> };
    expect(runs.items.map((r) => r.id)).toContain(backupId);
    const status = (await (await node.request('/api/backup/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      running: null,
      schedule: '0 3 * * *',
      retention_days: 30,
      targets: [
        { id: 'nas', provider: 'folder' },
        { id: 'offsite', provider: 's3' },
      ],
    });
    expect((status.last_success as { id: string }).id).toBe(id);
    const backups = (await (await node.request('/api/backup/backups')).json()) as { items: Array<{ id: string; targets: Record<string, unknown> }> };
    expect(backups.items[0]?.id).toBe(id);
    expect(backups.items[0]?.targets).toEqual({ nas: { archive: true, manifest: true }, offsite: { archive: true, manifest: true } });
    const audit = await node.db.selectFrom('audit_log').select(['action', 'target_id']).where('action', '=', 'backup.run').execute();
    expect(audit).toEqual([{ action: 'backup.run', target_id: id }]);

    // Verify that backup again through the API, from the S3 target.
    const verify = await node.request(`/api/backup/runs/${id}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'offsite' }),
    });
    expect(verify.status).toBe(202);
    let detail: { verify_status: string | null; verifications: Array<{ outcome: string; target_id: string; trigger: string }> } = {
      verify_status: null,
      verifications: [],
    };
    for (let i = 0; i < 300 && !detail.verifications.some((v) => v.outcome !== 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      detail = (await (await node.request(`/api/backup/runs/${id}`)).json()) as typeof detail;
    }
    expect(detail.verifications).toMatchObject([{ outcome: 'passed', target_id: 'offsite', trigger: 'api' }]);
    expect(detail.verify_status).toBe('passed');
    const unknown = await node.request(`/api/backup/runs/${id}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'nope' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('leaves no work file behind', async () => {
    expect(await readdir(join(dir.path, 'work'))).toEqual([]);
  });
});
