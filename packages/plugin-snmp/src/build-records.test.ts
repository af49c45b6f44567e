import type { CpeSample, InventoryDevice } from '@rgz/core';
import { describe, expect, it } from 'vitest';
import { buildRecords, spreadOut } from './job.js';
import type { PollOutcome } from './poller.js';

const device: InventoryDevice = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'cpe-1',
  kind: 'cpe',
  siteId: null,
  address: '10.0.0.1',
  port: 161,
  profile: 'auto',
  snmp: { version: '2c', community: 'c' },
  resellerId: null,
  subscriberId: null,
  macAddress: null,
  enabled: true,
};
const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 12) + s * 1000);
const sample = (s: number, wlanIn: bigint): CpeSample => ({
  polledAt: at(s),
  uptimeSeconds: 1000 + s,
  radios: [{ role: 'station', signalDbm: -63, noiseFloorDbm: -95, snrDb: 32, linkQualityPercent: 91 }],
  interfaces: [
    { ifIndex: 1, name: 'lo', operStatus: 'up', counterBits: 32, inOctets: 5n, outOctets: 5n },
    { ifIndex: 2, name: 'eth0', operStatus: 'up', counterBits: 64, inOctets: 10n, outOctets: 10n },
    { ifIndex: 3, name: 'ath0', operStatus: 'up', counterBits: 64, inOctets: wlanIn, outOctets: 0n },
    { ifIndex: 4, name: 'eth1', operStatus: 'down', counterBits: 64, inOctets: 0n, outOctets: 0n },
  ],
  stations: [],
});
const ok = (s: number, wlanIn: bigint, detected = false): PollOutcome => ({
  deviceId: device.id,
  polledAt: at(s),
  durationMs: 12,
  result: 'ok',
  profileId: 'ubnt-airmax',
  sample: sample(s, wlanIn),
  requests: 4,
  ...(detected ? { detected } : {}),
});
const fail = (s: number): PollOutcome => ({ deviceId: device.id, polledAt: at(s), durationMs: 4000, result: 'timeout', error: 'no answer', requests: 1 });
const cfg = { maxRateFactor: 1.5, maxGapSeconds32: 1800 };

describe('buildRecords', () => {
  it('keeps the primary interface only by default, every up non-loopback one with all, none with none', () => {
    expect(buildRecords(ok(0, 0n), device, undefined, undefined, cfg).interfaces.map((i) => i.if_index)).toEqual([3]);
    expect(buildRecords(ok(0, 0n), device, undefined, undefined, { ...cfg, storeInterfaces: 'all' }).interfaces.map((i) => i.if_index)).toEqual([2, 3]);
    expect(buildRecords(ok(0, 0n), device, undefined, undefined, { ...cfg, storeInterfaces: 'none' }).interfaces).toEqual([]);
  });

  it('a failed poll keeps the previous counters, so the next answer is compared with the last one known', () => {
    const first = buildRecords(ok(0, 1_000n, true), device, undefined, undefined, cfg);
    expect(first.state).toMatchObject({ detected_profile: 'ubnt-airmax', consecutive_failures: 0 });
    const prev = (b: typeof first) => ({ ...b.state, counters: JSON.parse(b.state.counters) });
    const failed = buildRecords(fail(300), device, undefined, prev(first), cfg);
    expect(failed.sample).toMatchObject({ result: 'timeout', rx_bps: null, signal_dbm: null });
    expect(failed.state).toMatchObject({ consecutive_failures: 1, detected_profile: 'ubnt-airmax', counters: first.state.counters, last_ok_at: at(0) });
    const back = buildRecords(ok(600, 601_000n), device, undefined, prev(failed), cfg);
    expect(back.sample.rx_bps).toBeCloseTo((600_000 * 8) / 600);
    expect(back.sample).toMatchObject({ if_index: 3, signal_dbm: -63, snr_db: 32, ccq_percent: 91 });
    expect(back.reading).toMatchObject({ up: true, signalDbm: -63, rxBps: 8000 });
  });

  it('forgets a detected profile after three failures in a row', () => {
    let prev: Parameters<typeof buildRecords>[3] = {
      detected_profile: 'ubnt-airmax',
      detected_at: at(0),
      consecutive_failures: 0,
      last_ok_at: at(0),
      counters: {},
    };
    for (let i = 1; i <= 3; i++) {
      const b = buildRecords(fail(i * 300), device, undefined, prev, cfg);
      prev = { ...b.state, counters: JSON.parse(b.state.counters) };
    }
    expect(prev?.consecutive_failures).toBe(3);
    expect(prev?.detected_profile).toBeNull();
  });
});

describe('spreadOut', () => {
  it('interleaves the rare items evenly, keeping each group in order', () => {
    const items = ['d1', 'a1', 'a2', 'd2', 'a3', 'a4', 'a5', 'a6', 'd3', 'a7', 'a8', 'a9'];
    const out = spreadOut(items, (x) => x.startsWith('d'));
    expect(out).toHaveLength(items.length);
    expect(out.filter((x) => x.startsWith('d'))).toEqual(['d1', 'd2', 'd3']);
    expect(out.filter((x) => x.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']);
    // No two dead devices side by side; the first third holds one of them.
    expect(out.slice(0, 4).filter((x) => x.startsWith('d'))).toHaveLength(1);
    expect(spreadOut(['a', 'b'], () => false)).toEqual(['a', 'b']);
    expect(spreadOut(['a', 'b'], () => true)).toEqual(['a', 'b']);
  });
});
