/**
 * A FedaPay stand-in for tests (ours and integrators'): a node:http server on 127.0.0.1 speaking FedaPay's v1 REST API
 * as its SDKs call it (`Authorization: Bearer <secret key>`; `POST /v1/transactions`, `POST /v1/transactions/{id}/token`,
 * `GET /v1/transactions/{id}`, `GET /v1/transactions?page=&per_page=`; answers wrapped as `{"v1/transaction": …}` and
 * `{"v1/transactions": […], "meta": …}`), a hosted payment page the test can "pay" on (`/process/{token}`), and
 * FedaPay's side of webhooks: events signed `X-FEDAPAY-SIGNATURE: t=<unix>,s=<HMAC-SHA256("{t}.{body}")>` with the
 * configured secret, old timestamps and replays on demand. Transactions live in a Map: O(1) by id, 100 000 is fine.
 *
 * Where FedaPay publishes no exact shape (error bodies and codes, the event envelope, page-size limit, list order,
 * webhook retries), the server picks one and says so next to it.
 */

import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { deliverWebhooks, FaultQueue, isSuccess, answerJson as json, postWebhook, startLoopbackPeer, type WebhookAttempt } from '@rgz/core/testing';

export type FedapayStatusWord =
  | 'pending'
  | 'approved'
  | 'declined'
  | 'canceled'
  | 'refunded'
  | 'transferred'
  | 'approved_partially_refunded'
  | 'transferred_partially_refunded';

/** One transaction as the fake FedaPay holds it (FedaPay's field names). */
export interface FedapayTestTransaction {
  readonly id: number;
  readonly reference: string;
  readonly transaction_key: string;
  amount: number;
  description: string;
  callback_url: string | null;
  status: FedapayStatusWord;
  mode: string | null;
  fees: number | null;
  custom_metadata: Record<string, unknown> | null;
  customer_id: number | null;
  created_at: Date;
  updated_at: Date;
  approved_at: Date | null;
  declined_at: Date | null;
  canceled_at: Date | null;
  refunded_at: Date | null;
  transferred_at: Date | null;
  last_error_code: string | null;
  /** Payment token, once asked for. */
  token: string | null;
}

export interface CreateTransactionInput {
  amount: number;
  /** Our reference: stored as `custom_metadata.rgz_reference` unless `customMetadata` is given. */
  reference?: string;
  customMetadata?: Record<string, unknown>;
  description?: string;
  status?: FedapayStatusWord;
  /** FedaPay's fee; default `round(amount × feePercent / 100)` once paid. */
  fees?: number | null;
  mode?: string;
  createdAt?: Date;
  /** When it was approved/declined/canceled (default `createdAt`). */
  settledAt?: Date;
  callbackUrl?: string;
}

export interface FedapayTestServerOptions {
  /** Accepted secret key (default `sk_sandbox_test`). */
  secretKey?: string;
  /** Webhook signing secret used by `sendWebhook` and automatic events (default `wh_sandbox_test`). */
  webhookSecret?: string;
  port?: number;
  /** Fee rate applied at payment, percent (default 2: FedaPay SDK fixture "commission 0.02"). */
  feePercent?: number;
  /** Largest `per_page` honoured (default 100; FedaPay publishes no limit). */
  maxPerPage?: number;
  /** POST signed events here whenever a transaction changes state (as a webhook set on the dashboard). */
  webhookUrl?: string;
}

export interface WebhookOptions {
  /** Signing secret (default: the server's). */
  secret?: string;
  /** Event name (default from the status: `transaction.approved`, `.declined`, `.canceled`, …). */
  event?: string;
  /** Unix seconds written in `t=` (default now): an old one makes a stale delivery. */
  timestamp?: number;
  /** Separate deliveries of the same event (same event id), each signed afresh. */
  times?: number;
  concurrently?: boolean;
  /** Attempts per delivery while the answer is not 2xx (FedaPay's retry policy is unpublished; default 1). */
  attempts?: number;
  retryBaseMs?: number;
  timeoutMs?: number;
  /** Omit the signature header. */
  unsigned?: boolean;
}

export interface WebhookDelivery {
  readonly delivered: boolean;
  readonly attempts: ReadonlyArray<WebhookAttempt>;
  /** Exact body and signature header of the last attempt: `replayWebhook` sends them again unchanged. */
  readonly body: string;
  readonly signature: string | undefined;
}

export interface FedapayTestServer {
  readonly url: string;
  readonly port: number;
  readonly secretKey: string;
  readonly webhookSecret: string;
  createTransaction(input: CreateTransactionInput): FedapayTestTransaction;
  /** Many at once (benchmarks); returns ids in order. */
  createTransactions(inputs: Iterable<CreateTransactionInput>): number[];
  transaction(id: number | string): FedapayTestTransaction | undefined;
  findByReference(reference: string): FedapayTestTransaction | undefined;
  size(): number;
  /** Change a transaction's state (dates and fees follow); sends an automatic event when `webhookUrl` is set. */
  setStatus(id: number | string, status: FedapayStatusWord, extra?: { lastErrorCode?: string }): Promise<void>;
  /** Pay on the hosted page like a browser would; resolves with the redirect FedaPay answers (callback URL). */
  pay(paymentUrl: string, outcome: 'approved' | 'declined' | 'canceled'): Promise<{ status: number; location: string | undefined }>;
  /** Answer the next `n` API requests (of `call`, default any) with this status (default 503) and body. */
  failNext(n: number, status?: number, body?: unknown, call?: ApiCall): void;
  /** Read the next `n` API requests (of `call`, default any) and never answer them. */
  hangNext(n: number, call?: ApiCall): void;
  down(): Promise<void>;
  up(): Promise<void>;
  setWebhookUrl(url: string | undefined): void;
  /** The event body FedaPay would send for this transaction now. */
  eventPayload(id: number | string, event?: string): Record<string, unknown>;
  /** The header value for `body` signed at `timestamp`. */
  sign(body: string, timestamp: number, secret?: string): string;
  sendWebhook(url: string, id: number | string, options?: WebhookOptions): Promise<WebhookDelivery[]>;
  /** Send a past delivery again byte for byte (same `t=`): a replay attack once the tolerance has passed. */
  replayWebhook(url: string, delivery: WebhookDelivery): Promise<WebhookDelivery>;
  /** Wait for automatic events in flight. */
  settle(): Promise<void>;
  requestCount(call?: ApiCall): number;
  /** `POST /v1/transactions` bodies received, parsed. */
  createRequests(): readonly unknown[];
  reset(): void;
  close(): Promise<void>;
}

export type ApiCall = 'create' | 'token' | 'retrieve' | 'list';

const EVENT_BY_STATUS: Readonly<Record<FedapayStatusWord, string | undefined>> = {
  pending: 'transaction.created',
  approved: 'transaction.approved',
  declined: 'transaction.declined',
  canceled: 'transaction.canceled',
  transferred: 'transaction.transferred',
  refunded: 'transaction.refunded',
  approved_partially_refunded: 'transaction.refunded',
  transferred_partially_refunded: 'transaction.refunded',
};

export async function startFedapayTestServer(options: FedapayTestServerOptions = {}): Promise<FedapayTestServer> {
  const secretKey = options.secretKey ?? 'sk_sandbox_test';
  const webhookSecret = options.webhookSecret ?? 'wh_sandbox_test';
  const feePercent = options.feePercent ?? 2;
  const maxPerPage = options.maxPerPage ?? 100;
  let webhookUrl = options.webhookUrl;
  const transactions = new Map<number, FedapayTestTransaction>();
  const byReference = new Map<string, number>();
  const byToken = new Map<string, number>();
  /** Oldest first (appends are O(1)); re-sorted lazily when a transaction is added out of order. Pages read it backwards. */
  let byAge: FedapayTestTransaction[] = [];
  let ageDirty = false;
  const faults = new FaultQueue<ApiCall>();
  const counts: Record<ApiCall | 'other', number> = { create: 0, token: 0, retrieve: 0, list: 0, other: 0 };
  const creates: unknown[] = [];
  const inFlight = new Set<Promise<unknown>>();
  /** Event ids: one per (transaction, state change), reused by redeliveries. */
  const eventIds = new Map<string, number>();
  let nextId = 100_001;
  let nextEventId = 5_000_001;
  let nextCustomerId = 1;

  const oldestFirst = (): FedapayTestTransaction[] => {
    if (ageDirty) {
      byAge = [...transactions.values()].sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id - b.id);
      ageDirty = false;
    }
    return byAge;
  };
  let pool = Buffer.alloc(0);
  let poolAt = 0;
  /** Random bytes drawn in blocks: a 100 000-transaction load calls the CSPRNG ~100 times, not 200 000. */
  const random = (n: number): Buffer => {
    if (poolAt + n > pool.length) {
      pool = randomBytes(16_384);
      poolAt = 0;
    }
    poolAt += n;
    return pool.subarray(poolAt - n, poolAt);
  };

  const applyStatus = (tx: FedapayTestTransaction, status: FedapayStatusWord, at: Date, lastErrorCode?: string) => {
    tx.status = status;
    tx.updated_at = at;
    if (status === 'approved' || status === 'transferred') {
      tx.approved_at ??= at;
      tx.mode ??= 'mtn_open';
      tx.fees ??= Math.round((tx.amount * feePercent) / 100);
    }
    if (status === 'transferred') tx.transferred_at ??= at;
    if (status === 'declined') {
      tx.declined_at ??= at;
      tx.mode ??= 'mtn_open';
      tx.last_error_code = lastErrorCode ?? tx.last_error_code ?? 'insufficient_funds';
    }
    if (status === 'canceled') tx.canceled_at ??= at;
    if (status === 'refunded' || status.endsWith('partially_refunded')) tx.refunded_at ??= at;
  };

  const createTransaction = (input: CreateTransactionInput): FedapayTestTransaction => {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new Error(`amount ${input.amount} must be a positive integer (FCFA)`);
    const id = nextId++;
    const createdAt = input.createdAt ?? new Date();
    const custom = input.customMetadata ?? (input.reference === undefined ? null : { rgz_reference: input.reference });
    const tx: FedapayTestTransaction = {
      id,
      reference: `trx_${random(6).toString('base64url')}`,
      transaction_key: random(4).toString('hex').toUpperCase(),
      amount: input.amount,
      description: input.description ?? 'Test',
      callback_url: input.callbackUrl ?? null,
      status: 'pending',
      mode: input.mode ?? null,
      fees: input.fees === undefined ? null : input.fees,
      custom_metadata: custom,
      customer_id: null,
      created_at: createdAt,
      updated_at: createdAt,
      approved_at: null,
      declined_at: null,
      canceled_at: null,
      refunded_at: null,
      transferred_at: null,
      last_error_code: null,
      token: null,
    };
    if (input.status !== undefined && input.status !== 'pending') applyStatus(tx, input.status, input.settledAt ?? createdAt);
    if (input.fees === null) tx.fees = null;
    const newest = byAge[byAge.length - 1];
    transactions.set(id, tx);
    if (!ageDirty && (newest === undefined || createdAt.getTime() >= newest.created_at.getTime())) byAge.push(tx);
    else ageDirty = true;
    const ref = typeof custom?.rgz_reference === 'string' ? custom.rgz_reference : undefined;
    if (ref !== undefined) byReference.set(ref, id);
    return tx;
  };

  // ---- wire format -------------------------------------------------------------------------------------------------

  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  /** A transaction as FedaPay serialises it (API reference "Get a transaction"; SDK fixtures for `klass`). */
  const serialize = (tx: FedapayTestTransaction): Record<string, unknown> => ({
    klass: 'v1/transaction',
    id: tx.id,
    transaction_key: tx.transaction_key,
    reference: tx.reference,
    amount: tx.amount,
    description: tx.description,
    callback_url: tx.callback_url,
    status: tx.status,
    customer_id: tx.customer_id,
    currency_id: 1,
    mode: tx.mode,
    metadata: {},
    commission: feePercent / 100,
    fees: tx.fees,
    fixed_commission: 0,
    amount_transferred: tx.fees === null ? null : tx.amount - tx.fees,
    amount_debited: tx.amount,
    created_at: iso(tx.created_at),
    updated_at: iso(tx.updated_at),
    approved_at: iso(tx.approved_at),
    declined_at: iso(tx.declined_at),
    canceled_at: iso(tx.canceled_at),
    refunded_at: iso(tx.refunded_at),
    transferred_at: iso(tx.transferred_at),
    deleted_at: null,
    last_error_code: tx.last_error_code,
    custom_metadata: tx.custom_metadata,
    receipt_url: null,
    payment_method_id: null,
    sub_accounts_commissions: [],
    merchant_reference: null,
    account_id: 1,
    balance_id: 1,
  });

  const eventPayload = (id: number | string, event?: string): Record<string, unknown> => {
    const tx = transactions.get(Number(id));
    if (!tx) throw new Error(`no transaction ${id}`);
    const name = event ?? EVENT_BY_STATUS[tx.status] ?? 'transaction.updated';
    const key = `${tx.id}:${name}:${tx.status}`;
    let eventId = eventIds.get(key);
    if (eventId === undefined) {
      eventId = nextEventId++;
      eventIds.set(key, eventId);
    }
    // FedaPay's Event (SDK `Event.ts`: id, type, entity, object, object_id, account_id; integrations read `name` and
    // `entity`): the envelope is [C], the entity is the transaction as the API serialises it.
    return {
      id: eventId,
      klass: 'v1/event',
      name,
      type: name,
      object: 'transaction',
      object_id: tx.id,
      entity: serialize(tx),
      account_id: 1,
      created_at: iso(tx.updated_at),
      updated_at: iso(tx.updated_at),
    };
  };

  const sign = (body: string, timestamp: number, secret = webhookSecret): string =>
    `t=${timestamp},s=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;

  const sendWebhook = async (url: string, id: number | string, webhookOptions: WebhookOptions = {}): Promise<WebhookDelivery[]> => {
    const body = JSON.stringify(eventPayload(id, webhookOptions.event));
    const timeoutMs = webhookOptions.timeoutMs ?? 5_000;
    // Each attempt is signed afresh (a new `t=`); the delivery keeps the last signature for `replayWebhook`.
    const deliveries = await deliverWebhooks({ ...webhookOptions, attempts: webhookOptions.attempts ?? 1 }, async () => {
      const signature = webhookOptions.unsigned ? undefined : sign(body, webhookOptions.timestamp ?? Math.floor(Date.now() / 1000), webhookOptions.secret);
      return { ...(await postOnce(url, body, signature, timeoutMs)), signature };
    });
    return deliveries.map(({ delivered, attempts, last }) => ({ delivered, attempts, body, signature: last.signature }));
  };

  const autoEvent = (tx: FedapayTestTransaction) => {
    if (webhookUrl === undefined || EVENT_BY_STATUS[tx.status] === undefined) return;
    const sending = sendWebhook(webhookUrl, tx.id).catch(() => undefined);
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  };

  const setStatus = async (id: number | string, status: FedapayStatusWord, extra: { lastErrorCode?: string } = {}) => {
    const tx = transactions.get(Number(id));
    if (!tx) throw new Error(`no transaction ${id}`);
    applyStatus(tx, status, new Date(), extra.lastErrorCode);
    autoEvent(tx);
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';

    // The hosted payment page (FedaPay's `process` host): not the API, no key.
    const page = /^\/process\/([A-Za-z0-9_-]+)$/.exec(path);
    if (page) {
      counts.other += 1;
      const id = byToken.get(page[1] as string);
      const tx = id === undefined ? undefined : transactions.get(id);
      if (!tx) {
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>Lien de paiement invalide</h1>');
        return;
      }
      if (method === 'GET') {
        const html = `<!doctype html><html lang="fr"><meta charset="utf-8"><title>FedaPay (test)</title><h1>${escapeHtml(tx.description)}</h1><p>${tx.amount} FCFA</p><form method="post"><button name="outcome" value="approved">Payer</button><button name="outcome" value="declined">Échec</button><button name="outcome" value="canceled">Annuler</button></form></html>`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        return;
      }
      const outcome = new URLSearchParams(text).get('outcome');
      if (method !== 'POST' || (outcome !== 'approved' && outcome !== 'declined' && outcome !== 'canceled')) {
        res.writeHead(400).end();
        return;
      }
      if (tx.status !== 'pending') {
        res.writeHead(409, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>Transaction déjà traitée</h1>');
        return;
      }
      applyStatus(tx, outcome, new Date());
      autoEvent(tx);
      // Back to the merchant with `id` and `status` appended (what integrations read on their callback page) [C].
      if (tx.callback_url) {
        const back = new URL(tx.callback_url);
        back.searchParams.set('id', String(tx.id));
        back.searchParams.set('status', tx.status);
        res.writeHead(302, { location: back.toString() }).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<h1>${tx.status}</h1>`);
      }
      return;
    }

    const one = /^\/v1\/transactions\/([^/]+)$/.exec(path);
    const token = /^\/v1\/transactions\/([^/]+)\/token$/.exec(path);
    const call: ApiCall | 'other' =
      method === 'POST' && path === '/v1/transactions'
        ? 'create'
        : method === 'GET' && path === '/v1/transactions'
          ? 'list'
          : method === 'POST' && token
            ? 'token'
            : method === 'GET' && one
              ? 'retrieve'
              : 'other';
    counts[call] += 1;
    if (call === 'other') {
      json(res, 404, { message: `no route ${method} ${path}` });
      return;
    }
    let body: unknown;
    if (call === 'create') {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      creates.push(body);
    }
    if (faults.play(call, res)) return;
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      json(res, 401, { message: 'Unauthenticated.' }); // body assumed; FedaPay errors carry `message`
      return;
    }

    if (call === 'create') {
      const input = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      const errors: Record<string, string[]> = {};
      if (typeof input.description !== 'string' || input.description === '') errors.description = ['is required'];
      if (typeof input.amount !== 'number' || !Number.isSafeInteger(input.amount) || input.amount <= 0) errors.amount = ['must be a positive integer'];
      const currency = input.currency as { iso?: unknown } | undefined;
      if (currency?.iso !== 'XOF') errors.currency = ['is not supported'];
      if (input.callback_url !== undefined && (typeof input.callback_url !== 'string' || !/^https?:\/\//.test(input.callback_url)))
        errors.callback_url = ['is invalid'];
      if (Object.keys(errors).length > 0) {
        // FedaPay answers `{message, errors: {field: [..]}}` (SDK error handling); the HTTP status is assumed.
        json(res, 400, { message: 'Transaction creation failed', errors });
        return;
      }
      const tx = createTransaction({
        amount: input.amount as number,
        description: input.description as string,
        ...(typeof input.callback_url === 'string' ? { callbackUrl: input.callback_url } : {}),
        ...(input.custom_metadata && typeof input.custom_metadata === 'object' ? { customMetadata: input.custom_metadata as Record<string, unknown> } : {}),
      });
      if (input.customer && typeof input.customer === 'object') tx.customer_id = nextCustomerId++;
      json(res, 200, { 'v1/transaction': serialize(tx) });
      return;
    }
    if (call === 'token') {
      const tx = transactions.get(Number((token as RegExpExecArray)[1]));
      if (!tx) {
        json(res, 404, { message: 'Transaction not found' });
        return;
      }
      if (tx.status !== 'pending') {
        json(res, 400, { message: 'Transaction is not pending' }); // assumed
        return;
      }
      tx.token ??= randomBytes(18).toString('base64url');
      byToken.set(tx.token, tx.id);
      json(res, 200, { token: tx.token, url: `${peer.url}/process/${tx.token}` });
      return;
    }
    if (call === 'retrieve') {
      const raw = (one as RegExpExecArray)[1] as string;
      const tx = /^\d+$/.test(raw) ? transactions.get(Number(raw)) : undefined;
      if (!tx) json(res, 404, { message: 'Transaction not found' });
      else json(res, 200, { 'v1/transaction': serialize(tx) });
      return;
    }
    // list: newest first (FedaPay's order is unpublished), `per_page` clamped (limit unpublished).
    const perPage = Math.min(Math.max(Number.parseInt(url.searchParams.get('per_page') ?? '25', 10) || 25, 1), maxPerPage);
    const pageNo = Math.max(Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1, 1);
    const all = oldestFirst();
    const totalPages = Math.max(1, Math.ceil(all.length / perPage));
    // Page 1 is the newest `perPage`: read the oldest-first array from the end.
    const end = all.length - (pageNo - 1) * perPage;
    const slice = end <= 0 ? [] : all.slice(Math.max(0, end - perPage), end).reverse();
    json(res, 200, {
      'v1/transactions': slice.map(serialize),
      meta: {
        current_page: pageNo,
        next_page: pageNo < totalPages ? pageNo + 1 : null,
        prev_page: pageNo > 1 ? pageNo - 1 : null,
        per_page: perPage,
        total_pages: totalPages,
        total_count: all.length,
      },
    });
  }

  const peer = await startLoopbackPeer(handle, { port: options.port, internalError: (err) => ({ message: err.message }) });

  return {
    url: peer.url,
    port: peer.port,
    secretKey,
    webhookSecret,
    createTransaction,
    createTransactions(inputs) {
      const ids: number[] = [];
      for (const input of inputs) ids.push(createTransaction(input).id);
      return ids;
    },
    transaction: (id) => transactions.get(Number(id)),
    findByReference(reference) {
      const id = byReference.get(reference);
      return id === undefined ? undefined : transactions.get(id);
    },
    size: () => transactions.size,
    setStatus,
    async pay(paymentUrl, outcome) {
      const res = await fetch(paymentUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ outcome }).toString(),
        redirect: 'manual',
      });
      await res.arrayBuffer();
      return { status: res.status, location: res.headers.get('location') ?? undefined };
    },
    failNext(n, status = 503, body, call) {
      faults.fail(n, status, body ?? { message: http.STATUS_CODES[status] ?? 'error' }, call);
    },
    hangNext(n, call) {
      faults.hang(n, call);
    },
    down: () => peer.down(),
    up: () => peer.up(),
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    eventPayload,
    sign,
    sendWebhook,
    async replayWebhook(url, delivery) {
      const result = await postOnce(url, delivery.body, delivery.signature, 5_000);
      return {
        delivered: isSuccess(result.status),
        attempts: [{ at: Date.now(), ...result }],
        body: delivery.body,
        signature: delivery.signature,
      };
    },
    async settle() {
      await Promise.all([...inFlight]);
    },
    requestCount: (call) => (call === undefined ? Object.values(counts).reduce((a, b) => a + b, 0) : counts[call]),
    createRequests: () => [...creates],
    reset() {
      transactions.clear();
      byReference.clear();
      byToken.clear();
      eventIds.clear();
      byAge = [];
      ageDirty = false;
      faults.clear();
      creates.length = 0;
      for (const key of Object.keys(counts) as Array<keyof typeof counts>) counts[key] = 0;
    },
    async close() {
      await Promise.all([...inFlight]);
      await peer.close();
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One webhook POST with FedaPay's headers; never throws. */
function postOnce(url: string, body: string, signature: string | undefined, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  const headers: http.OutgoingHttpHeaders = { 'user-agent': 'FedaPay-Webhook (rgz test server)' };
  if (signature !== undefined) headers['X-FEDAPAY-SIGNATURE'] = signature;
  return postWebhook(url, body, headers, timeoutMs);
}
