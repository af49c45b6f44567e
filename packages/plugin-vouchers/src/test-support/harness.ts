/**
 * Test harness: the real kernel with billing (the ledger) and vouchers, on either backend; helpers that create resellers,
 * subscribers and tokens as the other plugins do, and read the books with SQL.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, type PluginLoad, type RgzPlugin, sql } from '@rgz/core';
import { type Backend, startTestServer, type TestServer } from '@rgz/core/testing';
import type { BillingDatabase } from '@rgz/plugin-billing';
import billing from '@rgz/plugin-billing';
import vouchers from '../index.js';
import type { VouchersDatabase } from '../schema.js';

export const SECRET = 'vouchers-test-secret-0123456789-abcdefghij';

export type Db = Kysely<VouchersDatabase & BillingDatabase>;

export interface Harness {
  server: TestServer;
  db: Db;
  request(path: string, init?: RequestInit): Promise<Response>;
}

export async function startHarness(
  backend: Backend,
  options: { config?: Record<string, unknown>; plugins?: Array<RgzPlugin | PluginLoad>; scheduler?: boolean } = {},
): Promise<Harness> {
  const server = await startTestServer({
    backend,
    config: { tasks: { pollIntervalMs: 50 } },
    plugins: [
      ...(options.plugins ?? []),
      billing,
      { plugin: vouchers, config: { secret: SECRET, portalUrl: 'https://portail.rgz.bj/portal/', ...options.config } },
    ],
    worker: false,
    ...(options.scheduler ? { scheduler: true } : {}),
  });
  return { server, db: server.kernel.db as unknown as Db, request: server.request };
}

let seq = 0;
const uniq = () => `${process.pid.toString(36)}${(++seq).toString(36)}${randomBytes(2).toString('hex')}`;

export async function createReseller(h: Harness, input: { fee?: number; share?: number } = {}): Promise<{ id: string; token: string; slug: string }> {
  const slug = `r-${uniq()}`.toLowerCase();
  const row = await h.db
    .insertInto('resellers')
    .values({ name: `Reseller ${slug}`, slug, phone: null, email: null, fee_percent: input.fee ?? 5, share_percent: input.share ?? 50 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const t = await h.server.kernel.tokens.issue({ role: 'reseller', name: 'reseller', resellerId: row.id });
  return { id: row.id, token: t.token, slug };
}

let phoneSeq = 0;
export async function createSubscriber(h: Harness, resellerId: string | null): Promise<{ id: string; token: string }> {
  const msisdn = `+22901${String(process.pid % 100).padStart(2, '0')}${String(++phoneSeq).padStart(6, '0')}`;
  const row = await h.db
    .insertInto('subscribers')
    .values({ subscriber_ref: `RGZ-${uniq().toUpperCase()}`.slice(0, 20), msisdn, reseller_id: resellerId })
    .returning('id')
    .executeTakeFirstOrThrow();
  const t = await h.server.kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId: row.id, resellerId, ttlSeconds: 86_400 });
  return { id: row.id, token: t.token };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
export const jsonInit = (method: string, token: string | null, body?: unknown): RequestInit => ({
  method,
  headers: { ...(token ? auth(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

export interface BatchAnswer {
  batch: {
    id: string;
    label: string;
    count: number;
    price_fcfa: number;
    reseller_id: string;
    counts: Record<string, number>;
    redeemed_fcfa: number;
    status: string;
  };
  codes: Array<{ serial: string; code: string }>;
  pdf: { url: string; expires_at: string; size_bytes: number };
}

export async function createBatch(h: Harness, token: string, body: Record<string, unknown>): Promise<BatchAnswer> {
  const res = await h.request('/api/vouchers/batches', jsonInit('POST', token, body));
  if (res.status !== 201) throw new Error(`batch creation answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as BatchAnswer;
}

export function redeemHttp(h: Harness, token: string, code: string): Promise<Response> {
  return h.request('/api/vouchers/redeem', jsonInit('POST', token, { code }));
}

/** Σ debit − Σ credit per account over the ledger lines of a batch's vouchers (what the batch booked), to the franc. */
export async function batchLedger(h: Harness, batchId: string): Promise<Record<string, number>> {
  const r = await sql<{ account: string; net: string }>`
    select e.account, (sum(e.debit_fcfa) - sum(e.credit_fcfa))::text as net
    from billing_ledger_entries e
    join billing_postings p on p.id = e.posting_id and p.kind = 'voucher_sale'
    join vouchers_vouchers v on v.id = p.voucher_id
    where v.batch_id = ${batchId}
    group by e.account order by e.account`.execute(h.db);
  return Object.fromEntries(r.rows.map((x) => [x.account, Number(x.net)]));
}

export async function metricValue(h: Harness, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await h.server.kernel.metrics.registry.metrics();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = (m[1] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w))) total += Number(m[2]);
  }
  return total;
}
