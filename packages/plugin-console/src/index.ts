/**
 * @rgz/plugin-console: the operator console under `/console`, server-rendered HTML for NOC admins and resellers,
 * built only on the public HTTP API (see api.ts): sign-in with an API token, then one screen per flow.
 */
import { readFile } from 'node:fs/promises';
import { definePlugin, type PluginRouter, type SetupContext, z } from '@rgz/core';
import { authenticate, type ConsoleDeps, type Ctx, htmlResponse, langOf, NOC_ONLY, notice, type PageHandler, redirect, sameOrigin, shell } from './app.js';
import { translator } from './i18n.js';
import { registerAdmin } from './screens/admin.js';
import { registerLogin } from './screens/login.js';
import { registerNetwork } from './screens/network.js';
import { registerOverview } from './screens/overview.js';
import { registerPayments } from './screens/payments.js';
import { registerSubscribers } from './screens/subscribers.js';
import { cookie, LANG_COOKIE } from './session.js';

export const configSchema = z.strictObject({
  /** How long a sign-in lasts without signing in again (hours). */
  sessionHours: z.coerce.number().int().min(1).max(168).default(12),
  /** Language when the browser has not chosen one (`?lang=`). */
  defaultLang: z.enum(['fr', 'en']).default('fr'),
});

export type ConsoleConfig = z.infer<typeof configSchema>;

/** Registers console pages on a router; every page is `public` to the API layer and checks the console session itself. */
export interface ConsoleRoutes {
  deps: ConsoleDeps;
  sessionSeconds: number;
  /** A signed-in page (GET). */
  get(path: string, summary: string, handler: PageHandler): void;
  /** A signed-in form post: origin-checked, then the handler. */
  post(path: string, summary: string, handler: PageHandler): void;
  /** A page anyone may open (sign-in). */
  open(method: 'get' | 'post', path: string, summary: string, handler: (c: Ctx) => Promise<Response>): void;
}

function routes(ctx: SetupContext<ConsoleConfig>, router: PluginRouter): ConsoleRoutes {
  const deps: ConsoleDeps = {
    kv: ctx.kv,
    router,
    name: ctx.name,
    defaultLang: ctx.config.defaultLang,
    secureCookies: ctx.server.publicUrl.startsWith('https:'),
  };
  const tags = [ctx.name];
  // `?lang=` is remembered in a cookie so the choice follows the user from page to page.
  const withLangCookie = (c: Ctx, res: Response): Response => {
    const q = c.req.query('lang');
    if (q === 'fr' || q === 'en') res.headers.append('set-cookie', cookie(LANG_COOKIE, q, { secure: deps.secureCookies, maxAge: 31_536_000, httpOnly: false }));
    return res;
  };
  const run = async (c: Ctx, handler: PageHandler, isPost: boolean): Promise<Response> => {
    if (isPost && !sameOrigin(c)) {
      const lang = langOf(c, deps.defaultLang);
      const t = translator(lang);
      return htmlResponse(shell({ lang, t, user: null, here: '/console' }, t('title'), notice('error', t('e_csrf'))), 403);
    }
    const r = await authenticate(c, deps);
    if (r instanceof Response) return r;
    if (r.user.role !== 'noc' && NOC_ONLY.test(c.req.path)) return htmlResponse(shell(r, r.t('title'), notice('error', r.t('noc_only'))), 403);
    const out = await handler(r);
    return withLangCookie(c, out instanceof Response ? out : htmlResponse(out));
  };
  return {
    deps,
    sessionSeconds: ctx.config.sessionHours * 3600,
    get(path, summary, handler) {
      router.raw({ method: 'get', path, access: 'public', summary, tags, contentType: 'text/html' }, (c) => run(c, handler, false));
    },
    post(path, summary, handler) {
      router.raw({ method: 'post', path, access: 'public', summary, tags, contentType: 'text/html' }, (c) => run(c, handler, true));
    },
    open(method, path, summary, handler) {
      router.raw({ method, path, access: 'public', summary, tags, contentType: 'text/html' }, async (c) => {
        if (method === 'post' && !sameOrigin(c)) return new Response('cross-origin form post refused', { status: 403 });
        return withLangCookie(c, await handler(c));
      });
    },
  };
}

export default definePlugin({
  name: 'console',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Operator console: web UI for NOC admins and resellers, on the public HTTP API',
  config: configSchema,
  setup(ctx) {
    const router = ctx.router('/console');
    const r = routes(ctx, router);
    const asset = (file: string, type: string) => async () => {
      const body = await readFile(new URL(`../assets/${file}`, import.meta.url));
      return new Response(body, { headers: { 'content-type': type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' } });
    };
    router.raw(
      { method: 'get', path: '/assets/console.css', access: 'public', summary: 'Console stylesheet', tags: [ctx.name], contentType: 'text/css' },
      asset('console.css', 'text/css; charset=utf-8'),
    );
    router.raw(
      {
        method: 'get',
        path: '/assets/console.js',
        access: 'public',
        summary: 'Console script (progress of long actions)',
        tags: [ctx.name],
        contentType: 'text/javascript',
      },
      asset('console.js', 'text/javascript; charset=utf-8'),
    );
    // `/console/` with the slash is a distinct path for hono: send it to the overview.
    ctx
      .router('/')
      .raw({ method: 'get', path: '/console/', access: 'public', summary: 'Console: to the overview', tags: [ctx.name], contentType: 'text/html' }, () =>
        redirect('/console'),
      );
    registerLogin(r);
    registerOverview(r);
    registerSubscribers(r);
    registerPayments(r);
    registerNetwork(r);
    registerAdmin(r);
  },
});
