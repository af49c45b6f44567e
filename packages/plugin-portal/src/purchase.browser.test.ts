/**
 * Flow 2 end to end, from the page: a subscriber logs in on the portal page in headless Chromium (phone size), buys
 * DAY10MB with the "Acheter" button, pays in the KKiaPay widget, KKiaPay's webhook reaches the kernel, billing verifies
 * the transaction with KKiaPay's API and credits it, and the page shows the plan as active. Then the books, to the franc.
 *
 * Real: the kernel on a real port (portal + billing + @rgz/plugin-kkiapay), the page and its script, the order, the
 * browser callback, the webhook (KKiaPay test server: `x-kkiapay-secret`, 5-attempt delivery), the status API call
 * billing makes to verify, the ledger and the activation.
 * Simulated, and only this: KKiaPay's widget. Chromium never reaches `cdn.kkiapay.me`: the request for
 * `https://cdn.kkiapay.me/k.js` is answered with a 1 KB stand-in that defines `openKkiapayWidget`,
 * `addSuccessListener` and `addFailedListener` as k.js does. Its `openKkiapayWidget(params)` posts the params to
 * `https://widget-v3.kkiapay.me/_rgz/pay` (the widget iframe's host, allowed by the page's CSP), which the test
 * answers by calling the test server's `POST /_rgz/widget/pay` (a SUCCESS transaction with the params' amount and
 * `data` — what the payer approving on the phone produces), then has the test server send its webhook to
 * `/hooks/payment/kkiapay`; the stand-in finally calls the success listeners with `{transactionId}`, as k.js does.
 * The payer's UI inside the iframe (number, operator, OTP/USSD) is not played.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sql } from '@rgz/core';
import { startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import billing from '@rgz/plugin-billing';
import kkiapay from '@rgz/plugin-kkiapay';
import { type KkiapayTestServer, startKkiapayTestServer, type WebhookDelivery } from '@rgz/plugin-kkiapay/test-server';
import { chromiumMissing, launchTestBrowser, PHONE_FR, type TestBrowser } from '@rgz/test-browser';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import portal from './index.js';
import { RecordingSmsSender, recordingSmsPlugin } from './test-support/recording-sms.js';

const missingChromium = chromiumMissing();
if (missingChromium) console.warn(`[plugin-portal] purchase browser test skipped: missing ${missingChromium}`);

const WEBHOOK_SECRET = 'whsec-portal-purchase-0123456789';
const COMMITTED = new URL('../screenshots/portal-paid.png', import.meta.url).pathname;
const SCREENSHOT = process.env.RGZ_UPDATE_SCREENSHOTS === '1' || !existsSync(COMMITTED) ? COMMITTED : join(tmpdir(), 'rgz-portal-paid.png');

/** What Chromium gets instead of https://cdn.kkiapay.me/k.js. */
const K_JS_STAND_IN = `(function(){var ok=[],ko=[];
window.addSuccessListener=function(cb){ok.push(cb)};window.addFailedListener=function(cb){ko.push(cb)};
window.openKkiapayWidget=function(p){window.__widgetParams=p;var x=new XMLHttpRequest();
x.open('POST','https://widget-v3.kkiapay.me/_rgz/pay',true);x.setRequestHeader('content-type','text/plain');
x.onload=function(){var r=JSON.parse(x.responseText),l=r.status==='SUCCESS'?ok:ko;for(var i=0;i<l.length;i++)l[i]({transactionId:r.transactionId,data:p.data})};
x.send(JSON.stringify({params:p,outcome:'succeeded'}))}})();`;

describe.skipIf(missingChromium !== null)('buying a plan on the portal page: Chromium → KKiaPay (test server) → webhook → credited', () => {
  let kk: KkiapayTestServer;
  let server: TestServer;
  let base: string;
  let context: BrowserContext;
  let browser: TestBrowser;
  let reseller: { id: string; slug: string };
  const sms = new RecordingSmsSender();

  beforeAll(async () => {
    kk = await startKkiapayTestServer();
    server = await startTestServer({
      config: { tasks: { pollIntervalMs: 50 } },
      plugins: [
        recordingSmsPlugin(sms),
        { plugin: portal, config: { secret: 'portal-purchase-secret-0123456789-abcdef' } },
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
            timeoutMs: 2000,
          },
        },
        // returnUrl makes the widget params carry `callback`: the page must drop it (it keeps the subscriber in place).
        { plugin: billing, config: { verification: { backoffSeconds: 1 }, returnUrl: 'https://portail.example.bj/portal/' } },
      ],
    });
    const { port } = await server.kernel.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    const row = await server.kernel.db
      .insertInto('resellers')
      .values({ name: 'Kiosque Cadjèhoun', slug: 'cadjehoun', phone: null, email: null, fee_percent: 5, share_percent: 50 })
      .returning('id')
      .executeTakeFirstOrThrow();
    reseller = { id: row.id, slug: 'cadjehoun' };
    browser = await launchTestBrowser({
      profilePrefix: 'rgz-portal-buy-chromium-',
      ...PHONE_FR,
    });
    context = browser.context;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await kk?.close();
  });

  const meter = (page: Page) => {
    const sizes: Array<{ url: string; bytes: number }> = [];
    page.on('response', async (r) => {
      try {
        const body = await r.body();
        const headers = Object.entries(await r.allHeaders()).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
        sizes.push({ url: r.url(), bytes: body.length + headers });
      } catch {
        // navigation away before the body was read
      }
    });
    return sizes;
  };

  it('logs in, buys DAY10MB, pays in the widget, and sees the plan active; ledger and split to the franc', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const sizes = meter(page);
    let webhooks: Promise<WebhookDelivery[]> | undefined;
    let widgetCalls = 0;
    await page.route('https://cdn.kkiapay.me/k.js', (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: K_JS_STAND_IN }));
    await page.route('https://widget-v3.kkiapay.me/_rgz/pay', async (route) => {
      widgetCalls++;
      const res = await fetch(`${kk.url}/_rgz/widget/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: route.request().postData() ?? '',
      });
      const paid = (await res.json()) as { transactionId: string; status: string };
      webhooks = kk.sendWebhook(`${base}/hooks/payment/kkiapay`, paid.transactionId, { secret: WEBHOOK_SECRET, retryBaseMs: 100 });
      await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': '*' }, body: JSON.stringify(paid) });
    });

    const res = await page.goto(`${base}/portal/?reseller=${reseller.slug}`);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'nonce-[^']+' https:\/\/cdn\.kkiapay\.me/);
    expect(csp).toContain('frame-src https://cdn.kkiapay.me https://widget-v3.kkiapay.me');
    await page.locator('#plans summary').click();
    const buy = page.locator('button[data-plan="DAY10MB"]');
    expect(await buy.isEnabled()).toBe(true);
    // Before login the button says what to do first.
    await buy.click();
    expect(await page.locator('#msg').textContent()).toContain('Connectez-vous d’abord');

    await page.getByLabel('Numéro de mobile').fill('01 97 00 01 11');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    const code = await waitFor(() => sms.lastCode('+2290197000111'), 10_000);
    await page.getByLabel('Code à 6 chiffres').fill(code);
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.getByRole('heading', { name: 'Connecté' }).waitFor({ state: 'visible' });
    expect(await page.locator('#p-off').isVisible()).toBe(true);

    await buy.click();
    await page.locator('#p-on').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('#p-name').textContent()).toBe('10 Mo / jour');
    expect(await page.locator('#p-left').textContent()).toMatch(/^(29 j 23 h|30 j 0 h)$/);
    expect(await page.locator('#msg').textContent()).toBe('Paiement reçu : forfait 10 Mo / jour activé.');
    expect(widgetCalls).toBe(1);
    const params = (await page.evaluate('window.__widgetParams')) as Record<string, unknown>;
    expect(params).toMatchObject({ amount: 1000, key: kk.publicKey, sandbox: true });
    expect(params.callback).toBeUndefined();
    expect(errors).toEqual([]);
    const deliveries = await (webhooks as Promise<WebhookDelivery[]>);
    expect(deliveries.map((d) => d.delivered)).toEqual([true]);

    // The books. The order, its payment (KKiaPay's reported fee: 19 on 1 000), one credit.
    const db = server.kernel.db;
    const sub = await db.selectFrom('subscribers').select(['id', 'reseller_id']).where('msisdn', '=', '+2290197000111').executeTakeFirstOrThrow();
    expect(sub.reseller_id).toBe(reseller.id);
    const order = await sql<{ reference: string; status: string; provider_transaction_id: string }>`
      select reference, status, provider_transaction_id from billing_orders where subscriber_id = ${sub.id}`.execute(db);
    expect(order.rows).toHaveLength(1);
    const o = order.rows[0] as { reference: string; status: string; provider_transaction_id: string };
    expect(o.status).toBe('paid');
    expect(kk.transaction(o.provider_transaction_id)?.state).toEqual({ ref: o.reference });
    const payment = await sql<{ id: string; status: string; amount_fcfa: number; fee_fcfa: number; subscription_id: string }>`
      select id, status, amount_fcfa, fee_fcfa, subscription_id from billing_payments where provider = 'kkiapay' and provider_transaction_id = ${o.provider_transaction_id}`.execute(
      db,
    );
    expect(payment.rows).toHaveLength(1);
    const p = payment.rows[0] as { id: string; status: string; amount_fcfa: number; fee_fcfa: number; subscription_id: string };
    expect(p).toMatchObject({ status: 'credited', amount_fcfa: 1000, fee_fcfa: 19 });
    // Both the webhook and the page's callback were recorded.
    const events = await sql<{
      kind: string;
    }>`select kind from billing_payment_events where provider_transaction_id = ${o.provider_transaction_id} order by kind`.execute(db);
    expect(events.rows.map((e) => e.kind)).toEqual(['callback', 'webhook']);
    // G = 1 000, F = 19 (reported), R = 5 % = 50, N = 931 → reseller ⌊465.5⌋ = 465, RGZ 466.
    const lines = await sql<{ account: string; debit: string; credit: string }>`
      select e.account, e.debit_fcfa::text as debit, e.credit_fcfa::text as credit
      from billing_ledger_entries e join billing_postings ps on ps.id = e.posting_id
      where ps.kind = 'payment' and ps.payment_id = ${p.id} order by e.id`.execute(db);
    expect(lines.rows.map((l) => [l.account, Number(l.debit), Number(l.credit)])).toEqual([
      ['provider_clearing:kkiapay', 1000, 0],
      ['provider_fees:kkiapay', 0, 19],
      [`reseller_fee:${reseller.id}`, 0, 50],
      [`revenue:reseller:${reseller.id}`, 0, 465],
      ['revenue:rgz', 0, 466],
    ]);
    const subscription = await db.selectFrom('subscriptions').selectAll().where('id', '=', p.subscription_id).executeTakeFirstOrThrow();
    expect(subscription).toMatchObject({ subscriber_id: sub.id, source: 'payment', source_ref: p.id, reseller_id: reseller.id });
    const nas = await sql<{
      n: string;
    }>`select count(*)::text as n from core_tasks where name = 'nas.policy-change' and dedupe_key = ${`nas.policy-change:payment:${p.id}`}`.execute(db);
    expect(nas.rows[0]?.n).toBe('1');

    const ours = sizes.filter((s) => s.url.startsWith(base));
    const total = ours.reduce((n, s) => n + s.bytes, 0);
    console.log(
      `[plugin-portal] purchase flow transfer (RGZ only): ${total} bytes in ${ours.length} responses (${ours.map((s) => `${new URL(s.url).pathname} ${s.bytes}`).join(', ')})`,
    );
    expect(total).toBeLessThan(40 * 1024);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SCREENSHOT });
    await page.close();
  });
});
