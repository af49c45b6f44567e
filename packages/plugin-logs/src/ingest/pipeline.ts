/**
 * The ingest pipeline: every source (syslog UDP/TCP, tailed files, flow sockets) offers decoded lines to one bounded
 * queue; a drain loop turns them into documents (envelope → parsers → document → attribution) and hands them to the
 * output. The queue is the flood valve:
 * - UDP cannot be slowed down: a datagram that finds the queue full is dropped and counted
 *   (`logs_records_dropped_total{reason="queue_full"}`).
 * - TCP and files can: when the queue passes its high-water mark the sources pause (sockets stop reading, so TCP
 *   flow control pushes back on the sender; tailers stop reading the file) and resume below the low-water mark.
 * The loop works in slices of ~10 ms so it never starves the event loop (HTTP requests keep their latency).
 */

import type { Logger, SyslogMessage } from '@rgz/core';
import type { LogsMetrics } from '../metrics.js';
import { normalizeFlow } from '../netflow/flows.js';
import type { SessionDirectory } from '../netflow/sessions.js';
import { type IndexKind, indexName, type Output } from '../output/records.js';
import { PROMOTED } from '../output/templates.js';
import { parseSyslog } from '../syslog/envelope.js';
import { BoundedQueue } from '../util/bounded-queue.js';
import { newId } from '../util/ids.js';
import type { DecodedLine } from '../util/text.js';
import { apiDoc, apiObject, type Doc, lineFlags, rawDoc, sanitize, setTimestamp, syslogDoc } from './documents.js';
import type { ParserRouter } from './parser-router.js';

export type IngestItem =
  | { t: 'syslog'; line: DecodedLine; receivedAt: number; source: string | undefined; transport: 'udp' | 'tcp' }
  | { t: 'raw'; line: DecodedLine; receivedAt: number; id: string; index: IndexKind | undefined }
  | { t: 'api'; line: DecodedLine; receivedAt: number; id: string; file: string }
  | { t: 'flow'; line: DecodedLine; receivedAt: number; id: string | undefined };

export interface PipelineOptions {
  maxRecords: number;
  maxBytes: number;
  /** Zone of RFC 3164 timestamps for a sender address. */
  timeZoneFor(source: string | undefined): string;
  /** Index for a sender address when the routing rules below do not decide. */
  indexFor(source: string | undefined): IndexKind | undefined;
  /** TAGs whose lines go to logstash-radius (lower-case). */
  radiusAppNames: ReadonlySet<string>;
  /** Parser providers whose records go to logstash-radius. */
  radiusProviders: ReadonlySet<string>;
  attributeFlows: boolean;
  attributeMacs: boolean;
}

export interface PipelineDeps {
  router(): ParserRouter;
  output: Output;
  sessions: SessionDirectory;
  metrics: LogsMetrics;
  log: Logger;
}

const PROMOTED_KEYS = new Set(PROMOTED);

/** Parser fields that land at the top level, plus the subject fields. */
function promotedKeys(fields: Readonly<Record<string, unknown>>): string[] {
  const keys = ['user', 'mac', 'subject_ip'];
  for (const k in fields) if (PROMOTED_KEYS.has(k)) keys.push(k);
  return keys;
}

type CounterName = 'lines' | 'truncated' | 'invalidUtf8' | 'parsed' | 'attributed' | 'dropped';

const HIGH_WATER = 0.9;
const LOW_WATER = 0.5;
const SLICE_MS = 10;

export class Pipeline {
  readonly #queue: BoundedQueue<IngestItem>;
  readonly #o: PipelineOptions;
  readonly #d: PipelineDeps;
  #scheduled = false;
  #paused = false;
  #resumers = new Set<() => void>();
  #idleWaiters: Array<() => void> = [];
  #counters: Record<CounterName, Map<string, number>> = {
    lines: new Map(),
    truncated: new Map(),
    invalidUtf8: new Map(),
    parsed: new Map(),
    attributed: new Map(),
    dropped: new Map(),
  };
  #counterTimer: NodeJS.Timeout | undefined;
  #processed = 0;

  constructor(options: PipelineOptions, deps: PipelineDeps) {
    this.#o = options;
    this.#d = deps;
    this.#queue = new BoundedQueue(options.maxRecords, options.maxBytes);
    this.#counterTimer = setInterval(() => this.syncMetrics(), 1000);
    this.#counterTimer.unref();
  }

  get depth(): number {
    return this.#queue.length;
  }

  get queuedBytes(): number {
    return this.#queue.bytes;
  }

  get processed(): number {
    return this.#processed;
  }

  /** True while sources that can wait should stop reading. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Call `fn` once when the queue has drained below the low-water mark. */
  onResume(fn: () => void): void {
    if (!this.#paused) fn();
    else this.#resumers.add(fn);
  }

  /** Count into a metric (batched into prom-client once a second: a flood must not pay a labelled inc per line). */
  count(metric: CounterName, label: string, n = 1): void {
    const m = this.#counters[metric];
    m.set(label, (m.get(label) ?? 0) + n);
  }

  syncMetrics(): void {
    const m = this.#d.metrics;
    const c = this.#counters;
    for (const [source, n] of c.lines) m.lines.inc({ source }, n);
    for (const [source, n] of c.truncated) m.truncated.inc({ source }, n);
    for (const [source, n] of c.invalidUtf8) m.invalidUtf8.inc({ source }, n);
    for (const [parser, n] of c.parsed) m.parsed.inc({ parser }, n);
    for (const [result, n] of c.attributed) m.attributed.inc({ result }, n);
    for (const [index, n] of c.dropped) {
      m.dropped.inc({ reason: 'queue_full' }, n);
      m.records.inc({ index, outcome: 'dropped' }, n);
    }
    for (const map of Object.values(c)) map.clear();
    m.queueDepth.set(this.#queue.length);
  }

  /** Is there room for a line of `bytes`? (UDP checks before decoding, so a flood costs as little as possible.) */
  hasRoom(bytes: number): boolean {
    return this.#queue.length < this.#queue.maxItems && (this.#queue.bytes + bytes <= this.#queue.maxBytes || this.#queue.length === 0);
  }

  /** Drop a line that found no room (counted under the index kind it would have gone to, `syslog` before parsing). */
  drop(index: string): void {
    this.count('dropped', index);
  }

  /**
   * Queue an item. Returns false when the queue is full; `force` queues anyway (TCP frames already read from a socket
   * that is about to be paused: the overshoot is bounded by one read chunk per connection).
   */
  offer(item: IngestItem, force = false): boolean {
    const bytes = item.line.text.length * 2 + 64;
    if (!this.#queue.push(item, bytes)) {
      if (!force) return false;
      // Over the bound by design (see above): keep it in an overflow slot by draining synchronously one item.
      this.#processOne(item);
      return true;
    }
    if (!this.#paused && this.#queue.fill >= HIGH_WATER) this.#paused = true;
    this.#schedule();
    return true;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const deadline = performance.now() + SLICE_MS;
    let n = 0;
    for (;;) {
      const item = this.#queue.shift();
      if (item === undefined) break;
      this.#processOne(item);
      if (++n % 16 === 0 && performance.now() > deadline) break;
    }
    if (this.#paused && this.#queue.fill <= LOW_WATER) {
      this.#paused = false;
      const resumers = [...this.#resumers];
      this.#resumers.clear();
      for (const fn of resumers) fn();
    }
    if (this.#queue.length > 0) this.#schedule();
    else for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolve when the queue is empty (everything handed to the output). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #processOne(item: IngestItem): void {
    this.#processed++;
    try {
      switch (item.t) {
        case 'syslog':
          this.#syslog(item.line, item.receivedAt, item.source, item.transport, undefined, undefined);
          break;
        case 'raw':
          this.#syslog(item.line, item.receivedAt, undefined, 'file', item.index, item.id);
          break;
        case 'api':
          this.#api(item);
          break;
        case 'flow':
          this.#flow(item);
          break;
      }
    } catch (err) {
      // A bug must not lose the line: keep it raw.
      this.#d.log.error({ err }, 'log line processing failed; kept raw');
      const kind: IndexKind = item.t === 'flow' ? 'netflow' : item.t === 'api' ? 'api' : 'cpe';
      const { doc, time } = rawDoc(item.line.text, item.receivedAt, '_processingfailure', item.line, kind);
      this.#emit(kind, doc, time, undefined, 'none');
    }
  }

  #syslog(
    line: DecodedLine,
    receivedAt: number,
    source: string | undefined,
    transport: 'udp' | 'tcp' | 'file',
    index: IndexKind | undefined,
    id: string | undefined,
  ): void {
    const received = new Date(receivedAt);
    const message: SyslogMessage =
      transport === 'file'
        ? { format: 'raw', message: line.text, receivedAt: received }
        : parseSyslog(line.text, received, source, { timeZone: this.#o.timeZoneFor(source) });
    const hit = this.#d.router().parse(message);
    this.count('parsed', hit?.parser.id ?? 'none');
    const { doc, time } = syslogDoc({ message, record: hit?.record ?? null, parserId: hit?.parser.id, line, transport });
    const kind =
      index ??
      (hit && this.#o.radiusProviders.has(hit.parser.provider)
        ? 'radius'
        : message.appName && this.#o.radiusAppNames.has(message.appName.toLowerCase())
          ? 'radius'
          : (this.#o.indexFor(source) ?? 'cpe'));
    if (this.#o.attributeMacs) this.#attributeMac(doc, time);
    this.#emit(kind, doc, time, id, hit ? promotedKeys(hit.record.fields) : 'none');
  }

  #attributeMac(doc: Doc, time: number): void {
    if (typeof doc.mac !== 'string' || doc.subscriber_id !== undefined) return;
    const s = this.#d.sessions.byMac(doc.mac, time);
    if (!s) return;
    if (s.subscriberId) doc.subscriber_id = s.subscriberId;
    if (s.subscriberRef) doc.subscriber_ref = s.subscriberRef;
    if (doc.nas_id === undefined) doc.nas_id = s.nasId;
  }

  #api(item: Extract<IngestItem, { t: 'api' }>): void {
    const parsed = apiObject(item.line.text);
    if (!parsed) {
      const { doc, time } = rawDoc(item.line.text, item.receivedAt, '_jsonparsefailure', item.line, 'api');
      doc.log_file = item.file;
      this.#emit('api', doc, time, item.id, 'none');
      return;
    }
    const { doc, time } = apiDoc(parsed.obj, parsed.timeMs, item.receivedAt, item.line);
    doc.log_file = item.file;
    const message = typeof doc.message === 'string' ? doc.message : '';
    if (message.startsWith('[Auth] ')) {
      // RGZ's own RADIUS lines (the seed's radius_logs shape): through the parsers, into logstash-radius.
      const hit = this.#d.router().parse({ format: 'raw', message, receivedAt: new Date(item.receivedAt), timestamp: new Date(time) });
      this.count('parsed', hit?.parser.id ?? 'none');
      if (hit) {
        doc.kind = hit.record.kind;
        doc.parser = hit.parser.id;
        if (doc.user === undefined && hit.record.subject?.userName !== undefined) doc.user = hit.record.subject.userName;
        if (doc.mac === undefined && hit.record.subject?.mac !== undefined) doc.mac = hit.record.subject.mac;
        for (const [k, v] of Object.entries(hit.record.fields)) if (doc[k] === undefined && (k === 'nas_id' || k === 'result' || k === 'reason')) doc[k] = v;
      }
      if (doc.mac === undefined && typeof doc.calling_station_id === 'string') {
        const mac = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(doc.calling_station_id)
          ? doc.calling_station_id.toLowerCase().replace(/-/g, ':')
          : undefined;
        if (mac) doc.mac = mac;
      }
      delete doc.log_file;
      this.#emit('radius', doc, time, item.id);
      return;
    }
    this.#emit('api', doc, time, item.id);
  }

  #flow(item: Extract<IngestItem, { t: 'flow' }>): void {
    const text = item.line.text;
    let obj: Record<string, unknown> | undefined;
    if (text.charCodeAt(0) === 0x7b) {
      try {
        const v = JSON.parse(text) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) obj = v as Record<string, unknown>;
      } catch {
        obj = undefined;
      }
    }
    const flow = obj ? normalizeFlow(obj, item.receivedAt) : undefined;
    if (!flow) {
      const { doc, time } = rawDoc(text, item.receivedAt, obj ? '_flowparsefailure' : '_jsonparsefailure', item.line, 'netflow');
      this.#emit('netflow', doc, time, item.id, 'none');
      return;
    }
    const doc: Doc = {};
    const time = setTimestamp(doc, flow.time, item.receivedAt);
    const { format, time: _t, flow_start, flow_end, time_received, ...rest } = flow;
    Object.assign(doc, rest);
    doc.input_format = format;
    doc.service = 'netflow';
    if (flow_start !== undefined) doc.flow_start = new Date(flow_start).toISOString();
    if (flow_end !== undefined) doc.flow_end = new Date(flow_end).toISOString();
    if (time_received !== undefined) doc.time_received = new Date(time_received).toISOString();
    if (this.#o.attributeFlows) {
      const up = this.#d.sessions.byIp(flow.source_ip, flow.time);
      const down = up ? undefined : this.#d.sessions.byIp(flow.dest_ip, flow.time);
      const s = up ?? down;
      if (s) {
        doc.direction = up ? 'upload' : 'download';
        doc.subscriber_ip = up ? flow.source_ip : flow.dest_ip;
        if (s.subscriberId) doc.subscriber_id = s.subscriberId;
        if (s.subscriberRef) doc.subscriber_ref = s.subscriberRef;
        doc.nas_id = s.nasId;
        if (s.mac) doc.mac = s.mac;
      }
      this.count('attributed', s ? 'subscriber' : 'none');
    }
    lineFlags(doc, item.line);
    this.#emit('netflow', doc, time, item.id, 'none');
  }

  /**
   * `check`: which fields to hold to the mapping — `all` for documents made of foreign JSON (API lines), the parser's
   * promoted fields for syslog documents (parsers are third-party code), `none` for documents built from typed values.
   */
  #emit(kind: IndexKind, doc: Doc, time: number, id: string | undefined, check: 'all' | 'none' | readonly string[] = 'all'): void {
    if (check === 'all') sanitize(kind, doc);
    else if (check !== 'none' && check.length) sanitize(kind, doc, check);
    let source: string;
    try {
      source = JSON.stringify(doc);
    } catch {
      source = JSON.stringify({ '@timestamp': doc['@timestamp'], message: String(doc.message ?? ''), tags: ['_serializationfailure'] });
    }
    this.#d.output.write({ kind, index: indexName(kind, time), id: id ?? newId(), source });
  }

  stop(): void {
    if (this.#counterTimer) clearInterval(this.#counterTimer);
    this.syncMetrics();
  }
}
