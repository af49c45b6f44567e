/** The test server itself, against the documented bulk / search / count formats (so the shipper's tests mean something). */
import { afterEach, describe, expect, it } from 'vitest';
import { BulkTestServer, filterPath } from './bulk-server.js';

let s: BulkTestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const ndjson = (lines: unknown[]) => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }) {
  const res = await fetch(`${s?.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('bulk test server', () => {
  it('answers NDJSON action/source pairs with took, errors and items in order; create on an existing id is a 409', async () => {
    s = await new BulkTestServer().start();
    const r = await post(
      '/_bulk',
      ndjson([
        { create: { _index: 'logstash-api-2026.11.25', _id: 'a' } },
        { message: 'x' },
        { index: { _id: 'b' } },
        { message: 'y' },
        { create: { _index: 'logstash-api-2026.11.25', _id: 'a' } },
        { message: 'dup' },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(r.body.errors).toBe(true);
    expect(typeof r.body.took).toBe('number');
    expect(r.body.items[0]).toEqual({
      create: {
        _index: 'logstash-api-2026.11.25',
        _id: 'a',
        _version: 1,
        result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: expect.any(Number),
        _primary_term: 1,
        status: 201,
      },
    });
    expect(r.body.items[1].index).toMatchObject({ _index: '', status: 400, error: { type: 'invalid_index_name_exception' } });
    expect(r.body.items[2].create).toMatchObject({ status: 409, error: { type: 'version_conflict_engine_exception' } });
    const r2 = await post('/logstash-api-2026.11.25/_bulk', ndjson([{ index: { _id: 'b' } }, { message: 'y' }]));
    expect(r2.body).toMatchObject({ errors: false, items: [{ index: { _index: 'logstash-api-2026.11.25', status: 201 } }] });
  });

  it('refuses a body without the final newline, and malformed action lines', async () => {
    s = await new BulkTestServer().start();
    expect((await post('/_bulk', '{"create":{"_index":"x"}}\n{"a":1}')).body.error.reason).toMatch(/terminated by a newline/);
    expect((await post('/_bulk', 'garbage\n{}\n')).status).toBe(400);
  });

  it('fault injection: whole-request failures with Retry-After, per-item failures, down and up', async () => {
    s = await new BulkTestServer().start();
    s.failNextRequests(1, 429, { retryAfter: 2 });
    const r = await post('/_bulk', ndjson([{ create: { _index: 'i', _id: '1' } }, {}]));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(r.body).toMatchObject({ status: 429, error: { type: 'es_rejected_execution_exception' } });
    s.failNextItems(1, 503, 'unavailable_shards_exception');
    const r2 = await post('/_bulk', ndjson([{ create: { _index: 'i', _id: '1' } }, {}, { create: { _index: 'i', _id: '2' } }, {}]));
    expect(r2.body.items.map((i: any) => i.create.status)).toEqual([503, 201]);
    await s.down();
    await expect(fetch(`${s.url}/`)).rejects.toThrow();
    await s.up();
    expect((await fetch(`${s.url}/`)).status).toBe(200);
  });

  it('filter_path, _count and _search as documented', async () => {
    s = await new BulkTestServer().start();
    const now = new Date().toISOString();
    await post(
      '/_bulk',
      ndjson([
        { create: { _index: 'logstash-cpe-2026.11.25', _id: '1' } },
        { '@timestamp': now, mac: 'aa:bb:cc:dd:ee:ff', message: 'Hello World' },
        { create: { _index: 'logstash-api-2026.11.25', _id: '2' } },
        { '@timestamp': now, request_id: 'r1' },
      ]),
    );
    const filtered = await post('/_bulk?filter_path=errors,items.*.status', ndjson([{ create: { _index: 'logstash-api-2026.11.25', _id: '3' } }, {}]));
    expect(filtered.body).toEqual({ errors: false, items: [{ create: { status: 201 } }] });
    expect(((await (await fetch(`${s.url}/logstash-cpe-*/_count`)).json()) as { count: number }).count).toBe(1);
    const search = await post(
      '/logstash-*/_search',
      JSON.stringify({
        size: 10,
        query: {
          bool: {
            filter: [
              { range: { '@timestamp': { gte: new Date(Date.now() - 60_000).toISOString() } } },
              { bool: { should: [{ term: { mac: 'aa:bb:cc:dd:ee:ff' } }, { term: { bssid: 'aa:bb:cc:dd:ee:ff' } }], minimum_should_match: 1 } },
            ],
            must: [{ match_phrase: { message: 'hello' } }],
          },
        },
      }),
      { 'content-type': 'application/json' },
    );
    expect(search.body.hits.total.value).toBe(1);
    expect(search.body.hits.hits[0]).toMatchObject({ _index: 'logstash-cpe-2026.11.25', _id: '1', _source: { mac: 'aa:bb:cc:dd:ee:ff' } });
    expect(filterPath({ a: [{ b: 1, c: 2 }] }, 'a.b')).toEqual({ a: [{ b: 1 }] });
  });

  it('OpenSearch flavor: no product header, 406 for vendored media types', async () => {
    s = await new BulkTestServer({ flavor: 'opensearch' }).start();
    const ok = await post('/_bulk', ndjson([{ create: { _index: 'i', _id: '1' } }, {}]));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-elastic-product')).toBeNull();
    const bad = await post('/_bulk', ndjson([{ create: { _index: 'i', _id: '2' } }, {}]), {
      'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=9',
    });
    expect(bad.status).toBe(406);
  });
});
