/**
 * The revenue split of one payment, in integer francs (FCFA has no minor unit), computed with BigInt so no amount
 * ever meets a float.
 *
 * THE ROUNDING RULE (also in the README):
 *  1. Gross G: the amount the provider reports as charged.
 *  2. Provider fee F: the fee the provider's API reports for the transaction when it reports one; otherwise
 *     G × commission % rounded half-up to the franc. F is capped at G.
 *  3. Reseller fee R: G × reseller.fee_percent rounded half-up to the franc, capped at G − F. No reseller: R = 0.
 *  4. Net N = G − F − R.
 *  5. Reseller share S = N × reseller.share_percent rounded DOWN to the franc; RGZ share = N − S. So with the seed's
 *     50/50 split the odd franc always goes to RGZ. No reseller: S = 0, RGZ takes N.
 *  By construction F + R + S + RGZ = G exactly, every part ≥ 0.
 * Percentages have at most two decimals and are handled as integer basis points (hundredths of a percent): 1.5 % is
 * 150, 33.33 % is 3333. "Half-up" on non-negative values: floor((x × bp + 5000) / 10000).
 */

export interface SplitInput {
  /** Gross amount in FCFA (positive integer). */
  gross: bigint | number;
  /** Fee the provider reported for this transaction, when it reported one. */
  reportedFee?: bigint | number | undefined;
  /** Provider commission in percent (used when no fee is reported). */
  commissionPercent: number | string;
  /** The reseller's fee and share of the net, in percent; null when the sale has no reseller (the operator's own). */
  reseller: { feePercent: number | string; sharePercent: number | string } | null;
}

export interface Split {
  gross: bigint;
  providerFee: bigint;
  resellerFee: bigint;
  resellerShare: bigint;
  rgzShare: bigint;
  /** Whether `providerFee` is the provider's own figure (true) or computed from the commission rate. */
  feeReported: boolean;
}

const TEN_THOUSAND = 10_000n;

/**
 * A percentage with at most two decimals as basis points, exactly: accepts numbers (1.5) and the strings PostgreSQL
 * returns for numeric(5,2) ("5.00"). Throws on more decimals, negatives or values above 100.
 */
export function basisPoints(percent: number | string): bigint {
  const text = typeof percent === 'number' ? percentText(percent) : percent.trim();
  const m = /^(\d{1,3})(?:\.(\d{1,2})0*)?$/.exec(text);
  if (!m) throw new RangeError(`percentage "${percent}" must be between 0 and 100 with at most two decimals`);
  const bp = BigInt(m[1] as string) * 100n + BigInt(((m[2] ?? '') + '00').slice(0, 2));
  if (bp > TEN_THOUSAND) throw new RangeError(`percentage "${percent}" is above 100`);
  return bp;
}

function percentText(n: number): string {
  if (!Number.isFinite(n) || n < 0) return String(n);
  const hundredths = Math.round(n * 100);
  if (Math.abs(n * 100 - hundredths) > 1e-9) return String(n);
  return `${Math.trunc(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** x × bp / 10 000 rounded half-up (x ≥ 0). */
export function percentHalfUp(x: bigint, bp: bigint): bigint {
  return (x * bp + 5_000n) / TEN_THOUSAND;
}

/** x × bp / 10 000 rounded down (x ≥ 0). */
export function percentDown(x: bigint, bp: bigint): bigint {
  return (x * bp) / TEN_THOUSAND;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function toBigInt(value: bigint | number | string, what = 'amount'): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`${what} ${value} is not a safe integer`);
    return BigInt(value);
  }
  if (!/^-?\d+$/.test(value)) throw new RangeError(`${what} "${value}" is not an integer`);
  return BigInt(value);
}

/** Split a payment per the rounding rule above. */
export function splitPayment(input: SplitInput): Split {
  const gross = toBigInt(input.gross, 'gross');
  if (gross <= 0n) throw new RangeError(`gross ${gross} must be positive`);
  const feeReported = input.reportedFee !== undefined && input.reportedFee !== null;
  const rawFee = feeReported ? toBigInt(input.reportedFee as bigint | number, 'reported fee') : percentHalfUp(gross, basisPoints(input.commissionPercent));
  if (rawFee < 0n) throw new RangeError(`reported fee ${rawFee} is negative`);
  const providerFee = min(rawFee, gross);
  let resellerFee = 0n;
  let resellerShare = 0n;
  if (input.reseller) {
    resellerFee = min(percentHalfUp(gross, basisPoints(input.reseller.feePercent)), gross - providerFee);
    const net = gross - providerFee - resellerFee;
    resellerShare = percentDown(net, basisPoints(input.reseller.sharePercent));
  }
  const rgzShare = gross - providerFee - resellerFee - resellerShare;
  return { gross, providerFee, resellerFee, resellerShare, rgzShare, feeReported };
}

/** A BigInt amount as a JSON-safe number; throws above 2^53 (9 007 199 254 740 991 FCFA). */
export function toSafeNumber(value: bigint | number | string): number {
  const b = toBigInt(value);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`amount ${b} exceeds 2^53`);
  return Number(b);
}
