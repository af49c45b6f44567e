/**
 * The portal page in a real browser: Debian's Chromium driven by playwright-core, at phone size (360×740), against
 * the kernel served on a real port. Skipped, with a message, when /usr/bin/chromium is missing
 * (`apt-get install chromium`; CI installs it from DEBIAN_PEERS in .ci/run).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { activateSubscription } from '@rgz/core';
import { startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import { chromiumMissing, launchTestBrowser, PHONE_FR, type TestBrowser } from '@rgz/test-browser';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import portal, { portalKeys } from './index.js';
import { RecordingSmsSender, recordingSmsPlugin } from './test-support/recording-sms.js';

const missingChromium = chromiumMissing();
if (missingChromium) console.warn(`[plugin-portal] browser tests skipped: missing ${missingChromium}`);

/**
 * The committed screenshot is rewritten only when missing or with RGZ_UPDATE_SCREENSHOTS=1 (the subscriber reference
 * on it is random, so every run would change the file); otherwise it goes to the temp folder.
 */
const COMMITTED = new URL('../screenshots/portal-phone.png', import.meta.url).pathname;
const SCREENSHOT = process.env.RGZ_UPDATE_SCREENSHOTS === '1' || !existsSync(COMMITTED) ? COMMITTED : join(tmpdir(), 'rgz-portal-phone.png');
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe.skipIf(missingChromium !== null)('portal page in Chromium at phone size', () => {
  let server: TestServer;
  let base: string;
  let context: BrowserContext;
  let browser: TestBrowser;
  const sms = new RecordingSmsSender();

  beforeAll(async () => {
    server = await startTestServer({
      plugins: [recordingSmsPlugin(sms), { plugin: portal, config: { secret: 'portal-browser-secret-0123456789-abcdef', rateLimit: { perIpPerMinute: 50 } } }],
    });
    const { port } = await server.kernel.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    browser = await launchTestBrowser({
      profilePrefix: 'rgz-portal-chromium-',
      ...PHONE_FR,
    });
    context = browser.context;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const codeFor = (phone: string, count: number) => waitFor(() => (sms.to(phone).length >= count ? sms.lastCode(phone) : undefined), 10_000);
  /** Bytes the page costs over the wire: every response's headers and body. */
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

  it('phone → SMS code (pasted from the message) → "Connecté", under 30 KB, with a screenshot', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const sizes = meter(page);
    await page.goto(`${base}/portal/?mac=AA-BB-CC-DD-EE-51&ip=10.1.0.51&nasid=nas01`);
    await expect(page.getByRole('heading', { name: 'Connexion' })).toBeTruthy();
    await page.getByLabel('Numéro de mobile').fill('01 97 00 00 51');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    await page.getByLabel('Code à 6 chiffres').waitFor({ state: 'visible' });
    expect(await page.locator('#to').textContent()).toBe('+229 01 97 00 00 51');
    expect(await page.locator('#msg').textContent()).toContain('Code envoyé par SMS au +229 01 97 00 00 51');
    // The state is in the URL (no storage): the NAS parameters are still there.
    const url = new URL(page.url());
    expect(url.searchParams.get('step')).toBe('code');
    expect(url.searchParams.get('phone')).toBe('+2290197000051');
    expect(url.searchParams.get('mac')).toBe('AA-BB-CC-DD-EE-51');

    const code = await codeFor('+2290197000051', 1);
    // Pasting the whole SMS works: the field keeps the 6 digits.
    await page.getByLabel('Code à 6 chiffres').fill(sms.to('+2290197000051')[0]?.text as string);
    expect(await page.getByLabel('Code à 6 chiffres').inputValue()).toBe(code);
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.getByRole('heading', { name: 'Connecté' }).waitFor({ state: 'visible' });
    expect(await page.locator('#ref').textContent()).toMatch(/^RGZ-[23456789A-HJKMNP-Z]{6}$/);
    expect(await page.locator('#p-off').isVisible()).toBe(true);
    expect(await page.locator('#plans').getAttribute('open')).not.toBeNull();
    expect(await page.getByRole('button', { name: 'Acheter' }).first().isDisabled()).toBe(true);
    expect(new URL(page.url()).searchParams.get('step')).toBeNull();
    expect(errors).toEqual([]);

    // The device was recorded through the page's verify call.
    const id = (await server.kernel.db.selectFrom('subscribers').select('id').where('msisdn', '=', '+2290197000051').executeTakeFirstOrThrow()).id;
    expect(await server.kernel.kv.smembers(portalKeys.devices(id))).toEqual(['aa:bb:cc:dd:ee:51']);

    const total = sizes.reduce((n, s) => n + s.bytes, 0);
    console.log(
      `[plugin-portal] page flow transfer: ${total} bytes in ${sizes.length} responses (${sizes.map((s) => `${new URL(s.url).pathname} ${s.bytes}`).join(', ')})`,
    );
    expect(total).toBeLessThan(30 * 1024);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SCREENSHOT });
    await page.close();
  });

  it('a reload keeps the code step; the keyboard alone completes the login; English on request', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/portal/?lang=en&mac=AA-BB-CC-DD-EE-52`);
    await page.getByLabel('Mobile number').focus();
    await page.keyboard.type('0197000052');
    await page.keyboard.press('Enter');
    await page.getByLabel('6-digit code').waitFor({ state: 'visible' });
    const code = await codeFor('+2290197000052', 1);
    await page.reload();
    await page.getByLabel('6-digit code').waitFor({ state: 'visible' });
    expect(await page.locator('#to').textContent()).toBe('+229 01 97 00 00 52');
    await page.getByLabel('6-digit code').focus();
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connected' }).waitFor({ state: 'visible' });
    expect(sms.to('+2290197000052')).toHaveLength(1);
    await page.close();
  });

  it('a wrong code shows the attempts left in French; the language link keeps the NAS parameters', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/portal/?mac=AA-BB-CC-DD-EE-53&uamip=10.1.0.1&uamport=3990&challenge=${'ab'.repeat(16)}`);
    await page.getByLabel('Numéro de mobile').fill('0197000053');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    const code = await codeFor('+2290197000053', 1);
    await page.getByLabel('Code à 6 chiffres').fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Valider' }).click();
    await waitFor(async () => ((await page.locator('#msg').textContent()) ?? '').includes('Code incorrect. Il vous reste 4 essai(s).'));
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByLabel('6-digit code').waitFor({ state: 'visible' });
    const url = new URL(page.url());
    expect(url.searchParams.get('uamip')).toBe('10.1.0.1');
    expect(url.searchParams.get('lang')).toBe('en');
    await page.close();
  });

  it('with a plan, hands over to CoovaChilli: GET /logon with username and the CHAP response', async () => {
    const phone = '+2290197000054';
    const sub = await server.kernel.db
      .insertInto('subscribers')
      .values({ subscriber_ref: 'RGZ-BRWS54', msisdn: phone, reseller_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const plan = await server.kernel.db
      .selectFrom('plans')
      .select('id')
      .where('code', '=', 'DAY100MB')
      .where('reseller_id', 'is', null)
      .executeTakeFirstOrThrow();
    await activateSubscription(server.kernel.db, { subscriberId: sub.id, planId: plan.id, source: 'grant', sourceRef: 'browser-54' });
    const challenge = '00112233445566778899aabbccddeeff';
    const page = await context.newPage();
    // The NAS: CoovaChilli's UAM listener at 10.1.0.1:3990, played by request interception; like chilli it sends
    // the browser back to the portal with res=success.
    const logon = new Promise<URL>((resolve) => {
      void page.route('http://10.1.0.1:3990/**', (route) => {
        resolve(new URL(route.request().url()));
        void route.fulfill({ status: 302, headers: { location: `${base}/portal/?res=success&userurl=${encodeURIComponent('http://neverssl.com/')}` } });
      });
    });
    await page.goto(
      `${base}/portal/?res=notyet&uamip=10.1.0.1&uamport=3990&challenge=${challenge}&mac=AA-BB-CC-DD-EE-54&userurl=${encodeURIComponent('http://neverssl.com/')}`,
    );
    await page.getByLabel('Numéro de mobile').fill('0197000054');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    const code = await codeFor(phone, 1);
    await page.getByLabel('Code à 6 chiffres').fill(code);
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.getByRole('heading', { name: 'Connecté' }).waitFor({ state: 'visible' });
    expect(await page.locator('#p-name').textContent()).toBe('100 Mo / jour');
    const req = await logon;
    expect(`${req.origin}${req.pathname}`).toBe('http://10.1.0.1:3990/logon');
    const session = JSON.parse((await server.kernel.kv.get(portalKeys.session(sub.id))) as string) as { token: string };
    expect(req.searchParams.get('username')).toBe('RGZ-BRWS54');
    expect(req.searchParams.get('response')).toBe(
      md5(Buffer.concat([Buffer.from([0]), Buffer.from(session.token), Buffer.from(challenge, 'hex')])).toString('hex'),
    );
    expect(req.searchParams.get('userurl')).toBe('http://neverssl.com/');
    await page.getByRole('heading', { name: 'Vous êtes connecté à Internet' }).waitFor({ state: 'visible' });
    await page.close();
  });

  it('with a plan, hands over to MikroTik: POST username and the CHAP password to link-login-only', async () => {
    const phone = '+2290197000055';
    const sub = await server.kernel.db
      .insertInto('subscribers')
      .values({ subscriber_ref: 'RGZ-BRWS55', msisdn: phone, reseller_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const plan = await server.kernel.db
      .selectFrom('plans')
      .select('id')
      .where('code', '=', 'DAY10MB')
      .where('reseller_id', 'is', null)
      .executeTakeFirstOrThrow();
    await activateSubscription(server.kernel.db, { subscriberId: sub.id, planId: plan.id, source: 'grant', sourceRef: 'browser-55' });
    const page = await context.newPage();
    // The NAS: the MikroTik hotspot's login URL, played by request interception.
    const submitted = new Promise<{ method: string; body: string }>((resolve) => {
      void page.route('http://10.5.50.1/login', (route) => {
        resolve({ method: route.request().method(), body: route.request().postData() ?? '' });
        void route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>hotspot</title><p>You are logged in</p>' });
      });
    });
    const q = new URLSearchParams({
      mac: 'AA:BB:CC:DD:EE:55',
      'link-login-only': 'http://10.5.50.1/login',
      'link-orig': 'http://neverssl.com/',
      'chap-id': '\\321',
      'chap-challenge': '\\000\\001\\002\\003\\004\\005\\006\\007\\010\\011\\012\\013\\014\\015\\016\\017',
    });
    await page.goto(`${base}/portal/?${q}`);
    await page.getByLabel('Numéro de mobile').fill('0197000055');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    const code = await codeFor(phone, 1);
    await page.getByLabel('Code à 6 chiffres').fill(code);
    await page.getByRole('button', { name: 'Valider' }).click();
    const req = await submitted;
    expect(req.method).toBe('POST');
    const form = new URLSearchParams(req.body);
    const session = JSON.parse((await server.kernel.kv.get(portalKeys.session(sub.id))) as string) as { token: string };
    const challenge = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
    expect(Object.fromEntries(form)).toEqual({
      username: 'RGZ-BRWS55',
      password: md5(Buffer.concat([Buffer.from([0o321]), Buffer.from(session.token), challenge])).toString('hex'),
      dst: 'http://neverssl.com/',
      popup: 'false',
    });
    await page.getByText('You are logged in').waitFor();
    await page.close();
  });
});
