/**
 * What an operator does: name the package in rgz.config.yaml and let @rgz/server find it in node_modules. The
 * temporary install folder gets a node_modules link to the workspace's, where npm linked this package by name.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmsSenders } from '@rgz/core';
import { buildServer, loadConfig, loadPlugins } from '@rgz/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const workspaceNodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url));

describe('loading rgz-plugin-sms-file by package name', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rgz-install-'));
    await symlink(workspaceNodeModules, join(dir, 'node_modules'), 'dir');
    await writeFile(
      join(dir, 'rgz.config.yaml'),
      [
        'database:',
        '  embeddedDataDir: memory://',
        'log:',
        '  level: silent',
        'plugins:',
        '  - package: rgz-plugin-sms-file',
        '    config:',
        '      id: file',
        `      path: ${join(dir, 'sms.jsonl')}`,
        '      senderId: RGZ',
        '  - package: rgz-plugin-sms-file',
        '    name: sms-backup',
        '    enabled: false',
        '    config: {}',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('resolves the package from the config folder and skips disabled entries', async () => {
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.path).toBe(join(dir, 'rgz.config.yaml'));
    const plugins = await loadPlugins(loaded.config, loaded.baseDir);
    expect(plugins).toHaveLength(1);
    expect(plugins[0]?.plugin.name).toBe('sms-file');
    expect(plugins[0]?.source).toBe('rgz-plugin-sms-file');
    expect(plugins[0]?.config).toMatchObject({ id: 'file', senderId: 'RGZ' });
  });

  it('builds a server that serves the plugin', async () => {
    const { kernel, configPath } = await buildServer({ cwd: dir, env: {} });
    try {
      expect(configPath).toBe(join(dir, 'rgz.config.yaml'));
      await kernel.start({ worker: false, scheduler: false });
      expect(kernel.plugins.map((p) => `${p.source} ${p.name}@${p.version}`)).toEqual(['rgz-plugin-sms-file sms-file@0.1.0']);
      await kernel.collect(SmsSenders).get('file')?.send({ to: '+2290197000001', text: 'Votre code RGZ : 123456', correlationId: 'x' });
      const { token } = await kernel.tokens.issue({ role: 'noc', name: 'test' });
      const res = await kernel.app.request('/api/sms-file/messages', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: Array<{ text: string }> }).items[0]?.text).toBe('Votre code RGZ : 123456');
    } finally {
      await kernel.stop();
    }
  });

  it('says how to install a package that is missing', async () => {
    const loaded = await loadConfig({ cwd: dir, env: {} });
    const config = { ...loaded.config, plugins: [{ package: 'rgz-plugin-does-not-exist', config: {}, enabled: true }] };
    await expect(loadPlugins(config, dir)).rejects.toThrow(/not installed next to the config; run `npm install rgz-plugin-does-not-exist`/);
  });
});
