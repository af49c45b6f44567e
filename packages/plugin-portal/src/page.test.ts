/**
 * The portal page as the server renders it (no browser: browser.test.ts drives it in Chromium).
 */
import { definePlugin, ledgerWriter, type PaymentProvider, PaymentProviders, voucherRedeemer } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import portal from './index.js';

const SECRET = 'portal-test-secret-0123456789-abcdefghij';

describe('portal page', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ plugins: [{ plugin: portal, config: { secret: SECRET } }] });
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = async (path: string) => {
    const res = await server.request(path);
    return { res, html: await res.text() };
  };
  const state = (html: string) =>
    JSON.parse(/<script id="st" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null') as {
      carry: string;
      lang: string;
      phone: string;
      nas: Record<string, any>;
      t: Record<string, string>;
    };
  const section = (html: string, id: string) => new RegExp(`<section id="${id}"( hidden)?>`).exec(html);

  it('is French first, self-contained, small, and locked down by its headers', async () => {
    const { res, html } = await get('/portal/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toMatch(/^<!doctype html><html lang="fr">/);
    expect(html).toContain('Recevoir le code');
    expect(Buffer.byteLength(html)).toBeLessThan(16 * 1024);
    // No external resource of any kind (the empty data: icon stops the favicon request), no storage API.
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect(html.replace('<link rel="icon" href="data:,">', '')).not.toMatch(/<link|src=|@import|url\(|https?:\/\//i);
    expect(html).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
    const csp = res.headers.get('content-security-policy') as string;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    // A new nonce each time.
    const again = await server.request('/portal/');
    expect(again.headers.get('content-security-policy')).not.toBe(csp);
  });

  it('is accessible: labelled inputs, numeric one-time-code field, live error region, language link', async () => {
    const { html } = await get('/portal/');
    expect(html).toContain('<label for="phone">');
    expect(html).toMatch(/<input id="phone"[^>]*type="tel"[^>]*inputmode="tel"[^>]*autocomplete="tel"/);
    expect(html).toContain('<label for="code">');
    expect(html).toMatch(/<input id="code"[^>]*inputmode="numeric"[^>]*autocomplete="one-time-code"/);
    expect(html).toMatch(/<p id="msg" role="alert"/);
    expect(html).toMatch(/<a id="lang" href="\?lang=en" hreflang="en" lang="en">English<\/a>/);
    expect(section(html, 's-phone')?.[1]).toBeUndefined();
    expect(section(html, 's-code')?.[1]).toBe(' hidden');
  });

  it('speaks English with ?lang=en and links back to French', async () => {
    const { html } = await get('/portal/?lang=en');
    expect(html).toMatch(/^<!doctype html><html lang="en">/);
    expect(html).toContain('Get the code');
    expect(html).toContain('>Français</a>');
    expect(state(html).t.e_otp_burned).toMatch(/^Too many attempts/);
  });

  it('lists the plans on sale, with the buy button disabled and the reason said', async () => {
    const { html } = await get('/portal/');
    for (const name of ['10 Mo / jour', '100 Mo / jour', '1 Go / mois', '5 Go / mois']) expect(html).toContain(`<b>${name}</b>`);
    expect(html).toContain('1\u202f000 FCFA');
    expect(html.match(/<button type="button" disabled aria-describedby="pay-note">Acheter<\/button>/g)).toHaveLength(4);
    expect(html).toContain('Le paiement Mobile Money sur cette page n’est pas encore disponible');
    // No voucher plugin: no prepaid-code field, no buy state.
    expect(html).not.toContain('id="s-v"');
    expect(state(html)).toMatchObject({ buy: null, redeem: null });
  });

  it('keeps the CoovaChilli parameters (and only NAS parameters) through the flow', async () => {
    const challenge = '0123456789abcdef0123456789abcdef';
    const { html } = await get(
      `/portal/?res=notyet&uamip=10.1.0.1&uamport=3990&challenge=${challenge}&called=00-11-22-33-44-55&mac=AA-BB-CC-DD-EE-FF&ip=10.1.0.5&nasid=nas01&sessionid=5c7e&userurl=http%3A%2F%2Fneverssl.com%2F&utm=x`,
    );
    const s = state(html);
    expect(new URLSearchParams(s.carry).get('uamip')).toBe('10.1.0.1');
    expect(new URLSearchParams(s.carry).get('utm')).toBeNull();
    expect(s.nas).toEqual({
      mac: 'AA-BB-CC-DD-EE-FF',
      ip: '10.1.0.5',
      nas_id: 'nas01',
      uam: { uamip: '10.1.0.1', uamport: 3990, challenge, userurl: 'http://neverssl.com/' },
    });
    // The language link keeps them.
    const lang = /<a id="lang" href="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&') as string;
    expect(new URLSearchParams(lang.slice(1)).get('challenge')).toBe(challenge);
    expect(new URLSearchParams(lang.slice(1)).get('lang')).toBe('en');
  });

  it('takes MikroTik variables from a form POST, on /portal/ and /portal', async () => {
    for (const path of ['/portal/', '/portal']) {
      const res = await server.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          mac: 'AA:BB:CC:DD:EE:01',
          ip: '10.5.50.9',
          'link-login-only': 'http://10.5.50.1/login',
          'link-orig': 'http://neverssl.com/',
          'chap-id': '\\042',
          'chap-challenge': '\\001\\002',
          identity: 'hs-parakou',
        }).toString(),
      });
      expect(res.status).toBe(200);
      expect(state(await res.text()).nas).toEqual({
        mac: 'AA:BB:CC:DD:EE:01',
        ip: '10.5.50.9',
        nas_id: 'hs-parakou',
        mikrotik: { link_login_only: 'http://10.5.50.1/login', chap_id: '\\042', chap_challenge: '\\001\\002', link_orig: 'http://neverssl.com/' },
      });
    }
    expect((await server.request('/portal?lang=en')).status).toBe(200);
  });

  it('renders the code step from the URL (reload or re-open keeps the state without storage)', async () => {
    const { html } = await get('/portal/?mac=AA-BB-CC-DD-EE-FF&lang=fr&step=code&phone=%2B2290197000001');
    expect(section(html, 's-phone')?.[1]).toBe(' hidden');
    expect(section(html, 's-code')?.[1]).toBeUndefined();
    expect(html).toContain('<b id="to">+229 01 97 00 00 01</b>');
    expect(state(html).phone).toBe('+2290197000001');
    // A bad phone in the URL falls back to the phone step.
    const bad = await get('/portal/?step=code&phone=nope');
    expect(section(bad.html, 's-phone')?.[1]).toBeUndefined();
  });

  it('shows the NAS outcome when CoovaChilli sends the browser back (res=success / res=failed)', async () => {
    const ok = await get('/portal/?res=success&userurl=http%3A%2F%2Fneverssl.com%2F');
    expect(ok.html).toContain('Vous êtes connecté à Internet');
    expect(ok.html).toContain('<a href="http://neverssl.com/">Continuer</a>');
    const failed = await get('/portal/?res=failed&reply=Plan%20expired');
    expect(failed.html).toMatch(/<p id="msg" role="alert" class="err">Le point d’accès WiFi a refusé la connexion\. Plan expired<\/p>/);
  });

  it('escapes what the NAS (or anyone) puts in the URL', async () => {
    const { html } = await get(
      `/portal/?res=success&userurl=${encodeURIComponent('javascript:alert(1)')}&error=${encodeURIComponent('<img src=x onerror=alert(1)>')}&mac=${encodeURIComponent('</script><script>alert(1)</script>')}`,
    );
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).not.toContain('javascript:alert');
    expect(html).not.toContain('</script><script>alert(1)');
    expect(state(html).nas.mac).toBe('</script><script>alert(1)</script>');
  });
});

/**
 * What the page offers depends on what is loaded: the buy buttons need core's `ledgerWriter` (billing) AND a payment
 * provider; the "Code prépayé" field needs `voucherRedeemer` (vouchers). Both are bound here as stand-ins.
 */
describe('portal page with billing and vouchers bound', () => {
  let server: TestServer;
  const provider = {
    id: 'payer',
    provider: 'fake',
    capabilities: {
      checkoutKinds: ['client_widget'],
      canList: false,
      refunds: 'none',
      currencies: ['XOF'],
      walledGardenHosts: ['cdn.pay.example', 'widget.pay.example'],
    },
  } as unknown as PaymentProvider;
  const writer = { ordersPath: '/api/billing/orders', postVoucherSale: async () => null };
  const redeemer = { redeemPath: '/api/vouchers/redeem', redeem: async () => Promise.reject(new Error('unused')) };

  const start = async (withProvider: boolean) =>
    startTestServer({
      plugins: [
        { plugin: portal, config: { secret: SECRET } },
        definePlugin({
          name: 'stand-ins',
          version: '0.0.0',
          core: '*',
          setup(ctx) {
            if (withProvider) ctx.contribute(PaymentProviders, provider);
          },
        }),
      ],
      overrides: [
        [ledgerWriter, writer],
        [voucherRedeemer, redeemer],
      ],
    });
  beforeAll(async () => {
    server = await start(true);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('enables "Acheter" per plan, says how to pay, and lets exactly the providers’ hosts through the CSP', async () => {
    const res = await server.request('/portal/');
    const html = await res.text();
    expect(html.match(/<button type="button" data-plan="(DAY10MB|DAY100MB|MONTH1GB|MONTH5GB)">Acheter<\/button>/g)).toHaveLength(4);
    expect(html).toContain('Paiement par Mobile Money');
    expect(html).not.toContain('pas encore disponible');
    const s = JSON.parse(/<script id="st" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null');
    expect(s.buy).toBe('/api/billing/orders');
    expect(s.t.paid).toBe('Paiement reçu : forfait {name} activé.');
    const csp = res.headers.get('content-security-policy') as string;
    expect(csp).toMatch(/script-src 'nonce-[^']+' https:\/\/cdn\.pay\.example https:\/\/widget\.pay\.example;/);
    expect(csp).toContain("connect-src 'self' https://cdn.pay.example https://widget.pay.example;");
    expect(csp).toContain('frame-src https://cdn.pay.example https://widget.pay.example;');
    expect(Buffer.byteLength(html)).toBeLessThan(16 * 1024);
  });

  it('shows the prepaid-code field (hidden until login), prefilled from ?voucher= and escaped', async () => {
    const html = await (await server.request('/portal/?voucher=k7m2q-9xr4t')).text();
    expect(html).toMatch(/<section id="s-v" hidden><form id="f-v" novalidate><label for="voucher">Code prépayé<\/label><input id="voucher"/);
    expect(html).toContain('value="k7m2q-9xr4t"');
    const s = JSON.parse(/<script id="st" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null');
    expect(s.redeem).toBe('/api/vouchers/redeem');
    expect(new URLSearchParams(s.carry).get('voucher')).toBe('k7m2q-9xr4t');
    const hostile = await (await server.request(`/portal/?voucher=${encodeURIComponent('"><script>alert(1)</script>')}`)).text();
    expect(hostile).toContain('value="scriptalert1script"');
  });

  it('billing without a payment provider: the buttons stay disabled with the old note', async () => {
    const other = await start(false);
    try {
      const html = await (await other.request('/portal/')).text();
      expect(html.match(/<button type="button" disabled aria-describedby="pay-note">Acheter<\/button>/g)).toHaveLength(4);
      expect(html).toContain('pas encore disponible');
    } finally {
      await other.close();
    }
  });
});
