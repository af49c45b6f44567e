/** Search criteria from HTTP query parameters or CLI options (one parser, one set of error messages). */
import { INDEX_KINDS, type IndexKind } from '../output/records.js';
import type { SearchQuery } from '../output/search.js';
import { parseTimeArg } from '../util/duration.js';

export interface RawCriteria {
  since?: string | undefined;
  until?: string | undefined;
  service?: string | undefined;
  subscriber?: string | undefined;
  mac?: string | undefined;
  nas?: string | undefined;
  requestId?: string | undefined;
  index?: string | undefined;
  q?: string | undefined;
  limit?: string | number | undefined;
}

export class CriteriaError extends Error {}

export function toQuery(raw: RawCriteria, maxResults: number, now = Date.now()): SearchQuery {
  const time = (name: string, v: string | undefined) => {
    if (v === undefined || v === '') return undefined;
    const d = parseTimeArg(v, now);
    if (!d) throw new CriteriaError(`${name}: use a duration back from now (30s, 15m, 2h, 7d, 1w) or an ISO 8601 time, not "${v}"`);
    return d;
  };
  let indices: IndexKind[] | undefined;
  if (raw.index) {
    const parts = raw.index
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = parts.filter((p) => !(INDEX_KINDS as readonly string[]).includes(p));
    if (bad.length) throw new CriteriaError(`index: ${bad.join(', ')} is not one of ${INDEX_KINDS.join(', ')}`);
    indices = parts as IndexKind[];
  }
  const limit = raw.limit === undefined || raw.limit === '' ? 100 : Number(raw.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CriteriaError(`limit: a positive integer, not "${raw.limit}"`);
  const clean = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const until = time('until', raw.until);
  return {
    // Default window: the 24 hours before `until` (or now).
    since: time('since', raw.since) ?? new Date((until?.getTime() ?? now) - 86_400_000),
    until,
    indices,
    service: clean(raw.service),
    subscriber: clean(raw.subscriber),
    mac: clean(raw.mac),
    nas: clean(raw.nas),
    requestId: clean(raw.requestId),
    text: clean(raw.q),
    limit: Math.min(limit, maxResults),
  };
}
