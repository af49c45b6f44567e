/**
 * Max-min fair sharing of one site's capacity in one direction (water-filling), with CIR floors, MIR caps and burst.
 * Pure: numbers in, numbers out; kbit/s throughout. See README.md "Algorithm" for the prose version.
 *
 * For each subscriber i: demand d_i (measured over the last interval), floor f_i (CIR), cap m_i (plan MIR; null =
 * unlimited, capped only by the site's capacity C).
 *
 * 1. Caps: m_i ← min(m_i ?? C, C). Floors: f_i ← min(f_i, m_i).
 * 2. Floors first: if Σ f_i > C the floors cannot all be honoured; each is scaled by C / Σ f_i (proportional to the
 *    plan's guarantee, so a dearer plan keeps a larger share of what is left) — `floorScale` < 1 in the result.
 * 3. Want: w_i = min(m_i, max(f_i, d_i)): what the subscriber would use if nothing held it back.
 * 4. Not congested (Σ w_i ≤ C): share_i = w_i, and the limit pushed is the plan's cap (MIR_i = m_i): DBA restricts
 *    nobody when the site has room.
 * 5. Congested: the water level L solves Σ max(f_i, min(w_i, L)) = C (a non-decreasing piecewise-linear function of L,
 *    found by one sweep over the sorted breakpoints f_i and w_i). share_i = max(f_i, min(w_i, L)): subscribers wanting
 *    less than L are satisfied, the others get L (or their floor if that is higher). The limit pushed is
 *    MIR_i = max(f_i, min(m_i, L)) for everyone — the satisfied subscribers too, so their limit (L ≥ their want) leaves
 *    them room to grow until the next run, while nobody can take more than the fair level.
 * 6. Burst: burst_i = min(⌊burstFraction · MIR_i⌋, m_i − MIR_i): head-room above MIR for dialects with bursting, never
 *    past the plan's cap (so zero when MIR is the cap).
 *
 * Results are integers, rounded down (Σ share ≤ C survives rounding). Invariants (tested as properties): Σ share ≤ C;
 * share_i ≥ floor_i; floor_i ≤ MIR_i ≤ m_i; share_i ≤ MIR_i; share_i ≤ max(d_i, floor_i); MIR_i + burst_i ≤ m_i.
 */

export interface Claim {
  readonly id: string;
  /** Measured demand, kbit/s (≥ 0). */
  readonly demandKbps: number;
  /** Guaranteed rate (CIR), kbit/s (≥ 0). */
  readonly cirKbps: number;
  /** Plan MIR, kbit/s; null = unlimited (capped by the site only). */
  readonly capKbps: number | null;
}

export interface Share {
  readonly id: string;
  /** Floor actually honoured (CIR, capped, scaled when floors exceed the capacity). */
  readonly cir: number;
  /** Expected use this interval: the max-min fair share of the demand. */
  readonly share: number;
  /** The rate limit to enforce. */
  readonly mir: number;
  /** Head-room above `mir` a bursting dialect may allow briefly. */
  readonly burst: number;
  /** The cap used (plan MIR or the site's capacity). */
  readonly cap: number;
  /** Held at the water level (wanted more than it got). */
  readonly limited: boolean;
}

export interface SiteShares {
  readonly capacity: number;
  /** Σ demand. */
  readonly demand: number;
  /** Σ share. */
  readonly allocated: number;
  /** Σ want > capacity. */
  readonly congested: boolean;
  /** Water level L when congested, else null. */
  readonly level: number | null;
  /** 1 when every floor fits, else C / Σ floors. */
  readonly floorScale: number;
  readonly shares: Share[];
}

export interface WaterFillingOptions {
  /** Burst head-room as a fraction of MIR (default 0). */
  readonly burstFraction?: number;
}

const nonNegative = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);

/**
 * The level L ≥ 0 with Σ max(f_i, min(w_i, L)) = target, given Σ f_i ≤ target < Σ w_i. Each subscriber contributes
 * f_i below f_i, L between f_i and w_i, w_i above: slope +1 at f_i, −1 at w_i.
 */
export function waterLevel(floors: ArrayLike<number>, wants: ArrayLike<number>, target: number): number {
  const n = floors.length;
  // Breakpoints: value, slope change. Sorted once: O(n log n).
  const points = new Float64Array(2 * n);
  const deltas = new Int8Array(2 * n);
  let base = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const f = floors[i] as number;
    const w = wants[i] as number;
    base += f;
    if (w > f) {
      points[k] = f;
      deltas[k++] = 1;
      points[k] = w;
      deltas[k++] = -1;
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => (points[a] as number) - (points[b] as number) || (deltas[a] as number) - (deltas[b] as number),
  );
  let value = base;
  let slope = 0;
  let at = 0;
  for (const j of order) {
    const x = points[j] as number;
    if (slope > 0) {
      const next = value + slope * (x - at);
      if (next >= target) return at + (target - value) / slope;
      value = next;
    }
    at = x;
    slope += deltas[j] as number;
  }
  // Σ w ≤ target: never reached (callers do not ask); the highest want.
  return at;
}

/** Share capacity `capacityKbps` among `claims` (one site, one direction). */
export function waterFill(capacityKbps: number, claims: readonly Claim[], options: WaterFillingOptions = {}): SiteShares {
  const capacity = Math.max(0, Math.floor(nonNegative(capacityKbps)));
  const burstFraction = nonNegative(options.burstFraction ?? 0);
  const n = claims.length;
  const caps = new Float64Array(n);
  const floors = new Float64Array(n);
  const wants = new Float64Array(n);
  let floorSum = 0;
  let demand = 0;
  for (let i = 0; i < n; i++) {
    const c = claims[i] as Claim;
    const cap = c.capKbps === null ? capacity : Math.min(nonNegative(c.capKbps), capacity);
    caps[i] = cap;
    floors[i] = Math.min(nonNegative(c.cirKbps), cap);
    floorSum += floors[i] as number;
    demand += nonNegative(c.demandKbps);
  }
  const floorScale = floorSum > capacity ? capacity / floorSum : 1;
  let wantSum = 0;
  for (let i = 0; i < n; i++) {
    if (floorScale < 1) floors[i] = (floors[i] as number) * floorScale;
    wants[i] = Math.min(caps[i] as number, Math.max(floors[i] as number, nonNegative((claims[i] as Claim).demandKbps)));
    wantSum += wants[i] as number;
  }
  const congested = wantSum > capacity;
  const level = congested ? waterLevel(floors, wants, capacity) : null;

  const shares: Share[] = new Array(n);
  let allocated = 0;
  for (let i = 0; i < n; i++) {
    const cap = caps[i] as number;
    const f = floors[i] as number;
    const w = wants[i] as number;
    const shareRaw = level === null ? w : Math.max(f, Math.min(w, level));
    const mirRaw = level === null ? cap : Math.max(f, Math.min(cap, level));
    const cir = Math.floor(f);
    const share = Math.floor(shareRaw);
    const mir = Math.max(share, Math.floor(mirRaw));
    const capInt = Math.floor(cap);
    const burst = Math.max(0, Math.min(Math.floor(burstFraction * mir), capInt - mir));
    allocated += share;
    shares[i] = { id: (claims[i] as Claim).id, cir, share, mir, burst, cap: capInt, limited: level !== null && w > shareRaw };
  }
  return { capacity, demand: Math.round(demand), allocated, congested, level, floorScale, shares };
}
