/**
 * Finding records again: by time, service, subscriber, MAC, NAS or request id, newest first. Two back ends with one
 * meaning: the local files of the embedded default (scanned newest file first, cheap substring pre-filter before any
 * JSON.parse), or the cluster (`_search` with the same criteria as a bool query). Criteria match these fields:
 *
 * | criterion | fields |
 * |---|---|
 * | `service` | `service`, or the index kind (`api`, `radius`, `cpe`, `netflow`) |
 * | `subscriber` | `subscriber_id`, `subscriber_ref`, `user` |
 * | `mac` | `mac`, `src_mac`, `dst_mac`, `bssid` (any spelling; normalised) |
 * | `nas` | `nas_id`, `nas`, `client` (FreeRADIUS client short name) |
 * | `requestId` | `request_id` |
 * | `text` | `message` contains (case-insensitive) |
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { normalizeMac } from '../util/mac.js';
import { LOCAL_FILE } from './local-store.js';
import { INDEX_KINDS, type IndexKind, parseIndexName } from './records.js';

export interface SearchQuery {
  since?: Date | undefined;
  until?: Date | undefined;
  indices?: IndexKind[] | undefined;
  service?: string | undefined;
  subscriber?: string | undefined;
  mac?: string | undefined;
  nas?: string | undefined;
  requestId?: string | undefined;
  text?: string | undefined;
  limit: number;
}

export interface SearchHit {
  _index: string;
  _id: string;
  '@timestamp'?: string;
  [field: string]: unknown;
}

export interface SearchResult {
  items: SearchHit[];
  /** More records matched than `limit`. */
  more: boolean;
  backend: 'local' | 'cluster';
}

export const FIELDS = {
  subscriber: ['subscriber_id', 'subscriber_ref', 'user'],
  mac: ['mac', 'src_mac', 'dst_mac', 'bssid'],
  nas: ['nas_id', 'nas', 'client'],
  requestId: ['request_id'],
} as const;

function kindsFor(q: SearchQuery): IndexKind[] {
  let kinds: IndexKind[] = q.indices?.length ? q.indices : [...INDEX_KINDS];
  if (q.service && (INDEX_KINDS as readonly string[]).includes(q.service)) kinds = kinds.filter((k) => k === q.service);
  return kinds;
}

/** The criteria as predicates over a parsed document (shared by both back ends' tests). */
export function matches(doc: Record<string, unknown>, kind: IndexKind, q: SearchQuery): boolean {
  const ts = typeof doc['@timestamp'] === 'string' ? Date.parse(doc['@timestamp']) : Number.NaN;
  if (q.since && !(ts >= q.since.getTime())) return false;
  if (q.until && !(ts <= q.until.getTime())) return false;
  if (q.service && !(INDEX_KINDS as readonly string[]).includes(q.service) && doc.service !== q.service) return false;
  if (q.service && (INDEX_KINDS as readonly string[]).includes(q.service) && kind !== q.service) return false;
  const any = (fields: readonly string[], value: string) => fields.some((f) => doc[f] === value);
  if (q.subscriber && !any(FIELDS.subscriber, q.subscriber)) return false;
  if (q.mac) {
    const mac = normalizeMac(q.mac) ?? q.mac.toLowerCase();
    if (!any(FIELDS.mac, mac)) return false;
  }
  if (q.nas && !any(FIELDS.nas, q.nas)) return false;
  if (q.requestId && doc.request_id !== q.requestId) return false;
  if (q.text) {
    const m = typeof doc.message === 'string' ? doc.message.toLowerCase() : '';
    if (!m.includes(q.text.toLowerCase())) return false;
  }
  return true;
}

/** Substrings every matching line must contain (as JSON-escaped text): a cheap filter before JSON.parse. */
function needles(q: SearchQuery): string[] {
  const out: string[] = [];
  const esc = (v: string) => JSON.stringify(v).slice(1, -1);
  if (q.subscriber) out.push(esc(q.subscriber));
  if (q.mac) out.push(esc(normalizeMac(q.mac) ?? q.mac.toLowerCase()));
  if (q.nas) out.push(esc(q.nas));
  if (q.requestId) out.push(esc(q.requestId));
  return out;
}

export function searchLocal(dir: string, q: SearchQuery): SearchResult {
  const kinds = new Set(kindsFor(q));
  const sinceDay = q.since ? Math.floor(q.since.getTime() / 86_400_000) * 86_400_000 : Number.NEGATIVE_INFINITY;
  const untilDay = q.until ? q.until.getTime() : Number.POSITIVE_INFINITY;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { items: [], more: false, backend: 'local' };
  }
  const files = names
    .map((name) => ({ name, m: LOCAL_FILE.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map(({ name, m }) => ({ name, index: m[1] as string, part: Number(m[2] ?? 0), parsed: parseIndexName(m[1] as string) }))
    .filter((f) => f.parsed && kinds.has(f.parsed.kind) && f.parsed.dayStart >= sinceDay && f.parsed.dayStart <= untilDay)
    // Newest day first; within a day, newest part first; kinds interleave by time after the merge below.
    .sort((a, b) => (b.parsed?.dayStart ?? 0) - (a.parsed?.dayStart ?? 0) || b.part - a.part || a.index.localeCompare(b.index));

  const pre = needles(q);
  const hits: Array<SearchHit & { _t: number }> = [];
  let more = false;
  // Read whole days at a time so results of several kinds on the same day are merged by time.
  let i = 0;
  while (i < files.length) {
    const day = files[i]?.parsed?.dayStart;
    const dayHits: Array<SearchHit & { _t: number }> = [];
    for (; i < files.length && files[i]?.parsed?.dayStart === day; i++) {
      const f = files[i] as (typeof files)[number];
      let text: string;
      try {
        text = readFileSync(join(dir, f.name), 'utf8');
      } catch {
        continue;
      }
      const kind = f.parsed?.kind as IndexKind;
      let end = text.length;
      let fromFile = 0;
      // Lines are in arrival order: walk back from the end, keep at most limit + 1 per file (memory stays bounded).
      while (end > 0 && fromFile <= q.limit) {
        const start = text.lastIndexOf('\n', end - 1) + 1;
        const line = text.slice(start, end);
        end = start - 1;
        if (line.length < 2 || !line.endsWith('}')) continue;
        if (pre.length && !pre.every((n) => line.includes(n))) continue;
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (!matches(doc, kind, q)) continue;
        const { _id, ...rest } = doc;
        const t = typeof rest['@timestamp'] === 'string' ? Date.parse(rest['@timestamp']) : 0;
        dayHits.push({ _index: f.index, _id: String(_id ?? ''), ...rest, _t: t });
        fromFile++;
      }
    }
    dayHits.sort((a, b) => b._t - a._t);
    hits.push(...dayHits);
    if (hits.length > q.limit) {
      more = true;
      break;
    }
  }
  return { items: hits.slice(0, q.limit).map(({ _t, ...h }) => h as SearchHit), more: more || hits.length > q.limit, backend: 'local' };
}

/** The same criteria as an Elasticsearch / OpenSearch query. */
export function clusterQuery(q: SearchQuery): { index: string; query: Record<string, unknown> } {
  const filter: Record<string, unknown>[] = [];
  if (q.since || q.until) {
    filter.push({ range: { '@timestamp': { ...(q.since ? { gte: q.since.toISOString() } : {}), ...(q.until ? { lte: q.until.toISOString() } : {}) } } });
  }
  const anyOf = (fields: readonly string[], value: string) => ({ bool: { should: fields.map((f) => ({ term: { [f]: value } })), minimum_should_match: 1 } });
  if (q.service && !(INDEX_KINDS as readonly string[]).includes(q.service)) filter.push({ term: { service: q.service } });
  if (q.subscriber) filter.push(anyOf(FIELDS.subscriber, q.subscriber));
  if (q.mac) filter.push(anyOf(FIELDS.mac, normalizeMac(q.mac) ?? q.mac.toLowerCase()));
  if (q.nas) filter.push(anyOf(FIELDS.nas, q.nas));
  if (q.requestId) filter.push({ term: { request_id: q.requestId } });
  const must = q.text ? [{ match_phrase: { message: q.text } }] : [];
  return {
    index: kindsFor(q)
      .map((k) => `logstash-${k}-*`)
      .join(','),
    query: { bool: { filter, ...(must.length ? { must } : {}) } },
  };
}

export async function searchCluster(client: Client, q: SearchQuery): Promise<SearchResult> {
  const { index, query } = clusterQuery(q);
  const response = (await client.search(
    {
      index,
      query: query as never,
      size: q.limit + 1,
      sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }] as never,
      ignore_unavailable: true,
      allow_no_indices: true,
    },
    { meta: false },
  )) as unknown as { hits?: { hits?: Array<{ _index: string; _id: string; _source?: Record<string, unknown> }> } };
  const hits = response.hits?.hits ?? [];
  return {
    items: hits.slice(0, q.limit).map((h) => ({ _index: h._index, _id: h._id, ...(h._source ?? {}) })),
    more: hits.length > q.limit,
    backend: 'cluster',
  };
}
