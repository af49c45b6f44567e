/**
 * The console tests' world: a server on a real port with real PostgreSQL and Redis, the flow plugins whose API the
 * console reads (billing with a test provider, incidents, inventory, SNMP, SLA, DBA, RADIUS, reports, ARCEP,
 * backups) and the console; seeded with two resellers (A, B), their subscribers and payments made through billing's
 * real flow, and an incident opened through the Alertmanager receiver.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from '@rgz/core';
import { startTestServer, TestPaymentProvider, type TestServer, testPaymentPlugin, waitFor } from '@rgz/core/testing';
import mikrotik from '@rgz/nas-mikrotik';
import arcep from '@rgz/plugin-arcep';
import backup from '@rgz/plugin-backup';
import billing from '@rgz/plugin-billing';
import dba from '@rgz/plugin-dba';
import incidents from '@rgz/plugin-incidents';
import inventory from '@rgz/plugin-inventory';
import radius from '@rgz/plugin-radius';
import reports from '@rgz/plugin-reports';
import sla from '@rgz/plugin-sla';
import snmp from '@rgz/plugin-snmp';
import consolePlugin from '../index.js';

// the tests read other plugins' tables without importing their types
type AnyDb = Kysely<any>;

export const WEBHOOK_TOKEN = 'console-test-alertmanager-token-0123456789';

export interface Party {
  id: string;
  name: string;
  token: string;
  subscribers: Array<{ id: string; ref: string; msisdn: string }>;
  payments: Array<{ id: string; amount: number }>;
}

export interface ConsoleWorld {
  server: TestServer;
  base: string;
  db: AnyDb;
  pay: TestPaymentProvider;
  a: Party;
  b: Party;
  dir: string;
  close(): Promise<void>;
}

let seq = 0;

export async function startConsoleWorld(): Promise<ConsoleWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-console-'));
  const key = join(dir, 'operator-key.pem');
  writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  const ageFile = join(dir, 'age.txt');
  execFileSync('age-keygen', ['-o', ageFile], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', ageFile]).toString().trim();
  mkdirSync(join(dir, 'backups'));
  const pay = new TestPaymentProvider();
  const server = await startTestServer({
    backend: 'real',
    config: { timezone: 'Africa/Porto-Novo', tasks: { pollIntervalMs: 50 }, log: { level: (process.env.RGZ_TEST_LOG ?? 'silent') as 'silent' } },
    plugins: [
      testPaymentPlugin(pay),
      { plugin: billing, config: { commissionPercent: 1.5 } },
      { plugin: incidents, config: { webhookToken: WEBHOOK_TOKEN } },
      inventory,
      snmp,
      sla,
      dba,
      mikrotik,
      { plugin: radius, config: { listen: false } },
      {
        plugin: reports,
        config: {
          operator: {
            name: 'RGZ Réseaux SARL',
            address: 'Cotonou, Bénin',
            rccm: 'RB/COT/24 B 12345',
            ifu: '3202412345678',
            phone: '+229 01 97 00 00 00',
            email: 'facturation@rgz.bj',
          },
          signing: { privateKeyFile: key },
          // The default archive folder is relative to the working directory (the repository, under vitest).
          archive: { folder: join(dir, 'invoices') },
        },
      },
      {
        plugin: arcep,
        config: {
          operator: {
            legalName: 'RGZ Réseaux SARL',
            country: 'BJ',
            licenceNumber: 'ARCEP/BJ/2025/0042',
            taxId: '3202412345678',
            address: 'Cotonou',
            contactEmail: 'noc@rgz.bj',
          },
          signing: { privateKeyFile: key },
          delivery: { folder: null },
        },
      },
      {
        plugin: backup,
        config: {
          recipients: [recipient],
          targets: [{ id: 'local', kind: 'folder', path: join(dir, 'backups') }],
          verify: { identityFile: ageFile },
          workDir: join(dir, 'work'),
        },
      },
      consolePlugin,
    ],
  });
  const { port } = await server.kernel.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const db = server.kernel.db as unknown as AnyDb;
  const world = { server, base, db, pay, dir } as ConsoleWorld;
  world.a = await party(world, 'Revendeur Akpakpa', 'akpakpa', ['DAY100MB', 'DAY10MB']);
  world.b = await party(world, 'Revendeur Bohicon', 'bohicon', ['MONTH1GB']);
  world.close = async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return world;
}

/** The operator's seeded plans and their prices (core's first migration). */
export const PRICES: Record<string, number> = { DAY10MB: 1000, DAY100MB: 5000, MONTH1GB: 10000 };

async function party(w: ConsoleWorld, name: string, slug: string, plans: string[]): Promise<Party> {
  const row = await w.db
    .insertInto('resellers')
    .values({ name, slug: `${slug}-${process.pid}-${++seq}`, phone: '+2290197000001', email: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  const token = await w.server.kernel.tokens.issue({ role: 'reseller', name, resellerId: row.id });
  const p: Party = { id: row.id, name, token: token.token, subscribers: [], payments: [] };
  for (const plan of plans) {
    const amount = PRICES[plan] as number;
    const n = ++seq;
    const ref = `RGZ-C${String(process.pid % 1000).padStart(3, '0')}${String(n).padStart(2, '0')}`;
    const msisdn = `+22901${String(process.pid % 100).padStart(2, '0')}${String(n).padStart(6, '0')}`;
    const sub = await w.db.insertInto('subscribers').values({ subscriber_ref: ref, msisdn, reseller_id: row.id }).returning('id').executeTakeFirstOrThrow();
    p.subscribers.push({ id: sub.id, ref, msisdn });
    const pay = await buy(w, sub.id, plan, amount);
    if (pay.status !== 'credited') throw new Error(`payment ${pay.id}: ${pay.status}`);
    p.payments.push({ id: pay.id, amount: Number(pay.amount_fcfa) });
  }
  return p;
}

/**
 * A subscriber buys a plan through billing's real flow (order, the payer pays `paid` FCFA, the provider's webhook) and
 * the payment row billing settles it into: `credited`, or flagged (`amount_mismatch`) when `paid` is short.
 */
export async function buy(w: ConsoleWorld, subscriberId: string, plan: string, paid: number): Promise<{ id: string; amount_fcfa: number; status: string }> {
  const subToken = await w.server.kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId, ttlSeconds: 3600 });
  const res = await w.server.request('/api/billing/orders', {
    method: 'POST',
    headers: { ...w.server.auth(subToken.token), 'content-type': 'application/json' },
    body: JSON.stringify({ plan_code: plan }),
  });
  if (res.status !== 201) throw new Error(`order: ${res.status} ${await res.text()}`);
  const order = (await res.json()) as { reference: string };
  const tx = w.pay.pay(order.reference, paid, Math.round(paid * 0.015));
  const hook = w.pay.webhookFor(tx);
  const delivered = await w.server.request('/hooks/payment/testpay', { method: 'POST', headers: hook.headers as Record<string, string>, body: hook.rawBody });
  if (delivered.status !== 200) throw new Error(`webhook: ${delivered.status}`);
  const row = await waitFor(
    () =>
      w.db
        .selectFrom('billing_payments')
        .select(['id', 'amount_fcfa', 'status'])
        .where('provider_transaction_id', '=', tx)
        .where('status', '<>', 'pending')
        .executeTakeFirst() as Promise<{ id: string; amount_fcfa: string | number; status: string } | undefined>,
    20_000,
    { message: `payment ${tx} settled` },
  );
  return { id: row.id, amount_fcfa: Number(row.amount_fcfa), status: row.status };
}

/** Opens an incident through the Alertmanager receiver, as Prometheus would. */
export async function fireAlert(w: ConsoleWorld, alertname: string, priority: string): Promise<void> {
  const labels = { alertname, severity: 'critical', priority };
  const res = await w.server.request('/hooks/alertmanager', {
    method: 'POST',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      version: '4',
      groupKey: `{}:{alertname="${alertname}"}`,
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'rgz',
      groupLabels: { alertname },
      commonLabels: labels,
      commonAnnotations: { summary: `${alertname} is firing` },
      externalURL: 'http://alertmanager.test:9093',
      alerts: [
        {
          status: 'firing',
          labels,
          annotations: { summary: `${alertname} is firing` },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.test:9090/graph',
          fingerprint: `fp${(++seq).toString(16).padStart(14, '0')}`,
        },
      ],
    }),
  });
  if (res.status >= 300) throw new Error(`alertmanager: ${res.status} ${await res.text()}`);
}
