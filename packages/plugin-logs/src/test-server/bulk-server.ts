/**
 * A wire-compatible stand-in for Elasticsearch / OpenSearch, for tests and benchmarks (neither can be installed from
 * the registries these machines reach). It follows the documented REST formats the plugin uses:
 *
 * - `POST /_bulk`, `POST /<index>/_bulk`: NDJSON action/source pairs (`index`, `create`, `update`, `delete`), body
 *   terminated by a newline (else 400 `illegal_argument_exception`), optional gzip; the response is
 *   `{ took, errors, items: [{ <op>: { _index, _id, _version, result, _shards, _seq_no, _primary_term, status,
 *   error? } }] }` in request order; `create` on an existing id is a per-item 409 `version_conflict_engine_exception`;
 *   a value that does not fit the installed template's mapping (ip, date, numbers, boolean) is a per-item 400
 *   `document_parsing_exception`.
 * - `_search` (bool / filter / must / should / minimum_should_match, term, terms, range, match_phrase, match_all;
 *   sort on `@timestamp`; size), `_count`, `PUT _index_template/<name>`, `PUT _ilm/policy/<name>` (Elasticsearch) or
 *   `PUT _plugins/_ism/policies/<name>` (OpenSearch), `GET /`.
 * - Flavors: `elasticsearch` answers with `X-Elastic-Product: Elasticsearch` and accepts the client's
 *   `application/vnd.elasticsearch+x-ndjson; compatible-with=9`; `opensearch` sends no product header and answers
 *   406 to vendored media types, as OpenSearch does.
 *
 * Fault injection: whole-request failures (429 with Retry-After, 503, …) for the next N requests, per-item failures
 * (status + error type) for the next N items or by predicate, a delay, and `down()` / `up()`: the port stops
 * listening (connection refused) and comes back on the same port.
 */

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type Flavor = 'elasticsearch' | 'opensearch';

export interface BulkTestServerOptions {
  flavor?: Flavor;
  /** 0 = any free port. */
  port?: number;
  host?: string;
  /** Keep sources (search, assertions). `count` only keeps ids: for floods and benchmarks. Default `full`. */
  store?: 'full' | 'count';
  /** Check values against installed templates' mappings (per-item 400 on mismatch). Default true. */
  validateMappings?: boolean;
}

export interface ItemFailure {
  status: number;
  type: string;
  reason?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string (without `?`), e.g. `filter_path=…`. */
  query: string;
  status: number;
  items: number;
  contentType: string | undefined;
  at: number;
}

interface Template {
  patterns: RegExp[];
  priority: number;
  properties: Record<string, { type?: string }>;
}

const now = () => Date.now();

export class BulkTestServer {
  readonly flavor: Flavor;
  readonly docs = new Map<string, Map<string, Record<string, unknown> | null>>();
  readonly requests: RecordedRequest[] = [];
  readonly templates = new Map<string, unknown>();
  readonly policies = new Map<string, unknown>();
  readonly #o: Required<Omit<BulkTestServerOptions, 'flavor' | 'port' | 'host'>>;
  readonly #host: string;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #port: number;
  #failRequests: Array<{ status: number; type: string; retryAfter?: number }> = [];
  #failItems: ItemFailure[] = [];
  #itemRule: ((index: string, doc: Record<string, unknown> | undefined, id: string) => ItemFailure | undefined) | undefined;
  #delayMs = 0;
  #seq = 0;
  #templateIndex: Template[] = [];
  /** Bulk items accepted (2xx), over the server's life. */
  accepted = 0;

  constructor(options: BulkTestServerOptions = {}) {
    this.flavor = options.flavor ?? 'elasticsearch';
    this.#port = options.port ?? 0;
    this.#host = options.host ?? '127.0.0.1';
    this.#o = { store: options.store ?? 'full', validateMappings: options.validateMappings ?? true };
  }

  get url(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get isUp(): boolean {
    return this.#server !== undefined;
  }

  /** Documents stored, all indices. */
  get count(): number {
    let n = 0;
    for (const m of this.docs.values()) n += m.size;
    return n;
  }

  /** Stored documents of one index (full store only). */
  documents(index?: string): Array<{ _index: string; _id: string; _source: Record<string, unknown> }> {
    const out: Array<{ _index: string; _id: string; _source: Record<string, unknown> }> = [];
    for (const [name, m] of this.docs) {
      if (index !== undefined && !matchIndex(index, name)) continue;
      for (const [id, source] of m) if (source) out.push({ _index: name, _id: id, _source: source });
    }
    return out;
  }

  ids(): Set<string> {
    const s = new Set<string>();
    for (const m of this.docs.values()) for (const id of m.keys()) s.add(id);
    return s;
  }

  /** The next `n` requests to `_bulk` fail as a whole (429 carries `Retry-After: retryAfter` seconds when given). */
  failNextRequests(n: number, status = 503, options: { type?: string; retryAfter?: number } = {}): void {
    const type = options.type ?? (status === 429 ? 'es_rejected_execution_exception' : status === 503 ? 'unavailable_shards_exception' : 'exception');
    for (let i = 0; i < n; i++) this.#failRequests.push({ status, type, ...(options.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}) });
  }

  /** The next `n` bulk items fail with this status and error type (e.g. 429 es_rejected_execution_exception). */
  failNextItems(n: number, status: number, type: string, reason = 'injected failure'): void {
    for (let i = 0; i < n; i++) this.#failItems.push({ status, type, reason });
  }

  /** Fail items by predicate (until cleared with undefined). */
  failItemsWhere(rule: ((index: string, doc: Record<string, unknown> | undefined, id: string) => ItemFailure | undefined) | undefined): void {
    this.#itemRule = rule;
  }

  delay(ms: number): void {
    this.#delayMs = ms;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.#json(req, res, 500, { error: { type: 'exception', reason: String(err) }, status: 500 });
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.listen(this.#port, this.#host);
    await once(server, 'listening');
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stop listening and cut every connection: clients get ECONNREFUSED / ECONNRESET until `up()`. */
  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    if (this.#server) return;
    await this.start();
  }

  async close(): Promise<void> {
    await this.down();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip' && body.length) body = gunzipSync(body);
    if (this.#delayMs) await new Promise((r) => setTimeout(r, this.#delayMs));
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const ctype = req.headers['content-type'];

    if (this.flavor === 'opensearch' && /vnd\.elasticsearch/.test(`${ctype ?? ''} ${req.headers.accept ?? ''}`)) {
      return this.#json(req, res, 406, { error: `Content-Type header [${ctype}] is not supported`, status: 406 }, 0);
    }

    if ((method === 'GET' || method === 'HEAD') && path === '/') {
      return this.#json(req, res, 200, {
        name: 'rgz-test-node',
        cluster_name: 'rgz-test',
        version: this.flavor === 'opensearch' ? { distribution: 'opensearch', number: '2.19.0' } : { number: '9.1.0', build_flavor: 'default' },
        tagline: this.flavor === 'opensearch' ? 'The OpenSearch Project: https://opensearch.org/' : 'You Know, for Search',
      });
    }
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'POST' || method === 'PUT') {
      if (parts.at(-1) === '_bulk' && parts.length <= 2) return this.#bulk(req, res, body, parts.length === 2 ? parts[0] : undefined);
    }
    if ((method === 'POST' || method === 'GET') && parts.at(-1) === '_search' && parts.length <= 2) {
      return this.#search(req, res, body, parts.length === 2 ? (parts[0] as string) : '*', url);
    }
    if (method === 'PUT' && parts[0] === '_index_template' && parts.length === 2) {
      const tpl = JSON.parse(body.toString('utf8') || '{}') as {
        index_patterns?: string[];
        priority?: number;
        template?: { mappings?: { properties?: Record<string, { type?: string }> } };
      };
      this.templates.set(parts[1] as string, tpl);
      this.#templateIndex = [...this.templates.values()]
        .map((t) => t as typeof tpl)
        .map((t) => ({ patterns: (t.index_patterns ?? []).map(globToRegExp), priority: t.priority ?? 0, properties: t.template?.mappings?.properties ?? {} }))
        .sort((a, b) => b.priority - a.priority);
      return this.#json(req, res, 200, { acknowledged: true });
    }
    if (method === 'PUT' && parts[0] === '_ilm' && parts[1] === 'policy' && parts.length === 3) {
      if (this.flavor === 'opensearch') return this.#json(req, res, 400, { error: `no handler found for uri [${path}] and method [PUT]` }, 0);
      this.policies.set(parts[2] as string, JSON.parse(body.toString('utf8') || '{}'));
      return this.#json(req, res, 200, { acknowledged: true });
    }
    if (method === 'PUT' && parts[0] === '_plugins' && parts[1] === '_ism' && parts[2] === 'policies' && parts.length === 4) {
      if (this.flavor !== 'opensearch')
        return this.#json(req, res, 400, { error: { type: 'illegal_argument_exception', reason: `no handler found for uri [${path}]` }, status: 400 });
      const name = parts[3] as string;
      if (this.policies.has(name)) {
        return this.#json(req, res, 409, {
          error: { type: 'version_conflict_engine_exception', reason: `[${name}]: version conflict, document already exists (current version [1])` },
          status: 409,
        });
      }
      this.policies.set(name, JSON.parse(body.toString('utf8') || '{}'));
      return this.#json(req, res, 201, { _id: name, _version: 1, _primary_term: 1, _seq_no: 0 });
    }
    if ((method === 'GET' || method === 'POST') && parts.at(-1) === '_count' && parts.length <= 2) {
      const patterns = (parts.length === 2 ? (parts[0] as string) : '*').split(',').map(globToRegExp);
      let count = 0;
      for (const [index, m] of this.docs) if (patterns.some((p) => p.test(index))) count += m.size;
      return this.#json(req, res, 200, { count, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } });
    }
    if (method === 'POST' && parts.at(-1) === '_refresh') return this.#json(req, res, 200, { _shards: { total: 1, successful: 1, failed: 0 } });
    return this.#json(req, res, 400, {
      error: { type: 'illegal_argument_exception', reason: `no handler found for uri [${path}] and method [${method}]` },
      status: 400,
    });
  }

  #json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, items = 0, headers: Record<string, string> = {}): void {
    const filter = new URL(req.url ?? '/', 'http://x').searchParams.get('filter_path');
    const text = JSON.stringify(filter && status < 300 ? filterPath(body, filter) : body);
    const vendored = /vnd\.elasticsearch/.test(String(req.headers.accept ?? ''));
    res.writeHead(status, {
      'content-type': vendored ? 'application/vnd.elasticsearch+json;compatible-with=9' : 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      ...(this.flavor === 'elasticsearch' ? { 'x-elastic-product': 'Elasticsearch' } : {}),
      ...headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
    const [path = '', query = ''] = (req.url ?? '').split('?');
    this.requests.push({ method: req.method ?? '', path, query, status, items, contentType: req.headers['content-type'], at: now() });
  }

  #bulk(req: IncomingMessage, res: ServerResponse, body: Buffer, defaultIndex: string | undefined) {
    const started = now();
    const fail = this.#failRequests.shift();
    if (fail) {
      const error = { root_cause: [{ type: fail.type, reason: 'injected' }], type: fail.type, reason: `injected ${fail.status}` };
      return this.#json(
        req,
        res,
        fail.status,
        { error, status: fail.status },
        0,
        fail.retryAfter !== undefined ? { 'retry-after': String(fail.retryAfter) } : {},
      );
    }
    const text = body.toString('utf8');
    if (text.length === 0 || !text.endsWith('\n')) {
      const reason = 'The bulk request must be terminated by a newline [\\n]';
      return this.#json(req, res, 400, {
        error: { root_cause: [{ type: 'illegal_argument_exception', reason }], type: 'illegal_argument_exception', reason },
        status: 400,
      });
    }
    const lines = text.split('\n');
    lines.pop();
    const items: Array<Record<string, Record<string, unknown>>> = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      const actionLine = lines[i] as string;
      if (actionLine === '') continue;
      let action: Record<string, { _index?: string; _id?: string }>;
      try {
        action = JSON.parse(actionLine) as typeof action;
      } catch {
        const reason = `Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]`;
        return this.#json(req, res, 400, {
          error: { root_cause: [{ type: 'illegal_argument_exception', reason }], type: 'illegal_argument_exception', reason },
          status: 400,
        });
      }
      const op = Object.keys(action)[0] as string;
      const meta = action[op] ?? {};
      const index = meta._index ?? defaultIndex ?? '';
      const id = meta._id ?? `auto-${++this.#seq}`;
      let sourceText: string | undefined;
      if (op !== 'delete') sourceText = lines[++i];
      const result = this.#item(op, index, id, sourceText);
      if (result.status >= 300) errors = true;
      items.push({ [op]: { _index: index, _id: id, ...result } });
    }
    this.#json(req, res, 200, { took: Math.max(1, now() - started), errors, items }, items.length);
  }

  #item(op: string, index: string, id: string, sourceText: string | undefined): Record<string, unknown> & { status: number } {
    const err = (status: number, type: string, reason: string) => ({ status, error: { type, reason, index, index_uuid: 'test-uuid', shard: '0' } });
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(index) || index.length > 255)
      return err(400, 'invalid_index_name_exception', `Invalid index name [${index}], must be lowercase`);
    let doc: Record<string, unknown> | undefined;
    const needParse = this.#o.store === 'full' || this.#o.validateMappings || this.#itemRule !== undefined;
    if (op !== 'delete') {
      if (sourceText === undefined) return err(400, 'illegal_argument_exception', 'source is missing');
      if (needParse) {
        try {
          const v = JSON.parse(sourceText) as unknown;
          if (!v || typeof v !== 'object' || Array.isArray(v)) return err(400, 'document_parsing_exception', '[1:1] failed to parse: not an object');
          doc = v as Record<string, unknown>;
        } catch (e) {
          return err(400, 'document_parsing_exception', `[1:1] failed to parse: ${(e as Error).message}`);
        }
      }
    }
    const injected = this.#failItems.shift() ?? this.#itemRule?.(index, doc, id);
    if (injected) return err(injected.status, injected.type, injected.reason ?? 'injected');
    if (doc && this.#o.validateMappings) {
      const bad = this.#checkMapping(index, doc);
      if (bad)
        return err(
          400,
          'document_parsing_exception',
          `[1:1] failed to parse field [${bad.field}] of type [${bad.type}] in document with id '${id}'. Preview of field's value: '${String(bad.value)}'`,
        );
    }
    let m = this.docs.get(index);
    if (!m) {
      m = new Map();
      this.docs.set(index, m);
    }
    if (op === 'delete') {
      const existed = m.delete(id);
      return {
        _version: 2,
        result: existed ? 'deleted' : 'not_found',
        status: existed ? 200 : 404,
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: ++this.#seq,
        _primary_term: 1,
      };
    }
    if (op === 'create' && m.has(id))
      return err(409, 'version_conflict_engine_exception', `[${id}]: version conflict, document already exists (current version [1])`);
    const existed = m.has(id);
    m.set(id, this.#o.store === 'full' ? (doc ?? null) : null);
    this.accepted++;
    return {
      _version: existed ? 2 : 1,
      result: existed ? 'updated' : 'created',
      _shards: { total: 1, successful: 1, failed: 0 },
      _seq_no: ++this.#seq,
      _primary_term: 1,
      status: existed ? 200 : 201,
    };
  }

  #checkMapping(index: string, doc: Record<string, unknown>): { field: string; type: string; value: unknown } | undefined {
    const tpl = this.#templateIndex.find((t) => t.patterns.some((p) => p.test(index)));
    if (!tpl) return undefined;
    for (const [field, value] of Object.entries(doc)) {
      const type = tpl.properties[field]?.type;
      if (!type || value === null) continue;
      if (!valueFits(type, value)) return { field, type, value };
    }
    return undefined;
  }

  #search(req: IncomingMessage, res: ServerResponse, body: Buffer, indexExpr: string, url: URL): void {
    const started = now();
    const request = body.length ? (JSON.parse(body.toString('utf8')) as { query?: Query; size?: number; sort?: unknown }) : {};
    const size = Number(url.searchParams.get('size') ?? request.size ?? 10);
    const patterns = indexExpr.split(',').map(globToRegExp);
    const hits: Array<{ _index: string; _id: string; _source: Record<string, unknown> }> = [];
    for (const [index, m] of this.docs) {
      if (!patterns.some((p) => p.test(index))) continue;
      for (const [id, source] of m) if (source && evaluate(request.query ?? { match_all: {} }, source)) hits.push({ _index: index, _id: id, _source: source });
    }
    hits.sort((a, b) => Date.parse(String(b._source['@timestamp'] ?? 0)) - Date.parse(String(a._source['@timestamp'] ?? 0)));
    this.#json(req, res, 200, {
      took: Math.max(1, now() - started),
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: {
        total: { value: hits.length, relation: 'eq' },
        max_score: null,
        hits: hits.slice(0, size).map((h) => ({ ...h, _score: null, sort: [Date.parse(String(h._source['@timestamp'] ?? 0))] })),
      },
    });
  }
}

type Query = Record<string, any>;

function evaluate(q: Query, doc: Record<string, unknown>): boolean {
  const [kind, arg] = Object.entries(q)[0] ?? ['match_all', {}];
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      const list = (v: unknown): Query[] => (v === undefined ? [] : Array.isArray(v) ? v : [v as Query]);
      if (!list(arg.filter).every((c) => evaluate(c, doc))) return false;
      if (!list(arg.must).every((c) => evaluate(c, doc))) return false;
      if (list(arg.must_not).some((c) => evaluate(c, doc))) return false;
      const should = list(arg.should);
      const min = arg.minimum_should_match ?? (should.length && !arg.filter && !arg.must ? 1 : 0);
      return should.filter((c) => evaluate(c, doc)).length >= min;
    }
    case 'term': {
      const [field, v] = Object.entries(arg)[0] as [string, unknown];
      const value = v && typeof v === 'object' && 'value' in (v as object) ? (v as { value: unknown }).value : v;
      const actual = doc[field];
      return Array.isArray(actual) ? actual.includes(value) : actual === value || (actual !== undefined && String(actual) === String(value));
    }
    case 'terms': {
      const [field, values] = Object.entries(arg)[0] as [string, unknown[]];
      return values.some((v) => doc[field] === v);
    }
    case 'range': {
      const [field, r] = Object.entries(arg)[0] as [string, Record<string, string | number>];
      const actual = typeof doc[field] === 'string' ? Date.parse(doc[field] as string) : Number(doc[field]);
      const num = (v: string | number) => (typeof v === 'string' ? Date.parse(v) : v);
      if (!Number.isFinite(actual)) return false;
      if (r.gte !== undefined && actual < num(r.gte)) return false;
      if (r.gt !== undefined && actual <= num(r.gt)) return false;
      if (r.lte !== undefined && actual > num(r.lte)) return false;
      if (r.lt !== undefined && actual >= num(r.lt)) return false;
      return true;
    }
    case 'match_phrase':
    case 'match': {
      const [field, v] = Object.entries(arg)[0] as [string, unknown];
      const text = typeof v === 'object' && v !== null ? String((v as { query: unknown }).query) : String(v);
      return typeof doc[field] === 'string' && (doc[field] as string).toLowerCase().includes(text.toLowerCase());
    }
    default:
      return false;
  }
}

function valueFits(type: string, value: unknown): boolean {
  switch (type) {
    case 'ip':
      return typeof value === 'string' && /^(\d{1,3}\.){3}\d{1,3}$|:/.test(value);
    case 'date':
      return (typeof value === 'string' && !Number.isNaN(Date.parse(value))) || typeof value === 'number';
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
    case 'float':
    case 'double':
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Number(value)));
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    case 'keyword':
    case 'text':
      return typeof value !== 'object' || (Array.isArray(value) && value.every((v) => typeof v !== 'object'));
    default:
      return true;
  }
}

/**
 * The documented `filter_path` response filtering: comma-separated dotted paths, `*` matching any one key, `**` any
 * depth; arrays are traversed transparently; objects left empty are dropped.
 */
export function filterPath(body: unknown, filter: string): unknown {
  const paths = filter.split(',').map((p) => p.trim().split('.'));
  const walk = (value: unknown, rules: string[][]): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, rules)).filter((v) => v !== undefined);
    if (rules.some((r) => r.length === 0)) return value;
    if (!value || typeof value !== 'object') return undefined;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const next: string[][] = [];
      for (const r of rules) {
        const [head, ...rest] = r as [string, ...string[]];
        if (head === '**') next.push(r, rest);
        else if (head === '*' || head === key) next.push(rest);
      }
      if (next.length === 0) continue;
      const kept = walk(v, next);
      if (kept !== undefined && !(typeof kept === 'object' && kept !== null && !Array.isArray(kept) && Object.keys(kept).length === 0)) out[key] = kept;
    }
    return Object.keys(out).length ? out : undefined;
  };
  return walk(body, paths) ?? {};
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

function matchIndex(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

/** Start a test server (convenience). */
export async function startBulkTestServer(options: BulkTestServerOptions = {}): Promise<BulkTestServer> {
  return new BulkTestServer(options).start();
}
