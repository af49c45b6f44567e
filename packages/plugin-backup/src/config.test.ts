/** Config: what is refused and how it is said; the plugin's version; the start-up key check. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from './config.js';
import backup from './index.js';
import { type AgeKey, ageKey, bootBackup, tempDir } from './test-support/harness.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const R = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

function issues(input: unknown): string[] {
  const r = configSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

it('plugin version equals package.json', () => {
  expect(backup.version).toBe(pkg.version);
  expect(backup.name).toBe('backup');
});

describe('config', () => {
  it('fills the defaults', () => {
    const c = configSchema.parse({ recipients: [R], targets: [{ id: 'nas', kind: 'folder', path: '/mnt/nas' }], verify: { afterBackup: false } });
    expect(c).toMatchObject({
      schedule: '0 3 * * *',
      retention: { days: 30, keepMin: 1 },
      verify: { afterBackup: false, checksumMaxRows: 10_000_000 },
      database: {},
    });
    const s3 = configSchema.parse({
      recipients: [R],
      targets: [{ id: 'off', kind: 's3', bucket: 'bkp', accessKeyId: 'a', secretAccessKey: 's', endpoint: 'https://s3.example.net' }],
      verify: { identityFile: '/etc/rgz/backup-key.txt' },
    });
    expect(s3.targets[0]).toMatchObject({ region: 'us-east-1', prefix: '', forcePathStyle: false, partSizeMiB: 8 });
  });

  it('refuses what cannot work, naming the key', () => {
    expect(issues({ recipients: [], targets: [] })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^recipients: at least one age recipient/), expect.stringMatching(/^targets: at least one target/)]),
    );
    expect(issues({ recipients: ['age1pq1abc'], targets: [{ id: 'a', kind: 'folder', path: '/x' }], verify: { afterBackup: false } })[0]).toMatch(
      /^recipients\.0: an X25519 age recipient/,
    );
    expect(issues({ recipients: [R], targets: [{ id: 'a', kind: 'folder', path: '/x' }] })).toEqual([
      expect.stringMatching(/^verify\.identityFile: verification decrypts each backup/),
    ]);
    expect(
      issues({
        recipients: [R],
        targets: [
          { id: 'a', kind: 'folder', path: '/x' },
          { id: 'a', kind: 'folder', path: '/y' },
        ],
        verify: { afterBackup: false },
      }),
    ).toEqual(['targets.1.id: target id "a" is used twice']);
    expect(
      issues({
        recipients: [R],
        targets: [{ id: 'b', kind: 's3', bucket: 'bkp', accessKeyId: 'a', secretAccessKey: 's', prefix: '/abs' }],
        verify: { afterBackup: false },
      })[0],
    ).toMatch(/^targets\.0\.prefix/);
    expect(issues({ recipients: [R], targets: [{ id: 'a', kind: 'ftp', path: '/x' }], verify: { afterBackup: false } })[0]).toMatch(/^targets\.0\.kind/);
  });
});

describe('start-up', () => {
  let tdb: TestDatabase;
  let dir: { path: string; remove(): Promise<void> };
  let key: AgeKey;
  let stranger: AgeKey;
  beforeAll(async () => {
    tdb = await createTestDatabase('embedded');
    dir = await tempDir('rgz-backup-config-');
    key = await ageKey(dir.path, 'k');
    stranger = await ageKey(dir.path, 's');
  });
  afterAll(async () => {
    await tdb.drop();
    await dir.remove();
  });

  it('refuses a verification key that is not among the recipients', async () => {
    await expect(
      bootBackup(tdb.database, {
        recipients: [key.recipient],
        targets: [{ id: 'nas', kind: 'folder', path: join(dir.path, 'nas') }],
        verify: { identityFile: stranger.file },
      }),
    ).rejects.toThrow(/verify\.identityFile: the public key of .* is not among recipients/);
  });
});
