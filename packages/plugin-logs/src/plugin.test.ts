/** The logs plugin as a package and inside a server: metadata, config, routes' access and errors, the data-dir lock. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startTestServer } from '@rgz/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';
import { startWorld, tempDir, type World } from './test-support/world.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('logs plugin', () => {
  it("declares package.json's version and its name; config defaults are the embedded default on 5514", () => {
    expect(plugin.version).toBe(pkg.version);
    expect(plugin.name).toBe('logs');
    expect(pkg.name).toBe('@rgz/plugin-logs');
    const c = configSchema.parse({});
    expect(c.syslog).toMatchObject({ udpPort: 5514, tcpPort: 5514, host: '0.0.0.0', maxMessageBytes: 8192 });
    expect(c.cluster.url).toBeUndefined();
    expect(c.local.enabled).toBe('auto');
    expect(configSchema.safeParse({ cluster: { url: 'not a url' } }).success).toBe(false);
    expect(configSchema.safeParse({ syslog: { timeZone: 'Nowhere/Land' } }).success).toBe(false);
    expect(configSchema.safeParse({ cluster: { url: 'http://es:9200', apiKey: 'k', username: 'u' } }).success).toBe(false);
  });

  it('search and status are for the NOC; bad criteria are a 400 with the fix', async () => {
    w = await startWorld();
    expect((await w.server.request('/api/logs/search')).status).toBe(401);
    const bad = await w.server.request('/api/logs/search?since=yesterday', { headers: w.server.auth(w.server.nocToken) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/duration back from now/);
    const badIndex = await w.server.request('/api/logs/search?index=api,foo', { headers: w.server.auth(w.server.nocToken) });
    expect(badIndex.status).toBe(400);
    const status = await w.server.request('/api/logs/status', { headers: w.server.auth(w.server.nocToken) });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      active: true,
      outputs: ['local'],
      parsers: ['freeradius', 'airos', 'cambium-epmp'],
      cluster: { configured: false },
    });
    const doc = (await (await w.server.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/logs/search', '/api/logs/status']));
  });

  it('a second process on the same data directory stays passive (the CLI beside the server): no listeners, search works', async () => {
    const dataDir = tempDir();
    // A live process other than us owns the directory (our parent: the vitest main process).
    writeFileSync(join(dataDir, 'owner.lock'), String(process.ppid));
    w = await startWorld({ dataDir });
    const s = w.logs.status();
    expect(s).toMatchObject({ active: false, ownerPid: process.ppid });
    expect(s.listeners.syslogUdp).toBeNull();
    expect(w.logs.ingest('syslog', '<13>x')).toBe(false);
    expect((await w.logs.search({ limit: 10 })).items).toEqual([]);
    expect(readFileSync(join(dataDir, 'owner.lock'), 'utf8')).toBe(String(process.ppid));
  });

  it('a stale lock (dead pid) is taken over', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'owner.lock'), '999999999');
    w = await startWorld({ dataDir });
    expect(w.logs.status().active).toBe(true);
  });

  it('a port in use fails start-up with a message naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(
        startTestServer({ plugins: [{ plugin, config: { dataDir: tempDir(), syslog: { host: '127.0.0.1', udpPort: null, tcpPort: port } } }] }),
      ).rejects.toThrow(new RegExp(`tcp/${port}: the port is in use`));
    } finally {
      blocker.close();
    }
  });
});
