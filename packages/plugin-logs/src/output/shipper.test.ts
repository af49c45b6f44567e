/**
 * The shipper — production code, the official @elastic/elasticsearch client pointed at a URL — against the
 * wire-compatible bulk test server: batching, per-item failures, 429 with Retry-After, a cluster that goes away and
 * comes back, a full spool, restarts, 413, idempotent resends, and both flavors. Every record is counted: shipped +
 * dead-lettered + dropped always equals what was written.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@rgz/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkTestServer } from '../test-server/bulk-server.js';
import { tempDir } from '../test-support/world.js';
import { type ClusterFlavor, createClusterClient } from './cluster.js';
import { DeadLetter } from './dead-letter.js';
import { type IndexKind, indexName, type OutRecord } from './records.js';
import { Shipper, type ShipperEvents, type ShipperOptions } from './shipper.js';
import { Spool } from './spool.js';
import { indexTemplate } from './templates.js';

interface Counts {
  shipped: number;
  spooled: number;
  dropped: number;
  dead_lettered: number;
  drops: Record<string, number>;
  requests: Record<string, number>;
  states: boolean[];
}

function recorder(): { events: ShipperEvents; counts: Counts } {
  const counts: Counts = { shipped: 0, spooled: 0, dropped: 0, dead_lettered: 0, drops: {}, requests: {}, states: [] };
  return {
    counts,
    events: {
      records: (_kind, outcome, n) => {
        counts[outcome] += n;
      },
      dropped: (reason, n) => {
        counts.drops[reason] = (counts.drops[reason] ?? 0) + n;
      },
      request: (outcome) => {
        counts.requests[outcome] = (counts.requests[outcome] ?? 0) + 1;
      },
      state: (up) => counts.states.push(up),
      warn: () => {},
    },
  };
}

const OPTIONS: ShipperOptions = {
  maxDocs: 1000,
  maxBytes: 5 * 1024 * 1024,
  flushMs: 50,
  maxInFlight: 2,
  maxPendingBatches: 2,
  attempts: 3,
  baseMs: 20,
  maxMs: 200,
  probeMaxMs: 200,
  closeTimeoutMs: 2000,
};

let seq = 0;
function records(n: number, kind: IndexKind = 'cpe', extra: (i: number) => Record<string, unknown> = () => ({})): OutRecord[] {
  const t = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const id = `r${++seq}`;
    return {
      kind,
      index: indexName(kind, t),
      id,
      source: JSON.stringify({ '@timestamp': new Date(t).toISOString(), message: `line ${i}`, seq: i, ...extra(i) }),
    };
  });
}

interface Rig {
  server: BulkTestServer;
  shipper: Shipper;
  spool: Spool;
  counts: Counts;
  dir: string;
  make(): Shipper;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.shipper.close();
    await r.server.close();
    rmSync(r.dir, { recursive: true, force: true });
  }
});

async function rig(
  options: Partial<ShipperOptions> = {},
  server?: BulkTestServer,
  spoolMax = 64 * 1024 * 1024,
  flavor: ClusterFlavor = 'elasticsearch',
  dir = tempDir(),
): Promise<Rig> {
  const s = server ?? (await new BulkTestServer().start());
  const { events, counts } = recorder();
  const make = () => {
    const spool = new Spool({ dir: join(dir, 'spool'), maxBytes: spoolMax, segmentBytes: 256 * 1024, fsync: false });
    const client = createClusterClient({ nodes: [s.url], flavor, rejectUnauthorized: true, requestTimeoutMs: 5000, compression: false });
    const shipper = new Shipper(client, spool, new DeadLetter(join(dir, 'dead-letter'), 8 * 1024 * 1024), events, { ...OPTIONS, ...options });
    shipper.start();
    r.spool = spool;
    r.shipper = shipper;
    return shipper;
  };
  const r = { server: s, counts, dir, make } as Rig;
  make();
  rigs.push(r);
  return r;
}

describe('bulk shipping', () => {
  it('batches by size and by time, with create + explicit ids', async () => {
    const r = await rig();
    for (const rec of records(2500)) r.shipper.write(rec);
    await r.shipper.flush();
    const bulks = r.server.requests.filter((q) => q.path.endsWith('_bulk'));
    expect(bulks.map((b) => b.items).sort((a, b) => b - a)).toEqual([1000, 1000, 500]);
    expect(bulks[0]?.contentType).toBe('application/vnd.elasticsearch+x-ndjson; compatible-with=9');
    expect(decodeURIComponent(bulks[0]?.query ?? '')).toBe('filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason');
    expect(r.server.count).toBe(2500);
    expect(r.counts.shipped).toBe(2500);
    // A lone record leaves after flushMs, without an explicit flush.
    for (const rec of records(1)) r.shipper.write(rec);
    await waitFor(() => r.server.count === 2501, 10_000);
  });

  it('per-item 429/503 are retried alone; mapping errors are dead-lettered; nothing else is lost', async () => {
    const server = await new BulkTestServer().start();
    const r = await rig({}, server);
    // The real template: source_ip is an `ip` in logstash-netflow-*.
    server.templates.clear();
    await fetch(`${server.url}/_index_template/logstash-netflow`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(indexTemplate('netflow', 'elasticsearch')),
    });
    server.failNextItems(7, 429, 'es_rejected_execution_exception');
    server.failNextItems(3, 503, 'unavailable_shards_exception');
    const recs = records(100, 'netflow', (i) => ({ source_ip: i % 25 === 0 ? 'not-an-ip' : '10.0.0.1' }));
    for (const rec of recs) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.counts.dead_lettered).toBe(4);
    expect(r.counts.shipped).toBe(96);
    expect(server.count).toBe(96);
    expect(r.counts.requests.partial).toBeGreaterThanOrEqual(1);
    const dl = readdirSync(join(r.dir, 'dead-letter'))
      .map((f) => readFileSync(join(r.dir, 'dead-letter', f), 'utf8'))
      .join('');
    const lines = dl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ status: 400, error: { type: 'document_parsing_exception' }, source: { source_ip: 'not-an-ip' } });
  });

  it('a whole-request 429 waits at least its Retry-After', async () => {
    const r = await rig({ attempts: 5 });
    r.server.failNextRequests(1, 429, { retryAfter: 1 });
    const started = Date.now();
    for (const rec of records(10)) r.shipper.write(rec);
    await r.shipper.flush();
    const bulks = r.server.requests.filter((q) => q.path.endsWith('_bulk'));
    expect(bulks.map((b) => b.status)).toEqual([429, 200]);
    expect((bulks[1]?.at ?? 0) - (bulks[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.server.count).toBe(10);
  });

  it('cluster down for a while: everything is spooled, then shipped when it returns; nothing lost, nothing twice', async () => {
    const r = await rig();
    await r.server.down();
    const recs = records(5000);
    for (const rec of recs.slice(0, 2500)) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.shipper.up).toBe(false);
    for (const rec of recs.slice(2500)) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.counts.shipped).toBe(0);
    expect(r.counts.spooled).toBe(5000);
    expect(r.spool.records).toBe(5000);
    expect(r.counts.states).toEqual([true, false]);
    await r.server.up();
    await waitFor(() => r.server.count === 5000, 10_000, { message: `${r.server.count} of 5000 shipped` });
    await r.shipper.flush();
    expect(r.shipper.up).toBe(true);
    expect(r.counts.shipped).toBe(5000);
    expect(r.spool.empty).toBe(true);
    expect(r.server.ids()).toEqual(new Set(recs.map((x) => x.id)));
    expect(r.counts.dropped + r.counts.dead_lettered).toBe(0);
  });

  it('the spool is bounded: over the cap new records are dropped and counted', async () => {
    const r = await rig({}, undefined, 200 * 1024);
    await r.server.down();
    const recs = records(3000, 'cpe', () => ({ pad: 'p'.repeat(100) }));
    for (const rec of recs) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.counts.drops.spool_full).toBeGreaterThan(0);
    expect(r.counts.spooled + r.counts.dropped).toBe(3000);
    expect(r.spool.bytes).toBeLessThanOrEqual(200 * 1024);
    await r.server.up();
    await waitFor(() => r.counts.shipped === r.counts.spooled, 10_000);
    expect(r.server.count + r.counts.dropped).toBe(3000);
  });

  it('a restart while the cluster is down loses nothing: the next process drains the spool', async () => {
    const r = await rig();
    await r.server.down();
    const recs = records(1500);
    for (const rec of recs) r.shipper.write(rec);
    await r.shipper.close();
    expect(existsSync(join(r.dir, 'spool'))).toBe(true);
    await r.server.up();
    r.make();
    await waitFor(() => r.server.count === 1500, 10_000);
    expect(r.server.ids()).toEqual(new Set(recs.map((x) => x.id)));
  });

  it('records unanswered at close are spooled; resending them later is harmless (409 = already indexed)', async () => {
    const r = await rig({ closeTimeoutMs: 100 });
    r.server.delay(1500);
    for (const rec of records(200)) r.shipper.write(rec);
    await new Promise((res) => setTimeout(res, 200));
    await r.shipper.close();
    r.server.delay(0);
    // The delayed request still completes on the server side.
    await waitFor(() => r.server.count === 200, 15_000);
    r.make();
    await waitFor(() => r.spool.empty, 10_000);
    await r.shipper.flush();
    expect(r.server.count).toBe(200);
    expect(r.server.requests.some((q) => q.path.endsWith('_bulk') && q.status === 200 && q.items === 200)).toBe(true);
  });

  it('413: the batch is split until it fits', async () => {
    const r = await rig();
    r.server.failNextRequests(1, 413, { type: 'request_entity_too_large' });
    for (const rec of records(100)) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.server.count).toBe(100);
    expect(r.counts.requests.too_large).toBe(1);
  });

  it('OpenSearch flavor: plain media types, no product check; the wrong flavor keeps the data (spool), never dead-letters it', async () => {
    const os = await new BulkTestServer({ flavor: 'opensearch' }).start();
    const good = await rig({}, os, 64 * 1024 * 1024, 'opensearch');
    for (const rec of records(50)) good.shipper.write(rec);
    await good.shipper.flush();
    expect(os.count).toBe(50);
    expect(os.requests.find((q) => q.path.endsWith('_bulk'))?.contentType).toBe('application/x-ndjson');

    const os2 = await new BulkTestServer({ flavor: 'opensearch' }).start();
    const wrong = await rig({}, os2, 64 * 1024 * 1024, 'elasticsearch');
    for (const rec of records(20)) wrong.shipper.write(rec);
    await wrong.shipper.flush();
    expect(os2.count).toBe(0);
    expect(wrong.counts.dead_lettered).toBe(0);
    expect(wrong.counts.spooled).toBe(20);
    expect(wrong.shipper.lastError).toMatch(/406/);
  });

  it('an Elasticsearch client refuses a server that is not Elasticsearch (no X-Elastic-Product): kept, with a hint', async () => {
    const os = await new BulkTestServer({ flavor: 'opensearch' }).start();
    // elasticsearch-8 flavor: plain media types but the product check stays on.
    const r = await rig({}, os, 64 * 1024 * 1024, 'elasticsearch-8');
    for (const rec of records(5)) r.shipper.write(rec);
    await r.shipper.flush();
    expect(r.counts.spooled).toBe(5);
    expect(r.shipper.lastError).toMatch(/flavor: opensearch/);
  });
});
