/**
 * `plugins[].config` of the `dba` plugin. Every key has a default; rates are kbit/s, durations seconds.
 */
import { RATE_OVERRIDE_TTL_SECONDS, z } from '@rgz/core';

const kbps = z.number().int().min(0);
const pair = (down: number, up: number) => z.object({ down: kbps.default(down), up: kbps.default(up) }).default({ down, up });

export const configSchema = z.object({
  /** When the allocation runs (the seed: every 5 minutes). */
  cron: z.string().default('*/5 * * * *'),
  /** Compute and record, but write no rate and send no CoA (also `POST /api/dba/runs?dry_run=1` for one run). */
  dryRun: z.boolean().default(false),
  /**
   * The guaranteed rate (CIR floor) of a plan: `plans[code]` when given, else `fraction` × the plan's MIR, else (plans
   * without a rate: unlimited MIR) `unlimitedKbps`.
   */
  cir: z
    .object({
      fraction: z.number().min(0).max(1).default(0.25),
      unlimitedKbps: pair(1024, 512),
      plans: z.record(z.string(), z.object({ down: kbps, up: kbps })).default({}),
    })
    .default({ fraction: 0.25, unlimitedKbps: { down: 1024, up: 512 }, plans: {} }),
  /** Burst head-room above the computed MIR, as a fraction of it (never above the plan's MIR). */
  burstFraction: z.number().min(0).max(10).default(0.5),
  /** Push a new rate only when it differs from the last pushed one by more than `percent` % and more than `kbps`. */
  hysteresis: z
    .object({
      percent: z.number().min(0).max(100).default(10),
      kbps: kbps.default(128),
    })
    .default({ percent: 10, kbps: 128 }),
  demand: z
    .object({
      /** Where demand comes from; several: the larger reading wins, per direction. */
      sources: z
        .array(z.enum(['radius', 'snmp']))
        .min(1)
        .default(['radius']),
      /** An open RADIUS session silent for longer than this is not counted as online. */
      staleSeconds: z.number().int().min(60).default(960),
    })
    .default({ sources: ['radius'], staleSeconds: 960 }),
  /**
   * NAS-Identifier → inventory site (its id or its name): subscribers with an open session on that NAS belong to the
   * site (hotspot subscribers have no CPE in the inventory). A subscriber's CPE, when the inventory knows one, wins.
   */
  nasSites: z.record(z.string(), z.string().min(1)).default({}),
  push: z
    .object({
      /**
       * Attempts of each `nas.policy-change` task DBA enqueues. 1 (default): one CoA round (with the NAS client's own
       * retransmissions), never the RADIUS plugin's Disconnect fallback: a rate tweak is not worth a dropped session.
       */
      maxAttempts: z.number().int().min(1).max(20).default(1),
    })
    .default({ maxAttempts: 1 }),
  /** TTL of `rgz:dba:rate:{subscriber}` and `rgz:dba:mir:{reseller}` (the seed: 600 s). */
  ttlSeconds: z.number().int().min(60).default(RATE_OVERRIDE_TTL_SECONDS),
  /** Runs (with their allocations) older than this are deleted. */
  retentionDays: z.number().int().min(1).default(3),
  /** A run taking longer is aborted. */
  timeoutSeconds: z.number().int().min(10).default(120),
});

export type DbaConfig = z.output<typeof configSchema>;
