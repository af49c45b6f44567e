/**
 * `plugins[].config` of the `radius` plugin. Every key has a default except the NAS list, which may be empty (NAS can
 * be added by API). Durations are seconds unless the key says `Ms`.
 */

import { isIP } from 'node:net';
import { z } from '@rgz/core';

const instanceId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');

/** A NAS declared in config (read-only through the API; edit the config file to change it). */
export const configNasSchema = z.object({
  /** NAS-Identifier as the NAS sends it (CoovaChilli `radiusnasid`, MikroTik identity). */
  identifier: z.string().min(1).max(253),
  /** Source IP address its RADIUS packets come from (the shared secret is chosen by it). */
  address: z.string().refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address'),
  /** Shared secret, in clear (RADIUS needs it); write `${env:NAS_SECRET}` in the file. */
  secret: z.string().min(1).max(128),
  /** Id of its `NasVendor` dialect (`mikrotik`, `coovachilli`, `wispr`, …). */
  vendor: instanceId,
  resellerId: z.uuid().nullable().default(null),
  coaPort: z.number().int().min(1).max(65_535).default(3799),
  /** Drop Access-Requests without Message-Authenticator (BlastRADIUS). */
  requireMessageAuthenticator: z.boolean().default(true),
  /** Add Message-Authenticator to CoA/Disconnect-Requests sent to this NAS (some firmware rejects it). */
  coaMessageAuthenticator: z.boolean().default(false),
  enabled: z.boolean().default(true),
});

const listener = (port: number) =>
  z
    .object({
      host: z.string().default('0.0.0.0'),
      /** 0 = a random free port (tests). */
      port: z.number().int().min(0).max(65_535).default(port),
    })
    .default({ host: '0.0.0.0', port });

export const configSchema = z
  .object({
    /** Start the UDP listeners (turn off on replicas that only serve HTTP). */
    listen: z.boolean().default(true),
    auth: listener(1812),
    acct: listener(1813),
    /** Kernel receive buffer per socket, bytes (radius.md §13a: losses are buffer overflows). Capped by net.core.rmem_max. */
    recvBufferSize: z
      .number()
      .int()
      .min(65_536)
      .default(4 * 1024 * 1024),
    /** NAS from config, in addition to the `radius_nas` table. */
    nas: z.array(configNasSchema).default([]),
    /** Seconds between re-reading the NAS table (other replicas' changes also arrive by event at once). */
    nasRefreshSeconds: z.number().int().min(1).default(30),
    /** Acct-Interim-Interval sent in Access-Accept (RFC 2869 §5.16: ≥ 60). */
    interimIntervalSeconds: z.number().int().min(60).default(300),
    /** Idle-Timeout sent in Access-Accept; unset = none. */
    idleTimeoutSeconds: z.number().int().min(1).optional(),
    /** Cap Session-Timeout at the end of the plan's quota window (midnight for daily plans), so sessions do not straddle windows. */
    capSessionAtQuotaWindow: z.boolean().default(true),
    /** Devices online at once per subscriber (Simultaneous-Use): `default`, overridden per reseller id. */
    simultaneousUse: z
      .object({
        default: z.number().int().min(1).default(2),
        resellers: z.record(z.uuid(), z.number().int().min(1)).default({}),
      })
      .default({ default: 2, resellers: {} }),
    /** MAC authentication (User-Name = a device MAC of a subscriber with a live portal session). */
    macAuth: z.object({ enabled: z.boolean().default(true) }).default({ enabled: true }),
    /** Seconds a response stays in the duplicate cache (RFC 5080 §2.2.2 says 5–30). */
    duplicateCacheSeconds: z.number().int().min(1).max(60).default(30),
    /** Requests processed at once per listener; more are dropped (reason `overloaded`) and the NAS retries. */
    maxInFlight: z.number().int().min(1).default(2_000),
    /** Window of `radius_auth_success_rate`, seconds. */
    successRateWindowSeconds: z.number().int().min(10).default(300),
    accounting: z
      .object({
        /** Group commit: wait at most this long for more records before writing a batch. */
        batchWindowMs: z.number().int().min(0).max(1000).default(2),
        /** Largest batch (rows per transaction). */
        maxBatch: z.number().int().min(1).max(2000).default(500),
        /** A session with no accounting for this long is closed; default 3 × interim + 60 s. */
        staleAfterSeconds: z.number().int().min(60).optional(),
        /** Cron of the job that closes stale sessions. */
        staleJobCron: z.string().default('* * * * *'),
      })
      .default({ batchWindowMs: 2, maxBatch: 500, staleJobCron: '* * * * *' }),
    /**
     * FreeRADIUS rlm_rest backend: `POST /radius/rest/{authorize,authenticate,post-auth,accounting}` for an operator who
     * keeps FreeRADIUS in front of RGZ (packages/plugin-radius/freeradius/). FreeRADIUS sends `Authorization: Bearer <token>`.
     */
    rest: z
      .object({
        enabled: z.boolean().default(false),
        /** Shared with FreeRADIUS; write `${env:RGZ_RADIUS_REST_TOKEN}`. Required when enabled. */
        token: z.string().min(32, 'at least 32 characters (e.g. `openssl rand -hex 32`)').max(512).optional(),
      })
      .default({ enabled: false }),
    coa: z
      .object({
        /** Id of the `NasClient` used for CoA/Disconnect (this plugin contributes `rgz-udp`). */
        client: instanceId.default('rgz-udp'),
        /** Id under which this plugin contributes its UDP client to `NasClients`. */
        clientId: instanceId.default('rgz-udp'),
        /** CoA attempts (task runs) before falling back to a Disconnect-Request. */
        attempts: z.number().int().min(1).max(20).default(3),
        /** Disconnect attempts after that, before the task is given up. */
        disconnectAttempts: z.number().int().min(1).max(20).default(3),
        /** First task retry delay, seconds; doubles each attempt. */
        backoffSeconds: z.number().min(0).default(5),
        /** RFC 5080 retransmission of one request: defaults IRT 2 s, 5 transmissions, MRT 16 s, MRD 30 s. */
        retransmit: z
          .object({
            initialTimeoutMs: z.number().int().min(10).default(2000),
            maxAttempts: z.number().int().min(1).max(10).default(5),
            maxTimeoutMs: z.number().int().min(10).default(16_000),
            maxDurationMs: z.number().int().min(10).default(30_000),
          })
          .default({ initialTimeoutMs: 2000, maxAttempts: 5, maxTimeoutMs: 16_000, maxDurationMs: 30_000 }),
      })
      .default({
        client: 'rgz-udp',
        clientId: 'rgz-udp',
        attempts: 3,
        disconnectAttempts: 3,
        backoffSeconds: 5,
        retransmit: { initialTimeoutMs: 2000, maxAttempts: 5, maxTimeoutMs: 16_000, maxDurationMs: 30_000 },
      }),
  })
  .superRefine((config, ctx) => {
    if (config.rest.enabled && config.rest.token === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['rest', 'token'],
        message:
          // biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:…}` is the config file's secret syntax, not a template.
          'required when rest.enabled is true: the bearer token FreeRADIUS sends (Authorization: Bearer <token>), at least 32 characters; write `${env:RGZ_RADIUS_REST_TOKEN}` and generate it with `openssl rand -hex 32`',
      });
    }
    const seen = new Map<string, number>();
    config.nas.forEach((nas, i) => {
      for (const key of [`address:${nas.address}`, `identifier:${nas.identifier}`]) {
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['nas', i], message: `same ${key.split(':')[0]} as nas[${first}]` });
        else seen.set(key, i);
      }
    });
  });

export type RadiusConfig = z.output<typeof configSchema>;
export type ConfigNas = z.output<typeof configNasSchema>;

/** Seconds of silence after which a session is closed by the stale-session job. */
export function staleAfterSeconds(config: RadiusConfig): number {
  return config.accounting.staleAfterSeconds ?? 3 * config.interimIntervalSeconds + 60;
}
