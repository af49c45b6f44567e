import type { CpeSample, InterfaceStats } from '@rgz/core';
import { describe, expect, it } from 'vitest';
import { computeRates, counterDelta, primaryInterface, rateOf, rebooted } from './counters.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, 0) + s * 1000);
const sample = (s: number, uptimeSeconds: number | undefined, interfaces: InterfaceStats[], radios: CpeSample['radios'] = []): CpeSample => ({
  polledAt: at(s),
  ...(uptimeSeconds !== undefined ? { uptimeSeconds } : {}),
  radios,
  interfaces,
  stations: [],
});

describe('counter deltas', () => {
  it('a 32-bit counter that went down wrapped once', () => {
    expect(counterDelta(100n, 300n, 32)).toBe(200n);
    expect(counterDelta(4_294_000_000n, 1_033_000n, 32)).toBe(2_000_296n);
    expect(counterDelta(2n ** 32n - 1n, 0n, 32)).toBe(1n);
  });

  it('a 64-bit counter that went down was reset, not wrapped', () => {
    expect(counterDelta(10n, 5n, 64)).toBeNull();
    expect(counterDelta(2n ** 63n, 2n ** 63n + 8n, 64)).toBe(8n);
  });

  it('discards rates faster than the interface, gaps too long for 32 bits, and missing readings', () => {
    expect(rateOf('0', 1_250_000n, 32, 1, 100_000_000)).toBe(10_000_000);
    // 2.0 Gbit/s on a 100 Mbit/s port: several wraps or an unseen reset.
    expect(rateOf('0', 250_000_000n, 32, 1, 100_000_000)).toBeNull();
    expect(rateOf('0', 1000n, 32, 3600, undefined)).toBeNull();
    expect(rateOf('0', 1000n, 64, 3600, undefined)).toBeCloseTo(8000 / 3600);
    expect(rateOf(undefined, 1000n, 64, 300, undefined)).toBeNull();
    expect(rateOf('0', 1000n, 64, 0, undefined)).toBeNull();
  });
});

describe('reboot detection from sysUpTime', () => {
  it('uptime going down is a reboot', () => {
    expect(rebooted({ polledAt: at(0), uptimeSeconds: 1000 }, { polledAt: at(300), uptimeSeconds: 50 })).toBe(true);
  });
  it('uptime shorter than the time between polls is a reboot even if it grew', () => {
    expect(rebooted({ polledAt: at(0), uptimeSeconds: 10 }, { polledAt: at(300), uptimeSeconds: 60 })).toBe(true);
  });
  it("sysUpTime's own wrap after 497 days is not a reboot", () => {
    const wrap = 2 ** 32 / 100;
    expect(rebooted({ polledAt: at(0), uptimeSeconds: wrap - 100 }, { polledAt: at(300), uptimeSeconds: 200 })).toBe(false);
  });
  it('a normal interval is not a reboot; without uptime nothing is known', () => {
    expect(rebooted({ polledAt: at(0), uptimeSeconds: 1000 }, { polledAt: at(300), uptimeSeconds: 1300 })).toBe(false);
    expect(rebooted({ polledAt: at(0) }, { polledAt: at(300), uptimeSeconds: 5 })).toBe(false);
  });
});

describe('computeRates', () => {
  const wlan = (inOctets: bigint, outOctets: bigint, counterBits: 32 | 64 = 32): InterfaceStats => ({
    ifIndex: 3,
    name: 'wlan0',
    operStatus: 'up',
    inOctets,
    outOctets,
    counterBits,
    speedBps: 300_000_000,
  });

  it('first poll: a baseline, no rates', () => {
    const r = computeRates(undefined, sample(0, 1000, [wlan(4_294_000_000n, 1_000_000n)]));
    expect(r.rates.size).toBe(0);
    expect(r.state.interfaces['3']).toEqual({ bits: 32, in: '4294000000', out: '1000000' });
  });

  it('across a 32-bit wrap, over 300 s', () => {
    const first = computeRates(undefined, sample(0, 1000, [wlan(4_294_000_000n, 1_000_000n)]));
    const second = computeRates(first.state, sample(300, 1300, [wlan(1_033_000n, 5_000_000n)]));
    expect(second.reset).toBe(false);
    expect(second.rates.get(3)).toEqual({ ifIndex: 3, inBps: (2_000_296 * 8) / 300, outBps: (4_000_000 * 8) / 300 });
  });

  it('after a reboot: no rates, the new counters become the baseline', () => {
    const first = computeRates(undefined, sample(0, 1000, [wlan(5000n, 5000n)]));
    const second = computeRates(first.state, sample(300, 5, [wlan(300n, 400n)]));
    expect(second.reset).toBe(true);
    expect(second.rates.size).toBe(0);
    expect(second.state.interfaces['3']?.in).toBe('300');
  });

  it('a counter width change (ifXTable appeared) gives no rate', () => {
    const first = computeRates(undefined, sample(0, 1000, [wlan(5000n, 5000n, 32)]));
    const second = computeRates(first.state, sample(300, 1300, [wlan(9000n, 9000n, 64)]));
    expect(second.rates.size).toBe(0);
  });
});

describe('primaryInterface', () => {
  const itf = (ifIndex: number, name: string, octets: bigint, operStatus: InterfaceStats['operStatus'] = 'up'): InterfaceStats => ({
    ifIndex,
    name,
    operStatus,
    inOctets: octets,
    outOctets: 0n,
    counterBits: 64,
  });
  it("prefers the radio's ifIndex, then a wireless name, then the busiest non-loopback", () => {
    const ifs = [itf(1, 'lo', 10n ** 12n), itf(2, 'eth0', 10n ** 9n), itf(5, 'ath0', 10n), itf(6, 'wifi0', 10n ** 10n)];
    expect(primaryInterface(sample(0, 1, ifs, [{ role: 'station', ifIndex: 2 }]))?.ifIndex).toBe(2);
    expect(primaryInterface(sample(0, 1, ifs))?.ifIndex).toBe(5);
    expect(
      primaryInterface(sample(0, 1, [itf(1, 'lo', 10n ** 12n), itf(2, 'ether1', 5n), itf(3, 'ether2', 50n), itf(4, 'ether3', 500n, 'down')]))?.ifIndex,
    ).toBe(3);
    expect(primaryInterface(sample(0, 1, [itf(9, 'WLAN interface', 1n), itf(1, 'LAN interface 1', 100n)]))?.ifIndex).toBe(9);
  });
});
