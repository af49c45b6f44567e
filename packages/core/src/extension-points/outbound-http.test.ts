/**
 * `httpExchange` against a real node:http server on loopback: an answer is the status's whatever the body does, and a
 * failure without a status line is classified by whether the request had left and whether it was a read.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FailureKind, OutboundError } from './common.js';
import {
  ApiEndpoint,
  failureKindOfStatus,
  type HttpExchangeRequest,
  httpExchange,
  jsonString,
  observeCall,
  parseJsonBody,
  parseRetryAfter,
} from './outbound-http.js';

class PeerError extends OutboundError {
  constructor(kind: FailureKind, message: string, cause: unknown) {
    super(`peer_${kind}`, kind, message, { cause });
  }
}

const agent = new http.Agent({ keepAlive: false });
let server: http.Server;
let base: URL;
/** Sockets of requests the server holds without answering, destroyed at the end. */
const held = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    req.resume();
    req.on('end', () => {
      if (path === '/ok') {
        res.writeHead(201, { 'content-type': 'application/json', 'retry-after': '7' }).end('{"id":42}');
      } else if (path === '/big') {
        res.writeHead(200);
        res.end(Buffer.alloc(64 * 1024, 'a'));
      } else if (path === '/cut') {
        // A status line, part of a body, then the connection dies.
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 50);
      } else if (path === '/reset') {
        req.socket.destroy();
      } else {
        held.add(res);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});

afterAll(async () => {
  for (const res of held) res.socket?.destroy();
  agent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function request(path: string, overrides: Partial<HttpExchangeRequest<PeerError>> = {}): HttpExchangeRequest<PeerError> {
  return {
    method: 'POST',
    url: new URL(path, base),
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"a":1}'),
    timeoutMs: 5_000,
    idempotent: false,
    agent,
    what: `POST ${path}`,
    peer: 'Peer',
    fail: (kind, message, cause) => new PeerError(kind, message, cause),
    ...overrides,
  };
}

describe('httpExchange', () => {
  it('resolves with the status, headers and body of an answer', async () => {
    const answer = await httpExchange(request('/ok'));
    expect(answer.status).toBe(201);
    expect(parseRetryAfter(answer.headers['retry-after'])).toBe(7);
    expect(jsonString((parseJsonBody(answer.text) as { id: number }).id)).toBe('42');
  });

  it('keeps at most maxBodyBytes of the body (whole chunks), the status still decides', async () => {
    const answer = await httpExchange(request('/big', { maxBodyBytes: 1024 }));
    expect(answer.status).toBe(200);
    expect(answer.text.length).toBeGreaterThanOrEqual(1024);
    expect(answer.text.length).toBeLessThan(64 * 1024);
    expect((await httpExchange(request('/big'))).text.length).toBe(64 * 1024);
  });

  it('a body cut after the status line still resolves with that status', async () => {
    const answer = await httpExchange(request('/cut'));
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('partial');
  });

  it('a refused connection is retryable: the request never left', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await httpExchange(request('/ok', { url: new URL(`http://127.0.0.1:${port}/ok`) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerError);
    expect(error).toMatchObject({ kind: 'retryable', message: expect.stringMatching(/^Peer POST \/ok: could not send the request \(ECONNREFUSED/) });
  });

  it('a connection lost after the request left: ambiguous for a write, retryable for a read', async () => {
    await expect(httpExchange(request('/reset'))).rejects.toMatchObject({ kind: 'ambiguous', message: expect.stringContaining('Peer may have acted on it') });
    await expect(httpExchange(request('/reset', { idempotent: true }))).rejects.toMatchObject({
      kind: 'retryable',
      message: expect.stringContaining('a read, safe to repeat'),
    });
  });

  it('no answer within the deadline after sending: ambiguous for a write, retryable for a read', async () => {
    await expect(httpExchange(request('/hold', { timeoutMs: 300 }))).rejects.toMatchObject({
      kind: 'ambiguous',
      message: 'Peer POST /hold: no answer within 300 ms after the request was sent (Peer may have acted on it)',
    });
    await expect(httpExchange(request('/hold', { timeoutMs: 300, idempotent: true }))).rejects.toMatchObject({ kind: 'retryable' });
  });

  it('an abort before sending is retryable, after sending it follows the request kind', async () => {
    const early = new AbortController();
    early.abort(new Error('shutdown'));
    await expect(httpExchange(request('/hold', { signal: early.signal }))).rejects.toMatchObject({
      kind: 'retryable',
      message: 'Peer POST /hold: aborted before the request was sent',
    });
    const late = new AbortController();
    const pending = httpExchange(request('/hold', { signal: late.signal }));
    // Wait until the server holds the request: it has then left.
    const before = held.size;
    for (let i = 0; i < 200 && held.size === before; i++) await new Promise((r) => setTimeout(r, 10));
    late.abort(new Error('shutdown'));
    await expect(pending).rejects.toMatchObject({ kind: 'ambiguous', message: expect.stringContaining('aborted after the request was sent') });
  });
});

describe('answer readers', () => {
  it('parseJsonBody: JSON, else the text, else undefined', () => {
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
    expect(parseJsonBody('<html>busy</html>')).toBe('<html>busy</html>');
    expect(parseJsonBody('  ')).toBeUndefined();
  });

  it('parseRetryAfter: seconds or an HTTP date, never negative', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(['3', '9'])).toBe(3);
    expect(parseRetryAfter(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
    expect(parseRetryAfter(new Date(Date.now() + 3_600_000).toUTCString())).toBeGreaterThan(3_500);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('failureKindOfStatus: gateway and throttling retryable, 500/504 ambiguous only for writes, 4xx permanent', () => {
    for (const status of [408, 429, 502, 503]) expect(failureKindOfStatus(status, false)).toBe('retryable');
    expect(failureKindOfStatus(500, false)).toBe('ambiguous');
    expect(failureKindOfStatus(504, false)).toBe('ambiguous');
    expect(failureKindOfStatus(500, true)).toBe('retryable');
    expect(failureKindOfStatus(400, true)).toBe('permanent');
    expect(failureKindOfStatus(401, false)).toBe('permanent');
  });
});

describe('ApiEndpoint', () => {
  it('keeps a path prefix, pools sockets for reads only, and rejects a non-http(s) base with the caller error', () => {
    const endpoint = new ApiEndpoint('https://proxy.example/acme', { maxSockets: 7, invalid: (m) => new Error(m) });
    try {
      expect(endpoint.url('/v1/things?page=2').toString()).toBe('https://proxy.example/acme/v1/things?page=2');
      const read = endpoint.agent(true);
      const write = endpoint.agent(false);
      expect(read).not.toBe(write);
      // `keepAlive` is set by node:http but missing from its typings.
      const keepAlive = (agent: http.Agent) => (agent as http.Agent & { keepAlive: boolean }).keepAlive;
      expect(keepAlive(read)).toBe(true);
      expect(read.maxSockets).toBe(7);
      expect(keepAlive(write)).toBe(false);
      expect(read).toBeInstanceOf(https.Agent);
    } finally {
      endpoint.close();
    }
    const plain = new ApiEndpoint('http://127.0.0.1:9/', { maxSockets: 1, invalid: (m) => new Error(m) });
    expect(plain.agent(true)).not.toBeInstanceOf(https.Agent);
    plain.close();
    expect(() => new ApiEndpoint('ftp://x.example', { maxSockets: 1, invalid: (m) => new RangeError(`Acme ${m}`) })).toThrow(
      new RangeError('Acme baseUrl must be http(s), got ftp:'),
    );
  });
});

describe('observeCall', () => {
  it('reports ok, not_found for null, the failure kind, and ambiguous for other errors, with the duration', async () => {
    const seen: Array<[string, number]> = [];
    const onCall = (outcome: string, seconds: number) => seen.push([outcome, seconds]);
    await expect(observeCall(async () => 1, onCall)).resolves.toBe(1);
    await expect(observeCall(async () => null, onCall)).resolves.toBeNull();
    await expect(observeCall(() => Promise.reject(new PeerError('retryable', 'busy', undefined)), onCall)).rejects.toBeInstanceOf(PeerError);
    await expect(observeCall(() => Promise.reject(new TypeError('bug')), onCall)).rejects.toBeInstanceOf(TypeError);
    expect(seen.map(([outcome]) => outcome)).toEqual(['ok', 'not_found', 'retryable', 'ambiguous']);
    for (const [, seconds] of seen) expect(seconds).toBeGreaterThanOrEqual(0);
    await expect(observeCall(async () => 'no observer', undefined)).resolves.toBe('no observer');
  });
});
