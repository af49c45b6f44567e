/**
 * The plugin inside a real server, shipping to the wire-compatible bulk test server: templates and the lifecycle
 * policy installed at start (Elasticsearch ILM or OpenSearch ISM), syslog lines over TCP while the cluster is down
 * (spooled), then shipped when it returns — every record counted — and the search route answered by the cluster.
 */
import { connect } from 'node:net';
import { waitFor } from '@rgz/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BulkTestServer } from './test-server/bulk-server.js';
import { metricValue, startWorld, type World } from './test-support/world.js';

let w: World | undefined;
let es: BulkTestServer | undefined;
afterEach(async () => {
  await w?.close();
  await es?.close();
  w = undefined;
  es = undefined;
});

function sendTcp(port: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(lines.map((l) => `${l}\n`).join('')));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

const clusterConfig = (url: string, extra: Record<string, unknown> = {}) => ({
  cluster: { url, batch: { maxDocs: 200, flushMs: 20 }, retry: { attempts: 2, baseMs: 20, maxMs: 100, probeMaxMs: 100 }, ...extra },
});

describe('shipping from the plugin', () => {
  it('installs the ILM policy and the four index templates; records land in logstash-<kind>-YYYY.MM.DD with their mappings', async () => {
    es = await new BulkTestServer().start();
    w = await startWorld({ config: clusterConfig(es.url) });
    await waitFor(() => es?.templates.size === 4, 15_000);
    expect([...(es.templates.keys() ?? [])].sort()).toEqual(['logstash-api', 'logstash-cpe', 'logstash-netflow', 'logstash-radius']);
    expect(es.policies.get('rgz-logs-daily')).toMatchObject({ policy: { phases: { delete: { min_age: '365d' } } } });
    await sendTcp(w.syslogTcp, ['<14>Nov 25 13:05:02 ap1 hostapd: ath0: STA 24:a4:3c:01:02:03 IEEE 802.11: associated']);
    await waitFor(async () => {
      await w?.logs.flush();
      return es?.count === 1;
    }, 15_000);
    const [doc] = es.documents('logstash-cpe-*');
    expect(doc?._index).toMatch(/^logstash-cpe-\d{4}\.\d{2}\.\d{2}$/);
    expect(doc?._source).toMatchObject({ kind: 'wifi.associated', mac: '24:a4:3c:01:02:03', sender_ip: '127.0.0.1' });
    // And the NOC finds it through the cluster.
    const res = await w.server.request('/api/logs/search?mac=24:A4:3C:01:02:03', { headers: w.server.auth(w.server.nocToken) });
    const body = (await res.json()) as { items: Array<Record<string, unknown>>; backend: string };
    expect(body.backend).toBe('cluster');
    expect(body.items[0]).toMatchObject({ _index: doc?._index, kind: 'wifi.associated' });
  });

  it('cluster down for a while: spooled, then shipped, nothing lost — every record counted', async () => {
    es = await new BulkTestServer().start();
    w = await startWorld({ config: clusterConfig(es.url, { installTemplates: false }) });
    await es.down();
    const total = 3000;
    const lines = Array.from({ length: total }, (_, i) => `<14>Nov 25 13:05:02 ap1 app${i % 7}: event number ${i}`);
    await sendTcp(w.syslogTcp, lines.slice(0, 1500));
    await w.logs.flush();
    expect(w.logs.status().cluster.up).toBe(false);
    await sendTcp(w.syslogTcp, lines.slice(1500));
    await w.logs.flush();
    expect(w.logs.status().spool.records).toBe(total);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'spooled' })).toBe(total);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'shipped' })).toBe(0);
    expect(await metricValue(w.server, 'logs_cluster_up')).toBe(0);
    await es.up();
    await waitFor(() => es?.count === total, 15_000, { message: `${es.count} of ${total}` });
    await w.logs.flush();
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'shipped' })).toBe(total);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'dropped' })).toBe(0);
    expect(await metricValue(w.server, 'logs_cluster_up')).toBe(1);
    expect(w.logs.status().spool.records).toBe(0);
    const messages = new Set(es.documents().map((d) => d._source.message));
    expect(messages.size).toBe(total);
  });

  it('per-item failures from the plugin: retryable ones retried, mapping errors dead-lettered and counted', async () => {
    es = await new BulkTestServer().start();
    w = await startWorld({ config: clusterConfig(es.url) });
    await waitFor(() => es?.templates.size === 4, 15_000);
    es.failNextItems(3, 429, 'es_rejected_execution_exception');
    es.failItemsWhere((_index, doc) =>
      String(doc?.message ?? '').includes('POISON') ? { status: 400, type: 'mapper_parsing_exception', reason: 'injected mapping conflict' } : undefined,
    );
    await sendTcp(w.syslogTcp, [
      '<14>Nov 25 13:05:02 h a: one',
      '<14>Nov 25 13:05:02 h a: two POISON',
      '<14>Nov 25 13:05:02 h a: three',
      '<14>Nov 25 13:05:02 h a: four',
    ]);
    await waitFor(async () => {
      await w?.logs.flush();
      return es?.count === 3;
    }, 15_000);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'dead_lettered' })).toBe(1);
    expect(await metricValue(w.server, 'logs_records_total', { outcome: 'shipped' })).toBe(3);
    expect(w.logs.status().cluster.deadLettered).toBe(1);
    expect(await metricValue(w.server, 'logs_bulk_requests_total', { outcome: 'partial' })).toBeGreaterThanOrEqual(1);
  });

  it('OpenSearch: ISM policy and templates without ILM settings; plain media types', async () => {
    es = await new BulkTestServer({ flavor: 'opensearch' }).start();
    w = await startWorld({ config: clusterConfig(es.url, { flavor: 'opensearch' }) });
    await waitFor(() => es?.templates.size === 4, 15_000);
    expect(es.policies.get('rgz-logs-daily')).toMatchObject({ policy: { default_state: 'hot', ism_template: [{ priority: 100 }] } });
    expect(JSON.stringify(es.templates.get('logstash-api'))).not.toContain('lifecycle');
    await sendTcp(w.syslogTcp, ['<14>Nov 25 13:05:02 h a: to opensearch']);
    await waitFor(async () => {
      await w?.logs.flush();
      return es?.count === 1;
    }, 15_000);
    expect(es.requests.find((r) => r.path.endsWith('_bulk'))?.contentType).toBe('application/x-ndjson');
  });
});
