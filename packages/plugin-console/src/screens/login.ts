/** Sign-in by pasting an API token (checked with GET /api/core/whoami), and sign-out. */
import { ApiClient, loopbackBase } from '../api.js';
import { type Ctx, form, htmlResponse, langOf, notice, redirect, shell } from '../app.js';
import { h } from '../html.js';
import { type Lang, translator } from '../i18n.js';
import type { ConsoleRoutes } from '../index.js';
import { cookie, createSession, deleteSession, parseCookies, SESSION_COOKIE } from '../session.js';

interface WhoAmI {
  role: 'noc' | 'reseller' | 'subscriber';
  name: string;
  reseller_id: string | null;
}

/** Only a path of this console: never another site (open redirect) nor a protocol-relative URL. */
export const safeNext = (next: string | undefined) => (next && /^\/console(\/|\?|$)/.test(next) && !next.startsWith('//') ? next : '/console');

export function registerLogin(r: ConsoleRoutes): void {
  const view = (c: Ctx, lang: Lang, error: string | null, status: number) => {
    const t = translator(lang);
    const next = safeNext(c.req.query('next'));
    const body = h`${notice('error', error)}
<form method="post" action="/console/login?next=${encodeURIComponent(next)}" class="box">
<p>${t('login_intro')}</p>
<label for="token">${t('token_label')}</label>
<input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
<div><button type="submit">${t('login_btn')}</button></div></form>`;
    return htmlResponse(shell({ lang, t, user: null, here: `/console/login?next=${encodeURIComponent(next)}` }, t('login_h'), body), status);
  };

  r.open('get', '/login', 'Console sign-in page', async (c) => view(c, langOf(c, r.deps.defaultLang), null, 200));

  r.open('post', '/login', 'Console sign-in: checks the pasted API token and opens a session', async (c) => {
    const lang = langOf(c, r.deps.defaultLang);
    const t = translator(lang);
    const token = (await form(c)).token ?? '';
    if (!token) return view(c, lang, t('e_token_empty'), 400);
    const who = await new ApiClient(loopbackBase(c.env), token, c.get('requestId')).get<WhoAmI>('/api/core/whoami');
    if (!who.ok) return view(c, lang, who.status === 401 ? t('e_token_invalid') : t('e_api', { e: who.problem.detail }), who.status === 401 ? 401 : 502);
    if (who.data.role === 'subscriber') return view(c, lang, t('e_token_role'), 403);
    const id = await createSession(
      r.deps.kv,
      { token, user: { role: who.data.role, name: who.data.name, resellerId: who.data.reseller_id } },
      r.sessionSeconds,
    );
    return redirect(safeNext(c.req.query('next')), [cookie(SESSION_COOKIE, id, { secure: r.deps.secureCookies, maxAge: r.sessionSeconds })]);
  });

  r.open('post', '/logout', 'Console sign-out', async (c) => {
    await deleteSession(r.deps.kv, parseCookies(c.req.header('cookie'))[SESSION_COOKIE]);
    return redirect('/console/login', [cookie(SESSION_COOKIE, '', { secure: r.deps.secureCookies, maxAge: 0 })]);
  });
}
