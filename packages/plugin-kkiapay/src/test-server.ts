/**
 * A KKiaPay stand-in for tests (ours and integrators'): a node:http server on 127.0.0.1 speaking the server API as the
 * shared KKiaPay reference documents it (verify `POST /api/v1/transactions/status`, revert
 * `POST /api/v1/transactions/revert`, the three `x-*-key` headers), plus KKiaPay's side of the webhook
 * (`x-kkiapay-secret`, five attempts "500 ms incremental"). Transactions live in a Map, so a benchmark can load 100 000
 * of them and verify each in O(1). Faults on demand: HTTP errors, requests never answered, the whole server down.
 *
 * Where KKiaPay publishes no exact body (error bodies, HTTP status of refusals), the server picks one and says so next
 * to it; the client under test must not depend on more than the reference says.
 * Not KKiaPay: `POST /_rgz/widget/pay` plays the widget (the payer paying), for tests that only have HTTP.
 */

import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { deliverWebhooks, FaultQueue, answerJson as json, postWebhook, startLoopbackPeer, type WebhookAttempt } from '@rgz/core/testing';

/** Status words verify reports (shared reference §7). */
export type KkiapayStatusWord = 'SUCCESS' | 'FAILED' | 'PENDING' | 'REVERTED' | 'INIT';

/** One transaction as the fake KKiaPay holds it. */
export interface KkiapayTestTransaction {
  readonly transactionId: string;
  amount: number;
  fees: number | undefined;
  status: KkiapayStatusWord;
  /** `MOBILE_MONEY` (refundable), `CARD`, `WALLET`, `BANK_ACCOUNT`. */
  source: string;
  /** Operator slug (`mtn-benin`, `moov-benin`, `celtiis-bj`). */
  operator: string;
  /** The widget's `data`, echoed as `state` (verify) and `stateData` (webhook). */
  state: unknown;
  partnerId: string | undefined;
  /** Payer MSISDN as KKiaPay writes it: country code and number, no `+`. */
  phone: string;
  name: string | undefined;
  email: string | undefined;
  performedAt: Date;
  failureCode: string | undefined;
  failureMessage: string | undefined;
}

export interface CreateTransactionInput {
  /** Integer FCFA. */
  amount: number;
  /** Our payment reference: becomes `state: {ref}` and `partnerId` unless those are given. */
  reference?: string;
  state?: unknown;
  partnerId?: string;
  /** Default `SUCCESS`. */
  status?: KkiapayStatusWord;
  /** KKiaPay's fee; default `round(amount × feePercent / 100)`; `null` = the field is absent from verify. */
  fees?: number | null;
  source?: string;
  operator?: string;
  phone?: string;
  name?: string;
  email?: string;
  performedAt?: Date;
  /** Choose the id (default: 10 random base-62 characters, like KKiaPay's short ids). */
  transactionId?: string;
  failureCode?: string;
  failureMessage?: string;
}

export interface KkiapayTestServerOptions {
  /** Keys the API accepts (defaults `pk_test`, `sk_private_test`, `sk_secret_test`). All three are required per call. */
  publicKey?: string;
  privateKey?: string;
  secretKey?: string;
  /** Port (default 0: any free port). Host is always 127.0.0.1. */
  port?: number;
  /** Merchant's available balance for reverts, in FCFA (default unlimited); a revert above it is `INSUFFICIENT_FUND`. */
  balance?: number;
  /** Default fee rate, percent (default 1.9: "19 on 1,000" as observed, §8). */
  feePercent?: number;
  /** Webhook `label` field (merchant label, meaning unknown: §5). */
  label?: string;
}

export interface WebhookOptions {
  /** The dashboard's hash secret, sent as `x-kkiapay-secret`. Omit to send no header (an unauthenticated caller). */
  secret?: string;
  /** Separate deliveries of the same event (each with its own retries): duplicates as a flaky network produces. */
  times?: number;
  /** Send the deliveries at once instead of one after another. */
  concurrently?: boolean;
  /** Event name; default from the status (`transaction.success` / `transaction.failed`). */
  event?: string;
  /** Wait before attempt n+1 is n × this (KKiaPay: 500 ms "incremental"). Tests shorten it. */
  retryBaseMs?: number;
  /** Attempts per delivery (KKiaPay: 5). */
  attempts?: number;
  /** Per-attempt deadline (KKiaPay's is unpublished; default 5 s). */
  timeoutMs?: number;
}

/** What one delivery (up to `attempts` POSTs) came to. */
export interface WebhookDelivery {
  readonly delivered: boolean;
  readonly attempts: ReadonlyArray<WebhookAttempt>;
  /** The exact body posted. */
  readonly body: string;
}

export interface KkiapayTestServer {
  /** `http://127.0.0.1:<port>`: the client's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly secretKey: string;
  /** Add one transaction (as if a payer had used the widget). */
  createTransaction(input: CreateTransactionInput): KkiapayTestTransaction;
  /** Add many at once (benchmarks); returns their ids in order. O(1) per transaction. */
  createTransactions(inputs: Iterable<CreateTransactionInput>): string[];
  /** What the widget does with `openKkiapayWidget(params)` when the payer pays with the given outcome. */
  payWidget(params: Readonly<Record<string, unknown>>, outcome: 'succeeded' | 'failed', extra?: Partial<CreateTransactionInput>): KkiapayTestTransaction;
  transaction(transactionId: string): KkiapayTestTransaction | undefined;
  /** The transaction whose `state.ref` or `partnerId` is this reference. */
  findByReference(reference: string): KkiapayTestTransaction | undefined;
  /** Number of transactions held. */
  size(): number;
  setStatus(transactionId: string, status: KkiapayStatusWord, extra?: { failureCode?: string; failureMessage?: string }): void;
  setBalance(balance: number): void;
  /**
   * Answer the next `n` API requests (of `call`, default any) with this HTTP status (default 503) and body (default a
   * KKiaPay-style `{status, message}`), before authentication.
   */
  failNext(n: number, status?: number, body?: unknown, call?: 'status' | 'revert'): void;
  /** Read the next `n` API requests (of `call`, default any) whole and never answer them (until `down` or `close`). */
  hangNext(n: number, call?: 'status' | 'revert'): void;
  /** Stop listening and cut every connection: clients get "connection refused". */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  /** The webhook body KKiaPay would send for this transaction now (§5). */
  webhookPayload(transactionId: string, event?: string): Record<string, unknown>;
  /** POST the webhook to `url` as KKiaPay does, retrying non-2xx answers (3xx included) up to 5 attempts. */
  sendWebhook(url: string, transactionId: string, options?: WebhookOptions): Promise<WebhookDelivery[]>;
  /** API requests received, by call (`status`, `revert`, `other`), including failed and hung ones. */
  requestCount(call?: 'status' | 'revert' | 'other'): number;
  /** Ids sent to revert, in order, whatever became of them (also failed and hung requests). */
  revertRequests(): readonly string[];
  /** Forget transactions, faults and counters. */
  reset(): void;
  close(): Promise<void>;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Start a fake KKiaPay on 127.0.0.1. */
export async function startKkiapayTestServer(options: KkiapayTestServerOptions = {}): Promise<KkiapayTestServer> {
  const publicKey = options.publicKey ?? 'pk_test';
  const privateKey = options.privateKey ?? 'sk_private_test';
  const secretKey = options.secretKey ?? 'sk_secret_test';
  const feePercent = options.feePercent ?? 1.9;
  const label = options.label ?? 'RGZ Test';
  let balance = options.balance ?? Number.POSITIVE_INFINITY;
  const transactions = new Map<string, KkiapayTestTransaction>();
  const byReference = new Map<string, string>();
  const faults = new FaultQueue<'status' | 'revert'>();
  const counts = { status: 0, revert: 0, other: 0 };
  const reverts: string[] = [];
  let idPool = Buffer.alloc(0);
  let idOffset = 0;

  const newId = (): string => {
    for (let tries = 0; tries < 100; tries++) {
      // Random bytes in blocks: a 100 000-transaction load draws from the CSPRNG ~100 times, not 100 000.
      if (idOffset + 10 > idPool.length) {
        idPool = randomBytes(10_000);
        idOffset = 0;
      }
      let id = '';
      for (let i = 0; i < 10; i++) id += BASE62[(idPool[idOffset + i] as number) % 62];
      idOffset += 10;
      if (!transactions.has(id)) return id;
    }
    throw new Error('could not draw a free transaction id');
  };

  const referenceOf = (state: unknown, partnerId: string | undefined): string | undefined => {
    if (state && typeof state === 'object' && typeof (state as { ref?: unknown }).ref === 'string') return (state as { ref: string }).ref;
    if (typeof state === 'string') {
      try {
        const parsed = JSON.parse(state) as { ref?: unknown };
        if (typeof parsed?.ref === 'string') return parsed.ref;
      } catch {
        // a bare string: fall through to partnerId
      }
    }
    return partnerId;
  };

  const createTransaction = (input: CreateTransactionInput): KkiapayTestTransaction => {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new Error(`amount ${input.amount} must be a positive integer (FCFA)`);
    const transactionId = input.transactionId ?? newId();
    if (transactions.has(transactionId)) throw new Error(`transaction ${transactionId} exists`);
    const status = input.status ?? 'SUCCESS';
    const state = input.state !== undefined ? input.state : input.reference !== undefined ? { ref: input.reference } : undefined;
    const partnerId = input.partnerId ?? input.reference;
    const tx: KkiapayTestTransaction = {
      transactionId,
      amount: input.amount,
      fees: input.fees === null ? undefined : (input.fees ?? Math.round((input.amount * feePercent) / 100)),
      status,
      source: input.source ?? 'MOBILE_MONEY',
      operator: input.operator ?? 'mtn-benin',
      state,
      partnerId,
      phone: input.phone ?? '2290197000000',
      name: input.name,
      email: input.email,
      performedAt: input.performedAt ?? new Date(),
      failureCode: input.failureCode ?? (status === 'FAILED' ? 'processing_error' : undefined),
      failureMessage: input.failureMessage ?? (status === 'FAILED' ? 'processing_error' : undefined),
    };
    transactions.set(transactionId, tx);
    const ref = referenceOf(state, partnerId);
    if (ref !== undefined) byReference.set(ref, transactionId);
    return tx;
  };

  // ---- wire format -------------------------------------------------------------------------------------------------

  /** §2 verify body: flat, KKiaPay's field names (snake and camel mixed, as documented). */
  const verifyBody = (tx: KkiapayTestTransaction): Record<string, unknown> => {
    const d = tx.performedAt;
    const pad = (n: number) => String(n).padStart(2, '0');
    return {
      performed_at: d.toISOString(),
      received_at: d.getTime(),
      type: 'DEBIT',
      status: tx.status,
      source: tx.source,
      source_common_name: tx.operator,
      amount: tx.amount,
      ...(tx.fees === undefined ? {} : { fees: tx.fees }),
      net: tx.fees === undefined ? tx.amount : tx.amount - tx.fees,
      externalTransactionId: `ext-${tx.transactionId}`,
      transactionId: tx.transactionId,
      performedAt: `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
      country: 'BJ',
      state: tx.state ?? null,
      partnerId: tx.partnerId ?? '',
      ...(tx.status === 'FAILED' ? { reason: tx.failureCode, failureCode: tx.failureCode, failureMessage: tx.failureMessage } : {}),
      feeSupportedBy: 'customer',
      client: {
        fullname: tx.name ?? '',
        phone: tx.phone,
        email: tx.email ?? '',
        country: 'BJ',
      },
    };
  };

  const webhookPayload = (transactionId: string, event?: string): Record<string, unknown> => {
    const tx = transactions.get(transactionId);
    if (!tx) throw new Error(`no transaction ${transactionId}`);
    const name = event ?? (tx.status === 'SUCCESS' ? 'transaction.success' : tx.status === 'FAILED' ? 'transaction.failed' : undefined);
    if (name === undefined)
      throw new Error(`KKiaPay sends webhooks on success or failure only; transaction ${transactionId} is ${tx.status} (pass options.event to force one)`);
    // §5 consensus shape [C]; `isPaymentSucces` (sic) is KKiaPay's spelling.
    return {
      transactionId: tx.transactionId,
      isPaymentSucces: name === 'transaction.success',
      event: name,
      account: tx.phone,
      label,
      method: tx.source,
      amount: tx.amount,
      ...(tx.fees === undefined ? {} : { fees: tx.fees }),
      partnerId: tx.partnerId ?? '',
      performedAt: tx.performedAt.toISOString(),
      stateData: tx.state ?? null,
      ...(name === 'transaction.failed' ? { failureCode: tx.failureCode, failureMessage: tx.failureMessage } : {}),
    };
  };

  function handle(req: http.IncomingMessage, res: http.ServerResponse, text: string): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    const call = path === '/api/v1/transactions/status' ? 'status' : path === '/api/v1/transactions/revert' ? 'revert' : 'other';
    counts[call] += 1;

    if (req.method === 'POST' && path === '/_rgz/widget/pay') {
      const body = parseRequestBody(req, text) as { params?: Record<string, unknown>; outcome?: string } | undefined;
      if (!body?.params || (body.outcome !== 'succeeded' && body.outcome !== 'failed')) {
        json(res, 400, { message: 'expected {params, outcome: succeeded|failed}' });
        return;
      }
      const tx = payWidget(body.params, body.outcome);
      json(res, 200, { transactionId: tx.transactionId, status: tx.status });
      return;
    }
    if (req.method !== 'POST' || call === 'other') {
      json(res, 404, { status: 'NOT_FOUND', message: `no route ${req.method} ${path}` });
      return;
    }
    const body = parseRequestBody(req, text) as { transactionId?: unknown } | undefined;
    const transactionId = typeof body?.transactionId === 'string' ? body.transactionId : undefined;
    if (call === 'revert' && transactionId !== undefined) reverts.push(transactionId);
    if (faults.play(call, res)) return; // a hung request stays open until down()/close()
    // Header names are case-insensitive (Node lower-cases them); the PHP/Python SDKs send X-API-KEY etc.
    if (req.headers['x-api-key'] !== publicKey || req.headers['x-private-key'] !== privateKey || req.headers['x-secret-key'] !== secretKey) {
      // 401 as the community .NET client expects (§2); the body is assumed.
      json(res, 401, { status: 'UNAUTHORIZED', message: 'Unauthorized' });
      return;
    }
    if (transactionId === undefined || transactionId === '') {
      json(res, 400, { status: 'INVALID_REQUEST', message: 'transactionId is required' }); // body assumed
      return;
    }
    const tx = transactions.get(transactionId);
    if (call === 'status') {
      // 404 + TRANSACTION_NOT_FOUND: the .NET client's 404 and the SDKs' status word (§2, §7); body shape assumed.
      if (!tx) json(res, 404, { status: 'TRANSACTION_NOT_FOUND', reason: 'TRANSACTION_NOT_FOUND', message: 'Transaction Not Found' });
      else json(res, 200, verifyBody(tx));
      return;
    }
    // §3 refusal words; their HTTP status is unpublished: 404 for not found, 400 otherwise (assumed).
    if (!tx) {
      json(res, 404, { status: 'TRANSACTION_NOT_FOUND', message: 'Transaction not found' });
    } else if (tx.status !== 'SUCCESS') {
      json(res, 400, { status: 'TRANSACTION_NOT_ELIGIBLE', message: `Transaction is ${tx.status}` });
    } else if (tx.source !== 'MOBILE_MONEY') {
      // §3: only mobile-money transactions are refundable.
      json(res, 400, { status: 'INVALID_TRANSACTION_TYPE', message: `${tx.source} transactions cannot be reverted` });
    } else if (tx.amount > balance) {
      json(res, 400, { status: 'INSUFFICIENT_FUND', message: 'Insufficient balance' });
    } else {
      balance -= tx.amount;
      tx.status = 'REVERTED';
      json(res, 200, { code: 'SUCCESS', description: 'REVERTED', transactionId: tx.transactionId });
    }
  }

  const payWidget = (
    params: Readonly<Record<string, unknown>>,
    outcome: 'succeeded' | 'failed',
    extra: Partial<CreateTransactionInput> = {},
  ): KkiapayTestTransaction => {
    // The widget coerces `amount` with Number() and `phone` with String() (§6).
    const amount = Number(params.amount);
    const phone = params.phone ?? params.phoneNumber;
    const name = params.name ?? params.fullname;
    return createTransaction({
      amount,
      status: outcome === 'succeeded' ? 'SUCCESS' : 'FAILED',
      ...(params.data === undefined ? {} : { state: params.data }),
      ...(typeof params.partnerId === 'string' ? { partnerId: params.partnerId } : {}),
      ...(phone === undefined ? {} : { phone: String(phone) }),
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof params.email === 'string' ? { email: params.email } : {}),
      ...extra,
    });
  };

  const sendWebhook = async (url: string, transactionId: string, webhookOptions: WebhookOptions = {}): Promise<WebhookDelivery[]> => {
    const body = JSON.stringify(webhookPayload(transactionId, webhookOptions.event));
    const headers: http.OutgoingHttpHeaders = { 'user-agent': 'kkiapay-webhook (rgz test server)' };
    if (webhookOptions.secret !== undefined) headers['x-kkiapay-secret'] = webhookOptions.secret;
    // §5: any 2xx acknowledges; anything else, 3xx included, is "not received".
    const deliveries = await deliverWebhooks({ ...webhookOptions, attempts: webhookOptions.attempts ?? 5 }, () =>
      postWebhook(url, body, headers, webhookOptions.timeoutMs ?? 5_000),
    );
    return deliveries.map(({ delivered, attempts }) => ({ delivered, attempts, body }));
  };

  const peer = await startLoopbackPeer(handle, {
    port: options.port,
    internalError: (err) => ({ status: 'INTERNAL_ERROR', message: err.message }),
  });

  return {
    url: peer.url,
    port: peer.port,
    publicKey,
    privateKey,
    secretKey,
    createTransaction,
    createTransactions(inputs) {
      const ids: string[] = [];
      for (const input of inputs) ids.push(createTransaction(input).transactionId);
      return ids;
    },
    payWidget,
    transaction: (id) => transactions.get(id),
    findByReference(reference) {
      const id = byReference.get(reference);
      return id === undefined ? undefined : transactions.get(id);
    },
    size: () => transactions.size,
    setStatus(id, status, extra = {}) {
      const tx = transactions.get(id);
      if (!tx) throw new Error(`no transaction ${id}`);
      tx.status = status;
      if (status === 'FAILED') {
        tx.failureCode = extra.failureCode ?? tx.failureCode ?? 'processing_error';
        tx.failureMessage = extra.failureMessage ?? tx.failureMessage ?? tx.failureCode;
      }
    },
    setBalance(value) {
      balance = value;
    },
    failNext(n, status = 503, body, call) {
      const fallback = { status: status >= 500 ? 'INTERNAL_ERROR' : 'ERROR', message: http.STATUS_CODES[status] ?? 'error' };
      faults.fail(n, status, body ?? fallback, call);
    },
    hangNext(n, call) {
      faults.hang(n, call);
    },
    down: () => peer.down(),
    up: () => peer.up(),
    webhookPayload,
    sendWebhook,
    requestCount: (call) => (call === undefined ? counts.status + counts.revert + counts.other : counts[call]),
    revertRequests: () => [...reverts],
    reset() {
      transactions.clear();
      byReference.clear();
      faults.clear();
      reverts.length = 0;
      counts.status = 0;
      counts.revert = 0;
      counts.other = 0;
      balance = options.balance ?? Number.POSITIVE_INFINITY;
    },
    close: () => peer.close(),
  };
}

/** JSON or form-encoded (the WooCommerce plugin posts a form, §2). */
function parseRequestBody(req: http.IncomingMessage, text: string): unknown {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
