/**
 * Issue #5, the whole payment flow in one chain: a subscriber online on a MikroTik hotspot logs in on the portal page in
 * headless Chromium and buys a plan; KKiaPay's webhook reaches the kernel; billing verifies, credits and splits the
 * payment to the franc; the plan activation's `nas.policy-change` task makes plugin-radius send a CoA-Request in the
 * MikroTik dialect to the NAS; the NAS's CoA-ACK (or CoA-NAK) is recorded in the audit log.
 *
 * Real: the kernel on a real port with PostgreSQL and Redis (portal + billing + @rgz/plugin-kkiapay + plugin-radius +
 * the MikroTik dialect), the page, the webhook and status API of the KKiaPay test server, the accounting Start the NAS
 * sends (Debian's radclient), and the NAS's Dynamic Authorization Server: Debian's FreeRADIUS listening for CoA, which
 * checks the Request Authenticator and Message-Authenticator, writes what it accepted to its detail file and answers.
 * Simulated: KKiaPay's widget script (the stand-in of purchase.browser.test.ts) and the hotspot's data plane.
 */

import { spawn, spawnSync } from 'node:child_process';
import { type CoreDatabase, type Kysely, sql } from '@rgz/core';
import { startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import mikrotik from '@rgz/nas-mikrotik';
import billing from '@rgz/plugin-billing';
import kkiapay from '@rgz/plugin-kkiapay';
import { type KkiapayTestServer, startKkiapayTestServer, type WebhookDelivery } from '@rgz/plugin-kkiapay/test-server';
import radius, { radiusServer } from '@rgz/plugin-radius';
import { chromiumMissing, launchTestChromium } from '@rgz/test-browser';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import portal from './index.js';
import { type FreeradiusNas, hasFreeradius, startFreeradiusNas } from './test-support/freeradius-nas.js';
import { RecordingSmsSender, recordingSmsPlugin } from './test-support/recording-sms.js';

const RADCLIENT = spawnSync('sh', ['-c', 'command -v radclient'], { encoding: 'utf8' }).stdout.trim();
const missing = [
  chromiumMissing(),
  hasFreeradius ? null : '/usr/sbin/freeradius (apt-get install freeradius)',
  RADCLIENT ? null : 'radclient (apt-get install freeradius-utils)',
].filter((m) => m !== null);
if (missing.length > 0) console.warn(`[plugin-portal] payment flow e2e test skipped: missing ${missing.join(', ')}`);

const WEBHOOK_SECRET = 'whsec-payment-flow-e2e-0123456789';
const NAS_SECRET = 'hotspot-coa-secret-0123456789';
const NAS_IDENTIFIER = 'mt-cadjehoun';
const MiB = 1024 ** 2;

/** What Chromium gets instead of https://cdn.kkiapay.me/k.js (see purchase.browser.test.ts). */
const K_JS_STAND_IN = `(function(){var ok=[],ko=[];
window.addSuccessListener=function(cb){ok.push(cb)};window.addFailedListener=function(cb){ko.push(cb)};
window.openKkiapayWidget=function(p){var x=new XMLHttpRequest();
x.open('POST','https://widget-v3.kkiapay.me/_rgz/pay',true);x.setRequestHeader('content-type','text/plain');
x.onload=function(){var r=JSON.parse(x.responseText),l=r.status==='SUCCESS'?ok:ko;for(var i=0;i<l.length;i++)l[i]({transactionId:r.transactionId,data:p.data})};
x.send(JSON.stringify({params:p,outcome:'succeeded'}))}})();`;

/** Runs radclient from 127.0.0.1: as the hotspot (`acct` to plugin-radius), or as a CoA client of the NAS. */
function radclient(port: number, command: 'acct' | 'coa', input: string, secret = NAS_SECRET, tries = 3): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(RADCLIENT, ['-x', '-r', String(tries), '-t', '2', `127.0.0.1:${port}`, command, secret]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(`${input}\n`);
  });
}

describe.skipIf(missing.length > 0)('payment flow: portal page → KKiaPay webhook → ledger → CoA to a FreeRADIUS NAS', () => {
  let kk: KkiapayTestServer;
  let nas: FreeradiusNas;
  let server: TestServer;
  let db: Kysely<CoreDatabase>;
  let base: string;
  let acctPort: number;
  let browser: Browser;
  let reseller: string;
  const sms = new RecordingSmsSender();

  beforeAll(async () => {
    kk = await startKkiapayTestServer();
    nas = await startFreeradiusNas({ secret: NAS_SECRET });
    server = await startTestServer({
      backend: 'real',
      config: { tasks: { pollIntervalMs: 50 } },
      plugins: [
        recordingSmsPlugin(sms),
        { plugin: portal, config: { secret: 'portal-payment-flow-secret-0123456789-abc' } },
        {
          plugin: kkiapay,
          config: {
            id: 'kkiapay',
            sandbox: true,
            publicKey: kk.publicKey,
            privateKey: kk.privateKey,
            secret: kk.secretKey,
            webhookSecret: WEBHOOK_SECRET,
            baseUrl: kk.url,
            timeoutMs: 5000,
          },
        },
        { plugin: billing, config: { verification: { backoffSeconds: 1 } } },
        { plugin: mikrotik },
        {
          plugin: radius,
          config: {
            auth: { host: '127.0.0.1', port: 0 },
            acct: { host: '127.0.0.1', port: 0 },
            recvBufferSize: 1024 * 1024,
            nas: [
              { identifier: NAS_IDENTIFIER, address: '127.0.0.1', secret: NAS_SECRET, vendor: 'mikrotik', coaPort: nas.port, coaMessageAuthenticator: true },
            ],
            // One CoA attempt, then the Disconnect-Request fallback at once: keeps the NAK case short.
            coa: {
              attempts: 1,
              disconnectAttempts: 2,
              backoffSeconds: 0,
              retransmit: { initialTimeoutMs: 1000, maxAttempts: 3, maxTimeoutMs: 4000, maxDurationMs: 10_000 },
            },
          },
        },
      ],
    });
    const { port } = await server.kernel.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    acctPort = server.get(radiusServer).acct?.port ?? 0;
    db = server.kernel.db as Kysely<CoreDatabase>;
    const row = await db
      .insertInto('resellers')
      .values({ name: 'Kiosque Cadjèhoun', slug: 'cadjehoun', phone: null, email: null, fee_percent: 5, share_percent: 50 })
      .returning('id')
      .executeTakeFirstOrThrow();
    reseller = row.id;
    browser = await launchTestChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await nas?.close();
    await kk?.close();
  });

  /** Log in on the page (own browser context: own localStorage) and return the subscriber row the login created. */
  async function buyOnPage(
    msisdn: { typed: string; e164: string },
    plan: string,
    beforeBuying: (sub: { id: string; subscriber_ref: string }) => Promise<void>,
  ) {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, locale: 'fr-FR' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let webhooks: Promise<WebhookDelivery[]> | undefined;
    await page.route('https://cdn.kkiapay.me/k.js', (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: K_JS_STAND_IN }));
    await page.route('https://widget-v3.kkiapay.me/_rgz/pay', async (route) => {
      const res = await fetch(`${kk.url}/_rgz/widget/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: route.request().postData() ?? '',
      });
      const paid = (await res.json()) as { transactionId: string; status: string };
      webhooks = kk.sendWebhook(`${base}/hooks/payment/kkiapay`, paid.transactionId, { secret: WEBHOOK_SECRET, retryBaseMs: 100 });
      await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': '*' }, body: JSON.stringify(paid) });
    });
    await page.goto(`${base}/portal/?reseller=cadjehoun`);
    await page.locator('#plans summary').click();
    await page.getByLabel('Numéro de mobile').fill(msisdn.typed);
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    const code = await waitFor(() => sms.lastCode(msisdn.e164), 15_000);
    await page.getByLabel('Code à 6 chiffres').fill(code);
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.getByRole('heading', { name: 'Connecté' }).waitFor({ state: 'visible', timeout: 20_000 });
    const sub = await db.selectFrom('subscribers').select(['id', 'subscriber_ref']).where('msisdn', '=', msisdn.e164).executeTakeFirstOrThrow();
    await beforeBuying(sub);

    await page.locator(`button[data-plan="${plan}"]`).click();
    await page.locator('#p-on').waitFor({ state: 'visible', timeout: 30_000 });
    const message = await page.locator('#msg').textContent();
    const deliveries = await (webhooks as Promise<WebhookDelivery[]>);
    await context.close();
    expect(errors).toEqual([]);
    return { sub, message, deliveries };
  }

  /** The hotspot tells RADIUS the subscriber's session started (walled-garden access before paying). */
  async function sessionStart(sub: { id: string; subscriber_ref: string }, acctSessionId: string, framedIp: string) {
    const out = await radclient(
      acctPort,
      'acct',
      [
        `User-Name = "${sub.subscriber_ref}"`,
        'Acct-Status-Type = Start',
        `Acct-Session-Id = "${acctSessionId}"`,
        `NAS-Identifier = "${NAS_IDENTIFIER}"`,
        'NAS-IP-Address = 127.0.0.1',
        `Framed-IP-Address = ${framedIp}`,
        'Calling-Station-Id = "02-00-00-AA-BB-CC"',
        'Acct-Input-Octets = 1048576',
        'Acct-Output-Octets = 1048576',
      ].join(', '),
    );
    expect(out).toContain('Received Accounting-Response');
    await waitFor(
      async () =>
        (
          await sql<{
            n: string;
          }>`select count(*)::text as n from radius_sessions where acct_session_id = ${acctSessionId} and subscriber_id = ${sub.id} and session_stop is null`.execute(
            db,
          )
        ).rows[0]?.n === '1',
      15_000,
      { message: 'accounting Start recorded' },
    );
  }

  const radiusAudit = async (subscriberId: string) =>
    db.selectFrom('audit_log').select(['action', 'details']).where('target_id', '=', subscriberId).where('action', 'like', 'radius.%').orderBy('id').execute();

  it('DAY100MB bought on the page: credited, split to the franc, CoA-Request with the plan reaches FreeRADIUS, CoA-ACK audited', async () => {
    const acct = 'e2e-ack-0001';
    const { sub, message, deliveries } = await buyOnPage({ typed: '01 97 00 05 55', e164: '+2290197000555' }, 'DAY100MB', (s) =>
      sessionStart(s, acct, '10.5.50.23'),
    );
    expect(message).toBe('Paiement reçu : forfait 100 Mo / jour activé.');
    expect(deliveries.map((d) => d.delivered)).toEqual([true]);

    // The books: KKiaPay's fee at the test server's 1.9 %: 95 on 5 000.
    const payment = await sql<{ id: string; status: string; amount_fcfa: number; fee_fcfa: number; provider_transaction_id: string }>`
      select p.id, p.status, p.amount_fcfa, p.fee_fcfa, p.provider_transaction_id from billing_payments p
      join billing_orders o on o.provider_transaction_id = p.provider_transaction_id where o.subscriber_id = ${sub.id}`.execute(db);
    expect(payment.rows).toHaveLength(1);
    const p = payment.rows[0] as { id: string; status: string; amount_fcfa: number; fee_fcfa: number; provider_transaction_id: string };
    expect(p).toMatchObject({ status: 'credited', amount_fcfa: 5000, fee_fcfa: 95 });
    expect(kk.transaction(p.provider_transaction_id)).toMatchObject({ amount: 5000, fees: 95, status: 'SUCCESS' });
    // G = 5 000, F = 95, R = 5 % of G = 250, N = 4 655 → reseller 50 % ⌊2 327.5⌋ = 2 327, RGZ the rest, 2 328.
    const lines = await sql<{ account: string; debit: string; credit: string }>`
      select e.account, e.debit_fcfa::text as debit, e.credit_fcfa::text as credit
      from billing_ledger_entries e join billing_postings ps on ps.id = e.posting_id
      where ps.kind = 'payment' and ps.payment_id = ${p.id} order by e.id`.execute(db);
    expect(lines.rows.map((l) => [l.account, Number(l.debit), Number(l.credit)])).toEqual([
      ['provider_clearing:kkiapay', 5000, 0],
      ['provider_fees:kkiapay', 0, 95],
      [`reseller_fee:${reseller}`, 0, 250],
      [`revenue:reseller:${reseller}`, 0, 2327],
      ['revenue:rgz', 0, 2328],
    ]);
    const total = (side: 'debit' | 'credit') => lines.rows.reduce((n, l) => n + Number(l[side]), 0);
    expect(total('debit')).toBe(total('credit'));

    // The NAS: FreeRADIUS accepted (authenticators checked) a CoA-Request for this session, in the MikroTik dialect.
    const audit = await waitFor(
      async () => {
        const rows = await radiusAudit(sub.id);
        return rows.some((r) => r.action === 'radius.coa.ack') ? rows : undefined;
      },
      30_000,
      { message: 'radius.coa.ack audited' },
    );
    expect(audit.map((a) => a.action)).toEqual(['radius.coa.ack']);
    expect(audit[0]?.details).toMatchObject({
      acct_session_id: acct,
      nas_identifier: NAS_IDENTIFIER,
      vendor: 'mikrotik',
      reason: 'plan_activated',
      attempts: 1,
    });
    const coa = nas.received().filter((e) => e.attributes.get('Acct-Session-Id') === acct);
    expect(coa.map((e) => e.packetType)).toEqual(['CoA-Request']);
    const got = coa[0]?.attributes as Map<string, string>;
    expect(got.get('User-Name')).toBe(sub.subscriber_ref);
    expect(got.get('Framed-IP-Address')).toBe('10.5.50.23');
    const plan = await db
      .selectFrom('plans')
      .select(['rate_up_kbps', 'rate_down_kbps', 'quota_bytes'])
      .where('code', '=', 'DAY100MB')
      .executeTakeFirstOrThrow();
    // MikroTik's rx/tx order (upload/download from the client's side), as plugin-radius's Access-Accept sends it.
    expect(got.get('Mikrotik-Rate-Limit')).toBe(`${plan.rate_up_kbps}k/${plan.rate_down_kbps}k`);
    // The NAS counts from the session start: the plan's 100 MiB plus the 2 MiB this session already used.
    expect(Number(got.get('Mikrotik-Total-Limit'))).toBe(Number(plan.quota_bytes) + 2 * MiB);
    expect(got.get('Mikrotik-Total-Limit-Gigawords')).toBe('0');
    expect(got.has('Message-Authenticator')).toBe(true);
    expect(got.has('Event-Timestamp')).toBe(true);
    expect(nas.log()).not.toMatch(/invalid (Request|Message)[- ]Authenticator/i);
    expect(nas.log()).toMatch(/Sent CoA-ACK Id \d+ from 127\.0\.0\.1/);
  }, 120_000);

  it('the NAS really checks the authenticators: a CoA-Request signed with another secret gets no answer', async () => {
    const before = nas.received().length;
    const out = await radclient(
      nas.port,
      'coa',
      'User-Name = "RGZ-FORGED", Acct-Session-Id = "forged-1", Mikrotik-Rate-Limit = "99M/99M"',
      'not-the-nas-secret-0123',
      1,
    );
    expect(out).toMatch(/No reply from server/);
    expect(nas.received().length).toBe(before);
    expect(nas.log()).toMatch(/invalid Request Authenticator/i);
  }, 60_000);

  it('a NAS that NAKs the CoA (Error-Cause 401): the NAK is audited, then the Disconnect-Request fallback is ACKed', async () => {
    const acct = 'nak-e2e-0002';
    const { sub, message } = await buyOnPage({ typed: '01 97 00 06 66', e164: '+2290197000666' }, 'DAY10MB', (s) => sessionStart(s, acct, '10.5.50.24'));
    expect(message).toBe('Paiement reçu : forfait 10 Mo / jour activé.');
    const audit = await waitFor(
      async () => {
        const rows = await radiusAudit(sub.id);
        return rows.some((r) => r.action === 'radius.disconnect.ack') ? rows : undefined;
      },
      45_000,
      { message: 'radius.disconnect.ack audited' },
    );
    expect(audit.map((a) => a.action)).toEqual(['radius.coa.nak', 'radius.policy.disconnect_fallback', 'radius.disconnect.ack']);
    expect(audit[0]?.details).toMatchObject({ acct_session_id: acct, error_cause: 401, attempt: 1 });
    const seen = nas.received().filter((e) => e.attributes.get('Acct-Session-Id') === acct);
    expect(seen.map((e) => e.packetType)).toEqual(['CoA-Request', 'Disconnect-Request']);
    expect(seen[0]?.attributes.get('Mikrotik-Rate-Limit')).toBe('512k/1024k');
    expect(seen[1]?.attributes.has('Mikrotik-Rate-Limit')).toBe(false);
    expect(nas.log()).toMatch(/Sent CoA-NAK Id \d+/);
    expect(nas.log()).toMatch(/Sent Disconnect-ACK Id \d+/);
  }, 120_000);
});
