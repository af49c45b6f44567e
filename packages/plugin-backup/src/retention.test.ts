/**
 * Retention deletes exactly the backups older than the retention period — archive and manifest — on a folder and on
 * S3, dated by fabricated backup ids around the 30-day boundary, and touches nothing else.
 */
import type { BackupTarget } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataKey, manifestKey } from './manifest.js';
import { applyRetention } from './retention.js';
import { FolderTarget } from './targets/folder.js';
import { S3Target } from './targets/s3.js';
import { tempDir } from './test-support/harness.js';
import { type S3TestServer, startS3TestServer } from './test-support/s3-server.js';

const NOW = new Date('2026-11-25T03:00:00Z');
const DAY = 86_400_000;

function idAt(msBeforeNow: number, suffix: string): string {
  const stamp = new Date(NOW.getTime() - msBeforeNow)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `rgz-${stamp}-${suffix}`;
}

async function keys(target: BackupTarget): Promise<string[]> {
  const out: string[] = [];
  for await (const o of target.list()) out.push(o.key);
  return out;
}

async function seed(target: BackupTarget) {
  const ids = {
    ninetyDays: idAt(90 * DAY, '00000001'),
    thirtyOneDays: idAt(31 * DAY, '00000002'),
    justOver: idAt(30 * DAY + 1000, '00000003'), // 30 days and 1 s: expired
    exactly: idAt(30 * DAY, '00000004'), // exactly 30 days: kept (not *older* than 30 days)
    justUnder: idAt(30 * DAY - 60_000, '00000005'),
    yesterday: idAt(DAY, '00000006'),
    noManifestOld: idAt(40 * DAY, '00000007'), // an interrupted upload, long ago: its archive goes too
    manifestOnlyOld: idAt(35 * DAY, '00000008'), // an interrupted deletion: its manifest goes too
  };
  for (const [name, id] of Object.entries(ids)) {
    if (name !== 'manifestOnlyOld') await target.put(dataKey(id, 'pg_dump-custom'), new TextEncoder().encode(`archive ${id}`));
    if (name !== 'noManifestOld') await target.put(manifestKey(id), new TextEncoder().encode('{}'));
  }
  // Objects this plugin did not write, some with old-looking names: never touched.
  const foreign = [
    'README.txt',
    'db/2020/01/01/notes.txt',
    'db/2020/01/01/rgz-20200101T000000Z-zzzzzzzz.dump.age',
    'other/rgz-20200101T000000Z-00000009.dump.age',
  ];
  for (const k of foreign) await target.put(k, new TextEncoder().encode('x'));
  return { ids, foreign };
}

function suite(name: string, make: () => Promise<{ target: BackupTarget; close(): Promise<void> }>) {
  describe(`retention on ${name}`, () => {
    let target: BackupTarget;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ target, close } = await make());
    });
    afterAll(() => close());

    it('deletes exactly what is older than 30 days', async () => {
      const { ids, foreign } = await seed(target);
      const before = await keys(target);
      const dry = await applyRetention(target, { days: 30, keepMin: 1, now: NOW, dryRun: true });
      expect(await keys(target)).toEqual(before);

      const result = await applyRetention(target, { days: 30, keepMin: 1, now: NOW });
      const expired = [ids.ninetyDays, ids.noManifestOld, ids.manifestOnlyOld, ids.thirtyOneDays, ids.justOver];
      const expectedDeleted = expired
        .flatMap((id) => [dataKey(id, 'pg_dump-custom'), manifestKey(id)])
        .filter((k) => !(k.includes(ids.noManifestOld) && k.endsWith('.json')) && !(k.includes(ids.manifestOnlyOld) && k.endsWith('.age')));
      expect([...result.deleted].sort()).toEqual([...expectedDeleted].sort());
      expect(dry.deleted.sort()).toEqual(result.deleted.sort());
      // Each backup's archive goes before its manifest.
      for (const id of expired) {
        const a = result.deleted.indexOf(dataKey(id, 'pg_dump-custom'));
        const m = result.deleted.indexOf(manifestKey(id));
        if (a >= 0 && m >= 0) expect(a).toBeLessThan(m);
      }
      const after = await keys(target);
      expect(after.sort()).toEqual(before.filter((k) => !expectedDeleted.includes(k)).sort());
      for (const k of foreign) expect(after).toContain(k);
      expect(result.kept.sort()).toEqual([ids.exactly, ids.justUnder, ids.yesterday].sort());

      // Nothing more to do on a second pass.
      expect((await applyRetention(target, { days: 30, keepMin: 1, now: NOW })).deleted).toEqual([]);
      for (const k of after) if (!foreign.includes(k)) await target.delete(k);
    });

    it('keeps the newest complete backups (keepMin) even when all are old', async () => {
      const old = [idAt(100 * DAY, '0000000a'), idAt(90 * DAY, '0000000b'), idAt(80 * DAY, '0000000c')];
      const incompleteNewest = idAt(70 * DAY, '0000000d');
      for (const id of old) {
        await target.put(dataKey(id, 'pg_dump-custom'), new Uint8Array(1));
        await target.put(manifestKey(id), new Uint8Array(1));
      }
      await target.put(dataKey(incompleteNewest, 'pg_dump-custom'), new Uint8Array(1));
      const r = await applyRetention(target, { days: 30, keepMin: 2, now: NOW });
      expect(r.kept.sort()).toEqual([old[1], old[2]].sort());
      expect(r.deleted.sort()).toEqual(
        [dataKey(old[0] as string, 'pg_dump-custom'), manifestKey(old[0] as string), dataKey(incompleteNewest, 'pg_dump-custom')].sort(),
      );
    });
  });
}

suite('a folder', async () => {
  const dir = await tempDir('rgz-retention-');
  return { target: new FolderTarget('nas', dir.path), close: dir.remove };
});

let server: S3TestServer | undefined;
suite('S3', async () => {
  server = await startS3TestServer({ buckets: ['b'], maxKeysCap: 3 });
  const target = new S3Target({
    id: 's3',
    endpoint: server.endpoint,
    region: server.region,
    bucket: 'b',
    prefix: 'site-a/',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    partSizeMiB: 5,
  });
  return {
    target,
    async close() {
      target.destroy();
      await server?.close();
    },
  };
});
