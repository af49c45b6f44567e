/**
 * The pure rules around the allocator: CIR from a plan, the hysteresis, one site's computation with push decisions,
 * rates from RADIUS byte counters, push outcomes from audit entries, and core's rate-override contract.
 */
import {
  applyRateOverride,
  createMemoryKv,
  parseRateOverride,
  RATE_OVERRIDE_TTL_SECONDS,
  rateOverrideKey,
  readRateOverride,
  writeRateOverride,
} from '@rgz/core';
import { describe, expect, it } from 'vitest';
import { computeAllocations, type MemberInput, type SiteInput } from './allocate.js';
import { combineDemand, kbps, type OpenSession, type SessionSnapshot, sessionRates } from './demand.js';
import { pushOutcome } from './engine.js';
import { planCir, rateChanged, shouldPush } from './rates.js';

const rules = { fraction: 0.25, unlimitedKbps: { down: 1024, up: 512 }, plans: {} };
const h = { percent: 10, kbps: 128 };

describe('CIR of a plan', () => {
  it('is a fraction of the MIR, a fixed value for unlimited plans, or set per plan', () => {
    expect(planCir({ code: 'DAY10MB', rateDownKbps: 1024, rateUpKbps: 512 }, rules)).toEqual({ down: 256, up: 128 });
    expect(planCir({ code: 'MONTH1GB', rateDownKbps: null, rateUpKbps: null }, rules)).toEqual({ down: 1024, up: 512 });
    expect(planCir({ code: 'MONTH5GB', rateDownKbps: null, rateUpKbps: null }, { ...rules, plans: { MONTH5GB: { down: 4096, up: 1024 } } })).toEqual({
      down: 4096,
      up: 1024,
    });
    expect(planCir({ code: 'X', rateDownKbps: 1000, rateUpKbps: 333 }, { ...rules, fraction: 0.5 })).toEqual({ down: 500, up: 166 });
  });
});

describe('hysteresis', () => {
  it('pushes only past both the relative and the absolute threshold', () => {
    expect(rateChanged(1000, 1050, h)).toBe(false); // 5 %, 50 kbit/s
    expect(rateChanged(1000, 1100, h)).toBe(false); // exactly 10 %: not more
    expect(rateChanged(1000, 1200, h)).toBe(true); // 20 %, 200 kbit/s
    expect(rateChanged(10_000, 10_500, h)).toBe(false); // 500 kbit/s but 5 %
    expect(rateChanged(100, 200, h)).toBe(false); // 100 % but 100 kbit/s
    expect(rateChanged(100, 300, h)).toBe(true);
    expect(rateChanged(3000, 1000, h)).toBe(true); // down as well as up
    expect(rateChanged(null, null, h)).toBe(false);
    expect(rateChanged(null, 1000, h)).toBe(true);
    expect(rateChanged(1000, null, h)).toBe(true);
  });
  it('pushes when either direction moved', () => {
    expect(shouldPush({ down: 1000, up: 500 }, { down: 1010, up: 900 }, h)).toBe(true);
    expect(shouldPush({ down: 1000, up: 500 }, { down: 1010, up: 510 }, h)).toBe(false);
  });
});

describe('one computation', () => {
  const site: SiteInput = { id: 'site-1', name: 'Akpakpa', resellerId: 'r1', capacityDownKbps: 3000, capacityUpKbps: 1500 };
  const member = (
    id: string,
    demandDown: number,
    previous: MemberInput['previous'] = null,
    plan: [number | null, number | null] = [null, null],
  ): MemberInput => ({
    subscriberId: id,
    siteId: 'site-1',
    planCode: plan[0] === null ? 'MONTH1GB' : 'DAY10MB',
    rateDownKbps: plan[0],
    rateUpKbps: plan[1],
    demand: { downKbps: demandDown, upKbps: demandDown / 4 },
    sessions: 1,
    previous,
  });
  const options = { cir: { ...rules, unlimitedKbps: { down: 256, up: 128 } }, burstFraction: 0.5, hysteresis: h };

  it('congested site: every unlimited subscriber gets the fair share, pushed from the site capacity', () => {
    const r = computeAllocations([site], [member('a', 5000), member('b', 5000), member('c', 5000)], options);
    expect(r.sites[0]?.down).toMatchObject({ congested: true, allocated: 3000 });
    expect(r.allocations.map((a) => [a.mir.down, a.mir.up, a.previous.down, a.decision])).toEqual([
      [1000, 500, 3000, 'push'],
      [1000, 500, 3000, 'push'],
      [1000, 500, 3000, 'push'],
    ]);
    expect(r.allocations[0]?.effective).toEqual({ down: 1000, up: 500 });
    expect(r.allocations[0]?.burst).toEqual({ down: 500, up: 250 });
  });

  it('a small change against the last pushed rate is held, a large one pushed, an equal one left alone', () => {
    const r = computeAllocations(
      [site],
      [member('hold', 5000, { down: 1050, up: 500 }), member('push', 5000, { down: 2000, up: 500 }), member('same', 5000, { down: 1000, up: 500 })],
      options,
    );
    expect(r.allocations.map((a) => [a.subscriberId, a.decision, a.effective.down])).toEqual([
      ['hold', 'hold', 1050],
      ['push', 'push', 1000],
      ['same', 'same', 1000],
    ]);
  });

  it('under-subscribed capped plans stay at their plan rate: nothing to push', () => {
    const r = computeAllocations([site], [member('a', 100, null, [1024, 512]), member('b', 200, null, [1024, 512])], options);
    expect(r.allocations.map((a) => [a.mir.down, a.decision])).toEqual([
      [1024, 'same'],
      [1024, 'same'],
    ]);
  });

  it('a site without download capacity is skipped; without upload capacity only downstream is managed', () => {
    const r = computeAllocations(
      [
        { ...site, id: 'none', capacityDownKbps: null },
        { ...site, capacityUpKbps: null },
      ],
      [member('a', 5000), member('b', 5000)],
      options,
    );
    expect(r.sites.map((s) => s.skipped)).toEqual(['no_capacity', null]);
    expect(r.allocations.map((a) => [a.mir.down, a.mir.up, a.effective.up])).toEqual([
      [1500, null, null],
      [1500, null, null],
    ]);
  });
});

describe('demand from RADIUS byte counters', () => {
  const t0 = new Date('2026-11-25T10:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const session = (id: number, sub: string, bytesIn: number, bytesOut: number, lastUpdate: Date, start = t0): OpenSession => ({
    id,
    subscriberId: sub,
    nasId: 'config:mt',
    nasIdentifier: 'mt',
    bytesIn,
    bytesOut,
    sessionStart: start,
    lastUpdate,
  });
  const snap = (s: OpenSession, down: number, up: number): SessionSnapshot => ({
    sessionId: s.id,
    subscriberId: s.subscriberId,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    lastUpdate: s.lastUpdate,
    rateDownKbps: down,
    rateUpKbps: up,
  });

  it('kbps', () => {
    expect(kbps(125_000, 1)).toBe(1000);
    expect(kbps(37_500_000, 300)).toBe(1000);
    expect(kbps(100, 0)).toBe(0);
  });

  it('Δbytes over Δ(NAS timestamps); a new session over its life; no new interim keeps the rate; a counter reset restarts', () => {
    const first = session(1, 'a', 7_500_000, 37_500_000, at(300));
    const r1 = sessionRates([first], new Map());
    expect(r1.demand.get('a')).toEqual({ downKbps: 1000, upKbps: 200 });
    const second = session(1, 'a', 7_500_000 + 3_750_000, 37_500_000 + 75_000_000, at(600));
    const r2 = sessionRates([second], new Map([[1, snap(first, 1000, 200)]]));
    expect(r2.demand.get('a')).toEqual({ downKbps: 2000, upKbps: 100 });
    const r3 = sessionRates([second], new Map([[1, snap(second, 2000, 100)]]));
    expect(r3.demand.get('a')).toEqual({ downKbps: 2000, upKbps: 100 });
    const reset = session(1, 'a', 0, 37_500_000, at(900));
    expect(sessionRates([reset], new Map([[1, snap(second, 2000, 100)]])).demand.get('a')).toEqual({ downKbps: 1000, upKbps: 0 });
  });

  it('sums a subscriber’s sessions; combining sources keeps the larger reading per direction', () => {
    const r = sessionRates([session(1, 'a', 0, 37_500_000, at(300)), session(2, 'a', 3_750_000, 0, at(300))], new Map());
    expect(r.demand.get('a')).toEqual({ downKbps: 1000, upKbps: 100 });
    expect(r.snapshots).toHaveLength(2);
    const combined = combineDemand([
      new Map([['a', { downKbps: 1000, upKbps: 100 }]]),
      new Map([
        ['a', { downKbps: 800, upKbps: 300 }],
        ['b', { downKbps: 5, upKbps: 5 }],
      ]),
    ]);
    expect(Object.fromEntries(combined)).toEqual({ a: { downKbps: 1000, upKbps: 300 }, b: { downKbps: 5, upKbps: 5 } });
  });
});

describe('push outcome from the task and the RADIUS audit entries', () => {
  const e = (action: string, details: Record<string, unknown> = {}) => ({ action, details });
  it('maps ACK, NAK, timeout, no session and dead tasks', () => {
    expect(pushOutcome('done', [e('radius.coa.ack')], 1, null).status).toBe('ack');
    expect(pushOutcome('done', [e('radius.coa.nak', { error_cause: 503 })], 1, null)).toMatchObject({ status: 'nak', detail: { error_causes: [503] } });
    expect(pushOutcome('dead', [e('radius.coa.nak', { error_cause: 404 })], 1, 'CoA failed')).toMatchObject({
      status: 'nak',
      detail: { last_error: 'CoA failed' },
    });
    expect(pushOutcome('dead', [e('radius.coa.timeout')], 1, 'x').status).toBe('timeout');
    expect(pushOutcome('done', [e('radius.policy.no_session')], 1, null).status).toBe('no_session');
    expect(pushOutcome('dead', [], 8, 'boom').status).toBe('failed');
    expect(pushOutcome('done', [], 1, null).status).toBe('done');
  });
});

describe("core's rate-override contract", () => {
  it('key, TTL, round trip, and malformed values read as absent', async () => {
    const kv = createMemoryKv();
    expect(rateOverrideKey('abc')).toBe('rgz:dba:rate:abc');
    await writeRateOverride(kv, 'abc', { down_kbps: 1000, up_kbps: null, computed_at: '2026-11-25T10:00:00.000Z', burst_down_kbps: 500, source: 'dba' });
    expect(await readRateOverride(kv, 'abc')).toEqual({
      down_kbps: 1000,
      up_kbps: null,
      computed_at: '2026-11-25T10:00:00.000Z',
      burst_down_kbps: 500,
      source: 'dba',
    });
    const ttl = await kv.ttl('rgz:dba:rate:abc');
    expect(ttl).toBeGreaterThan(RATE_OVERRIDE_TTL_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(600);
    expect(parseRateOverride('nope')).toBeNull();
    expect(parseRateOverride('{"down_kbps":-1,"up_kbps":1,"computed_at":"x"}')).toBeNull();
    expect(parseRateOverride('{"down_kbps":1.5,"up_kbps":1,"computed_at":"x"}')).toBeNull();
    expect(parseRateOverride('{"down_kbps":1,"up_kbps":1}')).toBeNull();
    expect(await readRateOverride(kv, 'missing')).toBeNull();
    await kv.close();
  });
  it('applies as the minimum with the plan MIR; an unlimited plan takes the override', () => {
    const o = { down_kbps: 1500, up_kbps: 300, computed_at: 'x' };
    expect(applyRateOverride({ downKbps: 1024, upKbps: 512 }, o)).toEqual({ downKbps: 1024, upKbps: 300 });
    expect(applyRateOverride({ downKbps: null, upKbps: null }, o)).toEqual({ downKbps: 1500, upKbps: 300 });
    expect(applyRateOverride({ downKbps: null, upKbps: 512 }, { ...o, up_kbps: null })).toEqual({ downKbps: 1500, upKbps: 512 });
    expect(applyRateOverride({ downKbps: 1024, upKbps: null }, null)).toEqual({ downKbps: 1024, upKbps: null });
  });
});
