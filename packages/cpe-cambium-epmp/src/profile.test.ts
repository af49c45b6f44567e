import { readFileSync } from 'node:fs';
import { type CpeFixture, cpeProfileContract, librenms, parseSnmprec, simulatePoll, simulateProbe } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin, { createEpmpProfile, sessionSeconds } from './index.js';

const { ALL_RECORDINGS, CONFORMANCE_AVAILABLE, recording } = librenms;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const fixture = (name: string) => parseSnmprec(readFileSync(new URL(`./test-support/fixtures/${name}`, import.meta.url), 'utf8'));

const sm: CpeFixture = {
  name: 'synthetic ePMP SM (not from a device)',
  recording: fixture('synthetic-epmp-sm.snmprec'),
  expect: {
    sample: { uptimeSeconds: 43_200, firmware: '4.7.1', cpuLoadPercent: 15.5 },
    radios: [
      {
        role: 'station',
        ssid: 'RGZ-CALAVI',
        frequencyMHz: 5490,
        channelWidthMHz: 40,
        txPowerDbm: 18,
        signalDbm: -61,
        chainSignalDbm: [-62, -64],
        snrDb: 31,
        linkQualityPercent: 97,
        capacityPercent: 83,
      },
    ],
    interfaces: [
      { ifIndex: 2, name: 'WLAN interface', counterBits: 64, inOctets: 9_876_543_210n, outOctets: 1_234_567_890n, inErrors: 3, speedBps: 220_000_000 },
      { ifIndex: 1, name: 'LAN interface 1', counterBits: 64, inOctets: 12_345_678_901n },
    ],
  },
};

const ap: CpeFixture = {
  name: 'synthetic ePMP AP (not from a device)',
  recording: fixture('synthetic-epmp-ap.snmprec'),
  expect: {
    sample: { firmware: '4.7.1', cpuLoadPercent: 42 },
    radios: [{ role: 'ap', frequencyMHz: 5490, signalDbm: -62, snrDb: 31, linkQualityPercent: 88, stationCount: 2 }],
    stations: [
      {
        mac: '00:04:56:11:22:33',
        ip: '10.21.0.5',
        name: 'sm-calavi-5',
        signalDbm: -58,
        remoteSignalDbm: -60,
        snrDb: 35,
        linkQualityPercent: 95,
        connectedSeconds: 2530,
        txRateBps: 130_000_000,
      },
      { mac: '00:04:56:11:22:44', signalDbm: -66, connectedSeconds: 93_600, txRateBps: 86_700_000 },
    ],
  },
};

const libre = (): CpeFixture[] =>
  CONFORMANCE_AVAILABLE
    ? [
        {
          name: 'LibreNMS epmp.snmprec (ePTP Master 4.5.6)',
          recording: recording('epmp'),
          expect: {
            sample: { firmware: '4.5.6', cpuLoadPercent: 42, uptimeSeconds: 1_920_143.68 },
            radios: [{ role: 'ptp', frequencyMHz: 5210, snrDb: 34, stationCount: 1 }],
            interfaces: [
              { ifIndex: 2, name: 'WLAN interface', counterBits: 64, inOctets: 271_761_841_907n, outOctets: 3_382_715_573_957n, speedBps: 220_000_000 },
            ],
          },
        },
      ]
    : [];

const foreign = () => [
  { name: 'a Linux gateway', recording: parseSnmprec('1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n1.3.6.1.2.1.1.1.0|4|Linux gateway') },
  ...(CONFORMANCE_AVAILABLE ? ALL_RECORDINGS.filter((n) => n !== 'epmp').map((n) => ({ name: `LibreNMS ${n}.snmprec`, recording: recording(n) })) : []),
];

cpeProfileContract('cambium-epmp', () => ({ profile: createEpmpProfile(), fixtures: [sm, ap, ...libre()], foreign: foreign() }));

describe('cambium-epmp profile', () => {
  it('plugin version equals package.json', () => {
    expect(plugin.version).toBe(pkg.version);
    expect(plugin.name).toBe('cpe-cambium-epmp');
  });

  it('parses session times', () => {
    expect(sessionSeconds('00:42:10')).toBe(2530);
    expect(sessionSeconds('2 days, 01:00:00')).toBe(176_400);
    expect(sessionSeconds('3600')).toBe(3600);
    expect(sessionSeconds('soon')).toBeUndefined();
  });

  it('detects by sysObjectID or by the MIB answering', () => {
    const p = createEpmpProfile();
    expect(p.detect(simulateProbe(p.probeOids, sm.recording))).toBe(100);
    expect(
      p.detect({
        sysObjectID: '1.3.6.1.4.1.8072.3.2.10',
        sysDescr: 'Linux',
        varbinds: [{ oid: '1.3.6.1.4.1.17713.21.1.1.17.0', type: 'OctetString', value: new TextEncoder().encode('4.7.1') }],
      }),
    ).toBe(90);
  });

  it('ignores the SM-only scalars an AP reports as 0', () => {
    const p = createEpmpProfile();
    const sample = p.parse(simulatePoll(p.plan, ap.recording));
    expect(sample.radios[0]?.role).toBe('ap');
    expect(sample.radios[0]?.chainSignalDbm).toBeUndefined();
    expect(sample.radios[0]?.txPowerDbm).toBeUndefined();
  });
});
