import { readFileSync } from 'node:fs';
import { type CpeFixture, cpeProfileContract, librenms, parseSnmprec, simulatePoll, simulateProbe } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin, { createAirMaxProfile, firmwareOf, temperatureOf } from './index.js';

const { ALL_RECORDINGS, CONFORMANCE_AVAILABLE, recording } = librenms;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const fixture = (name: string) => parseSnmprec(readFileSync(new URL(`./test-support/fixtures/${name}`, import.meta.url), 'utf8'));

const syntheticAp: CpeFixture = {
  name: 'synthetic airMAX AP (not from a device)',
  recording: fixture('synthetic-airmax-ap.snmprec'),
  expect: {
    sample: { uptimeSeconds: 86_400, model: 'NanoStation 5AC loco', firmware: '8.7.11.46972.220614.0419', cpuLoadPercent: 12.5, temperatureC: 54 },
    radios: [
      {
        ifIndex: 5,
        role: 'ap',
        ssid: 'RGZ-AKPAKPA',
        frequencyMHz: 5785,
        channelWidthMHz: 20,
        txPowerDbm: 20,
        signalDbm: -66,
        noiseFloorDbm: -95,
        snrDb: 29,
        linkQualityPercent: 88,
        capacityPercent: 60,
        airtimePercent: 25.3,
        stationCount: 2,
      },
    ],
    interfaces: [
      { ifIndex: 5, name: 'ath0', operStatus: 'up', counterBits: 32, inOctets: 4_000_000_000n, outOctets: 4_294_000_000n },
      { ifIndex: 2, name: 'eth0', counterBits: 32, inErrors: 2, speedBps: 100_000_000 },
    ],
    stations: [
      {
        mac: '24:a4:3c:01:02:03',
        ip: '10.20.0.12',
        name: 'cpe-agbokou-12',
        signalDbm: -62,
        noiseFloorDbm: -95,
        snrDb: 33,
        linkQualityPercent: 91,
        txRateBps: 130_000_000,
        rxRateBps: 86_700_000,
        txBytes: 123_456_789_012n,
        rxBytes: 9_876_543_210n,
        byteCounterBits: 64,
        connectedSeconds: 3600,
        distanceMeters: 850,
      },
      { mac: '24:a4:3c:01:02:04', signalDbm: -70, linkQualityPercent: 77 },
    ],
  },
};

/** LibreNMS's recorded airMAX devices, with the values both sides read (see conformance.test.ts for the full comparison). */
const libreFixtures = (): CpeFixture[] =>
  CONFORMANCE_AVAILABLE
    ? [
        {
          name: 'LibreNMS airos_airos8.snmprec (LiteBeam 5AC Gen2, airOS 8.7.4)',
          recording: recording('airos_airos8'),
          expect: {
            sample: { model: 'LiteBeam 5AC Gen2', firmware: '8.7.4.45112.210415.1103', temperatureC: 16, cpuLoadPercent: 6.06, uptimeSeconds: 9_644_501 },
            radios: [
              {
                frequencyMHz: 5780,
                signalDbm: -70,
                noiseFloorDbm: -91,
                snrDb: 21,
                linkQualityPercent: 33,
                txRateBps: 39_000_000,
                rxRateBps: 52_000_000,
                airtimePercent: 69.9,
              },
            ],
            // airOS 8 without ifXTable: 32-bit counters.
            interfaces: [{ ifIndex: 7, name: 'ath0', counterBits: 32, inOctets: 2_365_946_539n, outOctets: 707_218_017n }],
          },
        },
        {
          name: 'LibreNMS airos.snmprec (Rocket Prism 5AC Gen2, airOS 8.5.1)',
          recording: recording('airos'),
          expect: { sample: { model: 'Rocket Prism 5AC Gen2', temperatureC: 66 }, radios: [{ stationCount: 22, role: 'ap', capacityPercent: 50 }] },
        },
      ]
    : [];

const foreign = () => [
  { name: 'an empty agent', recording: parseSnmprec('1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n1.3.6.1.2.1.1.1.0|4|Linux gateway') },
  ...(CONFORMANCE_AVAILABLE
    ? ALL_RECORDINGS.filter((n) => !['airos', 'airos_airos8'].includes(n)).map((n) => ({ name: `LibreNMS ${n}.snmprec`, recording: recording(n) }))
    : []),
];

cpeProfileContract('ubnt-airmax', () => ({ profile: createAirMaxProfile(), fixtures: [syntheticAp, ...libreFixtures()], foreign: foreign() }));

describe('ubnt-airmax profile', () => {
  it('plugin version equals package.json and contributes the profile under its configured id', () => {
    expect(plugin.version).toBe(pkg.version);
    expect(plugin.name).toBe('cpe-ubiquiti-airmax');
    expect(createAirMaxProfile({ id: 'airmax-2' }).id).toBe('airmax-2');
  });

  it('reads the firmware from dot11manufacturerProductVersion', () => {
    expect(firmwareOf('WA.ar934x.v8.7.4.45112.210415.1103')).toBe('8.7.4.45112.210415.1103');
    expect(firmwareOf('XW.ar934x.v6.3.6.33330.210818.1930')).toBe('6.3.6.33330.210818.1930');
    expect(firmwareOf('custom')).toBe('custom');
    expect(firmwareOf(undefined)).toBeUndefined();
  });

  it('scales ubntHostTemperature on airOS 8.7.4-8.7.6 (×10^7) and rejects impossible values', () => {
    expect(temperatureOf(160_000_000, '8.7.4.45112.210415.1103')).toBe(16);
    expect(temperatureOf(66, '8.5.1.37185.180307.0931')).toBe(66);
    expect(temperatureOf(450_000_000, undefined)).toBe(45);
    expect(temperatureOf(200, '8.5.1')).toBeUndefined();
  });

  it('scores airMAX 100, a MIB-less airOS sysObjectID 0 (airFiber shares it)', () => {
    const p = createAirMaxProfile();
    const ap = syntheticAp.recording;
    expect(p.detect(simulateProbe(p.probeOids, ap))).toBe(100);
    expect(p.detect({ sysObjectID: '1.3.6.1.4.1.10002.1', sysDescr: 'Linux 2.6.33', varbinds: [] })).toBe(0);
    expect(p.detect({ sysObjectID: '1.3.6.1.4.1.41112.1.4', sysDescr: '', varbinds: [] })).toBe(50);
  });

  it('reads its columns as Varbinds.column does: first varbind of an OID, NoSuch rows skipped, no prefix mix-ups', () => {
    const p = createAirMaxProfile();
    const base = simulatePoll(p.plan, syntheticAp.recording);
    const want = p.parse(base);
    const A = '1.3.6.1.4.1.41112.1.4';
    const varbinds = [
      ...base.varbinds,
      // A later duplicate of a row never wins; NoSuch* rows and an OID equal to a column are not rows.
      { oid: `${A}.5.1.7.1`, type: 'Integer' as const, value: 5 },
      { oid: `${A}.5.1.5.9`, type: 'NoSuchInstance' as const, value: null },
      { oid: `${A}.5.1.5`, type: 'Integer' as const, value: -20 },
      // Column 7.1.10 (station IP) must not be read as rows of 7.1.1.
      { oid: `${A}.7.1.1.1.36.164.60.1.2.9`, type: 'OctetString' as const, value: new Uint8Array() },
    ];
    expect(p.parse({ ...base, varbinds })).toEqual(want);
    const noise = p.parse({ ...base, varbinds: [{ oid: `${A}.5.1.8.1`, type: 'NoSuchObject' as const, value: null }, ...base.varbinds] });
    expect(noise.radios[0]?.noiseFloorDbm).toBeUndefined();
    expect(noise.radios[0]?.signalDbm).toBe(-66);
  });

  it('tolerates a station table without the AP scalars', () => {
    const p = createAirMaxProfile();
    const onlyStations = syntheticAp.recording.filter((vb) => vb.oid.startsWith('1.3.6.1.4.1.41112.1.4.7.'));
    const sample = p.parse(simulatePoll(p.plan, onlyStations));
    expect(sample.stations).toHaveLength(2);
    expect(sample.radios).toEqual([]);
  });
});
