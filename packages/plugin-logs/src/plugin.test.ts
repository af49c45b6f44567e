/** The logs plugin as a package and inside a server: metadata, config, routes' access and errors, serving vs CLI processes. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startTestServer } from '@rgz/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';
import { startWorld, tempDir, type World } from './test-support/world.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

/** Every file below `dir` with its size and modification time: what a passive process must leave alone. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const st = statSync(join(dir, name));
    if (st.isFile()) out[name] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

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

  it('a process that does not serve (the CLI beside the server) stays passive: no listeners, no writes, search works', async () => {
    w = await startWorld();
    expect(w.logs.ingest('syslog', '<13>Nov 25 10:00:00 ap-1 hostapd: wlan0: STA 24:a4:3c:01:02:03 IEEE 802.11: associated')).toBe(true);
    await w.logs.flush();
    const before = filesUnder(w.dataDir);
    const cli = await startWorld({ dataDir: w.dataDir, serve: false });
    try {
      const s = cli.logs.status();
      expect(s).toMatchObject({ active: false, ownerPid: null, outputs: ['local'] });
      expect(s.listeners).toMatchObject({ syslogUdp: null, syslogTcp: null, netflowUdp: null, netflowTcp: null });
      expect(cli.logs.ingest('syslog', '<13>x')).toBe(false);
      const found = await cli.logs.search({ limit: 10 });
      expect(found.items.map((i) => i.message)).toEqual([expect.stringContaining('STA 24:a4:3c:01:02:03')]);
      expect(filesUnder(w.dataDir)).toEqual(before);
    } finally {
      await cli.close();
    }
    expect(filesUnder(w.dataDir)).toEqual(before);
    expect(w.logs.status()).toMatchObject({ active: true, ownerPid: process.pid });
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
