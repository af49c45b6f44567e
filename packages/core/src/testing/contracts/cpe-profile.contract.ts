/**
 * Contract suite every `CpeProfile` runs over recorded walks (snmpsim `.snmprec` files, e.g. LibreNMS's, or own
 * recordings). The suite plays the poller: it answers the profile's probe and poll plan from the recording, exactly
 * as an agent would (missing OIDs → NoSuch*, walks → the subtree in OID order), so a profile that reads OIDs it did not
 * ask for fails. It checks detection, the expected normalised values, physical plausibility and totality of `parse`.
 *
 * Also exports `parseSnmprec` and `simulatePoll` for profile unit tests.
 */

import { describe, expect, it } from 'vitest';
import type {
  CpePollPlan,
  CpePollResult,
  CpeProbe,
  CpeProfile,
  CpeSample,
  InterfaceStats,
  Oid,
  RadioStats,
  SnmpVarbind,
  StationStats,
} from '../../extension-points/cpe-profile.js';
import { MAC, numbersIn } from './util.js';

const OID = /^[0-2](?:\.(?:0|[1-9]\d*))+$/;

/** Compare two dotted OIDs numerically, component by component (agent walk order). */
export function compareOids(a: Oid, b: Oid): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const isUnder = (oid: Oid, root: Oid) => oid.startsWith(`${root}.`);

/**
 * Parse an snmpsim `.snmprec` recording (`OID|TAG|VALUE` per line; tags 2 Integer, 4 OctetString, 4x hex
 * OctetString, 5 Null, 6 OID, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 68 Opaque, 70 Counter64).
 * Unknown tags and malformed lines are skipped. Result sorted in OID order.
 */
export function parseSnmprec(text: string): SnmpVarbind[] {
  const out: SnmpVarbind[] = [];
  for (const line of text.split(/\r?\n/)) {
    const first = line.indexOf('|');
    const second = line.indexOf('|', first + 1);
    if (first <= 0 || second < 0) continue;
    const oid = line.slice(0, first).replace(/^\./, '');
    const tag = line.slice(first + 1, second);
    const raw = line.slice(second + 1);
    if (!OID.test(oid)) continue;
    switch (tag) {
      case '2':
        out.push({ oid, type: 'Integer', value: Number(raw) });
        break;
      case '4':
        out.push({ oid, type: 'OctetString', value: new TextEncoder().encode(raw) });
        break;
      case '4x':
        out.push({ oid, type: 'OctetString', value: new Uint8Array(Buffer.from(raw, 'hex')) });
        break;
      case '5':
        out.push({ oid, type: 'Null', value: null });
        break;
      case '6':
        out.push({ oid, type: 'ObjectIdentifier', value: raw.replace(/^\./, '') });
        break;
      case '64':
        out.push({ oid, type: 'IpAddress', value: raw });
        break;
      case '65':
        out.push({ oid, type: 'Counter32', value: Number(raw) });
        break;
      case '66':
        out.push({ oid, type: 'Gauge32', value: Number(raw) });
        break;
      case '67':
        out.push({ oid, type: 'TimeTicks', value: Number(raw) });
        break;
      case '68':
        out.push({ oid, type: 'Opaque', value: new Uint8Array(Buffer.from(raw, 'hex')) });
        break;
      case '70':
        if (/^\d+$/.test(raw)) out.push({ oid, type: 'Counter64', value: BigInt(raw) });
        break;
      default:
        break;
    }
  }
  return out.sort((a, b) => compareOids(a.oid, b.oid));
}

/** Answer a multi-OID get from a recording: present OIDs as recorded, others `NoSuchInstance`, in request order. */
export function simulateGet(oids: readonly Oid[], recording: readonly SnmpVarbind[]): SnmpVarbind[] {
  const byOid = new Map(recording.map((vb) => [vb.oid, vb]));
  return oids.map((oid) => byOid.get(oid) ?? { oid, type: 'NoSuchInstance', value: null });
}

/** Answer a poll plan from a recording, as the poller would hand it to `parse`. */
export function simulatePoll(plan: CpePollPlan, recording: readonly SnmpVarbind[], polledAt = new Date()): CpePollResult {
  const sorted = [...recording].sort((a, b) => compareOids(a.oid, b.oid));
  const varbinds = [...simulateGet(plan.get, sorted), ...plan.walk.flatMap((root) => sorted.filter((vb) => isUnder(vb.oid, root)))];
  return { varbinds, polledAt };
}

/** The probe the poller would build for a recorded device. */
export function simulateProbe(probeOids: readonly Oid[], recording: readonly SnmpVarbind[]): CpeProbe {
  const [descr, objectId] = simulateGet(['1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.2.0'], recording);
  return {
    sysDescr: descr?.type === 'OctetString' ? new TextDecoder().decode(descr.value) : '',
    sysObjectID: objectId?.type === 'ObjectIdentifier' ? objectId.value : '',
    varbinds: simulateGet(probeOids, recording),
  };
}

export interface CpeFixture {
  /** Shown in failures (`LibreNMS airos_airos8.snmprec, LiteBeam 5AC Gen2, airOS 8.7.4`). */
  readonly name: string;
  /** Full recording of the device (e.g. `parseSnmprec(readFileSync(...))`). */
  readonly recording: readonly SnmpVarbind[];
  /** Expected values; only what is given is checked. Lists match by element (radios) or by key (ifIndex, mac). */
  readonly expect: {
    readonly sample?: Partial<Pick<CpeSample, 'uptimeSeconds' | 'model' | 'firmware' | 'cpuLoadPercent' | 'temperatureC'>>;
    readonly radios?: readonly Partial<RadioStats>[];
    readonly interfaces?: readonly (Partial<InterfaceStats> & { readonly ifIndex: number })[];
    readonly stations?: readonly (Partial<StationStats> & { readonly mac: string })[];
  };
}

export interface CpeProfileHarness {
  readonly profile: CpeProfile;
  /** Devices of this vendor family. */
  readonly fixtures: readonly CpeFixture[];
  /** Recordings of other vendors' devices, which the profile must not claim (score 0). */
  readonly foreign: readonly { readonly name: string; readonly recording: readonly SnmpVarbind[] }[];
}

const DBM = [-130, 40] as const;

function expectPlausible(sample: CpeSample, context: string): void {
  for (const { path, value } of numbersIn(sample)) expect(Number.isFinite(value), `${context}: ${path} = ${value}`).toBe(true);
  const inRange = (value: number | undefined, [lo, hi]: readonly [number, number], what: string) => {
    if (value !== undefined) {
      expect(value, `${context}: ${what}`).toBeGreaterThanOrEqual(lo);
      expect(value, `${context}: ${what}`).toBeLessThanOrEqual(hi);
    }
  };
  const percent = [0, 100] as const;
  const nonNegative = [0, Number.MAX_SAFE_INTEGER] as const;
  inRange(sample.uptimeSeconds, nonNegative, 'uptimeSeconds');
  inRange(sample.cpuLoadPercent, percent, 'cpuLoadPercent');
  for (const [i, r] of sample.radios.entries()) {
    const at = (f: string) => `radios[${i}].${f}`;
    inRange(r.signalDbm, DBM, at('signalDbm'));
    inRange(r.noiseFloorDbm, DBM, at('noiseFloorDbm'));
    inRange(r.txPowerDbm, DBM, at('txPowerDbm'));
    for (const c of r.chainSignalDbm ?? []) inRange(c, DBM, at('chainSignalDbm'));
    inRange(r.linkQualityPercent, percent, at('linkQualityPercent'));
    inRange(r.capacityPercent, percent, at('capacityPercent'));
    inRange(r.airtimePercent, percent, at('airtimePercent'));
    inRange(r.txRateBps, nonNegative, at('txRateBps'));
    inRange(r.rxRateBps, nonNegative, at('rxRateBps'));
    inRange(r.frequencyMHz, [0, 100_000], at('frequencyMHz'));
    inRange(r.stationCount, nonNegative, at('stationCount'));
  }
  for (const itf of sample.interfaces) {
    const at = `interfaces[ifIndex=${itf.ifIndex}]`;
    expect(Number.isInteger(itf.ifIndex) && itf.ifIndex > 0, at).toBe(true);
    expect([32, 64], `${at}.counterBits`).toContain(itf.counterBits);
    const max = (1n << BigInt(itf.counterBits)) - 1n;
    for (const c of [itf.inOctets, itf.outOctets]) {
      if (c !== undefined) {
        expect(typeof c, at).toBe('bigint');
        expect(c >= 0n && c <= max, `${at}: octets within ${itf.counterBits} bits`).toBe(true);
      }
    }
    for (const e of [itf.inErrors, itf.outErrors, itf.inDiscards]) inRange(e, [0, 2 ** 32 - 1], `${at} errors`);
  }
  const ifIndexes = sample.interfaces.map((i) => i.ifIndex);
  expect(new Set(ifIndexes).size, `${context}: unique ifIndex`).toBe(ifIndexes.length);
  for (const st of sample.stations) {
    const at = `stations[${st.mac}]`;
    expect(st.mac, at).toMatch(MAC);
    inRange(st.signalDbm, DBM, `${at}.signalDbm`);
    inRange(st.remoteSignalDbm, DBM, `${at}.remoteSignalDbm`);
    inRange(st.linkQualityPercent, percent, `${at}.linkQualityPercent`);
    for (const c of [st.txBytes, st.rxBytes]) if (c !== undefined) expect(c >= 0n, at).toBe(true);
  }
}

function expectMatches(sample: CpeSample, fixture: CpeFixture): void {
  const { expect: want, name } = fixture;
  if (want.sample !== undefined) expect(sample, name).toMatchObject(want.sample);
  for (const radio of want.radios ?? []) expect(sample.radios, `${name}: radio`).toContainEqual(expect.objectContaining(radio));
  for (const itf of want.interfaces ?? []) {
    const got = sample.interfaces.find((i) => i.ifIndex === itf.ifIndex);
    expect(got, `${name}: interface ${itf.ifIndex}`).toBeDefined();
    expect(got, `${name}: interface ${itf.ifIndex}`).toMatchObject(itf);
  }
  for (const st of want.stations ?? []) {
    const got = sample.stations.find((s) => s.mac === st.mac);
    expect(got, `${name}: station ${st.mac}`).toBeDefined();
    expect(got, `${name}: station ${st.mac}`).toMatchObject(st);
  }
}

/** Replace every value by one of the wrong type, keeping OIDs: a profile must survive agents that lie. */
function wrongTypes(varbinds: readonly SnmpVarbind[]): SnmpVarbind[] {
  return varbinds.map(
    (vb): SnmpVarbind =>
      vb.type === 'OctetString' || vb.type === 'Opaque'
        ? { oid: vb.oid, type: 'Integer', value: -1 }
        : { oid: vb.oid, type: 'OctetString', value: new TextEncoder().encode('garbage') },
  );
}

export function cpeProfileContract(name: string, make: () => CpeProfileHarness | Promise<CpeProfileHarness>): void {
  describe(`CpeProfile contract: ${name}`, () => {
    it('has an id, a provider and a well-formed plan', async () => {
      const { profile } = await make();
      expect(profile.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(profile.provider.length).toBeGreaterThan(0);
      const { get, walk, maxRepetitions } = profile.plan;
      expect(get.length + walk.length).toBeGreaterThan(0);
      for (const oid of [...get, ...walk, ...profile.probeOids]) expect(oid).toMatch(OID);
      expect(new Set(get).size, 'no duplicate get OIDs').toBe(get.length);
      expect(new Set(walk).size, 'no duplicate walk roots').toBe(walk.length);
      for (const root of walk) {
        for (const other of walk) if (other !== root) expect(isUnder(other, root), `${other} is inside walk ${root}`).toBe(false);
        for (const oid of get) expect(isUnder(oid, root), `get ${oid} is inside walk ${root}`).toBe(false);
      }
      if (maxRepetitions !== undefined) expect(Number.isInteger(maxRepetitions) && maxRepetitions >= 1).toBe(true);
    });

    it('claims its own devices and no others', async () => {
      const { profile, fixtures, foreign } = await make();
      expect(fixtures.length, 'harness gives at least one fixture').toBeGreaterThan(0);
      for (const fixture of fixtures) {
        const score = profile.detect(simulateProbe(profile.probeOids, fixture.recording));
        expect(score, fixture.name).toBeGreaterThan(0);
      }
      for (const other of foreign) {
        expect(profile.detect(simulateProbe(profile.probeOids, other.recording)), other.name).toBe(0);
      }
      expect(profile.detect({ sysObjectID: '', sysDescr: '', varbinds: [] }), 'empty probe').toBe(0);
    });

    it('parses each recording to the expected, plausible sample using only the OIDs it planned', async () => {
      const { profile, fixtures } = await make();
      for (const fixture of fixtures) {
        const polledAt = new Date('2026-11-24T12:00:00Z');
        const sample = profile.parse(simulatePoll(profile.plan, fixture.recording, polledAt));
        expect(sample.polledAt.getTime(), fixture.name).toBe(polledAt.getTime());
        expectPlausible(sample, fixture.name);
        expectMatches(sample, fixture);
      }
    });

    it('is total: empty, missing and wrongly typed answers give a sample, not an exception', async () => {
      const { profile, fixtures } = await make();
      const polledAt = new Date();
      const cases: [string, CpePollResult][] = [
        ['no varbinds', { varbinds: [], polledAt }],
        ['all NoSuchObject', { varbinds: profile.plan.get.map((oid): SnmpVarbind => ({ oid, type: 'NoSuchObject', value: null })), polledAt }],
        ...fixtures.map((f): [string, CpePollResult] => [
          `${f.name}, wrong types`,
          { varbinds: wrongTypes(simulatePoll(profile.plan, f.recording, polledAt).varbinds), polledAt },
        ]),
        ...fixtures.map((f): [string, CpePollResult] => {
          const full = simulatePoll(profile.plan, f.recording, polledAt).varbinds;
          return [`${f.name}, every other varbind`, { varbinds: full.filter((_, i) => i % 2 === 0), polledAt }];
        }),
      ];
      for (const [label, result] of cases) {
        let sample: CpeSample;
        try {
          sample = profile.parse(result);
        } catch (error) {
          expect.fail(`${label}: parse threw ${String(error)}`);
        }
        expect(Array.isArray(sample.radios) && Array.isArray(sample.interfaces) && Array.isArray(sample.stations), label).toBe(true);
        expectPlausible(sample, label);
      }
    });

    it('is pure: parsing the same poll twice gives equal samples', async () => {
      const { profile, fixtures } = await make();
      for (const fixture of fixtures) {
        const poll = simulatePoll(profile.plan, fixture.recording, new Date(0));
        expect(profile.parse(poll), fixture.name).toEqual(profile.parse(poll));
      }
    });
  });
}
