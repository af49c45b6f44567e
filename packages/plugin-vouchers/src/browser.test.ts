/**
 * Redemption on the portal page in headless Chromium (phone size, Debian's /usr/bin/chromium; skipped with a message
 * without it): a ticket's QR opens `/portal/?voucher=<code>`, the subscriber logs in with the SMS code, finds the
 * "Code prépayé" field filled in, uses it, and the page shows the plan active with its time and data left. A wrong code
 * is explained in French. Kernel: portal + billing (the ledger) + vouchers, on a real port.
 */
import { waitFor } from '@rgz/core/testing';
import portal from '@rgz/plugin-portal';
import { chromiumMissing, launchTestBrowser, PHONE_FR, type TestBrowser } from '@rgz/test-browser';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchLedger, createBatch, createReseller, type Harness, startHarness } from './test-support/harness.js';
import { RecordingSmsSender, testPlugins } from './test-support/test-plugins.js';

const missingChromium = chromiumMissing();
if (missingChromium) console.warn(`[plugin-vouchers] browser test skipped: missing ${missingChromium}`);

describe.skipIf(missingChromium !== null)('redeeming a voucher on the portal page in Chromium', () => {
  let h: Harness;
  let base: string;
  let context: BrowserContext;
  let browser: TestBrowser;
  let reseller: { id: string; token: string; slug: string };
  const sms = new RecordingSmsSender();

  beforeAll(async () => {
    h = await startHarness('embedded', {
      plugins: [testPlugins(sms, 3 * 1024 * 1024), { plugin: portal, config: { secret: 'vouchers-portal-secret-0123456789-abcdef' } }],
    });
    // The harness runs no task worker; the OTP SMS is a task.
    h.server.kernel.tasks.start();
    const { port } = await h.server.kernel.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    reseller = await createReseller(h, { fee: 5, share: 50 });
    browser = await launchTestBrowser({
      profilePrefix: 'rgz-vouchers-chromium-',
      ...PHONE_FR,
    });
    context = browser.context;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.server.close();
  });

  it('QR link → login → the prefilled code → plan active with time and data left; the books', async () => {
    const created = await createBatch(h, reseller.token, { plan_code: 'DAY10MB', count: 2 });
    const code = (created.codes[0] as { code: string }).code.replace('-', '');
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${base}/portal/?reseller=${reseller.slug}&voucher=${code}`);
    // The field is for logged-in subscribers only.
    expect(await page.locator('#s-v').isVisible()).toBe(false);
    await page.getByLabel('Numéro de mobile').fill('0197000211');
    await page.getByRole('button', { name: 'Recevoir le code' }).click();
    // The code step keeps the voucher in the URL (a reload or a closed mini-browser does not lose it).
    await page.getByLabel('Code à 6 chiffres').waitFor({ state: 'visible' });
    expect(new URL(page.url()).searchParams.get('voucher')).toBe(code);
    const otp = await waitFor(() => sms.lastCode('+2290197000211'), 10_000);
    await page.getByLabel('Code à 6 chiffres').fill(otp);
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.getByRole('heading', { name: 'Connecté' }).waitFor({ state: 'visible' });
    const field = page.getByLabel('Code prépayé');
    expect(await field.inputValue()).toBe(code);
    await page.getByRole('button', { name: 'Utiliser le code' }).click();
    await page.locator('#p-on').waitFor({ state: 'visible' });
    expect(await page.locator('#msg').textContent()).toBe('Code accepté : votre forfait est actif.');
    expect(await page.locator('#p-name').textContent()).toBe('10 Mo / jour');
    // 10 MB a day, 3 MB used (the usage source): 7 MB left.
    expect(await page.locator('#p-on').textContent()).toMatch(/^Forfait 10 Mo \/ jour : encore (29 j 23 h|30 j 0 h)\. · 7 Mo restants$/);
    expect(await field.inputValue()).toBe('');
    expect(new URL(page.url()).searchParams.get('voucher')).toBeNull();
    expect(errors).toEqual([]);

    // A second code, mistyped: explained, nothing activated.
    await field.fill('abcde-fghjk');
    await page.getByRole('button', { name: 'Utiliser le code' }).click();
    await waitFor(async () => (await page.locator('#msg').textContent()) === 'Code inconnu. Vérifiez les 10 caractères du ticket.');
    await field.fill('ABCDE-12345');
    await page.getByRole('button', { name: 'Utiliser le code' }).click();
    await waitFor(async () => (await page.locator('#msg').textContent()) === 'Un code a 10 lettres et chiffres, sans 0, O, 1, I ni L.');
    // Only the two refusals, as HTTP errors; no script error.
    expect(errors).toEqual([
      'Failed to load resource: the server responded with a status of 404 (Not Found)',
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);

    const sub = await h.db.selectFrom('subscribers').select('id').where('msisdn', '=', '+2290197000211').executeTakeFirstOrThrow();
    const voucher = await h.db
      .selectFrom('vouchers_vouchers')
      .selectAll()
      .where('batch_id', '=', created.batch.id)
      .where('serial', '=', 1)
      .executeTakeFirstOrThrow();
    expect(voucher).toMatchObject({ status: 'redeemed', redeemed_by: sub.id });
    expect(await batchLedger(h, created.batch.id)).toEqual({
      [`payable:reseller:${reseller.id}`]: 1000,
      [`reseller_fee:${reseller.id}`]: -50,
      [`revenue:reseller:${reseller.id}`]: -475,
      'revenue:rgz': -475,
    });
    await page.close();
  });
});
