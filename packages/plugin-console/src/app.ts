/**
 * The console's request plumbing: session lookup, language, the origin check on every form post, the page shell
 * (navigation by role), and helpers the screens share (tables, money, dates, API errors shown in the page).
 */
import type { Kv, PluginRouter } from '@rgz/core';
import { ApiClient, type ApiResult, loopbackBase } from './api.js';
import { type Html, h, raw } from './html.js';
import { type Key, type Lang, type T, translator } from './i18n.js';
import { type ConsoleUser, LANG_COOKIE, parseCookies, readSession, SESSION_COOKIE } from './session.js';

/** What a handler needs: the hono context is kept loose here, the router types it. */
// the plugin router's context type is hono's, with core's env
export type Ctx = any;

export interface Req {
  c: Ctx;
  lang: Lang;
  t: T;
  user: ConsoleUser;
  api: ApiClient;
  /** The current path with its query, to come back to after an action. */
  here: string;
}

export interface ConsoleDeps {
  kv: Kv;
  router: PluginRouter;
  name: string;
  defaultLang: Lang;
  secureCookies: boolean;
}

export type PageHandler = (r: Req) => Promise<Response | Html>;

export interface NavItem {
  path: string;
  key: Key;
  nocOnly?: boolean;
}

export const NAV: NavItem[] = [
  { path: '/console', key: 'overview' },
  { path: '/console/subscribers', key: 'subscribers' },
  { path: '/console/plans', key: 'plans' },
  { path: '/console/payments', key: 'payments' },
  { path: '/console/incidents', key: 'incidents', nocOnly: true },
  { path: '/console/network', key: 'network' },
  { path: '/console/invoices', key: 'invoices' },
  { path: '/console/arcep', key: 'arcep', nocOnly: true },
  { path: '/console/backups', key: 'backups', nocOnly: true },
  { path: '/console/audit', key: 'audit', nocOnly: true },
];

/** Console paths only the NOC may open (the API refuses resellers there too; this gives them a clear page). */
export const NOC_ONLY = /^\/console\/(incidents|arcep|backups|audit|ledger|reconciliation)(\/|$)/;

export function langOf(c: Ctx, fallback: Lang): Lang {
  const q = c.req.query('lang');
  if (q === 'fr' || q === 'en') return q;
  const fromCookie = parseCookies(c.req.header('cookie'))[LANG_COOKIE];
  return fromCookie === 'fr' || fromCookie === 'en' ? fromCookie : fallback;
}

/**
 * Cross-site request forgery: the session cookie is SameSite=Strict, so another site's form cannot carry it; in
 * addition every POST must come from a page of this host (Origin, or Referer when a browser leaves Origin out).
 */
export function sameOrigin(c: Ctx): boolean {
  const host = c.req.header('host');
  const from = c.req.header('origin') ?? c.req.header('referer');
  if (!host || !from || from === 'null') return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export function htmlResponse(body: Html, status = 200, extra: Record<string, string> = {}): Response {
  return new Response(body.value, { status, headers: { ...HEADERS, ...extra } });
}

export function redirect(location: string, setCookie?: string[]): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const c of setCookie ?? []) headers.append('set-cookie', c);
  return new Response(null, { status: 303, headers });
}

/** The signed-in request, or a redirect to the sign-in page. */
export async function authenticate(c: Ctx, deps: ConsoleDeps): Promise<Req | Response> {
  const lang = langOf(c, deps.defaultLang);
  const session = await readSession(deps.kv, parseCookies(c.req.header('cookie'))[SESSION_COOKIE]);
  const url = new URL(c.req.url);
  if (!session) return redirect(`/console/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  return {
    c,
    lang,
    t: translator(lang),
    user: session.user,
    api: new ApiClient(loopbackBase(c.env), session.token, c.get('requestId')),
    here: url.pathname + url.search,
  };
}

export function withLang(here: string, lang: Lang): string {
  const u = new URL(here, 'http://console.invalid');
  u.searchParams.set('lang', lang);
  u.searchParams.delete('ok');
  return u.pathname + u.search;
}

export function shell(r: { lang: Lang; t: T; user: ConsoleUser | null; here: string }, title: string, body: Html, current?: string): Html {
  const { t, user, lang } = r;
  const other = lang === 'fr' ? 'en' : 'fr';
  const items = user ? NAV.filter((n) => !n.nocOnly || user.role === 'noc') : [];
  return h`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${t('title')}</title><link rel="stylesheet" href="/console/assets/console.css"><script src="/console/assets/console.js" defer></script></head>
<body><a class="skip" href="#main">${t('skip')}</a>
<header><span class="brand">${t('title')}</span>
${user ? h`<span class="who">${t('signed_as', { name: user.name, role: t(user.role === 'noc' ? 'role_noc' : 'role_reseller') })}</span>` : ''}
<a class="lang" href="${withLang(r.here, other)}" lang="${other}">${t('other_lang')}</a>
${user ? h`<form method="post" action="/console/logout" class="inline"><button type="submit" class="link">${t('sign_out')}</button></form>` : ''}
</header>
${items.length ? h`<nav aria-label="${t('nav')}"><ul>${items.map((n) => h`<li><a href="${n.path}"${n.path === current ? raw(' aria-current="page"') : ''}>${t(n.key)}</a></li>`)}</ul></nav>` : ''}
<main id="main"><h1>${title}</h1>
${body}
</main></body></html>`;
}

export function page(r: Req, title: string, body: Html, current?: string, status = 200): Response {
  return htmlResponse(shell(r, title, body, current), status);
}

/** A message above the content: `role=alert` for errors so screen readers announce it. */
export function notice(kind: 'ok' | 'error', text: string | null | undefined): Html {
  if (!text) return h``;
  return kind === 'error' ? h`<p class="msg error" role="alert">${text}</p>` : h`<p class="msg ok" role="status">${text}</p>`;
}

/** The API's refusal, or a missing route, as a sentence in the page. */
export function apiError(r: Req, res: ApiResult<unknown>, path: string): string {
  if (res.ok) return '';
  if (res.status === 404 && res.problem.code === 'route_not_found') return r.t('e_missing_route', { path });
  return r.t('e_api', { e: `${res.problem.detail} (${res.problem.code})` });
}

export function table(r: Req, headers: Array<string | Html>, rows: Array<Array<string | number | Html | null | undefined>>, caption?: string): Html {
  if (rows.length === 0) return h`${caption ? h`<h2>${caption}</h2>` : ''}<p class="empty">${r.t('no_rows')}</p>`;
  return h`<div class="scroll"><table>${caption ? h`<caption>${caption}</caption>` : ''}
<thead><tr>${headers.map((x) => h`<th scope="col">${x}</th>`)}</tr></thead>
<tbody>${rows.map((row) => h`<tr>${row.map((cell) => h`<td>${cell ?? '—'}</td>`)}</tr>`)}</tbody></table></div>`;
}

export function money(r: Req, n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return r.t('fcfa', { n: new Intl.NumberFormat(r.lang === 'fr' ? 'fr-FR' : 'en-GB').format(n).replace(/\u202f|\u00a0/g, ' ') });
}

export function when(r: Req, iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(r.lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'Africa/Porto-Novo', dateStyle: 'short', timeStyle: 'short' });
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['o', 'Ko', 'Mo', 'Go', 'To'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The value of a form field, trimmed; hono parses urlencoded bodies into strings. */
export async function form(c: Ctx): Promise<Record<string, string>> {
  const body = (await c.req.parseBody()) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

export const link = (href: string, text: string) => h`<a href="${href}">${text}</a>`;

/** A table of API objects: the given keys (or every scalar key of the first item), dates and money readable. */
export type Column = string | [key: string, label: Key];

export function autoTable(r: Req, items: Array<Record<string, unknown>>, columns?: Column[], extra?: (row: Record<string, unknown>) => Html | string): Html {
  // An API answer of another shape than expected shows as an empty table, not an error page.
  if (!Array.isArray(items)) items = [];
  const first = items[0];
  const scalar = (k: string) => {
    const v = first?.[k];
    return v === null || ['string', 'number', 'boolean'].includes(typeof v);
  };
  const picked: Column[] = columns ?? (first ? Object.keys(first).filter(scalar) : []);
  const cols = picked.map((c) => (typeof c === 'string' ? c : c[0]));
  const labels = picked.map((c) => (typeof c === 'string' ? c : r.t(c[1])));
  const cell = (k: string, v: unknown): string => {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number' && /_fcfa$/.test(k)) return money(r, v);
    if (typeof v === 'number' && /bytes/.test(k)) return bytes(v);
    if (typeof v === 'string' && /(_at|At|^at)$/.test(k) && /^\d{4}-\d\d-\d\dT/.test(v)) return when(r, v);
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
  return table(
    r,
    [...labels, ...(extra ? [r.t('actions')] : [])],
    items.map((row) => [...cols.map((k) => cell(k, row[k])), ...(extra ? [h`${extra(row)}`] : [])]),
  );
}
