/**
 * The console's only way to data: the server's own public HTTP API, called over loopback on the socket the
 * browser's request came in on, with the signed-in user's bearer token. The API therefore applies exactly the
 * access rules and reseller scoping it applies to any other client; the console holds no database handle.
 */
import { RgzError } from '@rgz/core';

export interface Problem {
  status: number;
  code: string;
  detail: string;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; problem: Problem };

export type Query = Record<string, string | number | undefined | null>;

/** Where this replica listens, from the socket of the request being served (the node adapter puts it in `c.env`). */
export function loopbackBase(env: unknown): string {
  const socket = (env as { incoming?: { socket?: { localAddress?: string; localPort?: number } } } | undefined)?.incoming?.socket;
  if (!socket?.localAddress || !socket.localPort) {
    throw new RgzError('console_no_socket', 'the console calls the API over the socket it is served on; serve it with the HTTP server, not app.request()', {
      status: 500,
    });
  }
  const v4 = socket.localAddress.replace(/^::ffff:/, '');
  const host = v4.includes(':') ? `[${v4}]` : v4;
  return `http://${host}:${socket.localPort}`;
}

export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly requestId?: string,
  ) {}

  url(path: string, query: Query = {}): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return `${this.base}${path}${s ? `?${s}` : ''}`;
  }

  /** The raw response (files: CSV, PDF), for streaming through to the browser. */
  async fetch(path: string, query: Query = {}, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    if (this.requestId) headers.set('x-request-id', this.requestId);
    return fetch(this.url(path, query), { ...init, headers, signal: init.signal ?? AbortSignal.timeout(120_000) });
  }

  get<T>(path: string, query: Query = {}): Promise<ApiResult<T>> {
    return this.call<T>('GET', path, query);
  }

  post<T>(path: string, body?: unknown, query: Query = {}): Promise<ApiResult<T>> {
    return this.call<T>('POST', path, query, body);
  }

  put<T>(path: string, body: unknown): Promise<ApiResult<T>> {
    return this.call<T>('PUT', path, {}, body);
  }

  patch<T>(path: string, body: unknown): Promise<ApiResult<T>> {
    return this.call<T>('PATCH', path, {}, body);
  }

  delete<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('DELETE', path, {});
  }

  private async call<T>(method: string, path: string, query: Query, body?: unknown): Promise<ApiResult<T>> {
    let res: Response;
    try {
      res = await this.fetch(path, query, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
    } catch (err) {
      return { ok: false, status: 503, problem: { status: 503, code: 'api_unreachable', detail: (err as Error).message } };
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.ok) return { ok: true, status: res.status, data: json as T };
    // problem+json: `detail` already names the first invalid field of a validation_failed answer.
    const p = (json ?? {}) as { code?: string; detail?: string; title?: string };
    return {
      ok: false,
      status: res.status,
      problem: { status: res.status, code: p.code ?? `http_${res.status}`, detail: p.detail ?? p.title ?? res.statusText },
    };
  }
}
