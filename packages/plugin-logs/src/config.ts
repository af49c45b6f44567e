/**
 * `plugins[].config` of the `logs` plugin. Everything has a default: with no key at all the plugin listens for syslog
 * on UDP+TCP 5514 and keeps records in local files under `.rgz/logs` (the embedded default). Set `cluster.url` to ship
 * to Elasticsearch/OpenSearch instead. Sizes are bytes, durations milliseconds unless the key says otherwise.
 */

import { isIP } from 'node:net';
import { isTimeZone, z } from '@rgz/core';

const port = z.number().int().min(0).max(65_535);
const timeZone = z.string().refine(isTimeZone, 'an IANA time zone such as UTC or Africa/Porto-Novo');
const MiB = 1024 * 1024;

export const configSchema = z
  .object({
    /** Spool, dead letters, local files and tail offsets live here (relative to the working directory). */
    dataDir: z.string().min(1).default('.rgz/logs'),
    syslog: z
      .object({
        enabled: z.boolean().default(true),
        /** Address to bind; 0.0.0.0 so that CPEs and FreeRADIUS on other hosts reach it. */
        host: z.string().default('0.0.0.0'),
        /** 5514, not 514: ports below 1024 need root or CAP_NET_BIND_SERVICE (docs/logs.md). null = off; 0 = any free port. */
        udpPort: port.nullable().default(5514),
        tcpPort: port.nullable().default(5514),
        /** Longer messages are cut and flagged `truncated` (RFC 5424 asks receivers for ≥ 2048; 8 KiB covers real devices). */
        maxMessageBytes: z.number().int().min(480).max(MiB).default(8192),
        maxConnections: z.number().int().min(1).max(100_000).default(512),
        /** Close TCP connections silent this long (seconds; 0 = never). */
        idleTimeoutSeconds: z.number().int().min(0).default(600),
        /** Kernel receive buffer of the UDP socket (bytes; capped by net.core.rmem_max). */
        recvBufferSize: z.number().int().min(65_536).optional(),
        /** Zone of RFC 3164 timestamps (they carry none); per sender in `sources`. */
        timeZone: timeZone.default('UTC'),
        /** Per-sender settings, by source IP address. */
        sources: z
          .array(
            z.object({
              address: z.string().refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address'),
              timeZone: timeZone.optional(),
              /** Index for this sender's lines that no rule below routes (default cpe). */
              index: z.enum(['radius', 'cpe']).optional(),
            }),
          )
          .default([]),
        /** Lines with these TAGs go to logstash-radius. */
        radiusAppNames: z.array(z.string().min(1)).default(['radiusd', 'freeradius', 'radius']),
        /** Records of parsers of these providers go to logstash-radius. */
        radiusProviders: z.array(z.string().min(1)).default(['freeradius']),
      })
      .prefault({}),
    /** Files to follow: the server's own JSON log (`api`), goflow2 JSON output (`netflow`), raw lines such as FreeRADIUS's radius.log (`raw`). */
    files: z
      .array(
        z.object({
          path: z.string().min(1),
          type: z.enum(['api', 'netflow', 'raw']),
          /** For `raw`: the index (default: by parser, else cpe). */
          index: z.enum(['radius', 'cpe']).optional(),
          /** Where to start the first time a file is seen (later: where it was left). */
          startAt: z.enum(['beginning', 'end']).default('end'),
        }),
      )
      .default([]),
    tail: z
      .object({
        pollMs: z.number().int().min(10).max(60_000).default(250),
        maxLineBytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * MiB)
          .default(64 * 1024),
        /** How often offsets are written to tail-state.json (ms). */
        saveMs: z.number().int().min(100).default(5000),
      })
      .prefault({}),
    netflow: z
      .object({
        /** goflow2 JSON lines over a socket (`goflow2 … | socat - TCP:host:port`); null = off. Files: `files[].type: netflow`. */
        host: z.string().default('127.0.0.1'),
        tcpPort: port.nullable().default(null),
        udpPort: port.nullable().default(null),
        maxLineBytes: z
          .number()
          .int()
          .min(1024)
          .max(MiB)
          .default(16 * 1024),
        attribution: z
          .object({
            /** Attribute flows (by IP) and CPE lines (by MAC) to subscribers through radius_sessions. */
            enabled: z.boolean().default(true),
            refreshSeconds: z.number().int().min(1).default(30),
            lookbackMinutes: z.number().int().min(0).default(15),
            maxSessions: z.number().int().min(1).default(200_000),
          })
          .prefault({}),
      })
      .prefault({}),
    queue: z
      .object({
        /** Lines waiting to be parsed; beyond, UDP lines are dropped (counted) and TCP/file sources pause. */
        maxRecords: z.number().int().min(100).default(20_000),
        maxBytes: z
          .number()
          .int()
          .min(MiB)
          .default(64 * MiB),
      })
      .prefault({}),
    cluster: z
      .object({
        /** Elasticsearch/OpenSearch URL(s). Unset = embedded default (local files). */
        url: z.union([z.url(), z.array(z.url()).min(1)]).optional(),
        flavor: z.enum(['elasticsearch', 'elasticsearch-8', 'opensearch']).default('elasticsearch'),
        username: z.string().optional(),
        password: z.string().optional(),
        apiKey: z.string().optional(),
        caFile: z.string().optional(),
        rejectUnauthorized: z.boolean().default(true),
        requestTimeoutMs: z.number().int().min(100).default(30_000),
        compression: z.boolean().default(false),
        /** PUT the lifecycle policy and the four index templates at start (needs manage_ilm / manage_index_templates). */
        installTemplates: z.boolean().default(true),
        batch: z
          .object({
            maxDocs: z.number().int().min(1).max(100_000).default(1000),
            maxBytes: z
              .number()
              .int()
              .min(1024)
              .default(5 * MiB),
            flushMs: z.number().int().min(1).default(1000),
          })
          .prefault({}),
        maxInFlight: z.number().int().min(1).max(64).default(2),
        /** Sealed batches waiting in memory for a request slot; beyond, batches go to the spool. */
        maxPendingBatches: z.number().int().min(0).max(1000).default(4),
        retry: z
          .object({
            attempts: z.number().int().min(1).max(100).default(3),
            baseMs: z.number().int().min(1).default(500),
            maxMs: z.number().int().min(1).default(30_000),
            /** Longest wait between probes while the cluster is down. */
            probeMaxMs: z.number().int().min(1).default(60_000),
          })
          .prefault({}),
        closeTimeoutMs: z.number().int().min(0).default(5000),
      })
      .prefault({}),
    spool: z
      .object({
        maxBytes: z
          .number()
          .int()
          .min(MiB)
          .default(1024 * MiB),
        segmentBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(16 * MiB),
        fsync: z.boolean().default(false),
      })
      .prefault({}),
    deadLetter: z
      .object({
        maxBytes: z
          .number()
          .int()
          .min(MiB)
          .default(256 * MiB),
      })
      .prefault({}),
    local: z
      .object({
        /** `auto`: local files when no cluster is configured. true: always (also beside a cluster). */
        enabled: z.union([z.literal('auto'), z.boolean()]).default('auto'),
        maxFileBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(32 * MiB),
        retentionDays: z.number().int().min(1).default(30),
        maxTotalBytes: z
          .number()
          .int()
          .min(MiB)
          .default(2048 * MiB),
        flushMs: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    search: z.object({ maxResults: z.number().int().min(1).max(10_000).default(1000) }).prefault({}),
  })
  .refine((c) => !(c.cluster.apiKey && c.cluster.username), { message: 'set cluster.apiKey or cluster.username/password, not both', path: ['cluster'] });

export type LogsConfig = z.output<typeof configSchema>;
