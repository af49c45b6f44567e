/**
 * The console in headless Chromium (Debian's), against a server on a real port with real PostgreSQL and Redis and
 * seeded data: sign in as the NOC and as two resellers, walk every screen, check the figures against the database,
 * check each action's effect in the database, and that reseller A never sees reseller B's rows, through the UI and by
 * editing URLs. Skipped, with a message, when /usr/bin/chromium is missing (`apt-get install chromium`).
 */
import { chromiumMissing, type TestBrowser } from '@rgz/test-browser';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, screenshots, signIn, watchErrors } from './test-support/browser.js';
import { HAS_SNMPSIM, type SnmpAgent, startSnmpAgent } from './test-support/snmp-agent.js';
import { buy, type ConsoleWorld, fireAlert, PRICES, startConsoleWorld } from './test-support/world.js';

const missingChromium = chromiumMissing();
if (missingChromium) console.warn(`[plugin-console] browser tests skipped: missing ${missingChromium}`);
if (!HAS_SNMPSIM) console.warn('[plugin-console] radio figures not polled: snmpsimd or snmpget not found (apt-get install snmpsim snmp)');

const fcfa = (n: number) => `${new Intl.NumberFormat('fr-FR').format(n).replace(/\u202f|\u00a0/g, ' ')} FCFA`;

describe.skipIf(missingChromium !== null)('operator console in Chromium', () => {
  let w: ConsoleWorld;
  let browser: TestBrowser;
  let page: Page;
  let errors: string[];
  let siteId: string;
  let apId: string;
  let agent: SnmpAgent | undefined;

  beforeAll(async () => {
    w = await startConsoleWorld();
    if (HAS_SNMPSIM) agent = await startSnmpAgent(['ap-1', 'ap-2', 'ap-3']);
    await fireAlert(w, 'NasDown', 'P1');
    // An open RADIUS session of A's first subscriber (as accounting would have written it), and a site with an AP.
    await w.db
      .insertInto('radius_sessions')
      .values({
        subscriber_id: w.a.subscribers[0]?.id,
        nas_id: 'nas-akpakpa',
        nas_identifier: 'nas-akpakpa',
        acct_session_id: 'S-0001',
        user_name: w.a.subscribers[0]?.ref,
        bytes_in: 1048576,
        bytes_out: 2097152,
        session_start: new Date(Date.now() - 600_000),
        last_update: new Date(),
        last_status: 'interim',
      })
      .execute();
    const site = await w.server.request('/api/inventory/sites', {
      method: 'POST',
      headers: { ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Site Akpakpa', reseller_id: w.a.id, capacity_down_kbps: 100_000, capacity_up_kbps: 20_000 }),
    });
    expect(site.status).toBe(201);
    siteId = ((await site.json()) as { id: string }).id;
    const ap = await w.server.request('/api/inventory/devices', {
      method: 'POST',
      headers: { ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'AP Akpakpa 1',
        kind: 'access_point',
        site_id: siteId,
        address: '127.0.0.1',
        ...(agent ? { port: agent.port } : {}),
        profile: 'if-mib',
        snmp: { version: '2c', community: 'ap-1' },
      }),
    });
    expect(ap.status).toBe(201);
    apId = ((await ap.json()) as { id: string }).id;
    // Three polls by the SNMP plugin's own job, the agent answering a later synthetic walk each time (counters up).
    if (agent) {
      for (const community of ['ap-1', 'ap-2', 'ap-3']) {
        const patched = await w.server.request(`/api/inventory/devices/${apId}`, {
          method: 'PATCH',
          headers: { ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' },
          body: JSON.stringify({ snmp: { version: '2c', community } }),
        });
        expect(patched.status).toBe(200);
        const out = await w.server.kernel.scheduler.trigger('snmp.poll');
        expect(out.status, out.error).toBe('succeeded');
      }
    }
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
    await agent?.stop();
  });

  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();

  describe('sign-in', () => {
    it('refuses an empty or unknown token with a message in the page; no session cookie is set', async () => {
      await page.goto(`${w.base}/console`);
      expect(new URL(page.url()).pathname).toBe('/console/login');
      await page.getByRole('button', { name: 'Se connecter' }).click();
      // `required` stops the browser first; without it the server says the same.
      expect(await page.getByLabel('Jeton d’accès').evaluate((e) => (e as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(
        true,
      );
      await page.getByLabel('Jeton d’accès').fill(`rgz_noc_${'x'.repeat(43)}`);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('Jeton inconnu, révoqué ou expiré');
      expect((await browser.context.cookies()).find((c) => c.name === 'rgz_console')).toBeUndefined();
      await screenshots(page, 'login');
    });

    it('a subscriber token is refused; a cross-site form post is refused', async () => {
      const sub = await w.server.kernel.tokens.issue({ role: 'subscriber', name: 'x', subscriberId: w.a.subscribers[0]?.id as string, ttlSeconds: 60 });
      await page.goto(`${w.base}/console/login`);
      await page.getByLabel('Jeton d’accès').fill(sub.token);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('réservée au NOC et aux revendeurs');
      const res = await fetch(`${w.base}/console/login`, {
        method: 'POST',
        headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${w.server.nocToken}`,
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
    });

    it('the NOC signs in; the cookie is HttpOnly and SameSite=Strict; English on request; sign-out ends the session', async () => {
      await signIn(page, w.base, w.server.nocToken);
      const c = (await browser.context.cookies()).find((x) => x.name === 'rgz_console');
      expect(c).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
      expect(c?.value).not.toContain(w.server.nocToken);
      await page.getByRole('link', { name: 'English' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.goto(`${w.base}/console?lang=fr`);
      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.getByRole('heading', { name: 'Connexion à la console' }).waitFor();
      await page.goto(`${w.base}/console/subscribers`);
      expect(new URL(page.url()).pathname).toBe('/console/login');
    });
  });

  describe('overview', () => {
    it('NOC: revenue of every reseller, open incidents by priority', async () => {
      await signIn(page, w.base, w.server.nocToken);
      const total = [...w.a.payments, ...w.b.payments].reduce((n, p) => n + p.amount, 0);
      expect(await text('#revenue-today .v')).toBe(fcfa(total));
      expect(await text('#revenue-month .v')).toBe(fcfa(total));
      const open = await w.db.selectFrom('incidents_incidents').select('priority').where('status', 'in', ['open', 'acknowledged']).execute();
      expect(open.length).toBeGreaterThan(0);
      for (const p of new Set(open.map((x: { priority: string }) => x.priority)))
        expect(await text('#incidents .v')).toContain(`${p}: ${open.filter((x: { priority: string }) => x.priority === p).length}`);
      await screenshots(page, 'overview');
    });

    it('a screen costs little over a slow link: HTML, stylesheet and script under 30 KB together, nothing from another host', async () => {
      const sizes: Array<{ url: string; bytes: number }> = [];
      const p = await browser.context.newPage();
      p.on('response', async (r) => {
        try {
          const headers = Object.entries(await r.allHeaders()).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
          sizes.push({ url: r.url(), bytes: (await r.body()).length + headers });
        } catch {
          // a redirect has no body
        }
      });
      await p.goto(`${w.base}/console`);
      await p.getByRole('heading', { name: 'Vue d’ensemble' }).waitFor();
      await p.waitForLoadState('networkidle');
      await p.close();
      const total = sizes.reduce((n, s) => n + s.bytes, 0);
      console.log(`[plugin-console] overview transfer: ${total} bytes (${sizes.map((s) => `${new URL(s.url).pathname} ${s.bytes}`).join(', ')})`);
      expect(sizes.every((s) => s.url.startsWith(w.base))).toBe(true);
      expect(total).toBeLessThan(30 * 1024);
    });

    it('reseller A sees only its own revenue and no NOC cards', async () => {
      await signIn(page, w.base, w.a.token);
      expect(await text('#revenue-today .v')).toBe(fcfa(w.a.payments.reduce((n, p) => n + p.amount, 0)));
      expect(await page.locator('#incidents').count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Journal d’audit' }).count()).toBe(0);
      await signIn(page, w.base, w.b.token);
      expect(await text('#revenue-today .v')).toBe(fcfa(w.b.payments.reduce((n, p) => n + p.amount, 0)));
    });
  });

  describe('subscribers', () => {
    it('search by phone and reference; bad input gets a message', async () => {
      await signIn(page, w.base, w.server.nocToken);
      const s = w.a.subscribers[0] as { id: string; ref: string; msisdn: string };
      await page.goto(`${w.base}/console/subscribers`);
      await page.getByLabel('Téléphone, référence ou adresse MAC').fill('x');
      await page.getByRole('button', { name: 'Rechercher' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('au moins 2 caractères');
      await page.getByLabel('Téléphone, référence ou adresse MAC').fill(s.msisdn.slice(-8));
      await page.getByRole('button', { name: 'Rechercher' }).click();
      await page.getByRole('link', { name: s.ref }).waitFor();
      await screenshots(page, 'subscribers');
      await page.getByRole('link', { name: s.ref }).click();
      await page.getByRole('heading', { name: `Abonnés · ${s.ref}` }).waitFor();
      await screenshots(page, 'subscriber');
      expect(errors).toEqual([]);
    });

    it('grant: bad input gets a message and saves nothing; a grant with a reason adds the plan and an audit entry', async () => {
      await signIn(page, w.base, w.a.token);
      const s = w.a.subscribers[1] as { id: string; ref: string };
      const count = async () =>
        Number(
          (
            await w.db
              .selectFrom('subscriptions')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('subscriber_id', '=', s.id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      await page.goto(`${w.base}/console/subscribers/${s.id}`);
      await page.getByLabel('Forfait', { exact: true }).selectOption({ label: '10 Mo / jour (1 000 FCFA)' });
      await page.getByRole('button', { name: 'Attribuer le forfait' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Indiquez un motif');
      // The choice is kept for the next try.
      expect(await page.getByLabel('Forfait', { exact: true }).inputValue()).toBe('DAY10MB');
      await page.getByLabel('Ou prolonger le forfait en cours de (jours)').fill('999');
      await page.getByLabel('Motif').fill('geste commercial');
      await page.getByRole('button', { name: 'Attribuer le forfait' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('de 1 à 366');
      expect(await count()).toBe(before);
      await page.getByLabel('Ou prolonger le forfait en cours de (jours)').fill('');
      await page.getByRole('button', { name: 'Attribuer le forfait' }).click();
      await page.getByText('Forfait attribué.').waitFor();
      expect(await count()).toBe(before + 1);
      const audit = await w.db.selectFrom('audit_log').selectAll().where('target_id', '=', s.id).orderBy('id', 'desc').execute();
      expect(audit.some((a) => JSON.stringify(a.details).includes('geste commercial'))).toBe(true);
    });

    it('disconnect an open session: the API queues the Disconnect-Request and the page follows the task', async () => {
      await signIn(page, w.base, w.a.token);
      const s = w.a.subscribers[0] as { id: string };
      await page.goto(`${w.base}/console/subscribers/${s.id}`);
      expect(await page.locator('main').textContent()).toContain('nas-akpakpa');
      await page.getByRole('button', { name: 'Déconnecter', exact: true }).click();
      await page.getByText('Demande de déconnexion envoyée.').waitFor();
      const task = new URL(page.url()).searchParams.get('task') as string;
      expect(await w.db.selectFrom('core_tasks').select('id').where('id', '=', task).executeTakeFirst()).toBeTruthy();
      expect(await page.locator('[data-poll]').count()).toBe(1);
    });

    it('reseller B never sees reseller A’s subscribers, through search or by editing the URL', async () => {
      await signIn(page, w.base, w.b.token);
      const s = w.a.subscribers[0] as { id: string; ref: string };
      await page.goto(`${w.base}/console/subscribers?q=${encodeURIComponent(s.ref)}`);
      expect(await page.getByRole('link', { name: s.ref }).count()).toBe(0);
      expect(await page.locator('main').textContent()).not.toContain(s.ref);
      const res = await page.goto(`${w.base}/console/subscribers/${s.id}`);
      expect(res?.status()).toBe(404);
      expect(await page.locator('main').textContent()).not.toContain(s.ref);
    });
  });
  describe('plans', () => {
    it('the NOC picks a reseller; a reseller sees the plans on sale to it', async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/plans`);
      await page.getByLabel('Forfaits en vente pour').selectOption({ label: w.a.name });
      await page.getByRole('button', { name: 'Filtrer' }).click();
      expect(new URL(page.url()).searchParams.get('reseller')).toBe(w.a.id);
      expect(await page.locator('main table').textContent()).toContain('5 000 FCFA');
      await screenshots(page, 'plans');
      // The NOC sets A's own price: a bad price gets a message and changes nothing, then the new price is on sale to A.
      await page.getByLabel('Forfait', { exact: true }).selectOption('DAY10MB');
      await page.getByLabel('Prix (FCFA)').fill('-5');
      await page.getByRole('button', { name: 'Enregistrer' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Prix invalide');
      expect(await w.db.selectFrom('plans').select('id').where('reseller_id', '=', w.a.id).execute()).toEqual([]);
      await page.getByLabel('Prix (FCFA)').fill('800');
      await page.getByRole('button', { name: 'Enregistrer' }).click();
      await page.getByText('Enregistré.').waitFor();
      const own = await w.db.selectFrom('plans').select(['code', 'price_fcfa']).where('reseller_id', '=', w.a.id).execute();
      expect(own.map((p) => [p.code, Number(p.price_fcfa)])).toEqual([['DAY10MB', 800]]);
      expect(await page.locator('main table').textContent()).toContain('800 FCFA');
      // B's plans are not A's.
      await signIn(page, w.base, w.b.token);
      await page.goto(`${w.base}/console/plans`);
      expect(await page.getByLabel('Forfaits en vente pour').count()).toBe(0);
      expect(await page.locator('main table').textContent()).toContain('1 Go / mois');
      expect(await page.locator('main table').textContent()).not.toContain('800 FCFA');
    });

    it('withdrawing A’s own price needs a confirmation; B cannot withdraw it; then A is back on the catalogue price', async () => {
      const active = async () =>
        (await w.db.selectFrom('plans').select(['code', 'price_fcfa']).where('reseller_id', '=', w.a.id).where('active', '=', true).execute()).map((p) => [
          p.code,
          Number(p.price_fcfa),
        ]);
      expect(await active()).toEqual([['DAY10MB', 800]]);
      // B's console only ever withdraws B's own prices: A's code posted by hand reaches the API as B's, which has none.
      await signIn(page, w.base, w.b.token);
      const byB = await page.request.post(`${w.base}/console/plans/withdraw`, {
        form: { reseller: w.a.id, code: 'DAY10MB', confirm: 'yes' },
        headers: { origin: w.base },
      });
      expect(byB.status()).toBe(400);
      expect(await byB.text()).toContain('Le serveur a refusé');
      // and the API itself refuses B's token on A's reseller
      const api = await fetch(`${w.base}/api/core/resellers/${w.a.id}/plans/DAY10MB`, { method: 'DELETE', headers: w.server.auth(w.b.token) });
      expect([403, 404]).toContain(api.status);
      expect(await active()).toEqual([['DAY10MB', 800]]);
      // A withdraws its own price: without the tick, a message and nothing changes.
      await signIn(page, w.base, w.a.token);
      await page.goto(`${w.base}/console/plans`);
      expect(await page.locator('main table').textContent()).toContain('800 FCFA (prix du revendeur)');
      await page.getByLabel('Forfait', { exact: true }).nth(1).selectOption('DAY10MB');
      await page.getByRole('button', { name: 'Retirer le prix du revendeur' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Cochez la case pour confirmer');
      expect(await active()).toEqual([['DAY10MB', 800]]);
      await page.getByLabel('Je confirme le retrait de ce prix').check();
      await page.getByRole('button', { name: 'Retirer le prix du revendeur' }).click();
      await page.getByText('Prix retiré').waitFor();
      expect(await active()).toEqual([]);
      expect(await page.getByRole('row', { name: /^10 Mo \/ jour/ }).textContent()).toContain(fcfa(PRICES.DAY10MB as number));
      expect(await page.locator('main table').textContent()).not.toContain('800 FCFA');
      expect(await page.getByRole('button', { name: 'Retirer le prix du revendeur' }).count()).toBe(0);
    });
  });

  describe('payments', () => {
    it('NOC: every payment, balances, a bad date gets a message', async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/payments`);
      const main = (await page.locator('main').textContent()) ?? '';
      for (const s of [...w.a.subscribers, ...w.b.subscribers]) expect(main).toContain(s.ref);
      expect(main).toContain(w.a.name);
      expect(main).toContain(w.b.name);
      await screenshots(page, 'payments');
      const res = await page.goto(`${w.base}/console/payments?from=2026-13-45`);
      expect(res?.status()).toBe(400);
      expect(await page.getByRole('alert').textContent()).toContain('Date invalide');
    });

    it('reseller A: its payments only, in the page, in the CSV and by editing the URL to B’s payment', async () => {
      await signIn(page, w.base, w.a.token);
      await page.goto(`${w.base}/console/payments`);
      const main = (await page.locator('main').textContent()) ?? '';
      for (const s of w.a.subscribers) expect(main).toContain(s.ref);
      for (const s of w.b.subscribers) expect(main).not.toContain(s.ref);
      const csv = await (await page.request.get(`${w.base}/console/payments.csv`)).text();
      expect(csv).toContain(w.a.subscribers[0]?.ref);
      expect(csv).not.toContain(w.b.subscribers[0]?.ref);
      const res = await page.goto(`${w.base}/console/payments/${w.b.payments[0]?.id}`);
      expect(res?.status()).toBe(404);
      expect(await page.locator('main').textContent()).not.toContain(w.b.subscribers[0]?.ref);
      // The ledger and reconciliation are the NOC's.
      expect((await page.goto(`${w.base}/console/ledger`))?.status()).toBe(403);
      expect((await page.goto(`${w.base}/console/reconciliation`))?.status()).toBe(403);
    });

    it('NOC: a payment’s history and ledger lines; a refund needs a reason, then is recorded', { timeout: 90_000 }, async () => {
      await signIn(page, w.base, w.server.nocToken);
      const p = w.a.payments[1] as { id: string; amount: number };
      await page.goto(`${w.base}/console/payments/${p.id}`);
      expect(await page.locator('main').textContent()).toContain('revenue:rgz');
      await screenshots(page, 'payment');
      await page.getByRole('button', { name: 'Rembourser' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Indiquez un motif');
      expect((await w.db.selectFrom('billing_payments').select('status').where('id', '=', p.id).executeTakeFirstOrThrow()).status).toBe('credited');
      await page.getByLabel('Motif').fill('double paiement');
      await page.getByRole('button', { name: 'Rembourser' }).click();
      await page
        .getByText(/Remboursement enregistré/)
        .waitFor({ timeout: 30_000 })
        .catch(async (e) => {
          throw new Error(`${(e as Error).message}\n${await page.locator('main').textContent()}`);
        });
      expect((await w.db.selectFrom('billing_payments').select('status').where('id', '=', p.id).executeTakeFirstOrThrow()).status).toBe('refunded');
    });

    it('NOC: a flagged payment is marked resolved with what was done; an empty resolution gets a message', { timeout: 90_000 }, async () => {
      // A's subscriber pays less than the plan's price: billing flags the payment (amount_mismatch, needs_review).
      const flagged = await buy(w, w.a.subscribers[0]?.id as string, 'DAY10MB', (PRICES.DAY10MB as number) - 100);
      expect(flagged.status).toBe('amount_mismatch');
      const review = async () => (await w.db.selectFrom('billing_payments').select('review').where('id', '=', flagged.id).executeTakeFirstOrThrow()).review;
      const audits = () =>
        w.db.selectFrom('audit_log').selectAll().where('action', '=', 'billing.payment.resolve').where('target_id', '=', flagged.id).execute();
      expect(await review()).toBe('needs_review');
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/payments/${flagged.id}`);
      await page.getByRole('button', { name: 'Marquer comme traité' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Dites ce qui a été fait');
      expect(await review()).toBe('needs_review');
      expect(await audits()).toEqual([]);
      await page.getByLabel('Ce qui a été fait').fill('forfait attribué à la main');
      await page.getByRole('button', { name: 'Marquer comme traité' }).click();
      await page.getByText('Paiement marqué comme traité.').waitFor();
      expect(await review()).toBe('resolved');
      const entries = await audits();
      expect(entries.length).toBe(1);
      expect(JSON.stringify(entries[0]?.details)).toContain('forfait attribué à la main');
      expect(await page.getByRole('button', { name: 'Marquer comme traité' }).count()).toBe(0);
      // A reseller never gets the form, and its hand-made post is refused by the API.
      await signIn(page, w.base, w.a.token);
      await page.goto(`${w.base}/console/payments/${flagged.id}`);
      expect(await page.getByRole('button', { name: 'Marquer comme traité' }).count()).toBe(0);
      const byA = await page.request.post(`${w.base}/console/payments/${flagged.id}/review`, { form: { resolution: 'rien' }, headers: { origin: w.base } });
      expect(byA.status()).toBe(400);
      expect(await audits()).toHaveLength(1);
      await signIn(page, w.base, w.server.nocToken);
    });

    it('NOC: the ledger with its totals', async () => {
      await page.goto(`${w.base}/console/ledger`);
      const t = await w.db
        .selectFrom('billing_ledger_entries')
        .select((eb) => eb.fn.sum('debit_fcfa').as('d'))
        .executeTakeFirstOrThrow();
      expect(await text('#totals')).toContain(`Débit ${fcfa(Number(t.d))}`);
      await screenshots(page, 'ledger');
    });

    it('NOC: reconciling a day again shows progress, then the run; a bad day gets a message', { timeout: 120_000 }, async () => {
      await page.goto(`${w.base}/console/reconciliation`);
      await page.getByLabel('Jour à rapprocher').fill('2026-11-24');
      await page.getByRole('button', { name: 'Lancer le rapprochement' }).click();
      await page.getByRole('heading', { name: 'Rapprochements · 2026-11-24' }).waitFor({ timeout: 60_000 });
      await page.locator('[data-poll]').waitFor({ state: 'detached', timeout: 60_000 });
      const runs = await w.db.selectFrom('billing_reconciliation_runs').select(['day', 'status']).execute();
      expect(runs.some((x: { day: unknown; status: string }) => String(x.day).length > 0 && x.status !== 'running')).toBe(true);
      await screenshots(page, 'reconciliation');
      const res = await page.request.post(`${w.base}/console/reconciliation`, { form: { day: '24/11/2026' }, headers: { origin: w.base } });
      expect(res.status()).toBe(400);
      expect(await res.text()).toContain('Date invalide');
    });
  });

  describe('incidents', () => {
    it('acknowledge, comment (an empty one gets a message), resolve; each lands in the database and the timeline', async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/incidents`);
      await screenshots(page, 'incidents');
      await page.getByRole('link', { name: 'Détails' }).first().click();
      await page.getByRole('button', { name: 'Prendre en charge' }).click();
      await page.getByText('Enregistré.').waitFor();
      const id = new URL(page.url()).pathname.split('/').pop() as string;
      const row = () => w.db.selectFrom('incidents_incidents').selectAll().where('number', '=', Number(id)).executeTakeFirstOrThrow();
      expect((await row()).status).toBe('acknowledged');
      await page.getByRole('button', { name: 'Ajouter le commentaire' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Le commentaire est vide');
      await page.getByLabel('Commentaire').fill('Technicien envoyé sur site');
      await page.getByRole('button', { name: 'Ajouter le commentaire' }).click();
      await page.getByText('Enregistré.').waitFor();
      expect(await page.locator('main').textContent()).toContain('Technicien envoyé sur site');
      await screenshots(page, 'incident');
      await page.getByRole('button', { name: 'Résoudre' }).click();
      await page.getByText('Enregistré.').waitFor();
      expect((await row()).status).toBe('resolved');
    });

    it('a reseller gets “NOC only”, from the menu (absent) and by URL', async () => {
      await signIn(page, w.base, w.a.token);
      expect(await page.getByRole('link', { name: 'Incidents' }).count()).toBe(0);
      const res = await page.goto(`${w.base}/console/incidents`);
      expect(res?.status()).toBe(403);
      expect(await page.getByRole('alert').textContent()).toContain('Réservé au NOC');
    });
  });

  describe('network', () => {
    it('NOC: a bad address is refused with nothing saved; a NAS is added, then its secret rotated', async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/network`);
      await page.getByLabel('Nom', { exact: true }).fill('nas-cotonou-1');
      await page.getByLabel('Adresse IP ou nom').fill('10.0.0.300');
      await page.getByRole('button', { name: 'Ajouter un NAS' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Adresse invalide');
      expect(await w.db.selectFrom('radius_nas').select('id').where('identifier', '=', 'nas-cotonou-1').executeTakeFirst()).toBeUndefined();
      await page.getByLabel('Adresse IP ou nom').fill('10.0.0.30');
      await page.getByRole('button', { name: 'Ajouter un NAS' }).click();
      await page.getByText(/Nouveau secret \(affiché une seule fois\)/).waitFor();
      const shown = ((await page.getByRole('status').first().textContent()) ?? '').split(': ').pop()?.trim() as string;
      const nas = await w.db.selectFrom('radius_nas').selectAll().where('identifier', '=', 'nas-cotonou-1').executeTakeFirstOrThrow();
      expect(nas.secret).toBe(shown);
      await page
        .getByRole('row', { name: /nas-cotonou-1/ })
        .getByRole('button', { name: 'Changer le secret' })
        .click();
      await page.getByText(/Nouveau secret/).waitFor();
      const after = await w.db.selectFrom('radius_nas').selectAll().where('identifier', '=', 'nas-cotonou-1').executeTakeFirstOrThrow();
      expect(after.secret).not.toBe(nas.secret);
      expect(await page.locator('main').textContent()).toContain(after.secret);
      expect(await page.locator('main').textContent()).toContain('Site Akpakpa');
      await screenshots(page, 'network');
      await page.getByRole('link', { name: 'Dernières mesures radio' }).first().click();
      await page.getByRole('heading', { name: 'Réseau · AP Akpakpa 1' }).waitFor();
      await screenshots(page, 'device');
    });

    it.skipIf(!HAS_SNMPSIM)('the device list shows every device’s latest poll, the device page a chart of its polls, as stored by the poll job', async () => {
      const state = await w.db.selectFrom('snmp_device_state').selectAll().where('device_id', '=', apId).executeTakeFirstOrThrow();
      expect(state.result).toBe('ok');
      const samples = await w.db.selectFrom('snmp_samples').selectAll().where('device_id', '=', apId).orderBy('polled_at').execute();
      expect(samples.length).toBe(3);
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/network`);
      const row = page.getByRole('row', { name: /AP Akpakpa 1/ });
      const cells = (await row.getByRole('cell').allTextContents()).map((c) => c.trim());
      expect(cells).toContain('ok');
      expect(state.rx_bps).not.toBeNull();
      expect(cells).toContain(String(Math.round(Number(state.rx_bps))));
      expect(cells).toContain(String(Math.round(Number(state.tx_bps))));
      expect(cells).toContain(String(Number(samples.at(-1)?.cpu_percent)));
      // The chart: the received rate of the polls that had a previous one to compare with (an if-mib device has no radio figures).
      await page.goto(`${w.base}/console/network/devices/${apId}`);
      const rates = samples
        .map((s) => s.rx_bps)
        .filter((v) => v !== null)
        .map(Number);
      expect(rates.length).toBe(2);
      expect(await page.getByRole('heading', { name: /Évolution · rx_bps/ }).count()).toBe(1);
      const tenth = (n: number) => Math.round(n * 10) / 10;
      expect(await page.getByRole('img').getAttribute('aria-label')).toBe(`rx_bps: min ${tenth(Math.min(...rates))}, max ${tenth(Math.max(...rates))}`);
      // A reseller sees its own device's figures too (A owns the site); B sees none of them.
      await signIn(page, w.base, w.a.token);
      await page.goto(`${w.base}/console/network`);
      expect(
        await page
          .getByRole('row', { name: /AP Akpakpa 1/ })
          .getByRole('cell')
          .allTextContents(),
      ).toContain(String(Math.round(Number(state.rx_bps))));
    });

    it('reseller B sees no add form and none of A’s sites; A’s device by URL is refused', async () => {
      await signIn(page, w.base, w.b.token);
      await page.goto(`${w.base}/console/network`);
      expect(await page.getByRole('button', { name: 'Ajouter un NAS' }).count()).toBe(0);
      expect(await page.locator('main').textContent()).not.toContain('Site Akpakpa');
      const res = await page.goto(`${w.base}/console/network/devices/${apId}`);
      expect(res?.status()).toBe(404);
      expect(await page.locator('main').textContent()).not.toContain('AP Akpakpa 1');
      // A's rotate form posted by hand is refused by the API (403) and shown as such.
      const post = await page.request.post(`${w.base}/console/network/nas/1/rotate`, { headers: { origin: w.base } });
      expect(post.status()).toBe(400);
      expect(await post.text()).toContain('forbidden');
      expect(siteId).toBeTruthy();
    });
  });

  describe('invoices, ARCEP reports, backups, audit', () => {
    it('invoices: a bad month gets a message; issuing a month lists the invoices; a reseller sees only its own', { timeout: 90_000 }, async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/invoices`);
      await page.getByLabel(/Période/).fill('2026-13');
      await page.getByRole('button', { name: 'Produire' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Mois invalide');
      const month = new Date(Date.now() + 3600_000).toISOString().slice(0, 7);
      await page.getByLabel(/Période/).fill(month);
      await page.getByRole('button', { name: 'Produire' }).click();
      await page.getByText('Terminé.').waitFor({ timeout: 60_000 });
      const issued = await w.db.selectFrom('reports_invoices').selectAll().execute();
      expect(issued.length).toBeGreaterThan(0);
      await screenshots(page, 'invoices');
      await page.getByRole('link', { name: 'Vérifier' }).first().click();
      await page.getByText('Document authentique : signature et chaîne valides.').waitFor({ timeout: 30_000 });
      const pdf = await page.request.get(`${w.base}/console/invoices/${(issued[0] as { id: string }).id}/pdf`);
      expect(pdf.headers()['content-type']).toContain('application/pdf');
      await signIn(page, w.base, w.a.token);
      await page.goto(`${w.base}/console/invoices`);
      const main = (await page.locator('main').textContent()) ?? '';
      for (const inv of issued as Array<{ reseller_id: string | null; number: string }>) {
        if (inv.reseller_id === w.b.id) expect(main).not.toContain(inv.number);
        if (inv.reseller_id === w.a.id) expect(main).toContain(inv.number);
      }
    });

    it('ARCEP: a bad quarter gets a message; the current quarter is produced from the world’s traffic, listed and verified', { timeout: 120_000 }, async () => {
      await signIn(page, w.base, w.server.nocToken);
      await page.goto(`${w.base}/console/arcep`);
      await page.getByLabel(/Période/).fill('2026-Q9');
      await page.getByRole('button', { name: 'Produire' }).click();
      expect(await page.getByRole('alert').textContent()).toContain('Trimestre invalide');
      expect(await w.db.selectFrom('arcep_reports').select('id').execute()).toEqual([]);
      // The quarter the seeded payments, session and incident fall in (Bénin time).
      const now = new Date(Date.now() + 3600_000);
      const quarter = `${now.getUTCFullYear()}-T${Math.floor(now.getUTCMonth() / 3) + 1}`;
      await page.getByLabel(/Période/).fill(quarter.toLowerCase());
      await page.getByRole('button', { name: 'Produire' }).click();
      await page
        .getByText('Terminé.')
        .waitFor({ timeout: 90_000 })
        .catch(async (e) => {
          throw new Error(`${(e as Error).message}\n${await page.locator('main').textContent()}`);
        });
      const reports = await w.db.selectFrom('arcep_reports').selectAll().execute();
      expect(reports.length).toBe(1);
      const report = reports[0] as { id: string; manifest_sha256: string };
      expect(await page.locator('main table').textContent()).toContain(report.manifest_sha256);
      await screenshots(page, 'arcep');
      await page.getByRole('link', { name: 'Vérifier' }).first().click();
      await page.getByText('Document authentique : signature et chaîne valides.').waitFor({ timeout: 30_000 });
      expect(new URL(page.url()).pathname).toBe(`/console/arcep/${report.id}/verify`);
      expect(await page.locator('main pre').textContent()).not.toBe('');
      await screenshots(page, 'arcep-verify');
      // An unknown report is the API's 404, in the page.
      const missing = await page.goto(`${w.base}/console/arcep/00000000-0000-4000-8000-000000000000/verify`);
      expect(missing?.status()).toBe(404);
      expect(await page.getByRole('alert').textContent()).toContain('report_not_found');
    });

    it('backups: “back up now” shows the run’s progress until it is finished', { timeout: 180_000 }, async () => {
      await page.goto(`${w.base}/console/backups`);
      await page.getByRole('button', { name: 'Sauvegarder maintenant' }).click();
      await page.getByRole('heading', { name: /^Sauvegardes · / }).waitFor({ timeout: 60_000 });
      await page.locator('[data-poll]').waitFor({ state: 'detached', timeout: 120_000 });
      const runs = await w.db.selectFrom('backup_runs').selectAll().execute();
      expect(runs.length).toBe(1);
      expect((runs[0] as { status: string }).status).not.toBe('running');
      expect(await page.locator('main').textContent()).toContain((runs[0] as { status: string }).status);
      await screenshots(page, 'backups');
    });

    it('audit log: the NOC sees the grant made by reseller A; resellers are refused', async () => {
      await page.goto(`${w.base}/console/audit`);
      expect(await page.locator('main').textContent()).toContain('geste commercial');
      await screenshots(page, 'audit');
      await signIn(page, w.base, w.b.token);
      expect((await page.goto(`${w.base}/console/audit`))?.status()).toBe(403);
      expect((await page.goto(`${w.base}/console/backups`))?.status()).toBe(403);
      expect(errors, errors.join('\n')).toEqual([]);
    });
  });
});
