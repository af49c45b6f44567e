/**
 * Pure rules around the allocator: a plan's CIR floor, and the hysteresis that decides whether a new rate is worth a
 * CoA. Kbit/s throughout.
 */

/** A pair of rates; null = no limit in that direction. */
export interface RatePair {
  readonly down: number | null;
  readonly up: number | null;
}

export interface PlanRates {
  readonly code: string;
  /** Plan MIR; null = unlimited (the seed: the 1 GB plans and up). */
  readonly rateDownKbps: number | null;
  readonly rateUpKbps: number | null;
}

export interface CirRules {
  readonly fraction: number;
  readonly unlimitedKbps: { readonly down: number; readonly up: number };
  readonly plans: Readonly<Record<string, { readonly down: number; readonly up: number }>>;
}

/**
 * The plan's guaranteed rate: an explicit per-plan value, else `fraction` × MIR (rounded down), else for an unlimited
 * plan the configured `unlimitedKbps`.
 */
export function planCir(plan: PlanRates, rules: CirRules): { down: number; up: number } {
  const explicit = rules.plans[plan.code];
  if (explicit) return { down: explicit.down, up: explicit.up };
  const of = (mir: number | null, unlimited: number) => (mir === null ? unlimited : Math.floor(mir * rules.fraction));
  return { down: of(plan.rateDownKbps, rules.unlimitedKbps.down), up: of(plan.rateUpKbps, rules.unlimitedKbps.up) };
}

export interface Hysteresis {
  /** Relative threshold, % of the last pushed rate. */
  readonly percent: number;
  /** Absolute threshold, kbit/s. */
  readonly kbps: number;
}

/** A change past both thresholds (strictly). Null ↔ number is always a change; null ↔ null never. */
export function rateChanged(previous: number | null, next: number | null, h: Hysteresis): boolean {
  if (previous === null || next === null) return previous !== next;
  const delta = Math.abs(next - previous);
  return delta > h.kbps && delta > (previous * h.percent) / 100;
}

/** Push when either direction changed past the hysteresis. */
export function shouldPush(previous: RatePair, next: RatePair, h: Hysteresis): boolean {
  return rateChanged(previous.down, next.down, h) || rateChanged(previous.up, next.up, h);
}
