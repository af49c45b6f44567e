/**
 * `POST /radius/rest/{authorize,authenticate,post-auth,accounting}`: the HTTP backend FreeRADIUS's rlm_rest calls
 * (`body = json`), so an operator who runs FreeRADIUS can put RGZ behind it. FreeRADIUS has already checked the NAS,
 * the shared secret, the authenticators and duplicates; RGZ takes the decision and stores accounting with the very
 * same service the native UDP server uses, and answers in rlm_rest's terms (`mods-available/rest`):
 * - authorize / authenticate: 200 + `{"reply:…": …, "control:Auth-Type": "Accept"}` (ok/updated); 401 +
 *   `{"reply:Reply-Message": …}` (reject, body processed); 404 for a user name that is neither a subscriber nor a
 *   known device (notfound: other modules of the site may know it);
 * - accounting: 204 once the record is committed; 5xx when it is not (fail: no Accounting-Response, the NAS retries,
 *   RFC 2866 §2); 400 for a malformed record (invalid: not answered either, as the UDP server drops it);
 * - post-auth: 204 (the decision was logged and counted at authorize).
 * Access is declared `public` to the core router because the caller is not an RGZ principal: FreeRADIUS proves itself
 * with `Authorization: Bearer <plugins.radius.config.rest.token>`, compared in constant time.
 * The NAS is the one FreeRADIUS received the packet from (`?nas=%{Packet-Src-IP-Address}` in the shipped config),
 * else NAS-IP-Address / NAS-IPv6-Address, else NAS-Identifier; it must be registered in RGZ for its dialect and
 * reseller (its secret is then only used for CoA).
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { httpErrors, type Logger, type PluginRouter, RgzError } from '@rgz/core';
import type { RadiusDictionary } from '../codec/index.js';
import type { NasEntry, NasRegistry } from '../nas/registry.js';
import type { RadiusMetrics } from '../server/metrics.js';
import type { RequestAttributes } from '../server/request.js';
import { AccountingNotStored, type RadiusService } from '../server/service.js';
import { RestBodyError, restAttributes, restReply } from './json.js';

export interface RestRoutesDeps {
  token: string;
  registry: NasRegistry;
  dictionary(): RadiusDictionary;
  service: RadiusService;
  metrics: RadiusMetrics;
  log: Logger;
  tags: string[];
}

/** The request context of a raw route (hono's, through core's router: plugins do not import hono). */
type RawContext = Parameters<Parameters<PluginRouter['raw']>[1]>[0];

const digest = (text: string) => createHash('sha256').update(text).digest();

/** `Authorization: Bearer <token>` in constant time (digests, so the lengths do not leak either). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}

/** Rejects FreeRADIUS reads as "not ours" (notfound), so the site may try other modules. */
const NOT_FOUND_REASONS = new Set(['unknown_user', 'unknown_device']);

export function registerRestRoutes(router: PluginRouter, deps: RestRoutesDeps): void {
  async function request(c: RawContext): Promise<{ nas: NasEntry; attributes: RequestAttributes; started: bigint }> {
    const started = process.hrtime.bigint();
    if (!bearerMatches(c.req.header('authorization'), deps.token)) {
      c.header('www-authenticate', 'Bearer realm="rgz-radius-rest"');
      throw httpErrors.unauthorized('FreeRADIUS must send Authorization: Bearer <plugins.radius.config.rest.token> (control:REST-HTTP-Header)');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw httpErrors.badRequest('radius_rest_body_invalid', 'The body is not JSON: set body = json in the rest module section');
    }
    let attributes: RequestAttributes;
    try {
      attributes = restAttributes(body, deps.dictionary());
    } catch (err) {
      if (err instanceof RestBodyError) throw httpErrors.badRequest(err.code, err.message);
      throw err;
    }
    const text = (name: string) => {
      const v = attributes.get(name);
      return typeof v === 'string' && v.length > 0 ? v : undefined;
    };
    const from = c.req.query('nas') || text('NAS-IP-Address') || text('NAS-IPv6-Address');
    const identifier = text('NAS-Identifier');
    const nas = (from ? deps.registry.byAddress(from) : undefined) ?? (identifier ? deps.registry.byIdentifier(identifier) : undefined);
    if (nas === undefined) {
      deps.metrics.drop('unknown_nas');
      deps.log.warn({ nas_address: from, nas_identifier: identifier, via: 'rest' }, 'request relayed by FreeRADIUS from a NAS RGZ does not know; refused');
      throw new RgzError(
        'radius_rest_unknown_nas',
        `No enabled NAS ${from ? `at ${from}` : ''}${from && identifier ? ' or ' : ''}${identifier ? `named ${identifier}` : ''}: add it (POST /api/radius/nas or plugins.radius.config.nas) with its vendor`,
        { status: 403 },
      );
    }
    return { nas, attributes, started };
  }

  for (const section of ['authorize', 'authenticate'] as const) {
    router.raw(
      {
        method: 'post',
        path: `/${section}`,
        access: 'public',
        summary: `FreeRADIUS rlm_rest ${section} (body = json; Authorization: Bearer <rest.token>): 200 accept with reply attributes, 401 reject, 404 unknown user`,
        tags: deps.tags,
      },
      async (c) => {
        const { nas, attributes, started } = await request(c);
        const outcome = await deps.service.access(nas, attributes, 'rest', started);
        const { body, skipped } = restReply(outcome.attributes, deps.dictionary());
        if (skipped > 0) deps.log.warn({ nas: nas.identifier, skipped }, 'reply attributes without a dictionary name left out of the rlm_rest reply');
        if (outcome.accepted) {
          // authorize decides: authenticate { Auth-Type Accept } then needs no password module.
          if (section === 'authorize') body['control:Auth-Type'] = 'Accept';
          return c.json(body, 200);
        }
        return c.json(body, NOT_FOUND_REASONS.has(outcome.reason ?? '') ? 404 : 401);
      },
    );
  }

  router.raw(
    {
      method: 'post',
      path: '/accounting',
      access: 'public',
      summary: 'FreeRADIUS rlm_rest accounting (body = json): 204 once the record is committed, 503 when it is not (FreeRADIUS then does not answer the NAS)',
      tags: deps.tags,
    },
    async (c) => {
      const { nas, attributes, started } = await request(c);
      try {
        await deps.service.accounting(nas, attributes, new Date(), started);
      } catch (err) {
        if (!(err instanceof AccountingNotStored)) throw err;
        deps.metrics.drop(err.code);
        if (err.code === 'invalid_accounting') throw httpErrors.badRequest('radius_accounting_invalid', err.message);
        throw httpErrors.unavailable('radius_accounting_not_stored', 'The accounting record was not stored; FreeRADIUS must not answer, the NAS retries');
      }
      return c.body(null, 204);
    },
  );

  router.raw(
    {
      method: 'post',
      path: '/post-auth',
      access: 'public',
      summary: 'FreeRADIUS rlm_rest post-auth (body = json): 204; the decision was already logged and counted at authorize',
      tags: deps.tags,
    },
    async (c) => {
      const { nas, attributes } = await request(c);
      const result = c.req.query('result');
      if (result) deps.log.debug({ nas: nas.identifier, user: attributes.get('User-Name'), result, via: 'rest' }, 'FreeRADIUS post-auth');
      return c.body(null, 204);
    },
  );
}
