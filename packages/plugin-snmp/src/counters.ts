/**
 * Throughput from octet counters, pure. Between two polls of a device:
 * - a reboot (sysUpTime went down, or is shorter than the time since the last poll) restarts every counter: no rate
 *   this time, only a new baseline; sysUpTime's own 32-bit wrap (497 days) is not a reboot;
 * - a Counter64 that goes down is a reset too (it does not wrap in practice);
 * - a Counter32 that goes down wrapped once (2^32 added) — unless the result is faster than the interface can go
 *   (speed × `maxRateFactor`), which means several wraps or an unseen reset: no rate. Above ~114 Mbit/s a 32-bit
 *   counter wraps more than once in 5 minutes and cannot be measured at that interval (airOS without ifXTable):
 *   the speed check discards those, and `maxGapSeconds32` bounds the gap a 32-bit delta is trusted over;
 * - a counter whose width changed (ifXTable appeared or went) or that is new: no rate.
 * Rates are bit/s over the wall-clock time between the two polls.
 */
import type { CpeSample, InterfaceStats } from '@rgz/core';

/** What is kept per device between polls (stored as JSON in snmp_device_state.counters). */
export interface CounterState {
  /** ISO time of the poll the counters come from. */
  polledAt: string;
  uptimeSeconds?: number;
  /** ifIndex → counters as decimal strings. */
  interfaces: Record<string, { bits: 32 | 64; in?: string; out?: string }>;
}

export interface InterfaceRate {
  ifIndex: number;
  inBps: number | null;
  outBps: number | null;
}

export interface RateOptions {
  /** A rate above speed × this factor is discarded. Default 1.5. */
  maxRateFactor?: number;
  /** A 32-bit delta over a longer gap is not trusted (it may hide several wraps). Default 1800 s. */
  maxGapSeconds32?: number;
}

const TIMETICKS_WRAP_SECONDS = 2 ** 32 / 100;

/** Did the device restart between two polls? */
export function rebooted(prev: { polledAt: Date; uptimeSeconds?: number | undefined }, cur: { polledAt: Date; uptimeSeconds?: number | undefined }): boolean {
  if (prev.uptimeSeconds === undefined || cur.uptimeSeconds === undefined) return false;
  const elapsed = (cur.polledAt.getTime() - prev.polledAt.getTime()) / 1000;
  if (cur.uptimeSeconds < prev.uptimeSeconds) {
    // sysUpTime (TimeTicks) wraps after 497 days: the expected value is past the wrap and the new one matches it.
    const expected = prev.uptimeSeconds + elapsed;
    if (expected >= TIMETICKS_WRAP_SECONDS) {
      const wrapped = expected - TIMETICKS_WRAP_SECONDS;
      if (Math.abs(wrapped - cur.uptimeSeconds) <= Math.max(60, elapsed * 0.1)) return false;
    }
    return true;
  }
  // Up less long than the gap between polls (with slack for clock differences): it restarted in between.
  return cur.uptimeSeconds + 5 < elapsed;
}

/** Octets counted between two readings of one counter; `null` when it cannot be known. */
export function counterDelta(prev: bigint, cur: bigint, bits: 32 | 64): bigint | null {
  if (cur >= prev) return cur - prev;
  if (bits === 64) return null;
  return 2n ** 32n - prev + cur;
}

export function rateOf(
  prev: string | undefined,
  cur: bigint | undefined,
  bits: 32 | 64,
  elapsedSeconds: number,
  speedBps: number | undefined,
  options: RateOptions = {},
): number | null {
  if (prev === undefined || cur === undefined || elapsedSeconds <= 0) return null;
  if (bits === 32 && elapsedSeconds > (options.maxGapSeconds32 ?? 1800)) return null;
  const delta = counterDelta(BigInt(prev), cur, bits);
  if (delta === null) return null;
  const bps = (Number(delta) * 8) / elapsedSeconds;
  if (speedBps !== undefined && speedBps > 0 && bps > speedBps * (options.maxRateFactor ?? 1.5)) return null;
  return bps;
}

export interface RatesResult {
  rates: Map<number, InterfaceRate>;
  /** The device restarted since the previous poll (no rates this time). */
  reset: boolean;
  /** The state to keep for the next poll. */
  state: CounterState;
}

export function computeRates(prev: CounterState | undefined, sample: CpeSample, options: RateOptions = {}): RatesResult {
  const state: CounterState = {
    polledAt: sample.polledAt.toISOString(),
    ...(sample.uptimeSeconds !== undefined ? { uptimeSeconds: sample.uptimeSeconds } : {}),
    interfaces: {},
  };
  for (const itf of sample.interfaces) {
    if (itf.inOctets === undefined && itf.outOctets === undefined) continue;
    state.interfaces[String(itf.ifIndex)] = {
      bits: itf.counterBits,
      ...(itf.inOctets !== undefined ? { in: itf.inOctets.toString() } : {}),
      ...(itf.outOctets !== undefined ? { out: itf.outOctets.toString() } : {}),
    };
  }
  const rates = new Map<number, InterfaceRate>();
  if (!prev) return { rates, reset: false, state };
  const prevAt = new Date(prev.polledAt);
  const reset = rebooted({ polledAt: prevAt, uptimeSeconds: prev.uptimeSeconds }, { polledAt: sample.polledAt, uptimeSeconds: sample.uptimeSeconds });
  if (reset) return { rates, reset, state };
  const elapsed = (sample.polledAt.getTime() - prevAt.getTime()) / 1000;
  for (const itf of sample.interfaces) {
    const before = prev.interfaces[String(itf.ifIndex)];
    if (!before || before.bits !== itf.counterBits) continue;
    rates.set(itf.ifIndex, {
      ifIndex: itf.ifIndex,
      inBps: rateOf(before.in, itf.inOctets, itf.counterBits, elapsed, itf.speedBps, options),
      outBps: rateOf(before.out, itf.outOctets, itf.counterBits, elapsed, itf.speedBps, options),
    });
  }
  return { rates, reset, state };
}

const LOOPBACK = /^(lo\d*|loopback.*)$/i;
const WIRELESS: RegExp[] = [/^ath\d+$/i, /^wlan\d*$/i, /wlan/i, /^wifi\d+$/i];

/**
 * The interface a device's throughput is read from: its radio's (when the profile names the ifIndex), else the first
 * wireless-looking interface that is up (airOS ath0, ePMP "WLAN interface", wlan1), else the busiest interface that is
 * not a loopback. For a CPE, `in` on it is what the subscriber downloaded.
 */
export function primaryInterface(sample: CpeSample): InterfaceStats | undefined {
  const usable = sample.interfaces.filter((i) => !LOOPBACK.test(i.name ?? '') && i.operStatus !== 'down' && i.operStatus !== 'notPresent');
  for (const radio of sample.radios) {
    const hit = radio.ifIndex !== undefined ? usable.find((i) => i.ifIndex === radio.ifIndex) : undefined;
    if (hit) return hit;
  }
  for (const pattern of WIRELESS) {
    const hit = usable.find((i) => pattern.test(i.name ?? ''));
    if (hit) return hit;
  }
  const total = (i: InterfaceStats) => (i.inOctets ?? 0n) + (i.outOctets ?? 0n);
  return [...usable].sort((a, b) => (total(b) > total(a) ? 1 : total(b) < total(a) ? -1 : a.ifIndex - b.ifIndex))[0];
}
