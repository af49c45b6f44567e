/**
 * The rounding rule, property-tested: every amount 1..20 000 under the seed's settings and several others, plus
 * random amounts (fixed seed) up to 10^12 and beyond 2^53 (BigInt), and the ledger lines built from each split.
 */
import { describe, expect, it } from 'vitest';
import { paymentLines } from './ledger.js';
import { basisPoints, percentDown, percentHalfUp, type Split, splitPayment } from './split.js';

/** mulberry32: a tiny deterministic PRNG, so the "random" amounts are the same on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reference implementation in exact rational arithmetic (numerator/denominator), independent of the code under test. */
function halfUpRef(x: bigint, percentHundredths: bigint): bigint {
  // x × p / 10000, rounded half up: compare twice the remainder with the divisor.
  const num = x * percentHundredths;
  const q = num / 10_000n;
  const r = num - q * 10_000n;
  return r * 2n >= 10_000n ? q + 1n : q;
}

const minBig = (a: bigint, b: bigint) => (a <= b ? a : b);

type Ctx = { gross: bigint; commissionBp: bigint; feeBp: bigint | null; shareBp: bigint | null; reportedFee?: bigint };

/** Every property the rule promises, as a list of violations (empty when the split is right); no expect() per amount: fast. */
function violations(s: Split, ctx: Ctx): string[] {
  const out: string[] = [];
  const fail = (what: string) =>
    out.push(
      `${what} for ${JSON.stringify(ctx, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}: ${JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  if (s.providerFee + s.resellerFee + s.resellerShare + s.rgzShare !== ctx.gross) fail('parts do not sum to the gross');
  for (const part of [s.providerFee, s.resellerFee, s.resellerShare, s.rgzShare]) if (part < 0n) fail('negative part');
  const fee = ctx.reportedFee ?? halfUpRef(ctx.gross, ctx.commissionBp);
  if (s.providerFee !== minBig(fee, ctx.gross)) fail('provider fee is not the reported fee / half-up commission');
  if (ctx.feeBp === null || ctx.shareBp === null) {
    if (s.resellerFee !== 0n || s.resellerShare !== 0n) fail('reseller parts without a reseller');
    return out;
  }
  const rf = halfUpRef(ctx.gross, ctx.feeBp);
  if (s.resellerFee !== minBig(rf, ctx.gross - s.providerFee)) fail('reseller fee is not half-up');
  const net = ctx.gross - s.providerFee - s.resellerFee;
  // Reseller share rounded down: share ≤ exact < share + 1.
  if (!(s.resellerShare * 10_000n <= net * ctx.shareBp && (s.resellerShare + 1n) * 10_000n > net * ctx.shareBp)) fail('reseller share is not rounded down');
  // 50/50: equal halves, the odd franc to RGZ.
  if (ctx.shareBp === 5_000n && s.rgzShare - s.resellerShare !== net % 2n) fail('50/50 halves wrong');
  return out;
}

const SETTINGS = [
  { commission: 1.5, fee: 5, share: 50 }, // the seed
  { commission: 0, fee: 0, share: 50 },
  { commission: 3, fee: 7.5, share: 33.33 },
  { commission: 1.9, fee: 100, share: 50 },
  { commission: 100, fee: 5, share: 50 },
  { commission: 3.5, fee: 12.25, share: 0 },
  { commission: 1.5, fee: 5, share: 100 },
  { commission: 2.75, fee: 0.01, share: 99.99 },
];

describe('splitPayment: the rounding rule', () => {
  it('the seed example: 1000 FCFA at 1.5 %, 5 %, 50/50', () => {
    const s = splitPayment({ gross: 1000, commissionPercent: 1.5, reseller: { feePercent: 5, sharePercent: 50 } });
    // F = 15, R = 50, N = 935 → reseller 467, RGZ 468 (the odd franc).
    expect(s).toMatchObject({ gross: 1000n, providerFee: 15n, resellerFee: 50n, resellerShare: 467n, rgzShare: 468n, feeReported: false });
    const t = splitPayment({ gross: 5000, reportedFee: 95, commissionPercent: 1.5, reseller: { feePercent: '5.00', sharePercent: '50.00' } });
    expect(t).toMatchObject({ providerFee: 95n, resellerFee: 250n, resellerShare: 2327n, rgzShare: 2328n, feeReported: true });
    // The checker used below does catch a wrong split.
    const ctx = { gross: 1000n, commissionBp: 150n, feeBp: 500n, shareBp: 5000n };
    expect(violations(s, ctx)).toEqual([]);
    expect(violations({ ...s, rgzShare: 467n, resellerShare: 468n }, ctx)).not.toEqual([]);
    expect(violations({ ...s, providerFee: 14n, rgzShare: 469n }, ctx)).not.toEqual([]);
  });

  it('half-up on fees: 0.5 franc rounds up, 0.49 down', () => {
    expect(splitPayment({ gross: 100, commissionPercent: 1.5, reseller: null }).providerFee).toBe(2n); // 1.5 → 2
    expect(splitPayment({ gross: 33, commissionPercent: 1.5, reseller: null }).providerFee).toBe(0n); // 0.495 → 0
    expect(splitPayment({ gross: 34, commissionPercent: 1.5, reseller: null }).providerFee).toBe(1n); // 0.51 → 1
    expect(splitPayment({ gross: 10, commissionPercent: 0, reseller: { feePercent: 5, sharePercent: 50 } }).resellerFee).toBe(1n); // 0.5 → 1
  });

  it('every amount from 1 to 20 000 FCFA, under each setting, with computed and reported fees', () => {
    let checked = 0;
    const bad: string[] = [];
    const check = (s: Split, ctx: Ctx) => {
      if (bad.length < 5) bad.push(...violations(s, ctx));
    };
    for (const set of SETTINGS) {
      const commissionBp = basisPoints(set.commission);
      const feeBp = basisPoints(set.fee);
      const shareBp = basisPoints(set.share);
      for (let g = 1; g <= 20_000; g++) {
        const gross = BigInt(g);
        check(splitPayment({ gross: g, commissionPercent: set.commission, reseller: { feePercent: set.fee, sharePercent: set.share } }), {
          gross,
          commissionBp,
          feeBp,
          shareBp,
        });
        const reported = BigInt(Math.floor(g * 0.019));
        check(
          splitPayment({
            gross: g,
            reportedFee: Number(reported),
            commissionPercent: set.commission,
            reseller: { feePercent: set.fee, sharePercent: set.share },
          }),
          {
            gross,
            commissionBp,
            feeBp,
            shareBp,
            reportedFee: reported,
          },
        );
        check(splitPayment({ gross: g, commissionPercent: set.commission, reseller: null }), { gross, commissionBp, feeBp: null, shareBp: null });
        checked += 3;
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(SETTINGS.length * 60_000);
  });

  it('random amounts up to 10^12 and beyond 2^53 (fixed seed)', () => {
    const rnd = prng(20261125);
    const bad: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const set = SETTINGS[i % SETTINGS.length] as (typeof SETTINGS)[number];
      const big = i % 4 === 0;
      const gross = big
        ? BigInt(Number.MAX_SAFE_INTEGER) * BigInt(1 + Math.floor(rnd() * 1000)) + BigInt(Math.floor(rnd() * 1e9))
        : BigInt(1 + Math.floor(rnd() * 1e12));
      const reportedFee = rnd() < 0.5 ? (gross * BigInt(Math.floor(rnd() * 400))) / 10_000n : undefined;
      const s = splitPayment({ gross, reportedFee, commissionPercent: set.commission, reseller: { feePercent: set.fee, sharePercent: set.share } });
      bad.push(
        ...violations(s, {
          gross,
          commissionBp: basisPoints(set.commission),
          feeBp: basisPoints(set.fee),
          shareBp: basisPoints(set.share),
          ...(reportedFee === undefined ? {} : { reportedFee }),
        }),
      );
      // The ledger lines built from it balance, one positive side each.
      const lines = paymentLines('kkiapay', 'r1', s);
      if (lines.reduce((a, l) => a + l.debit, 0n) !== lines.reduce((a, l) => a + l.credit, 0n)) bad.push(`lines do not balance for ${gross}`);
      for (const l of lines) if (l.debit > 0n === l.credit > 0n) bad.push(`line ${l.account} has two sides for ${gross}`);
      if (bad.length > 5) break;
    }
    expect(bad).toEqual([]);
  });

  it('caps a reported fee larger than the gross and never goes negative', () => {
    const s = splitPayment({ gross: 100, reportedFee: 150, commissionPercent: 1.5, reseller: { feePercent: 5, sharePercent: 50 } });
    expect(s).toMatchObject({ providerFee: 100n, resellerFee: 0n, resellerShare: 0n, rgzShare: 0n });
  });

  it('refuses bad inputs', () => {
    expect(() => splitPayment({ gross: 0, commissionPercent: 1, reseller: null })).toThrow(RangeError);
    expect(() => splitPayment({ gross: 10.5, commissionPercent: 1, reseller: null })).toThrow(RangeError);
    expect(() => splitPayment({ gross: 100, reportedFee: -1, commissionPercent: 1, reseller: null })).toThrow(RangeError);
    expect(() => basisPoints(1.234)).toThrow(RangeError);
    expect(() => basisPoints('100.01')).toThrow(RangeError);
    expect(() => basisPoints(-1)).toThrow(RangeError);
    expect(basisPoints('5.00')).toBe(500n);
    expect(basisPoints(33.33)).toBe(3333n);
    expect(basisPoints(0.1 + 0.2)).toBe(30n);
    expect(percentHalfUp(1n, 5000n)).toBe(1n);
    expect(percentDown(1n, 5000n)).toBe(0n);
  });
});
