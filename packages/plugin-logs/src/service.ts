/**
 * The running logs service: the sources (syslog listeners, flow sockets, tailed files), the pipeline and the outputs
 * (cluster shipper with spool and dead letters, and/or local files), and searches. Only a serving process starts it
 * (the plugin's `onServe`), so it alone writes the data directory; a CLI process beside it (`rgz logs search`) only
 * searches.
 */

import { join, resolve } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { type Kysely, type Logger, type LogParser, RgzError } from '@rgz/core';
import type { LogsConfig } from './config.js';
import { ParserRouter } from './ingest/parser-router.js';
import { type IngestItem, Pipeline } from './ingest/pipeline.js';
import { FileTailer, TailState } from './ingest/tail.js';
import type { LogsMetrics } from './metrics.js';
import { SessionDirectory } from './netflow/sessions.js';
import { createClusterClient } from './output/cluster.js';
import { DeadLetter } from './output/dead-letter.js';
import { LocalStore } from './output/local-store.js';
import { INDEX_KINDS, type IndexKind, type Output, type OutRecord } from './output/records.js';
import { type SearchQuery, type SearchResult, searchCluster, searchLocal } from './output/search.js';
import { Shipper } from './output/shipper.js';
import { Spool } from './output/spool.js';
import { DAILY_POLICY, ilmPolicy, indexTemplate, ismPolicy } from './output/templates.js';
import { type BoundAddress, LineListener } from './syslog/receiver.js';
import { newId } from './util/ids.js';
import { decodeLine } from './util/text.js';

export interface LogsStatus {
  /** This process runs the pipeline and writes the data directory (false: search only, e.g. a CLI process). */
  active: boolean;
  /** This process's pid when `active`. */
  ownerPid: number | null;
  dataDir: string;
  outputs: Array<'cluster' | 'local'>;
  parsers: string[];
  listeners: {
    syslogUdp: BoundAddress | null;
    syslogTcp: BoundAddress | null;
    netflowUdp: BoundAddress | null;
    netflowTcp: BoundAddress | null;
    tcpConnections: number;
    /** Datagrams the kernel dropped before we could read them (Linux), syslog + netflow UDP. */
    udpKernelDrops: number | null;
  };
  queue: { depth: number; bytes: number; paused: boolean; processed: number };
  cluster: { configured: boolean; up: boolean; inMemory: number; lastError: string | null; deadLettered: number };
  spool: { bytes: number; records: number };
  files: Array<{ path: string; type: string; offset: number }>;
  attribution: { enabled: boolean; available: boolean; sessions: number };
}

export interface LogsHandle {
  status(): LogsStatus;
  /** Wait until every line received so far is parsed and durable (shipped, spooled or in local files). */
  flush(timeoutMs?: number): Promise<void>;
  search(query: SearchQuery): Promise<SearchResult>;
  /** Feed one line as if a source had received it (tests, benchmarks, other plugins). False: queue full, not taken. */
  ingest(type: 'syslog' | 'api' | 'netflow' | 'raw', line: string, options?: { source?: string; index?: 'radius' | 'cpe' }): boolean;
  /** Re-read the session table for attribution now. */
  refreshSessions(): Promise<void>;
}

class MultiOutput implements Output {
  constructor(private readonly outputs: Output[]) {}
  write(record: OutRecord): void {
    for (const o of this.outputs) o.write(record);
  }
  async flush(timeoutMs?: number): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.flush(timeoutMs)));
  }
  async close(): Promise<void> {
    for (const o of this.outputs) await o.close();
  }
}

export interface ServiceDeps {
  config: LogsConfig;
  log: Logger;
  db: Kysely<any>;
  metrics: LogsMetrics;
  parsers: () => ReadonlyMap<string, LogParser>;
}

export class LogsService implements LogsHandle {
  readonly #c: LogsConfig;
  readonly #log: Logger;
  readonly #m: LogsMetrics;
  readonly dataDir: string;
  #client: Client | undefined;
  #shipper: Shipper | undefined;
  #spool: Spool | undefined;
  #deadLetter: DeadLetter | undefined;
  #local: LocalStore | undefined;
  #output: Output | undefined;
  #pipeline: Pipeline | undefined;
  #router: ParserRouter | undefined;
  #syslog: LineListener | undefined;
  #flows: LineListener | undefined;
  #tailers: Array<{ tailer: FileTailer; type: string }> = [];
  #tailState: TailState | undefined;
  #tailSaver: NodeJS.Timeout | undefined;
  #gauges: NodeJS.Timeout | undefined;
  readonly #sessions: SessionDirectory;
  #started = false;

  constructor(private readonly deps: ServiceDeps) {
    this.#c = deps.config;
    this.#log = deps.log;
    this.#m = deps.metrics;
    this.dataDir = resolve(this.#c.dataDir);
    const a = this.#c.netflow.attribution;
    this.#sessions = new SessionDirectory(deps.db, deps.log, {
      enabled: a.enabled,
      refreshMs: a.refreshSeconds * 1000,
      lookbackMs: a.lookbackMinutes * 60_000,
      maxSessions: a.maxSessions,
    });
  }

  get #clusterConfigured(): boolean {
    return this.#c.cluster.url !== undefined;
  }

  get #localEnabled(): boolean {
    return this.#c.local.enabled === true || (this.#c.local.enabled === 'auto' && !this.#clusterConfigured);
  }

  #clusterClient(): Client {
    if (!this.#client) {
      const c = this.#c.cluster;
      this.#client = createClusterClient({
        nodes: Array.isArray(c.url) ? c.url : [c.url as string],
        flavor: c.flavor,
        username: c.username,
        password: c.password,
        apiKey: c.apiKey,
        caFile: c.caFile,
        rejectUnauthorized: c.rejectUnauthorized,
        requestTimeoutMs: c.requestTimeoutMs,
        compression: c.compression,
      });
    }
    return this.#client;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await this.#start();
    } catch (err) {
      // Leave nothing half-started behind (a bound UDP port, timers).
      await this.stop().catch(() => {});
      throw err;
    }
  }

  async #start(): Promise<void> {
    const outputs: Output[] = [];
    const m = this.#m;
    if (this.#clusterConfigured) {
      const c = this.#c.cluster;
      this.#spool = new Spool({
        dir: join(this.dataDir, 'spool'),
        maxBytes: this.#c.spool.maxBytes,
        segmentBytes: this.#c.spool.segmentBytes,
        fsync: this.#c.spool.fsync,
      });
      this.#deadLetter = new DeadLetter(join(this.dataDir, 'dead-letter'), this.#c.deadLetter.maxBytes);
      this.#shipper = new Shipper(
        this.#clusterClient(),
        this.#spool,
        this.#deadLetter,
        {
          records: (index, outcome, n) => m.records.inc({ index, outcome }, n),
          dropped: (reason, n) => m.dropped.inc({ reason }, n),
          request: (outcome, seconds) => {
            m.bulkRequests.inc({ outcome });
            m.bulkDuration.observe(seconds);
          },
          state: (up) => m.clusterUp.set(up ? 1 : 0),
          warn: (message, fields) => this.#log.warn(fields ?? {}, message),
        },
        {
          maxDocs: c.batch.maxDocs,
          maxBytes: c.batch.maxBytes,
          flushMs: c.batch.flushMs,
          maxInFlight: c.maxInFlight,
          maxPendingBatches: c.maxPendingBatches,
          attempts: c.retry.attempts,
          baseMs: c.retry.baseMs,
          maxMs: c.retry.maxMs,
          probeMaxMs: c.retry.probeMaxMs,
          closeTimeoutMs: c.closeTimeoutMs,
        },
      );
      this.#shipper.start();
      outputs.push(this.#shipper);
      if (c.installTemplates) void this.#installTemplates();
    }
    if (this.#localEnabled) {
      this.#local = new LocalStore(
        {
          dir: join(this.dataDir, 'local'),
          maxFileBytes: this.#c.local.maxFileBytes,
          retentionDays: this.#c.local.retentionDays,
          maxTotalBytes: this.#c.local.maxTotalBytes,
          flushMs: this.#c.local.flushMs,
        },
        {
          stored: (records) => countByKind(records, (kind, n) => m.records.inc({ index: kind, outcome: 'stored' }, n)),
          dropped: (reason, records) => {
            m.dropped.inc({ reason }, records.length);
            countByKind(records, (kind, n) => m.records.inc({ index: kind, outcome: 'dropped' }, n));
          },
          evicted: (_files, bytes) => m.localEvicted.inc(bytes),
          warn: (message, fields) => this.#log.warn(fields ?? {}, message),
        },
      );
      this.#local.start();
      outputs.push(this.#local);
    }
    this.#output = outputs.length === 1 ? (outputs[0] as Output) : new MultiOutput(outputs);

    const parsers = this.deps.parsers();
    this.#router = new ParserRouter(parsers.values(), (parser, err) => {
      m.parserErrors.inc({ parser: parser.id });
      this.#log.warn({ err, parser: parser.id }, 'log parser threw (a bug in the parser); line kept raw');
    });
    if (parsers.size === 0) this.#log.info('no log parser loaded: every line is kept raw (add @rgz/logparser-freeradius, -ubiquiti-airos, -cambium-epmp)');

    const sources = new Map(this.#c.syslog.sources.map((s) => [s.address, s]));
    const router = this.#router;
    this.#pipeline = new Pipeline(
      {
        maxRecords: this.#c.queue.maxRecords,
        maxBytes: this.#c.queue.maxBytes,
        timeZoneFor: (source) => (source ? sources.get(source)?.timeZone : undefined) ?? this.#c.syslog.timeZone,
        indexFor: (source) => (source ? sources.get(source)?.index : undefined),
        radiusAppNames: new Set(this.#c.syslog.radiusAppNames.map((a) => a.toLowerCase())),
        radiusProviders: new Set(this.#c.syslog.radiusProviders),
        attributeFlows: this.#c.netflow.attribution.enabled,
        attributeMacs: this.#c.netflow.attribution.enabled,
      },
      { router: () => router, output: this.#output, sessions: this.#sessions, metrics: m, log: this.#log },
    );
    this.#sessions.start();

    const onConnections = () => m.connections.set((this.#syslog?.connections ?? 0) + (this.#flows?.connections ?? 0));
    const s = this.#c.syslog;
    if (s.enabled && (s.udpPort !== null || s.tcpPort !== null)) {
      this.#syslog = new LineListener(
        {
          host: s.host,
          udpPort: s.udpPort,
          tcpPort: s.tcpPort,
          maxMessageBytes: s.maxMessageBytes,
          maxConnections: s.maxConnections,
          idleTimeoutMs: s.idleTimeoutSeconds * 1000,
          recvBufferSize: s.recvBufferSize,
          kind: 'syslog',
        },
        this.#pipeline,
        this.#log,
        onConnections,
      );
      await this.#syslog.start().catch((err: NodeJS.ErrnoException) => {
        throw new RgzError('logs_listen_failed', listenHint(err, s.host, s.udpPort, s.tcpPort), { cause: err });
      });
      this.#log.info({ udp: this.#syslog.udpAddress, tcp: this.#syslog.tcpAddress }, 'syslog receiver listening');
    }
    const n = this.#c.netflow;
    if (n.udpPort !== null || n.tcpPort !== null) {
      this.#flows = new LineListener(
        { host: n.host, udpPort: n.udpPort, tcpPort: n.tcpPort, maxMessageBytes: n.maxLineBytes, maxConnections: 64, idleTimeoutMs: 0, kind: 'flow' },
        this.#pipeline,
        this.#log,
        onConnections,
      );
      await this.#flows.start().catch((err: NodeJS.ErrnoException) => {
        throw new RgzError('logs_listen_failed', listenHint(err, n.host, n.udpPort, n.tcpPort), { cause: err });
      });
      this.#log.info({ udp: this.#flows.udpAddress, tcp: this.#flows.tcpAddress }, 'NetFlow line socket listening');
    }

    this.#tailState = new TailState(join(this.dataDir, 'tail-state.json'));
    const pipeline = this.#pipeline;
    for (const f of this.#c.files) {
      const path = resolve(f.path);
      const source = 'file';
      const tailer = new FileTailer(
        {
          path,
          startAt: f.startAt,
          maxLineBytes: f.type === 'netflow' ? this.#c.netflow.maxLineBytes : this.#c.tail.maxLineBytes,
          pollMs: this.#c.tail.pollMs,
        },
        this.#tailState,
        (line, id) => {
          const receivedAt = Date.now();
          const item: IngestItem =
            f.type === 'api'
              ? { t: 'api', line, receivedAt, id, file: path }
              : f.type === 'netflow'
                ? { t: 'flow', line, receivedAt, id }
                : { t: 'raw', line, receivedAt, id, index: f.index };
          if (!pipeline.hasRoom(line.text.length * 2 + 64) || pipeline.paused) return false;
          pipeline.count('lines', source);
          if (line.truncated) pipeline.count('truncated', source);
          if (line.invalidUtf8) pipeline.count('invalidUtf8', source);
          return pipeline.offer(item);
        },
        this.#log,
        (resume) => pipeline.onResume(resume),
      );
      tailer.start();
      this.#tailers.push({ tailer, type: f.type });
    }
    const tailState = this.#tailState;
    this.#tailSaver = setInterval(() => {
      try {
        tailState.save();
      } catch (err) {
        this.#log.warn({ err }, 'could not save tail offsets');
      }
    }, this.#c.tail.saveMs);
    this.#tailSaver.unref();
    this.#gauges = setInterval(() => this.#updateGauges(), 5000);
    this.#gauges.unref();
  }

  #updateGauges(): void {
    const sys = this.#syslog?.kernelDrops();
    if (sys !== undefined) this.#m.kernelDrops.set({ listener: 'syslog' }, sys);
    const flows = this.#flows?.kernelDrops();
    if (flows !== undefined) this.#m.kernelDrops.set({ listener: 'netflow' }, flows);
    if (this.#spool) {
      this.#m.spoolBytes.set(this.#spool.bytes);
      this.#m.spoolRecords.set(this.#spool.records);
    }
  }

  async #installTemplates(): Promise<void> {
    const client = this.#clusterClient();
    const flavor = this.#c.cluster.flavor === 'opensearch' ? 'opensearch' : 'elasticsearch';
    try {
      if (flavor === 'elasticsearch') {
        await client.transport.request({ method: 'PUT', path: `/_ilm/policy/${DAILY_POLICY}`, body: ilmPolicy(false) });
      } else {
        try {
          await client.transport.request({ method: 'PUT', path: `/_plugins/_ism/policies/${DAILY_POLICY}`, body: ismPolicy(false) });
        } catch (err) {
          // 409: the policy exists (ISM updates need seq_no/primary_term): keep the operator's copy.
          if ((err as { statusCode?: number }).statusCode !== 409) throw err;
        }
      }
      for (const kind of INDEX_KINDS) {
        await client.transport.request({ method: 'PUT', path: `/_index_template/logstash-${kind}`, body: indexTemplate(kind, flavor) });
      }
      this.#log.info({ flavor, policy: DAILY_POLICY }, 'index templates and lifecycle policy installed');
    } catch (err) {
      this.#log.warn(
        { err: (err as Error).message },
        'could not install index templates / lifecycle policy (cluster down or missing privileges); install deploy/elasticsearch by hand or retry at next start',
      );
    }
  }

  status(): LogsStatus {
    return {
      active: this.#started,
      ownerPid: this.#started ? process.pid : null,
      dataDir: this.dataDir,
      // The configured outputs: the ones a serving process runs, and the ones a searching process reads.
      outputs: [...(this.#clusterConfigured ? (['cluster'] as const) : []), ...(this.#localEnabled ? (['local'] as const) : [])],
      parsers: [...this.deps.parsers().keys()],
      listeners: {
        syslogUdp: this.#syslog?.udpAddress ?? null,
        syslogTcp: this.#syslog?.tcpAddress ?? null,
        netflowUdp: this.#flows?.udpAddress ?? null,
        netflowTcp: this.#flows?.tcpAddress ?? null,
        tcpConnections: (this.#syslog?.connections ?? 0) + (this.#flows?.connections ?? 0),
        udpKernelDrops: kernelDrops(this.#syslog, this.#flows),
      },
      queue: {
        depth: this.#pipeline?.depth ?? 0,
        bytes: this.#pipeline?.queuedBytes ?? 0,
        paused: this.#pipeline?.paused ?? false,
        processed: this.#pipeline?.processed ?? 0,
      },
      cluster: {
        configured: this.#clusterConfigured,
        up: this.#shipper?.up ?? false,
        inMemory: this.#shipper?.inMemory ?? 0,
        lastError: this.#shipper?.lastError || null,
        deadLettered: this.#deadLetter?.written ?? 0,
      },
      spool: { bytes: this.#spool?.bytes ?? 0, records: this.#spool?.records ?? 0 },
      files: this.#tailers.map(({ tailer, type }) => ({ path: tailer.options.path, type, offset: tailer.offset })),
      attribution: { enabled: this.#c.netflow.attribution.enabled, available: this.#sessions.available, sessions: this.#sessions.size },
    };
  }

  async flush(timeoutMs = 30_000): Promise<void> {
    for (const { tailer } of this.#tailers) tailer.poll();
    if (this.#pipeline) {
      await Promise.race([this.#pipeline.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      this.#pipeline.syncMetrics();
    }
    await this.#output?.flush(timeoutMs);
    this.#updateGauges();
  }

  async search(query: SearchQuery): Promise<SearchResult> {
    const q = { ...query, limit: Math.min(query.limit, this.#c.search.maxResults) };
    if (this.#clusterConfigured) return searchCluster(this.#clusterClient(), q);
    this.#local?.flushSync();
    return searchLocal(join(this.dataDir, 'local'), q);
  }

  ingest(type: 'syslog' | 'api' | 'netflow' | 'raw', text: string, options: { source?: string; index?: 'radius' | 'cpe' } = {}): boolean {
    const p = this.#pipeline;
    if (!p) return false;
    const max = type === 'syslog' ? this.#c.syslog.maxMessageBytes : type === 'netflow' ? this.#c.netflow.maxLineBytes : this.#c.tail.maxLineBytes;
    const line = decodeLine(Buffer.from(text), max);
    const receivedAt = Date.now();
    const item: IngestItem =
      type === 'syslog'
        ? { t: 'syslog', line, receivedAt, source: options.source, transport: 'udp' }
        : type === 'api'
          ? { t: 'api', line, receivedAt, id: newId(), file: 'ingest' }
          : type === 'netflow'
            ? { t: 'flow', line, receivedAt, id: undefined }
            : { t: 'raw', line, receivedAt, id: newId(), index: options.index };
    p.count('lines', 'ingest');
    return p.offer(item);
  }

  refreshSessions(): Promise<void> {
    return this.#sessions.refresh(true);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#syslog?.stop();
    await this.#flows?.stop();
    for (const { tailer } of this.#tailers) tailer.stop();
    if (this.#pipeline) {
      await Promise.race([this.#pipeline.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      this.#pipeline.stop();
    }
    await this.#output?.close();
    this.#sessions.stop();
    if (this.#tailSaver) clearInterval(this.#tailSaver);
    if (this.#gauges) clearInterval(this.#gauges);
    try {
      this.#tailState?.save();
    } catch (err) {
      this.#log.warn({ err }, 'could not save tail offsets');
    }
    await this.#client?.close().catch(() => {});
  }
}

function kernelDrops(...listeners: Array<LineListener | undefined>): number | null {
  let total: number | null = null;
  for (const l of listeners) {
    const d = l?.kernelDrops();
    if (d !== undefined) total = (total ?? 0) + d;
  }
  return total;
}

function countByKind(records: readonly OutRecord[], fn: (kind: IndexKind, n: number) => void): void {
  const m = new Map<IndexKind, number>();
  for (const r of records) m.set(r.kind, (m.get(r.kind) ?? 0) + 1);
  for (const [k, n] of m) fn(k, n);
}

function listenHint(err: NodeJS.ErrnoException, host: string, udp: number | null, tcp: number | null): string {
  const ports = [udp !== null ? `udp/${udp}` : '', tcp !== null ? `tcp/${tcp}` : ''].filter(Boolean).join(', ');
  if (err.code === 'EACCES') {
    return `cannot listen on ${host} ${ports}: ports below 1024 need root; keep 5514 and redirect 514 (iptables -t nat -A PREROUTING -p udp --dport 514 -j REDIRECT --to-ports 5514) or grant the capability (setcap cap_net_bind_service=+ep $(readlink -f $(which node))) — see docs/logs.md`;
  }
  if (err.code === 'EADDRINUSE') return `cannot listen on ${host} ${ports}: the port is in use (another rgz, rsyslog or syslog-ng?)`;
  return `cannot listen on ${host} ${ports}: ${err.message}`;
}
