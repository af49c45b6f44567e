import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupTargets } from '@rgz/core';
import { backupTargetContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { FolderTarget } from './folder-target.js';
import plugin from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared BackupTarget contract from @rgz/core/testing; the peer is a fresh temporary folder.
backupTargetContract('{{NAME}}', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rgz-plugin-{{NAME}}-'));
  return { target: new FolderTarget('contract', dir), close: () => rm(dir, { recursive: true, force: true }) };
});

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its target under the config id, creating the folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgz-plugin-{{NAME}}-'));
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'nas', path: join(dir, 'backups') } }] });
    try {
      const target = server.collect(BackupTargets).get('nas');
      await target?.put('rgz/db/test.dump', new TextEncoder().encode('dump'));
      expect(await readFile(join(dir, 'backups', 'rgz', 'db', 'test.dump'), 'utf8')).toBe('dump');
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { id: 'nas' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.path',
    });
  });

  it('names the key when the folder cannot be created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgz-plugin-{{NAME}}-'));
    await writeFile(join(dir, 'a-file'), '');
    try {
      await expect(startTestServer({ plugins: [{ plugin, config: { path: join(dir, 'a-file', 'backups') } }] })).rejects.toThrow(
        'plugins.{{NAME}}.config.path: cannot write to',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
