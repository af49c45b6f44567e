/**
 * The cluster connection: the official `@elastic/elasticsearch` client (production code, pointed at a URL), used only
 * for `_bulk`, `_search` and template installation, with its own retries off (`maxRetries: 0`): the shipper retries,
 * with backoff that honours 429s, and spools when the cluster stays away.
 *
 * Flavors: `elasticsearch` (9.x: the client's defaults, `compatible-with=9` media types and the `X-Elastic-Product`
 * check); `elasticsearch-8` and `opensearch`: plain `application/json` / `application/x-ndjson` media types, and for
 * OpenSearch no product check (OpenSearch does not send `X-Elastic-Product`, and rejects the vendored media types).
 */

import { readFileSync } from 'node:fs';
import { Client, errors, Transport, type TransportOptions } from '@elastic/elasticsearch';

type ClientOptions = NonNullable<ConstructorParameters<typeof Client>[0]>;

import { actionLine, type OutRecord } from './records.js';

export type ClusterFlavor = 'elasticsearch' | 'elasticsearch-8' | 'opensearch';

export interface ClusterOptions {
  nodes: string[];
  flavor: ClusterFlavor;
  username?: string | undefined;
  password?: string | undefined;
  apiKey?: string | undefined;
  caFile?: string | undefined;
  rejectUnauthorized: boolean;
  requestTimeoutMs: number;
  compression: boolean;
}

export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string };
}

export type BulkOutcome =
  | { ok: true; items: BulkItemResult[] }
  | { ok: false; retryable: boolean; tooLarge?: boolean; status?: number; retryAfterMs?: number; error: string };

/** Plain media types, optional product check: for OpenSearch and Elasticsearch 8 behind a 9.x client. */
function plainTransport(productCheck: boolean): typeof Transport {
  return class PlainTransport extends Transport {
    constructor(opts: TransportOptions) {
      const { vendoredHeaders: _v, ...rest } = opts as TransportOptions & { vendoredHeaders?: unknown };
      super({ ...rest, ...(productCheck ? {} : { productCheck: undefined }) } as TransportOptions);
    }
  };
}

export function createClusterClient(o: ClusterOptions): Client {
  const options: ClientOptions = {
    node: o.nodes.length === 1 ? o.nodes[0] : o.nodes,
    maxRetries: 0,
    requestTimeout: o.requestTimeoutMs,
    compression: o.compression,
    sniffOnStart: false,
    tls: { rejectUnauthorized: o.rejectUnauthorized, ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}) },
  };
  if (o.apiKey) options.auth = { apiKey: o.apiKey };
  else if (o.username) options.auth = { username: o.username, password: o.password ?? '' };
  if (o.flavor !== 'elasticsearch') options.Transport = plainTransport(o.flavor === 'elasticsearch-8') as unknown as ClientOptions['Transport'];
  return new Client(options);
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const BULK_FILTER = 'errors,items.*.status,items.*.error.type,items.*.error.reason';

/** One `_bulk` call; errors are classified, never thrown. */
export async function bulk(client: Client, records: readonly OutRecord[], signal?: AbortSignal): Promise<BulkOutcome> {
  const operations: string[] = new Array(records.length * 2);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as OutRecord;
    operations[2 * i] = actionLine(r);
    operations[2 * i + 1] = r.source;
  }
  try {
    // Pre-serialised lines: the transport joins strings as they are (no second JSON.stringify).
    // filter_path: only what the shipper reads (status and error per item) — a 2000-item response shrinks ~8×, which
    // matters: parsing it is a large share of the shipping cost.
    const response = (await client.bulk(
      { operations: operations as never, filter_path: BULK_FILTER },
      { ...(signal ? { signal } : {}), meta: false },
    )) as unknown as {
      errors?: boolean;
      items?: Array<Record<string, { status?: number; error?: { type?: string; reason?: string } }>>;
    };
    const items: BulkItemResult[] = [];
    const list = response.items ?? [];
    if (list.length !== records.length) {
      return { ok: false, retryable: true, error: `bulk response has ${list.length} items for ${records.length} documents` };
    }
    for (const item of list) {
      const op = Object.values(item)[0] ?? {};
      items.push({ status: op.status ?? 0, ...(op.error ? { error: op.error } : {}) });
    }
    return { ok: true, items };
  } catch (err) {
    return classify(err);
  }
}

export function classify(err: unknown): BulkOutcome & { ok: false } {
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const retryAfter = retryAfterMs(err.headers?.['retry-after']);
    const body = err.body as { error?: { type?: string; reason?: string } | string } | undefined;
    const reason = typeof body?.error === 'string' ? body.error : (body?.error?.type ?? err.message);
    if (status === 413) return { ok: false, retryable: true, tooLarge: true, status, error: `413 ${reason}` };
    // 401/403 (credentials, privileges) and 406/415 (wrong `flavor`: media types refused) are configuration errors:
    // keep everything (spool) until the operator fixes them, never dead-letter good documents.
    if (RETRYABLE_STATUS.has(status) || status === 401 || status === 403 || status === 406 || status === 415) {
      return { ok: false, retryable: true, status, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}), error: `${status} ${reason}` };
    }
    return { ok: false, retryable: false, status, error: `${status} ${reason}` };
  }
  if (err instanceof errors.ProductNotSupportedError) {
    return { ok: false, retryable: true, error: 'the server is not Elasticsearch (no X-Elastic-Product header): set flavor: opensearch for OpenSearch' };
  }
  const name = (err as Error)?.name ?? 'Error';
  return { ok: false, retryable: true, error: `${name}: ${(err as Error)?.message ?? String(err)}` };
}

function retryAfterMs(value: unknown): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = Number(v);
  if (Number.isFinite(s) && s >= 0) return Math.min(s, 3600) * 1000;
  const date = Date.parse(String(v));
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
