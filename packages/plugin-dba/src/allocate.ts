/**
 * One DBA computation, pure: sites and their online subscribers (plan, demand, rate in force) in; per-site results and
 * per-subscriber allocations with the push decision out. The engine does the I/O around it; the benchmark times it.
 */
import type { DemandSample } from './demand.js';
import { type CirRules, type Hysteresis, planCir, type RatePair, shouldPush } from './rates.js';
import { type Claim, type SiteShares, waterFill } from './water-filling.js';

export interface SiteInput {
  readonly id: string;
  readonly name: string;
  readonly resellerId: string | null;
  /** Null: unknown; a site without download capacity is skipped, one without upload capacity is managed downstream only. */
  readonly capacityDownKbps: number | null;
  readonly capacityUpKbps: number | null;
}

export interface MemberInput {
  readonly subscriberId: string;
  readonly siteId: string;
  readonly planCode: string;
  /** Plan MIR; null = unlimited. */
  readonly rateDownKbps: number | null;
  readonly rateUpKbps: number | null;
  readonly demand: DemandSample;
  /** Open RADIUS sessions (0: nothing to send a CoA to). */
  readonly sessions: number;
  /** The rate DBA last set and still in force (its key has not expired); null: the plan's own rate applies. */
  readonly previous: RatePair | null;
  /** Burst head-room set with `previous`. */
  readonly previousBurst?: RatePair;
}

export interface ComputeOptions {
  readonly cir: CirRules;
  readonly burstFraction: number;
  readonly hysteresis: Hysteresis;
}

export type ComputedDecision = 'push' | 'hold' | 'same';

export interface AllocationResult {
  readonly subscriberId: string;
  readonly siteId: string;
  readonly resellerId: string | null;
  readonly planCode: string;
  readonly sessions: number;
  readonly demand: DemandSample;
  readonly plan: RatePair;
  readonly cir: { readonly down: number; readonly up: number };
  readonly share: { readonly down: number; readonly up: number };
  /** Computed limits; `up` null when the site's upload is not managed. */
  readonly mir: RatePair & { readonly down: number };
  readonly burst: RatePair & { readonly down: number };
  /** In force before this run. */
  readonly previous: RatePair;
  readonly decision: ComputedDecision;
  /** In force after this run: `mir` when pushed, else `previous`. */
  readonly effective: RatePair;
  readonly effectiveBurst: RatePair;
}

export interface SiteResult {
  readonly site: SiteInput;
  readonly subscribers: number;
  readonly skipped: 'no_capacity' | null;
  readonly down: SiteShares | null;
  readonly up: SiteShares | null;
}

export interface Computation {
  readonly sites: SiteResult[];
  readonly allocations: AllocationResult[];
}

const same = (a: RatePair, b: RatePair) => a.down === b.down && a.up === b.up;

export function computeAllocations(sites: readonly SiteInput[], members: readonly MemberInput[], options: ComputeOptions): Computation {
  const bySite = new Map<string, MemberInput[]>();
  for (const m of members) {
    const list = bySite.get(m.siteId);
    if (list) list.push(m);
    else bySite.set(m.siteId, [m]);
  }
  const siteResults: SiteResult[] = [];
  const allocations: AllocationResult[] = [];
  for (const site of sites) {
    const list = bySite.get(site.id) ?? [];
    if (site.capacityDownKbps === null || site.capacityDownKbps <= 0) {
      siteResults.push({ site, subscribers: list.length, skipped: 'no_capacity', down: null, up: null });
      continue;
    }
    const cirs = list.map((m) => planCir({ code: m.planCode, rateDownKbps: m.rateDownKbps, rateUpKbps: m.rateUpKbps }, options.cir));
    const claims = (dir: 'down' | 'up'): Claim[] =>
      list.map((m, i) => ({
        id: m.subscriberId,
        demandKbps: dir === 'down' ? m.demand.downKbps : m.demand.upKbps,
        cirKbps: (cirs[i] as { down: number; up: number })[dir],
        capKbps: dir === 'down' ? m.rateDownKbps : m.rateUpKbps,
      }));
    const down = waterFill(site.capacityDownKbps, claims('down'), { burstFraction: options.burstFraction });
    const upManaged = site.capacityUpKbps !== null && site.capacityUpKbps > 0;
    const up = upManaged ? waterFill(site.capacityUpKbps as number, claims('up'), { burstFraction: options.burstFraction }) : null;
    siteResults.push({ site, subscribers: list.length, skipped: null, down, up });

    list.forEach((m, i) => {
      const d = down.shares[i] as SiteShares['shares'][number];
      const u = up?.shares[i];
      const mir = { down: d.mir, up: u ? u.mir : null };
      const burst = { down: d.burst, up: u ? u.burst : null };
      const previous: RatePair = m.previous ?? { down: d.cap, up: u ? u.cap : null };
      const decision: ComputedDecision = same(previous, mir) ? 'same' : shouldPush(previous, mir, options.hysteresis) ? 'push' : 'hold';
      const pushed = decision === 'push';
      allocations.push({
        subscriberId: m.subscriberId,
        siteId: site.id,
        resellerId: site.resellerId,
        planCode: m.planCode,
        sessions: m.sessions,
        demand: m.demand,
        plan: { down: m.rateDownKbps, up: m.rateUpKbps },
        cir: { down: d.cir, up: u ? u.cir : (cirs[i] as { up: number }).up },
        share: { down: d.share, up: u ? u.share : Math.round(m.demand.upKbps) },
        mir,
        burst,
        previous,
        decision,
        effective: pushed ? mir : previous,
        // At the cap (no DBA rate in force) there is no head-room left.
        effectiveBurst: pushed ? burst : m.previous === null ? { down: 0, up: u ? 0 : null } : (m.previousBurst ?? { down: null, up: null }),
      });
    });
  }
  return { sites: siteResults, allocations };
}
