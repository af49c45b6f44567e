/**
 * Test harness: billing in the real kernel on either backend, with the possibility to run several kernels (replicas,
 * or a "restarted process") on ONE database and KV — what startTestServer does not offer. Also: a recording
 * IncidentSink, and helpers that create resellers, subscribers and tokens the way the other plugins do.
 */
import { randomBytes } from 'node:crypto';
import {
  createKernel,
  definePlugin,
  type IncidentEvent,
  type IncidentSink,
  IncidentSinks,
  isPlugin,
  type Kernel,
  type Kysely,
  openDatabase,
  type PluginLoad,
  parseServerConfig,
  type RgzPlugin,
  sql,
} from '@rgz/core';
import { type Backend, createTestDatabase, createTestKv, type TestDatabase, type TestKv } from '@rgz/core/testing';
import billing from '../index.js';
import type { BillingDatabase } from '../schema.js';

export class RecordingIncidentSink implements IncidentSink {
  readonly provider = 'recording';
  readonly accepts = ['opened', 'escalated', 'acknowledged', 'resolved'] as const;
  readonly events: IncidentEvent[] = [];
  constructor(readonly id = 'recording-incidents') {}
  async notify(event: IncidentEvent): Promise<void> {
    if (this.events.some((e) => e.eventId === event.eventId)) return;
    this.events.push(event);
  }
}

export function incidentSinkPlugin(sink: IncidentSink) {
  return definePlugin({
    name: 'test-incidents',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(IncidentSinks, sink);
    },
  });
}

export interface Node {
  kernel: Kernel;
  db: Kysely<BillingDatabase>;
  nocToken: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface World {
  backend: Backend;
  tdb: TestDatabase;
  tkv: TestKv;
  /** Boot a kernel on the shared database (a replica, or a restarted process). */
  node(options?: { worker?: boolean; plugins?: Array<RgzPlugin | PluginLoad>; billingConfig?: Record<string, unknown>; ownPool?: boolean }): Promise<Node>;
  close(): Promise<void>;
}

export async function createWorld(
  backend: Backend,
  defaults: { plugins: Array<RgzPlugin | PluginLoad>; billingConfig?: Record<string, unknown> },
): Promise<World> {
  const tdb = await createTestDatabase(backend);
  const tkv = await createTestKv(backend);
  const nodes: Node[] = [];
  const extraPools: Array<{ close(): Promise<void> }> = [];
  return {
    backend,
    tdb,
    tkv,
    async node(options = {}) {
      const config = parseServerConfig({ log: { level: 'silent' }, tasks: { pollIntervalMs: 50, concurrency: 8 }, plugins: [] }, {});
      // A replica on the real backend gets its own connection pool, as a separate process would.
      let database = tdb.database;
      if (options.ownPool && tdb.url) {
        database = await openDatabase({ url: tdb.url, poolMax: 10 });
        extraPools.push(database);
      }
      const kernel = await createKernel({
        config,
        plugins: [
          ...(options.plugins ?? defaults.plugins).map((p): PluginLoad => (isPlugin(p) ? { plugin: p } : p)),
          { plugin: billing, config: { ...defaults.billingConfig, ...options.billingConfig } },
        ],
        database,
        kv: tkv.kv,
      });
      await kernel.start({ worker: options.worker ?? false, scheduler: false });
      const noc = await kernel.tokens.issue({ role: 'noc', name: 'test-noc' });
      const node: Node = {
        kernel,
        db: kernel.db as unknown as Kysely<BillingDatabase>,
        nocToken: noc.token,
        request: (path, init) => Promise.resolve(kernel.app.request(path, init)),
        stop: () => kernel.stop(),
      };
      nodes.push(node);
      return node;
    },
    async close() {
      for (const n of nodes) await n.kernel.stop().catch(() => undefined);
      for (const p of extraPools) await p.close().catch(() => undefined);
      await tkv.close();
      await tdb.drop();
    },
  };
}

let seq = 0;
const uniq = () => `${process.pid.toString(36)}${(++seq).toString(36)}${randomBytes(2).toString('hex')}`;

export async function createReseller(node: Node, input: { fee?: number; share?: number } = {}): Promise<{ id: string; token: string }> {
  const row = await node.db
    .insertInto('resellers')
    .values({
      name: `Reseller ${uniq()}`,
      slug: `r-${uniq()}`.toLowerCase(),
      phone: null,
      email: null,
      fee_percent: input.fee ?? 5,
      share_percent: input.share ?? 50,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const t = await node.kernel.tokens.issue({ role: 'reseller', name: 'reseller', resellerId: row.id });
  return { id: row.id, token: t.token };
}

let phoneSeq = 0;
export async function createSubscriber(node: Node, resellerId: string | null): Promise<{ id: string; token: string; msisdn: string }> {
  const msisdn = `+22901${String(process.pid % 100).padStart(2, '0')}${String(++phoneSeq).padStart(6, '0')}`;
  const row = await node.db
    .insertInto('subscribers')
    .values({ subscriber_ref: `RGZ-${uniq().toUpperCase()}`.slice(0, 20), msisdn, reseller_id: resellerId })
    .returning('id')
    .executeTakeFirstOrThrow();
  const t = await node.kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId: row.id, ttlSeconds: 86_400 });
  return { id: row.id, token: t.token, msisdn };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
export const jsonInit = (method: string, token: string | null, body?: unknown): RequestInit => ({
  method,
  headers: { ...(token ? auth(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

/** Σ debits ≠ Σ credits per posting: must always be empty. */
export async function unbalanced(db: Kysely<BillingDatabase>): Promise<unknown[]> {
  const r =
    await sql`select posting_id, sum(debit_fcfa) as d, sum(credit_fcfa) as c from billing_ledger_entries group by posting_id having sum(debit_fcfa) <> sum(credit_fcfa)`.execute(
      db,
    );
  return r.rows;
}

/** Make every due-later task of these names due now (skip the backoff wait in tests). */
export async function makeTasksDue(db: Kysely<BillingDatabase>, name: string): Promise<void> {
  await db
    .updateTable('core_tasks')
    .set({ run_at: new Date(Date.now() - 1000) })
    .where('name', '=', name)
    .where('status', '=', 'pending')
    .execute();
}
