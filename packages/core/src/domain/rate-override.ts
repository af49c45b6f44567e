/**
 * A subscriber's temporary rate limit, set by dynamic bandwidth allocation (DBA, the seed's flow 6) and honoured by
 * whoever tells the NAS what a session may do (the RADIUS plugin: Access-Accept and the `nas.policy-change` CoA).
 *
 * The contract, in one place:
 * - **Key** `rgz:dba:rate:{subscriber_id}` → JSON `{down_kbps, up_kbps, computed_at}` (plus optional `burst_*_kbps`
 *   and `source`), written with a TTL of {@link RATE_OVERRIDE_TTL_SECONDS} (600 s) and refreshed by every DBA run (every
 *   5 minutes). When DBA stops, the key expires and the plan's own rate applies again to new sessions and CoAs.
 * - **Units**: kbit/s, subscriber's view (`down` = Internet → subscriber, `up` = subscriber → Internet), as the plans'
 *   `rate_down_kbps` / `rate_up_kbps`. `null` in one direction = no override in that direction.
 * - **Who applies it**: every NAS policy encoder. When building a `SessionPolicy` for a subscriber (Access-Accept or
 *   a CoA-Request for `nas.policy-change`), read the override and use {@link applyRateOverride}: the rate limit is the
 *   minimum of the plan's MIR and the override, per direction; for a plan without a rate (unlimited MIR, the 1 GB plans
 *   and up) the override alone is the limit. DBA never raises a subscriber above the plan.
 * - **How a change reaches live sessions**: DBA writes the key first, then enqueues `nas.policy-change` with reason
 *   `rate_change` for each subscriber whose rate changed past its hysteresis; the handler re-reads the plan and the
 *   key and sends the CoA in the NAS's dialect.
 * - **Malformed values** (not JSON, negative or non-integer rates) are ignored as if absent: a bad key must never cut a
 *   subscriber off.
 */
import type { Kv } from '../kv/kv.js';

/** How long an override lives without a refresh (two missed 5-minute DBA runs). */
export const RATE_OVERRIDE_TTL_SECONDS = 600;

/** The stored value. */
export interface RateOverride {
  /** Maximum rate Internet → subscriber, kbit/s; null = no override in this direction. */
  readonly down_kbps: number | null;
  /** Maximum rate subscriber → Internet, kbit/s; null = no override in this direction. */
  readonly up_kbps: number | null;
  /** ISO 8601 time the rate was computed. */
  readonly computed_at: string;
  /** Extra rate a dialect with bursting (MikroTik burst-rate) may allow above `down_kbps` for a short time; optional. */
  readonly burst_down_kbps?: number;
  readonly burst_up_kbps?: number;
  /** Who set it (`dba`), for logs. */
  readonly source?: string;
}

/** `rgz:dba:rate:{subscriber_id}`. */
export function rateOverrideKey(subscriberId: string): string {
  return `rgz:dba:rate:${subscriberId}`;
}

const rate = (v: unknown): number | null | undefined => (v === null ? null : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** Parse a stored value; null when absent or malformed. */
export function parseRateOverride(raw: string | null): RateOverride | null {
  if (raw === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const down = rate(o.down_kbps);
  const up = rate(o.up_kbps);
  if (down === undefined || up === undefined || typeof o.computed_at !== 'string') return null;
  const burstDown = rate(o.burst_down_kbps);
  const burstUp = rate(o.burst_up_kbps);
  return {
    down_kbps: down,
    up_kbps: up,
    computed_at: o.computed_at,
    ...(typeof burstDown === 'number' ? { burst_down_kbps: burstDown } : {}),
    ...(typeof burstUp === 'number' ? { burst_up_kbps: burstUp } : {}),
    ...(typeof o.source === 'string' ? { source: o.source } : {}),
  };
}

/** The subscriber's current override, or null. */
export async function readRateOverride(kv: Kv, subscriberId: string): Promise<RateOverride | null> {
  return parseRateOverride(await kv.get(rateOverrideKey(subscriberId)));
}

/** Write (or refresh) an override with its TTL. */
export async function writeRateOverride(kv: Kv, subscriberId: string, override: RateOverride, ttlSeconds = RATE_OVERRIDE_TTL_SECONDS): Promise<void> {
  await kv.set(rateOverrideKey(subscriberId), JSON.stringify(override), ttlSeconds);
}

/**
 * The rate a session may have: per direction the minimum of the plan's MIR and the override (null = unlimited on
 * either side). Kbit/s in, kbit/s out.
 */
export function applyRateOverride(
  plan: { readonly downKbps: number | null; readonly upKbps: number | null },
  override: RateOverride | null,
): { downKbps: number | null; upKbps: number | null } {
  const min = (a: number | null, b: number | null | undefined) => (a === null ? (b ?? null) : b === null || b === undefined ? a : Math.min(a, b));
  return { downKbps: min(plan.downKbps, override?.down_kbps), upKbps: min(plan.upKbps, override?.up_kbps) };
}
