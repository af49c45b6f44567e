/**
 * The allocator on scenarios with known fair shares, then the invariants as properties over random sites (seeded, so a
 * failure is reproducible: the seed is in the test name).
 */
import { describe, expect, it } from 'vitest';
import { type Claim, waterFill, waterLevel } from './water-filling.js';

const c = (id: string, demandKbps: number, cirKbps = 0, capKbps: number | null = null): Claim => ({ id, demandKbps, cirKbps, capKbps });
const by = (r: ReturnType<typeof waterFill>) => Object.fromEntries(r.shares.map((s) => [s.id, s]));

describe('scenarios with known fair shares', () => {
  it('under-subscribed: everyone gets their demand, and the limit stays the plan (unlimited: the site)', () => {
    const r = waterFill(10_000, [c('a', 1000, 0, 2048), c('b', 2000), c('d', 3000)]);
    expect(r.congested).toBe(false);
    expect(r.level).toBeNull();
    expect(r.shares.map((s) => s.share)).toEqual([1000, 2000, 3000]);
    expect(r.shares.map((s) => s.mir)).toEqual([2048, 10_000, 10_000]);
    expect(r.allocated).toBe(6000);
    expect(r.demand).toBe(6000);
  });

  it('over-subscribed with equal demands: equal split', () => {
    const r = waterFill(9000, [c('a', 5000), c('b', 5000), c('d', 5000)]);
    expect(r.congested).toBe(true);
    expect(r.level).toBeCloseTo(3000, 9);
    expect(r.shares.map((s) => [s.share, s.mir, s.limited])).toEqual([
      [3000, 3000, true],
      [3000, 3000, true],
      [3000, 3000, true],
    ]);
  });

  it('mixed demands: small users are satisfied, the rest split the remainder equally; everyone is limited at the level', () => {
    const r = by(waterFill(10_000, [c('s1', 1000), c('s2', 2000), c('b1', 8000), c('b2', 8000)]));
    expect([r.s1?.share, r.s2?.share, r.b1?.share, r.b2?.share]).toEqual([1000, 2000, 3500, 3500]);
    // The satisfied keep room to grow up to the fair level; nobody may take more than it.
    expect([r.s1?.mir, r.s2?.mir, r.b1?.mir, r.b2?.mir]).toEqual([3500, 3500, 3500, 3500]);
    expect([r.s1?.limited, r.b1?.limited]).toEqual([false, true]);
  });

  it('a CIR floor above the fair share is honoured first; the others share what is left', () => {
    const r = by(waterFill(6000, [c('gold', 5000, 3000), c('b', 5000), c('d', 5000)]));
    expect([r.gold?.share, r.b?.share, r.d?.share]).toEqual([3000, 1500, 1500]);
    expect([r.gold?.mir, r.b?.mir, r.d?.mir]).toEqual([3000, 1500, 1500]);
    expect(r.gold?.cir).toBe(3000);
  });

  it('a CIR floor below the fair share changes nothing', () => {
    const r = waterFill(6000, [c('a', 5000, 1000), c('b', 5000), c('d', 5000)]);
    expect(r.shares.map((s) => s.share)).toEqual([2000, 2000, 2000]);
  });

  it('floors exceeding the capacity are scaled proportionally, and that is all anyone gets', () => {
    const equal = waterFill(3000, [c('a', 5000, 2000), c('b', 5000, 2000), c('d', 5000, 2000)]);
    expect(equal.floorScale).toBeCloseTo(0.5, 12);
    expect(equal.shares.map((s) => [s.cir, s.share, s.mir])).toEqual([
      [1000, 1000, 1000],
      [1000, 1000, 1000],
      [1000, 1000, 1000],
    ]);
    const unequal = waterFill(3000, [c('dear', 9000, 3000), c('cheap', 9000, 1000)]);
    expect(unequal.floorScale).toBeCloseTo(0.75, 12);
    expect(unequal.shares.map((s) => s.share)).toEqual([2250, 750]);
    expect(unequal.allocated).toBe(3000);
  });

  it('a scaled floor still holds a subscriber with no demand (it is a guarantee, not a measurement)', () => {
    const r = waterFill(1000, [c('idle', 0, 1000), c('busy', 5000, 1000)]);
    expect(r.shares.map((s) => s.share)).toEqual([500, 500]);
  });

  it('unlimited plans are capped by the site only; capped plans by their MIR', () => {
    const alone = waterFill(20_000, [c('u', 50_000)]);
    expect(alone.shares[0]).toMatchObject({ share: 20_000, mir: 20_000, cap: 20_000, limited: false });
    const r = by(waterFill(10_000, [c('capped', 5000, 0, 1024), c('unlimited', 20_000)]));
    expect(r.capped).toMatchObject({ share: 1024, mir: 1024, cap: 1024 });
    expect(r.unlimited).toMatchObject({ share: 8976, mir: 8976, cap: 10_000, limited: true });
  });

  it('nobody is pushed above the plan cap, even on an idle site', () => {
    const r = waterFill(100_000, [c('a', 0, 256, 1024), c('b', 900, 512, 2048)]);
    expect(r.shares.map((s) => s.mir)).toEqual([1024, 2048]);
    expect(r.shares.map((s) => s.share)).toEqual([256, 900]);
  });

  it('burst is head-room above the MIR, never past the cap', () => {
    const r = by(waterFill(10_000, [c('capped', 5000, 0, 1024), c('unlimited', 20_000)], { burstFraction: 0.5 }));
    expect(r.capped?.burst).toBe(0);
    expect(r.unlimited?.burst).toBe(1024);
    const wide = by(waterFill(9000, [c('a', 5000, 0, 8000), c('b', 5000, 0, 8000), c('d', 5000, 0, 8000)], { burstFraction: 0.5 }));
    expect(wide.a).toMatchObject({ mir: 3000, burst: 1500 });
  });

  it('edge cases: nobody, no capacity, no demand', () => {
    expect(waterFill(1000, [])).toMatchObject({ congested: false, allocated: 0, shares: [] });
    const none = waterFill(0, [c('a', 100, 50), c('b', 0)]);
    expect(none.shares.map((s) => [s.share, s.mir, s.cir])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const idle = waterFill(1000, [c('a', 0), c('b', 0, 0, 512)]);
    expect(idle).toMatchObject({ congested: false, allocated: 0 });
    expect(idle.shares.map((s) => s.mir)).toEqual([1000, 512]);
  });

  it('garbage in (negative, NaN) counts as zero', () => {
    const r = waterFill(1000, [c('a', -5, -1), c('b', Number.NaN, Number.NaN, Number.NaN)]);
    expect(r.shares.map((s) => [s.share, s.cir])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('waterLevel solves Σ max(f, min(w, L)) = C exactly', () => {
    expect(waterLevel([0, 0, 0], [1000, 2000, 8000], 9000)).toBeCloseTo(6000, 9);
    expect(waterLevel([3000, 0, 0], [5000, 5000, 5000], 6000)).toBeCloseTo(1500, 9);
    expect(waterLevel([1000, 1000], [1000, 5000], 3000)).toBeCloseTo(2000, 9);
  });
});

/** A cheap assertion for hot loops (expect() per check makes 500k checks slow). */
function ok(condition: boolean, where: string, what: string): void {
  if (!condition) throw new Error(`${where}: expected ${what}`);
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSite(rand: () => number): { capacity: number; claims: Claim[] } {
  const n = 1 + Math.floor(rand() * 40);
  const capacity = Math.floor(rand() * 100_000);
  const pick = <T>(...xs: T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const claims = Array.from({ length: n }, (_, i) => ({
    id: `s${i}`,
    demandKbps: pick(0, Math.floor(rand() * 20_000), Math.floor(rand() * 200_000), rand() * 5000),
    cirKbps: pick(0, 0, Math.floor(rand() * 3000), Math.floor(rand() * 20_000)),
    capKbps: pick(null, 512, 1024, 2048, Math.floor(rand() * 50_000)),
  }));
  return { capacity, claims };
}

describe('properties over 2000 random sites', () => {
  const SEED = 20_261_125;
  it(`hold for every site (seed ${SEED})`, () => {
    const rand = prng(SEED);
    for (let round = 0; round < 2000; round++) {
      const { capacity, claims } = randomSite(rand);
      const burstFraction = rand();
      const r = waterFill(capacity, claims, { burstFraction });
      const ctx = `round ${round}`;
      // Σ share ≤ C, and when congested nothing is wasted beyond rounding.
      const total = r.shares.reduce((s, x) => s + x.share, 0);
      ok(total <= capacity, ctx, 'total <= capacity');
      ok(total === r.allocated, ctx, 'total === r.allocated');
      if (r.congested) ok(total >= capacity - claims.length, ctx, 'total >= capacity - claims.length');
      const floorSum = claims.reduce((s, x) => s + Math.min(Math.max(0, x.cirKbps), x.capKbps === null ? capacity : Math.min(x.capKbps, capacity)), 0);
      ok(r.floorScale === (floorSum > capacity ? capacity / floorSum : 1), ctx, 'floorScale = C / Σ floors when they exceed C');
      r.shares.forEach((s, i) => {
        const claim = claims[i] as Claim;
        const cap = claim.capKbps === null ? capacity : Math.min(claim.capKbps, capacity);
        ok(s.cap === Math.floor(cap), ctx, 's.cap === Math.floor(cap)');
        // Floors respected (the configured ones when they fit, else their scaled values).
        if (r.floorScale === 1) ok(s.cir === Math.floor(Math.min(claim.cirKbps, cap)), ctx, 's.cir === Math.floor(Math.min(claim.cirKbps, cap))');
        else ok(s.cir === Math.floor(Math.min(claim.cirKbps, cap) * r.floorScale), ctx, 's.cir === Math.floor(Math.min(claim.cirKbps, cap) * r.floorScale)');
        ok(s.share >= s.cir, ctx, 's.share >= s.cir');
        // Nobody above the cap, nor above what they asked for (demand, or the guaranteed floor).
        ok(s.share <= Math.max(claim.demandKbps, s.cir), ctx, 's.share <= Math.max(claim.demandKbps, s.cir)');
        ok(s.mir <= s.cap, ctx, 's.mir <= s.cap');
        ok(s.mir >= s.share, ctx, 's.mir >= s.share');
        ok(s.mir >= s.cir, ctx, 's.mir >= s.cir');
        ok(s.burst >= 0, ctx, 's.burst >= 0');
        ok(s.mir + s.burst <= s.cap, ctx, 's.mir + s.burst <= s.cap');
        if (!r.congested) {
          ok(
            s.share === Math.floor(Math.min(cap, Math.max(claim.demandKbps, Math.min(claim.cirKbps, cap) * r.floorScale))),
            ctx,
            's.share === Math.floor(Math.min(cap, Math.max(claim.demandKbps, Math.min(claim.cirKbps, cap) * r.floorScale)))',
          );
          ok(s.mir === s.cap, ctx, 's.mir === s.cap');
        }
      });
      // Max-min fairness: a limited subscriber has at least what anyone else has, unless that one is held up by a floor.
      if (r.level !== null) {
        for (const limited of r.shares.filter((s) => s.limited)) {
          for (const other of r.shares) {
            if (other.share > limited.share + 1) ok(other.share <= other.cir + 1, ctx, 'other.share <= other.cir + 1');
          }
        }
      }
    }
  });

  it('more capacity never lowers anyone’s share', () => {
    const rand = prng(7);
    for (let round = 0; round < 500; round++) {
      const { capacity, claims } = randomSite(rand);
      const a = waterFill(capacity, claims);
      const b = waterFill(capacity + 1 + Math.floor(rand() * 10_000), claims);
      a.shares.forEach((s, i) => {
        ok((b.shares[i]?.share ?? 0) >= s.share - 1, `round ${round}`, 'share does not decrease');
      });
    }
  });
});
