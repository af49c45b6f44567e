import { readFileSync } from 'node:fs';
import { CpeProfiles } from '@rgz/core';
import { type CpeFixture, cpeProfileContract, parseSnmprec, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { createIfMibProfile } from './profile.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const recording = (file: string) => parseSnmprec(readFileSync(new URL(`./test-support/${file}`, import.meta.url), 'utf8'));

/** A synthetic recording (written by hand, not captured from a device): a Linux CPE running net-snmp. */
const device: CpeFixture = {
  name: 'synthetic net-snmp CPE (device.snmprec)',
  recording: recording('device.snmprec'),
  expect: {
    sample: { uptimeSeconds: 1234.56, model: 'Linux cpe-demo 5.10.0 mips' },
    interfaces: [
      { ifIndex: 2, name: 'eth0', operStatus: 'up', counterBits: 64, inOctets: 21_474_836_480n, outOctets: 5_194_967_296n, inErrors: 3, speedBps: 100_000_000 },
      { ifIndex: 3, name: 'ath0', operStatus: 'down', counterBits: 32, inOctets: 123n, outOctets: 456n },
    ],
  },
};
const mikrotik = { name: 'synthetic MikroTik (foreign.snmprec)', recording: recording('foreign.snmprec') };

// The shared CpeProfile contract from @rgz/core/testing: it plays the SNMP agent from the recordings.
cpeProfileContract('{{NAME}} (any agent)', () => ({ profile: createIfMibProfile({ id: 'contract' }), fixtures: [device], foreign: [] }));
cpeProfileContract('{{NAME}} (net-snmp enterprise only)', () => ({
  profile: createIfMibProfile({ id: 'contract-netsnmp', enterprise: '1.3.6.1.4.1.8072' }),
  fixtures: [device],
  foreign: [mikrotik],
}));

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its profile under the config id', async () => {
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'netsnmp', enterprise: '1.3.6.1.4.1.8072' } }] });
    try {
      expect(server.collect(CpeProfiles).get('netsnmp')?.provider).toBe('if-mib');
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { enterprise: '.1.3.6.1.2.1' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.enterprise',
    });
  });
});
