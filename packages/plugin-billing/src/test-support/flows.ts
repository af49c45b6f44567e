/** Flow helpers shared by the billing tests: buy a plan as the portal does, deliver a webhook, read the books. */
import { sql, type WebhookRequest } from '@rgz/core';
import { expect } from 'vitest';
import type { Node } from './harness.js';
import { jsonInit } from './harness.js';

export interface OrderJson {
  reference: string;
  status: string;
  amount_fcfa: number;
  provider: string;
  plan: { code: string; price_fcfa: number };
  checkout: { kind: string; params?: Record<string, unknown>; url?: string; provider_ref?: string } | null;
  subscription: { id: string; status: string; expires_at: string } | null;
  links: { self: string; callback: string };
}

export async function buy(node: Node, token: string, planCode = 'DAY10MB', provider?: string): Promise<OrderJson> {
  const res = await node.request('/api/billing/orders', jsonInit('POST', token, { plan_code: planCode, ...(provider ? { provider } : {}) }));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as OrderJson;
}

export function deliver(node: Node, providerId: string, req: WebhookRequest): Promise<Response> {
  return node.request(`/hooks/payment/${providerId}`, { method: 'POST', headers: req.headers as Record<string, string>, body: req.rawBody });
}

export async function paymentOf(node: Node, provider: string, transactionId: string) {
  return node.db
    .selectFrom('billing_payments')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_transaction_id', '=', transactionId)
    .executeTakeFirst();
}

/** Ledger lines of a payment as `account → credit − debit` (refund postings included). */
export async function linesOf(node: Node, paymentId: string): Promise<Array<{ kind: string; account: string; debit: number; credit: number }>> {
  const rows = await node.db
    .selectFrom('billing_ledger_entries as e')
    .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
    .select(['p.kind', 'e.account', 'e.debit_fcfa', 'e.credit_fcfa'])
    .where('e.payment_id', '=', paymentId)
    .orderBy('e.id')
    .execute();
  return rows.map((r) => ({ kind: r.kind, account: r.account, debit: Number(r.debit_fcfa), credit: Number(r.credit_fcfa) }));
}

export async function count(node: Node, table: string, where = sql`true`): Promise<number> {
  const r = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)} where ${where}`.execute(node.db);
  return Number(r.rows[0]?.n ?? 0);
}

export async function nasTasks(node: Node): Promise<Array<{ subscriberId: string; reason: string; subscriptionId?: string }>> {
  const rows = await node.db.selectFrom('core_tasks').select('payload').where('name', '=', 'nas.policy-change').orderBy('id').execute();
  return rows.map(
    (r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { subscriberId: string; reason: string; subscriptionId?: string },
  );
}
