/**
 * The invoice tests' world: billing (the real ledger), a test payment provider, an in-memory BackupTarget, a real
 * SMTP server and the reports plugin, booted with `startTestServer`; plus helpers to create resellers and subscribers
 * and to pay a plan through billing's real flow.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  type BackupObject,
  type BackupObjectInfo,
  type BackupTarget,
  BackupTargets,
  definePlugin,
  type Kysely,
  type PluginLoad,
  type RgzPlugin,
} from '@rgz/core';
import { type Backend, startTestServer, TestPaymentProvider, type TestServer, testPaymentPlugin, waitFor } from '@rgz/core/testing';
import billing from '@rgz/plugin-billing';
import reports from '../index.js';
import type { ReportsDatabase } from '../schema.js';
import { type SmtpPeer, startSmtpPeer } from './smtp.js';

export class MemoryTarget implements BackupTarget {
  readonly provider = 'memory';
  readonly capabilities = { listIncludesMetadata: true };
  readonly objects = new Map<string, { bytes: Buffer; metadata: Record<string, string>; at: Date }>();
  constructor(readonly id: string) {}
  async put(key: string, body: Uint8Array | Readable, options: { metadata?: Readonly<Record<string, string>> } = {}): Promise<BackupObjectInfo> {
    const chunks: Buffer[] = [];
    if (body instanceof Readable) for await (const c of body) chunks.push(Buffer.from(c as Buffer));
    else chunks.push(Buffer.from(body));
    const obj = { bytes: Buffer.concat(chunks), metadata: { ...(options.metadata ?? {}) }, at: new Date() };
    this.objects.set(key, obj);
    return { key, sizeBytes: obj.bytes.length, lastModified: obj.at, metadata: obj.metadata };
  }
  async get(key: string): Promise<BackupObject | null> {
    const o = this.objects.get(key);
    return o ? { info: { key, sizeBytes: o.bytes.length, lastModified: o.at, metadata: o.metadata }, body: Readable.from([o.bytes]) } : null;
  }
  async *list(options: { prefix?: string } = {}): AsyncIterable<BackupObjectInfo> {
    for (const [key, o] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1)))
      if (key.startsWith(options.prefix ?? '')) yield { key, sizeBytes: o.bytes.length, lastModified: o.at, metadata: o.metadata };
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

export interface InvoiceWorld {
  server: TestServer;
  db: Kysely<ReportsDatabase>;
  pay: TestPaymentProvider;
  smtp: SmtpPeer;
  nas: MemoryTarget;
  dir: string;
  archiveDir: string;
  keyPem: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const SMTP_AUTH = { user: 'rgz-invoices', pass: 'smtp-test-pass' };

export const OPERATOR = {
  name: 'RGZ Réseaux SARL',
  address: 'Lot 12, Quartier Haie Vive, Cotonou, Bénin',
  rccm: 'RB/COT/24 B 12345',
  ifu: '3202412345678',
  phone: '+229 01 97 00 00 00',
  email: 'facturation@rgz.bj',
};

export async function startInvoiceWorld(
  backend: Backend,
  extra: { reportsConfig?: Record<string, unknown>; plugins?: Array<RgzPlugin | PluginLoad> } = {},
): Promise<InvoiceWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-invoices-'));
  const keyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(join(dir, 'operator-key.pem'), keyPem, { mode: 0o600 });
  const archiveDir = join(dir, 'archive');
  const pay = new TestPaymentProvider();
  const smtp = await startSmtpPeer(SMTP_AUTH);
  const nas = new MemoryTarget('nas');
  const nasPlugin = definePlugin({
    name: 'test-nas',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(BackupTargets, nas);
    },
  });
  const server = await startTestServer({
    backend,
    config: { timezone: 'Africa/Porto-Novo', tasks: { pollIntervalMs: 50 } },
    plugins: [
      testPaymentPlugin(pay),
      nasPlugin,
      { plugin: billing, config: { commissionPercent: 1.5 } },
      ...(extra.plugins ?? []),
      {
        plugin: reports,
        config: {
          operator: OPERATOR,
          signing: { privateKeyFile: join(dir, 'operator-key.pem') },
          smtp: { host: smtp.host, port: smtp.port, auth: SMTP_AUTH, from: 'Facturation RGZ <facturation@rgz.bj>', timeoutMs: 5000 },
          archive: { folder: archiveDir, targets: ['nas'] },
          delivery: { backoffSeconds: 1 },
          ...extra.reportsConfig,
        },
      },
    ],
  });
  return {
    server,
    db: server.kernel.db as unknown as Kysely<ReportsDatabase>,
    pay,
    smtp,
    nas,
    dir,
    archiveDir,
    keyPem,
    request: (path, init) => server.request(path, init),
    async close() {
      await server.close();
      await smtp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let seq = 0;
export async function createReseller(w: InvoiceWorld, input: { name: string; slug: string; email: string | null; fee: number; share: number }) {
  const row = await w.db
    .insertInto('resellers')
    .values({
      name: input.name,
      slug: `${input.slug}-${process.pid}-${++seq}`,
      phone: '+2290197000001',
      email: input.email,
      fee_percent: input.fee,
      share_percent: input.share,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const token = await w.server.kernel.tokens.issue({ role: 'reseller', name: input.slug, resellerId: row.id });
  return { id: row.id, token: token.token };
}

export async function createSubscriber(w: InvoiceWorld, resellerId: string | null) {
  const n = ++seq;
  const row = await w.db
    .insertInto('subscribers')
    .values({
      subscriber_ref: `RGZ-T${process.pid % 1000}${n}`.slice(0, 20),
      msisdn: `+22901${String(process.pid % 100).padStart(2, '0')}${String(n).padStart(6, '0')}`,
      reseller_id: resellerId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const token = await w.server.kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId: row.id, ttlSeconds: 3600 });
  return { id: row.id, token: token.token };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
export const postJson = (token: string, body: unknown): RequestInit => ({
  method: 'POST',
  headers: { ...auth(token), 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Buy a plan as the portal does and pay it at the provider; returns the payment row once billing credited it. */
export async function buyAndPay(w: InvoiceWorld, resellerId: string | null, plan: string, amount: number, fee: number) {
  const sub = await createSubscriber(w, resellerId);
  const res = await w.request('/api/billing/orders', postJson(sub.token, { plan_code: plan }));
  if (res.status !== 201) throw new Error(`order: ${res.status} ${await res.text()}`);
  const order = (await res.json()) as { reference: string };
  const tx = w.pay.pay(order.reference, amount, fee);
  const hook = w.pay.webhookFor(tx);
  const delivered = await w.request('/hooks/payment/testpay', { method: 'POST', headers: hook.headers as Record<string, string>, body: hook.rawBody });
  if (delivered.status !== 200) throw new Error(`webhook: ${delivered.status}`);
  return waitFor(
    () =>
      w.db
        .selectFrom('billing_payments' as never)
        .selectAll()
        .where('provider_transaction_id' as never, '=', tx as never)
        .where('status' as never, '=', 'credited' as never)
        .executeTakeFirst() as Promise<{ id: string; provider_transaction_id: string; reference: string } | undefined>,
    10_000,
    { message: `payment ${tx} credited` },
  );
}
