import { z } from '@rgz/core';

export const configSchema = z
  .object({
    /** When to poll every enabled device (cron, 5 or 6 fields). The seed's flow 7: every 5 minutes. */
    cron: z.string().default('*/5 * * * *'),
    /** IANA zone for `cron` and `maintenanceCron`; the server's by default. */
    timezone: z.string().optional(),
    /** A poll run is aborted after this long (keep it under the cron interval). */
    jobTimeoutSeconds: z.number().int().positive().default(280),
    /** Devices polled at once (one UDP socket each). */
    concurrency: z.number().int().min(1).max(5000).default(200),
    /** Per SNMP request. */
    timeoutMs: z.number().int().min(50).max(60_000).default(2000),
    /** Retransmissions per request. */
    retries: z.number().int().min(0).max(5).default(1),
    /**
     * Retransmissions for a device whose previous poll failed: a CPE that is down stays down for several polls, and
     * each retry of it holds a worker for another `timeoutMs`. 0 = one attempt per request.
     */
    retriesWhenDown: z.number().int().min(0).max(5).default(0),
    /** Whole poll of one device (detection, gets, walks); past it the device counts as timed out. */
    deviceTimeoutSeconds: z.number().positive().max(600).default(20),
    /** Varbinds asked per GetBulk (columns × repetitions): ~60 keeps answers within one 1500-byte datagram. */
    varbindsPerRequest: z.number().int().min(1).max(500).default(60),
    /** Which inventory kinds to poll. */
    kinds: z
      .array(z.enum(['gateway', 'access_point', 'cpe']))
      .min(1)
      .default(['gateway', 'access_point', 'cpe']),
    /** A device on `profile: auto` is re-detected this often (and whenever its profile stops answering). */
    redetectHours: z.number().positive().default(24),
    /** Contribute the generic IF-MIB profile (id `if-mib`), the fallback for devices no vendor profile claims. */
    genericProfile: z.boolean().default(true),
    /**
     * Rows in snmp_interface_samples per successful poll: `primary` (the interface the device's throughput is read
     * from), `all` (every non-loopback interface that is up: 4-6 on an airOS CPE) or `none`. The device row and the
     * latest sample (every interface) are always kept.
     */
    storeInterfaces: z.enum(['primary', 'all', 'none']).default('primary'),
    /** Drop partitions (or TimescaleDB chunks) older than this. */
    retentionDays: z.number().int().min(1).max(3650).default(30),
    /** Daily partitions created ahead of time. */
    partitionsAhead: z.number().int().min(1).max(60).default(3),
    /** When partitions are created ahead and old ones dropped (also done at start-up). */
    maintenanceCron: z.string().default('17 0 * * *'),
    /**
     * `auto`: if the timescaledb extension is installed (pg_extension) when the tables are created, make them
     * hypertables; `off`: always plain declarative partitioning. Decided once, at migration time.
     */
    timescale: z.enum(['auto', 'off']).default('auto'),
    /** A rate above the interface speed × this is discarded (several 32-bit wraps, unseen reset). */
    maxRateFactor: z.number().min(1).default(1.5),
    /** A 32-bit counter delta over a longer gap between polls is not trusted. */
    maxGapSeconds32: z.number().int().positive().default(1800),
  })
  .strict();

export type SnmpConfig = z.infer<typeof configSchema>;
