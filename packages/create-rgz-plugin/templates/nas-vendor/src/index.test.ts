import { readFileSync } from 'node:fs';
import { NasVendors } from '@rgz/core';
import { nasVendorContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createStandardVendor } from './dialect.js';
import plugin from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared NasVendor contract from @rgz/core/testing. A dialect is pure: no peer, only the encodings are checked.
nasVendorContract('{{NAME}}', () => createStandardVendor({ id: 'contract', disconnect: true }));
nasVendorContract('{{NAME}} without Disconnect-Request', () => createStandardVendor({ id: 'contract-no-dm', disconnect: false }));

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

it('reports rate limits and quotas unsupported, and expresses the timeouts', () => {
  const vendor = createStandardVendor({ id: 'x', disconnect: true });
  const { attributes, unsupported } = vendor.accessAccept({
    rateLimit: { upBps: 1_000_000, downBps: 4_000_000 },
    quota: { totalBytes: 1024n ** 3n },
    sessionTimeoutSeconds: 86_400,
    idleTimeoutSeconds: 900,
    interimIntervalSeconds: 300,
  });
  expect(unsupported).toEqual(['rateLimit', 'quota.total']);
  expect(attributes.map((a) => [a.name, a.value])).toEqual([
    ['Session-Timeout', 86_400],
    ['Idle-Timeout', 900],
    ['Acct-Interim-Interval', 300],
  ]);
});

it('names a session to disconnect by the attributes the NAS reported in accounting, in RFC 5176 order', () => {
  const vendor = createStandardVendor({ id: 'x', disconnect: true });
  const attributes = vendor.disconnectRequest?.({
    userName: 'u1',
    acctSessionId: 'S-1',
    framedIpAddress: '10.0.0.7',
    nasIdentifier: 'ap-1',
  });
  expect(attributes?.map((a) => [a.name, a.value])).toEqual([
    ['User-Name', 'u1'],
    ['Acct-Session-Id', 'S-1'],
    ['Framed-IP-Address', '10.0.0.7'],
    ['NAS-Identifier', 'ap-1'],
  ]);
  expect(createStandardVendor({ id: 'y', disconnect: false }).disconnectRequest).toBeUndefined();
});

describe('{{NAME}} in a server', () => {
  it('contributes its dialect under the config id', async () => {
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'std' } }] });
    try {
      expect(server.collect(NasVendors).get('std')?.provider).toBe('standard');
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { id: 'Not An Id' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.id',
    });
  });
});
