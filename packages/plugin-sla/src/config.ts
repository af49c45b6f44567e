/**
 * `plugins[].config` of the `sla` plugin. Every key has a default; durations in seconds unless the key says `Ms`.
 */
import { z } from '@rgz/core';

const targetId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, dot, dash, underscore (≤ 63)');

const common = {
  id: targetId,
  /** Inventory site (id or name) the target belongs to: its uptime counts for the site and the site's reseller. */
  site: z.string().min(1).optional(),
  /** Reseller id, when the target has no site (or overrides the site's). */
  resellerId: z.string().uuid().optional(),
};

export const icmpTargetSchema = z.object({
  ...common,
  kind: z.literal('icmp'),
  /** IPv4/IPv6 address or host name. */
  host: z.string().min(1).max(253),
  /** Another command to run `ping` through for this target (a management VRF: `["ip","vrf","exec","mgmt","ping"]`). */
  command: z.array(z.string().min(1)).min(1).optional(),
});

export const httpTargetSchema = z.object({
  ...common,
  kind: z.literal('http'),
  /** Absolute http(s) URL; default the portal's `/health` (the server's public URL). */
  url: z.string().url().optional(),
  /** Statuses counted as up; default any 2xx. */
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
});

export const dnsTargetSchema = z.object({
  ...common,
  kind: z.literal('dns'),
  /** Name to resolve (a recursive lookup through `server`). */
  name: z.string().min(1).max(253),
  /** Resolver to ask: `ip`, `ip:port` or `[ipv6]:port`. */
  server: z.string().min(1),
  type: z.enum(['A', 'AAAA']).default('A'),
});

export const targetSchema = z.discriminatedUnion('kind', [icmpTargetSchema, httpTargetSchema, dnsTargetSchema]);
export type TargetConfig = z.output<typeof targetSchema>;

export const configSchema = z
  .object({
    /** When probes run (the seed: every 5 minutes). */
    cron: z.string().default('*/5 * * * *'),
    /** Probes in flight at once. */
    concurrency: z.number().int().min(1).max(256).default(16),
    /** A run taking longer is aborted. */
    timeoutSeconds: z.number().int().min(10).default(120),
    targets: z.array(targetSchema).default([]),
    /** Probe the portal's `/health` (HTTP target `portal-health`) without listing it. */
    portalHealth: z.boolean().default(true),
    /** Ping every enabled gateway of the inventory (target `gw-<device id>`, in its site). */
    inventoryGateways: z.boolean().default(true),
    icmp: z
      .object({
        /** Echo requests per probe. */
        count: z.number().int().min(1).max(20).default(3),
        /** Seconds between requests (iputils: ≥ 0.2 without privileges). */
        intervalSeconds: z.number().min(0.2).max(10).default(0.2),
        /** Seconds to wait for each reply (`ping -W`). */
        timeoutSeconds: z.number().int().min(1).max(30).default(1),
        /** A probe is down when more than this share of the requests went unanswered. */
        maxLossPercent: z.number().min(0).max(99).default(50),
        /** The ping program (and any prefix). */
        command: z.array(z.string().min(1)).min(1).default(['ping']),
      })
      .default({ count: 3, intervalSeconds: 0.2, timeoutSeconds: 1, maxLossPercent: 50, command: ['ping'] }),
    http: z.object({ timeoutMs: z.number().int().min(50).default(5000) }).default({ timeoutMs: 5000 }),
    dns: z
      .object({
        timeoutMs: z.number().int().min(50).default(2000),
        /** Attempts (c-ares tries) per probe. */
        tries: z.number().int().min(1).max(5).default(1),
      })
      .default({ timeoutMs: 2000, tries: 1 }),
    breach: z
      .object({
        /** This many failed probes in a row opens a `down` incident (resolved by the next success). */
        consecutiveFailures: z.number().int().min(1).default(3),
        /** Uptime objective, percent: below it over the current period opens an `objective` incident. */
        objectivePercent: z.number().min(0).max(100).default(99.5),
        /** Period the objective applies to (local time, server time zone). */
        period: z.enum(['day', 'month']).default('day'),
        /** Probes needed in the period before the objective is judged. */
        minSamples: z.number().int().min(1).default(12),
        downPriority: z.enum(['P0', 'P1', 'P2']).default('P1'),
        objectivePriority: z.enum(['P0', 'P1', 'P2']).default('P2'),
      })
      .default({ consecutiveFailures: 3, objectivePercent: 99.5, period: 'day', minSamples: 12, downPriority: 'P1', objectivePriority: 'P2' }),
    /** Probe results older than this are deleted (keep a year for yearly reports). */
    retentionDays: z.number().int().min(1).default(400),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.targets.forEach((t, i) => {
      const j = seen.get(t.id);
      if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['targets', i, 'id'], message: `"${t.id}" is also targets[${j}].id` });
      if (t.id === 'portal-health' && c.portalHealth)
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i, 'id'],
          message: '"portal-health" is the built-in portal target; set portalHealth: false to define it yourself',
        });
      if (t.id.startsWith('gw-')) ctx.addIssue({ code: 'custom', path: ['targets', i, 'id'], message: 'ids starting with "gw-" are the inventory gateways' });
      seen.set(t.id, i);
    });
  });

export type SlaConfig = z.output<typeof configSchema>;
