/**
 * A Letexto v3 stand-in for tests (ours and integrators'): a node:http server on 127.0.0.1 that speaks the documented
 * wire format (`POST /v1/messages/send` with `Authorization: Bearer`, `GET /v1/messages/{id}/status?token=`,
 * `GET /v1/users/balance?token=`), keeps every send request in memory so a test can read the OTP it carried, and
 * fails on demand: an HTTP error, a request accepted and never answered (the ambiguous timeout), or a connection
 * reset after the request was read. Connection refused needs no help: point the client at a closed server.
 * Letexto publishes no response bodies; where this server has to invent one it follows what third-party adapters
 * read, and says so next to it.
 */

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { answerJson as json, startLoopbackPeer } from '@rgz/core/testing';

/** One `POST /v1/messages/send` as received, whatever became of it. */
export interface LetextoReceivedMessage {
  /** Id this server gave the message (also when the request was then failed on purpose). */
  readonly id: string;
  readonly receivedAt: Date;
  /** The JSON body's fields, verbatim (missing ones undefined). */
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly content: string | undefined;
  readonly customData: string | undefined;
  readonly dlrUrl: string | undefined;
  readonly dlrMethod: string | undefined;
  readonly sendAt: string | undefined;
  /** What the server did with it. */
  readonly outcome: 'accepted' | 'rejected' | 'failed' | 'hung' | 'reset';
  /** HTTP status answered (absent for `hung` and `reset`). */
  readonly httpStatus?: number;
}

export interface LetextoTestServerOptions {
  /** Accepted API key (default `test-key`). */
  apiKey?: string;
  /**
   * Sender names validated on the fake account; a send with another `from` gets Letexto's `LT400` "Expéditeur non
   * autorisé". Default: any name of 1 to 11 characters.
   */
  senders?: readonly string[];
  /** Port (default 0: any free port). Host is always 127.0.0.1. */
  port?: number;
  /**
   * Body of a successful send. Letexto documents none; the default `{id, status: 'PENDING'}` is what adapters read
   * (others read `data.id` or `messageId`). Return `undefined` for an empty 200.
   */
  sendResponse?: (message: LetextoReceivedMessage) => unknown;
  /** Balance returned by `GET /v1/users/balance` (default 10 000). */
  balance?: number;
}

export interface FailOptions {
  /** HTTP status to answer (default 503). */
  status?: number;
  /** Provider error code in the body (default `LT400` for 400, `LT<status>` otherwise). Undocumented format. */
  code?: string;
  message?: string;
  /** Retry-After header, in seconds. */
  retryAfterSeconds?: number;
}

export interface LetextoTestServer {
  /** `http://127.0.0.1:<port>`: the client's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Every send request received, oldest first, including failed, hung and reset ones. */
  messages(): readonly LetextoReceivedMessage[];
  /** The last accepted message to `to` (E.164 `+229…` or Letexto's `229…`), e.g. to read an OTP. */
  lastMessageTo(to: string): LetextoReceivedMessage | undefined;
  /** Every HTTP request received whole (any path), for counting. */
  requestCount(): number;
  /** Answer the next `n` send requests with an error (default 503). */
  failNext(n: number, options?: FailOptions): void;
  /** Read the next `n` send requests whole, record them, and never answer (until `close`). */
  hangNext(n: number): void;
  /** Read the next `n` send requests whole, record them, then reset the connection without answering. */
  resetNext(n: number): void;
  /** Set the status `GET /v1/messages/{id}/status` reports for a message (default `PENDING`). */
  setStatus(id: string, status: string): void;
  /** Forget messages, statuses, pending faults and the request count. */
  reset(): void;
  close(): Promise<void>;
}

type Fault = { type: 'fail'; options: FailOptions } | { type: 'hang' } | { type: 'reset' };

/** Start a test server on 127.0.0.1. */
export async function startLetextoTestServer(options: LetextoTestServerOptions = {}): Promise<LetextoTestServer> {
  const apiKey = options.apiKey ?? 'test-key';
  const senders = options.senders ? new Set(options.senders) : undefined;
  const sendResponse = options.sendResponse ?? ((m: LetextoReceivedMessage) => ({ id: m.id, status: 'PENDING' }));
  const messages: LetextoReceivedMessage[] = [];
  const statuses = new Map<string, string>();
  // Letexto's own queue, not core's FaultQueue: it also resets connections, and a failure carries Retry-After.
  const faults: Fault[] = [];
  let requests = 0;

  function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
    requests += 1;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');

    if (req.method === 'POST' && path === '/v1/messages/send') {
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        // Undocumented: status and body of an authentication failure are assumed.
        json(res, 401, { code: 'LT401', message: 'Unauthorized' });
        return;
      }
      let body: Record<string, unknown>;
      try {
        const parsed = JSON.parse(text) as unknown;
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        json(res, 400, { code: 'LT400', message: 'Invalid JSON body' });
        return;
      }
      const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
      const base = {
        id: randomUUID(),
        receivedAt: new Date(),
        from: str('from'),
        to: str('to'),
        content: str('content'),
        customData: str('customData'),
        dlrUrl: str('dlrUrl'),
        dlrMethod: str('dlrMethod'),
        sendAt: str('sendAt'),
      };
      const fault = faults.shift();
      if (fault?.type === 'hang') {
        messages.push({ ...base, outcome: 'hung' });
        return; // the socket stays open until close()
      }
      if (fault?.type === 'reset') {
        messages.push({ ...base, outcome: 'reset' });
        req.socket.resetAndDestroy();
        return;
      }
      if (fault?.type === 'fail') {
        const status = fault.options.status ?? 503;
        messages.push({ ...base, outcome: 'failed', httpStatus: status });
        if (fault.options.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.options.retryAfterSeconds));
        json(res, status, { code: fault.options.code ?? `LT${status}`, message: fault.options.message ?? http.STATUS_CODES[status] ?? 'error' });
        return;
      }
      // Validation as the reference describes it: `to` international without `+`, sender validated on the account.
      const problem =
        !base.from || base.from.length > 11 || (senders && !senders.has(base.from))
          ? { code: 'LT400', message: 'Expéditeur non autorisé' }
          : !base.to || !/^[1-9]\d{7,14}$/.test(base.to)
            ? { code: 'LT422', message: 'Numéro de destinataire invalide' } // code assumed: no error table is published
            : !base.content
              ? { code: 'LT422', message: 'Contenu vide' }
              : undefined;
      if (problem) {
        messages.push({ ...base, outcome: 'rejected', httpStatus: 400 });
        json(res, 400, problem);
        return;
      }
      const message: LetextoReceivedMessage = { ...base, outcome: 'accepted', httpStatus: 200 };
      messages.push(message);
      statuses.set(message.id, 'PENDING');
      const answer = sendResponse(message);
      if (answer === undefined) {
        res.writeHead(200).end();
        return;
      }
      json(res, 200, answer);
      return;
    }

    const status = /^\/v1\/messages\/([^/]+)\/status$/.exec(path);
    if (req.method === 'GET' && status) {
      if (url.searchParams.get('token') !== apiKey) {
        json(res, 401, { code: 'LT401', message: 'Unauthorized' });
        return;
      }
      const id = decodeURIComponent(status[1] as string);
      const word = statuses.get(id);
      // Undocumented: 404 for an unknown id and the `{id, status}` body are assumptions (adapters read `status`).
      if (word === undefined) json(res, 404, { code: 'LT404', message: 'Message introuvable' });
      else json(res, 200, { id, status: word });
      return;
    }

    if (req.method === 'GET' && path === '/v1/users/balance') {
      if (url.searchParams.get('token') !== apiKey) {
        json(res, 401, { code: 'LT401', message: 'Unauthorized' });
        return;
      }
      // Undocumented: adapters read `balance` and show it in XOF.
      json(res, 200, { balance: options.balance ?? 10_000, currency: 'XOF' });
      return;
    }

    json(res, 404, { code: 'LT404', message: `no route ${req.method} ${path}` });
  }

  const peer = await startLoopbackPeer(handle, { port: options.port, internalError: (err) => ({ code: 'LT500', message: err.message }) });
  const plusless = (to: string) => to.replace(/^\+/, '');

  return {
    url: peer.url,
    port: peer.port,
    apiKey,
    messages: () => [...messages],
    lastMessageTo: (to) => messages.findLast((m) => m.outcome === 'accepted' && m.to === plusless(to)),
    requestCount: () => requests,
    failNext(n, failOptions = {}) {
      for (let i = 0; i < n; i++) faults.push({ type: 'fail', options: failOptions });
    },
    hangNext(n) {
      for (let i = 0; i < n; i++) faults.push({ type: 'hang' });
    },
    resetNext(n) {
      for (let i = 0; i < n; i++) faults.push({ type: 'reset' });
    },
    setStatus(id, word) {
      statuses.set(id, word);
    },
    reset() {
      messages.length = 0;
      faults.length = 0;
      statuses.clear();
      requests = 0;
    },
    // Also cuts hung requests' sockets, so close() returns.
    close: () => peer.close(),
  };
}
