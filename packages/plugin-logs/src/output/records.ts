/**
 * What travels from the ingest pipeline to the outputs: one document, already serialised once, with the index it
 * belongs to and its id. Index names are the seed's `logstash-{api,radius,cpe,netflow}-YYYY.MM.DD`, by the UTC day of
 * the document's `@timestamp`.
 */

export const INDEX_KINDS = ['api', 'radius', 'cpe', 'netflow'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export interface OutRecord {
  readonly kind: IndexKind;
  readonly index: string;
  readonly id: string;
  /** The document as JSON (an object, `{…}`), including `@timestamp`. */
  readonly source: string;
}

/** Where records go: the cluster shipper, the local files, or both. Never blocks, never throws. */
export interface Output {
  write(record: OutRecord): void;
  /** Resolve when what was written so far is durable (shipped, spooled or on local disk), or after `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const dayCache = new Map<string, { day: number; name: string }>();

export function indexName(kind: IndexKind, timeMs: number): string {
  const day = Math.floor(timeMs / 86_400_000);
  const cached = dayCache.get(kind);
  if (cached && cached.day === day) return cached.name;
  const d = new Date(day * 86_400_000);
  const name = `logstash-${kind}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`;
  dayCache.set(kind, { day, name });
  return name;
}

const INDEX_RE = /^logstash-(api|radius|cpe|netflow)-(\d{4})\.(\d{2})\.(\d{2})$/;

/** `logstash-radius-2026.02.21` → { kind, day start ms }; undefined for other names. */
export function parseIndexName(name: string): { kind: IndexKind; dayStart: number } | undefined {
  const m = INDEX_RE.exec(name);
  if (!m) return undefined;
  return { kind: m[1] as IndexKind, dayStart: Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4])) };
}

/** The bulk action line of a record (`create` with an explicit id: a resend is a 409, never a duplicate). */
export function actionLine(record: OutRecord): string {
  return `{"create":{"_index":"${record.index}","_id":"${record.id}"}}`;
}
