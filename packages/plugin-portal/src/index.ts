/**
 * @rgz/plugin-portal — the captive portal of flow 1 (seed "Authentification abonné"): phone number → SMS code →
 * subscriber session → the parameters the NAS needs to log the device in with RADIUS, plus the page itself.
 *
 * Routes (prefix /portal): POST /otp/request, POST /otp/verify, GET /me, GET /plans, and the page at GET|POST
 * /portal/ (also /portal). KV keys, decisions and config: README.md.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  auditInsert,
  ConfigError,
  definePlugin,
  defineRoute,
  defineTask,
  httpErrors,
  jsonContent as json,
  ledgerWriter,
  nasDirectory,
  PaymentProviders,
  PlanOfferSchema,
  type PluginRouter,
  planOffer,
  plansOnSale,
  portalClientAuthorised,
  problemContent as problem,
  quotaWindowStart,
  RgzError,
  SmsFailoverError,
  type SmsSender,
  SmsSenders,
  sendWithFailover,
  usageSource,
  voucherRedeemer,
  z,
} from '@rgz/core';
import { configSchema, type PortalConfig } from './config.js';
import { fill, type Lang, messages } from './i18n.js';
import { normaliseMac } from './mac.js';
import { coovaChilliLogin, mikrotikLogin, type NasLogin, NasLoginError } from './nas-login.js';
import { deriveOtpKeys, generateSessionPassword, openCode, sealCode } from './otp-crypto.js';
import { OtpStore, portalKeys } from './otp-store.js';
import { NAS_PARAMS, renderPage } from './page.js';
import { normalisePhone } from './phone.js';
import { activePlanView, deviceUpsert, loginSubscriber, resolveReseller } from './subscribers.js';

export { configSchema, type PortalConfig } from './config.js';
export { normaliseMac } from './mac.js';
export { coovaChilliLogin, decodeRouterOsString, type MikrotikParams, mikrotikLogin, type NasLogin, type UamParams } from './nas-login.js';
export { type OtpRecord, portalKeys } from './otp-store.js';
export { normalisePhone, type PhoneResult } from './phone.js';
export { REF_ALPHABET } from './subscribers.js';

/** Payload of the SMS task: the code only sealed (AES-256-GCM under a key derived from `secret`). */
export interface SendOtpPayload {
  phone: string;
  otp_id: string;
  sealed: string;
  lang: Lang;
}

const Phone = z
  .string()
  .max(40)
  .openapi({ description: 'Mobile number as typed: +229 01 97 00 00 00, 0197000000, or an old 8-digit number (mapped to 01…)', example: '0197000000' });

const ActivePlanSchema = PlanOfferSchema.extend({ starts_at: z.string(), expires_at: z.string(), remaining_seconds: z.number().int() }).openapi(
  'PortalActivePlan',
);
const NasLoginSchema = z
  .object({
    kind: z.enum(['coovachilli', 'mikrotik']),
    method: z.enum(['GET', 'POST']),
    url: z.string(),
    fields: z.record(z.string(), z.string()),
  })
  .openapi('PortalNasLogin');

const OtpSent = z.object({
  status: z.enum(['code_sent', 'code_already_sent']),
  expires_in: z.number().int().openapi({ description: 'Seconds the code stays valid' }),
  phone: z.string().openapi({ description: 'The number in E.164, as the code was sent to it', example: '+2290197000000' }),
  display: z.string().openapi({ example: '+229 01 97 00 00 00' }),
});

const VerifyBody = z.object({
  phone: Phone,
  code: z.string().max(64).openapi({ description: 'The 6 digits (spaces ignored)', example: '482913' }),
  mac: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'Client MAC from the NAS redirect (CoovaChilli `mac`, MikroTik `$(mac)`)', example: 'AA-BB-CC-DD-EE-FF' }),
  ip: z.string().max(45).optional().openapi({ description: 'Client IP behind the NAS, from the redirect (`ip`)' }),
  nas_id: z.string().max(253).optional().openapi({ description: 'NAS-Identifier (CoovaChilli `nasid`, MikroTik `$(identity)`): finds the reseller' }),
  reseller: z.string().max(64).optional().openapi({ description: 'Reseller slug from the portal link, when the NAS is unknown' }),
  uam: z
    .object({
      uamip: z.string().max(45),
      uamport: z.coerce.number().int().min(1).max(65535),
      challenge: z.string().regex(/^[0-9a-fA-F]{32}$/, '32 hexadecimal digits'),
      userurl: z.string().max(2048).optional(),
    })
    .optional()
    .openapi({ description: 'CoovaChilli UAM parameters the portal was opened with' }),
  mikrotik: z
    .object({
      link_login_only: z.string().max(2048),
      chap_id: z.string().max(64).optional(),
      chap_challenge: z.string().max(512).optional(),
      link_orig: z.string().max(2048).optional(),
    })
    .optional()
    .openapi({ description: 'MikroTik hotspot parameters ($(link-login-only), $(chap-id), $(chap-challenge), $(link-orig))' }),
});

const VerifyAnswer = z.object({
  subscriber_ref: z.string().openapi({ example: 'RGZ-7K2Q9M' }),
  phone: z.string(),
  has_active_plan: z.boolean(),
  plan: ActivePlanSchema.nullable(),
  api_token: z.string().openapi({ description: 'Subscriber bearer token for GET /portal/me (24 h)' }),
  api_token_expires_at: z.string(),
  nas_login: NasLoginSchema.nullable().openapi({ description: 'What the browser sends to the NAS; null when the page was not opened by a NAS' }),
});

const MeAnswer = z.object({
  subscriber_ref: z.string(),
  phone: z.string(),
  status: z.string(),
  has_active_plan: z.boolean(),
  plan: ActivePlanSchema.nullable(),
  usage: z
    .object({
      window_start: z.string(),
      upload_bytes: z.number(),
      download_bytes: z.number(),
      used_bytes: z.number(),
      quota_bytes: z.number().nullable(),
      remaining_bytes: z.number().nullable(),
    })
    .nullable()
    .openapi({ description: 'Data used in the current quota window; null while no plugin provides a usage source (RADIUS accounting)' }),
  devices: z.array(z.object({ mac: z.string(), first_seen_at: z.string(), last_seen_at: z.string() })),
});

/** Numbers in logs: country code and last two digits only (`+229••••01`). */
const mask = (phone: string) => `${phone.slice(0, 4)}••••${phone.slice(-2)}`;

export default definePlugin({
  name: 'portal',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Captive portal: phone + SMS OTP login, subscriber sessions, NAS login parameters, the portal page',
  config: configSchema,

  setup(ctx) {
    const config: PortalConfig = ctx.config;
    const keys = deriveOtpKeys(config.secret);
    const store = new OtpStore(ctx.kv, keys, config);
    const sendOtp = defineTask<SendOtpPayload>(`${ctx.name}.send-otp`);

    const otpRequests = ctx.metrics.counter({
      name: 'portal_otp_requests_total',
      help: 'OTP requests by outcome (code_sent, code_already_sent, rate_limited_*, invalid)',
      labelNames: ['outcome'],
    });
    const otpChecks = ctx.metrics.counter({
      name: 'portal_otp_verifications_total',
      help: 'OTP verifications by outcome (ok, otp_invalid, otp_burned, otp_expired, invalid)',
      labelNames: ['outcome'],
    });
    const smsOutcomes = ctx.metrics.counter({
      name: 'portal_otp_sms_total',
      help: 'OTP SMS task outcomes (sent, skipped, ambiguous, failed, retry)',
      labelNames: ['outcome'],
    });

    const phoneOr400 = (raw: string) => {
      const r = normalisePhone(raw, config.countries);
      if (!r.ok) throw httpErrors.badRequest(r.code, r.message);
      return r;
    };

    const orderedSenders = (): SmsSender[] => {
      const all = ctx.collect(SmsSenders);
      if (config.sms.senders.length === 0) return [...all.values()];
      return config.sms.senders.map((id) => all.get(id)).filter((s): s is SmsSender => s !== undefined);
    };

    // --- the SMS, sent by a background task, never inside the request ---------------------------------------
    ctx.tasks.handle(
      sendOtp,
      async (payload, task) => {
        // The code's remaining life (for the SMS text) is read with it: one round trip.
        const [live, ttl] = await Promise.all([store.readRecord(payload.phone), ctx.kv.ttl(portalKeys.otp(payload.phone))]);
        if (!live || live.id !== payload.otp_id) {
          smsOutcomes.inc({ outcome: 'skipped' });
          task.log.info({ phone: mask(payload.phone) }, 'OTP no longer live (used, replaced or expired): SMS not sent');
          return;
        }
        let code: string;
        try {
          code = openCode(keys, payload.sealed, `${payload.phone}|${payload.otp_id}`);
        } catch (err) {
          // Sealed under another secret (rotated since) or damaged: retrying cannot help.
          smsOutcomes.inc({ outcome: 'failed' });
          task.log.error({ phone: mask(payload.phone), err }, 'sealed OTP cannot be opened (was `secret` changed?); SMS not sent');
          return;
        }
        const minutes = Math.max(1, Math.ceil((ttl > 0 ? ttl : config.otp.ttlSeconds) / 60));
        const text = fill(messages[payload.lang].sms, { brand: config.brand, code, min: minutes });
        try {
          const sent = await sendWithFailover(
            orderedSenders(),
            { to: payload.phone, text, correlationId: `otp-${payload.otp_id}`, ...(config.sms.senderId ? { senderId: config.sms.senderId } : {}) },
            task.log,
            { signal: task.signal },
          );
          smsOutcomes.inc({ outcome: 'sent' });
          task.log.info({ phone: mask(payload.phone), sender: sent.sender }, 'OTP sent');
        } catch (err) {
          if (err instanceof SmsFailoverError && err.kind === 'ambiguous') {
            // The gateway may have taken it: sending again could deliver two SMS; the subscriber can ask for a resend.
            smsOutcomes.inc({ outcome: 'ambiguous' });
            task.log.warn({ phone: mask(payload.phone), sender: err.sender, err }, 'OTP SMS outcome unknown; not resending');
            return;
          }
          if (err instanceof SmsFailoverError && err.kind === 'permanent') {
            smsOutcomes.inc({ outcome: 'failed' });
            task.log.error({ phone: mask(payload.phone), err }, 'OTP SMS refused by every sender');
            return;
          }
          smsOutcomes.inc({ outcome: 'retry' });
          throw err;
        }
      },
      { maxAttempts: 4, timeoutSeconds: 30, backoffSeconds: 5 },
    );

    ctx.onStart(() => {
      const all = ctx.collect(SmsSenders);
      const missing = config.sms.senders.filter((id) => !all.has(id));
      if (missing.length) {
        throw new ConfigError(
          `plugins.${ctx.name}.config.sms.senders`,
          `no SMS sender with id ${missing.map((m) => `"${m}"`).join(', ')}; loaded senders: ${[...all.keys()].join(', ') || 'none'}`,
        );
      }
      if (all.size === 0) ctx.log.warn('no SmsSender plugin is loaded: the portal cannot send codes');
    });

    const r = ctx.router('/portal');

    // --- POST /portal/otp/request ---------------------------------------------------------------------------
    r.add(
      defineRoute({
        method: 'post',
        path: '/otp/request',
        access: 'public',
        tags: [ctx.name],
        summary: 'Send a login code by SMS (rate-limited; a live code is not sent twice)',
        request: {
          body: {
            required: true,
            content: {
              'application/json': {
                schema: z.object({
                  phone: Phone,
                  resend: z
                    .boolean()
                    .optional()
                    .openapi({ description: 'Replace a live code with a new one (the "send a new code" button); still rate-limited' }),
                  lang: z.enum(['fr', 'en']).optional().openapi({ description: 'Language of the SMS (default fr)' }),
                }),
              },
            },
          },
        },
        responses: {
          200: json(OtpSent, 'A code sent earlier is still valid: no new SMS (the portal was re-opened)'),
          202: json(OtpSent, 'The code will be sent by SMS'),
          400: problem('Not a mobile number that may log in (invalid_phone, phone_not_mobile, phone_country_not_allowed)'),
          429: problem('Rate limited (rate_limited_phone, rate_limited_ip, rate_limited_daily), with retry_after seconds'),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        let phone: ReturnType<typeof phoneOr400>;
        try {
          phone = phoneOr400(body.phone);
        } catch (err) {
          otpRequests.inc({ outcome: 'invalid' });
          throw err;
        }
        let outcome: Awaited<ReturnType<OtpStore['request']>>;
        try {
          outcome = await store.request(phone.e164, c.get('clientIp'), body.resend === true);
        } catch (err) {
          otpRequests.inc({ outcome: (err as { code?: string }).code ?? 'error' });
          throw err;
        }
        const answer = { status: outcome.status, expires_in: outcome.expiresIn, phone: phone.e164, display: phone.display };
        if (outcome.status === 'code_already_sent') {
          otpRequests.inc({ outcome: 'code_already_sent' });
          return c.json(answer, 200);
        }
        const payload: SendOtpPayload = {
          phone: phone.e164,
          otp_id: outcome.otpId,
          sealed: sealCode(keys, outcome.code, `${phone.e164}|${outcome.otpId}`),
          lang: body.lang ?? 'fr',
        };
        try {
          await ctx.tasks.enqueue(sendOtp, payload, { dedupeKey: `${ctx.name}:otp:${outcome.otpId}` });
        } catch (err) {
          await store.undo(phone.e164, outcome.otpId);
          throw err;
        }
        otpRequests.inc({ outcome: 'code_sent' });
        c.get('log').info({ phone: mask(phone.e164), mapped: phone.mapped }, 'OTP queued');
        return c.json(answer, 202);
      },
    );

    // --- POST /portal/otp/verify ----------------------------------------------------------------------------
    r.add(
      defineRoute({
        method: 'post',
        path: '/otp/verify',
        access: 'public',
        tags: [ctx.name],
        summary: 'Check the code; log the subscriber in (created on first login) and return the NAS login parameters',
        request: { body: { required: true, content: { 'application/json': { schema: VerifyBody } } } },
        responses: {
          200: json(VerifyAnswer, 'Logged in'),
          400: problem('otp_expired, otp_invalid (attempts_left), otp_burned, invalid_code, invalid_phone, invalid_mac, invalid_uam, invalid_mikrotik'),
          403: problem('subscriber_suspended'),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const db = c.get('db');
        const phone = phoneOr400(body.phone);
        const mac = body.mac ? normaliseMac(body.mac) : null;
        if (body.mac && !mac) {
          otpChecks.inc({ outcome: 'invalid' });
          throw httpErrors.badRequest('invalid_mac', `"${body.mac.slice(0, 40)}" is not a MAC address`);
        }
        const code = body.code.replace(/\s+/g, '');
        if (!/^\d{6}$/.test(code)) {
          otpChecks.inc({ outcome: 'invalid' });
          throw httpErrors.badRequest('invalid_code', 'the code has 6 digits');
        }
        const clientIp = body.ip && isIP(body.ip) ? body.ip : null;
        // Check the NAS parameters before the code is consumed: a bad link must not cost the subscriber the code.
        const nasLogin = (username: string, password: string): NasLogin | null => {
          try {
            if (body.uam) return coovaChilliLogin(body.uam, username, password, { uamSecret: config.uam.secret, auth: config.uam.auth });
            if (body.mikrotik) return mikrotikLogin(body.mikrotik, username, password);
            return null;
          } catch (err) {
            if (err instanceof NasLoginError) throw httpErrors.badRequest(err.code, err.message);
            throw err;
          }
        };
        nasLogin('check', 'x'.repeat(16));

        try {
          await store.verify(phone.e164, code);
        } catch (err) {
          otpChecks.inc({ outcome: (err as { code?: string }).code ?? 'error' });
          throw err;
        }
        otpChecks.inc({ outcome: 'ok' });

        // Every database write of the login (a new subscriber's row and its creation's audit entry, the device, the
        // API token) is one statement after at most one read: they commit together or not at all (a failed login
        // leaves no token nobody received, no subscriber without its audit entry), in two round trips where a
        // row-by-row transaction took seven. The KV session and the plan read go out beside the writes; a subscriber
        // created just now has no plan to read.
        const password = generateSessionPassword();
        const issuedAt = new Date();
        let token: { token: string } | undefined;
        const {
          subscriber,
          created,
          alongside: plan,
        } = await loginSubscriber(db, phone.e164, {
          resellerId: () => resolveReseller(db, ctx.lookup(nasDirectory), { nasId: body.nas_id, slug: body.reseller }),
          writes: (s, isNew) => {
            const drafted = ctx.tokens.draft({
              role: 'subscriber',
              name: `portal ${s.subscriber_ref}`,
              subscriberId: s.id,
              resellerId: s.reseller_id,
              ttlSeconds: config.apiTokenTtlSeconds,
            });
            token = drafted;
            const creation = {
              action: 'subscriber.created',
              targetType: 'subscriber',
              targetId: s.id,
              resellerId: s.reseller_id,
              details: { via: 'portal', subscriber_ref: s.subscriber_ref },
            };
            return [isNew ? auditInsert(db, null, creation) : null, mac ? deviceUpsert(db, s.id, mac) : null, drafted.insert];
          },
          alongside: async (s, isNew) => {
            const session = JSON.stringify({ token: password, mac, issued_at: issuedAt.toISOString() });
            const [, plan] = await Promise.all([
              ctx.kv.set(portalKeys.session(s.id), session, config.sessionTtlSeconds),
              isNew ? null : activePlanView(db, s.id, issuedAt),
            ]);
            return plan;
          },
        });
        if (subscriber.status !== 'active' || !token) {
          throw new RgzError('subscriber_suspended', `account ${subscriber.subscriber_ref} is ${subscriber.status}`, { status: 403 });
        }
        // The device set in KV follows the committed row (RADIUS MAC auth reads it).
        if (mac) await ctx.kv.sadd(portalKeys.devices(subscriber.id), mac);
        const login = nasLogin(subscriber.subscriber_ref, password);

        if (plan && clientIp) {
          try {
            await ctx.events.publish(portalClientAuthorised, {
              ip: clientIp,
              subscriberId: subscriber.id,
              ttlSeconds: Math.min(config.sessionTtlSeconds, plan.view.remaining_seconds),
            });
          } catch (err) {
            c.get('log').warn({ err }, 'could not publish portal.client-authorised');
          }
        }
        c.get('log').info({ subscriber_ref: subscriber.subscriber_ref, created, has_plan: !!plan, nas: login?.kind ?? null }, 'portal login');
        return c.json(
          {
            subscriber_ref: subscriber.subscriber_ref,
            phone: phone.e164,
            has_active_plan: !!plan,
            plan: plan?.view ?? null,
            api_token: token.token,
            api_token_expires_at: new Date(issuedAt.getTime() + config.apiTokenTtlSeconds * 1000).toISOString(),
            nas_login: login,
          },
          200,
        );
      },
    );

    // --- GET /portal/me -------------------------------------------------------------------------------------
    r.add(
      defineRoute({
        method: 'get',
        path: '/me',
        access: ['subscriber'],
        tags: [ctx.name],
        summary: 'The logged-in subscriber: active plan and time left, data used (when known), devices',
        responses: { 200: json(MeAnswer, 'Subscriber') },
      }),
      async (c) => {
        const principal = c.get('principal');
        const db = c.get('db');
        const subscriber = principal?.subscriberId
          ? await db.selectFrom('subscribers').selectAll().where('id', '=', principal.subscriberId).executeTakeFirst()
          : undefined;
        if (!subscriber) throw httpErrors.notFound('subscriber_not_found', 'this token belongs to no subscriber');
        const now = new Date();
        const plan = await activePlanView(db, subscriber.id, now);
        const devices = await db
          .selectFrom('subscriber_devices')
          .selectAll()
          .where('subscriber_id', '=', subscriber.id)
          .orderBy('last_seen_at', 'desc')
          .execute();
        let usage: z.infer<typeof MeAnswer>['usage'] = null;
        const source = ctx.lookup(usageSource);
        if (plan && source) {
          const since = quotaWindowStart(plan.view.quota_period, new Date(plan.view.starts_at), now, ctx.server.timezone);
          const used = await source.usedSince(subscriber.id, since);
          if (used) {
            const total = used.uploadBytes + used.downloadBytes;
            usage = {
              window_start: since.toISOString(),
              upload_bytes: used.uploadBytes,
              download_bytes: used.downloadBytes,
              used_bytes: total,
              quota_bytes: plan.view.quota_bytes,
              remaining_bytes: plan.view.quota_bytes === null ? null : Math.max(0, plan.view.quota_bytes - total),
            };
          }
        }
        return c.json(
          {
            subscriber_ref: subscriber.subscriber_ref,
            phone: subscriber.msisdn,
            status: subscriber.status,
            has_active_plan: !!plan,
            plan: plan?.view ?? null,
            usage,
            devices: devices.map((d) => ({
              mac: d.mac_address,
              first_seen_at: new Date(d.first_seen_at).toISOString(),
              last_seen_at: new Date(d.last_seen_at).toISOString(),
            })),
          },
          200,
        );
      },
    );

    // --- GET /portal/plans ----------------------------------------------------------------------------------
    r.add(
      defineRoute({
        method: 'get',
        path: '/plans',
        access: 'public',
        tags: [ctx.name],
        summary: 'Plans on sale here: the default catalogue with the reseller’s overrides (reseller from the NAS, else the slug)',
        request: {
          query: z.object({
            reseller: z.string().max(64).optional().openapi({ description: 'Reseller slug' }),
            nas_id: z.string().max(253).optional().openapi({ description: 'NAS-Identifier; its reseller wins over the slug' }),
          }),
        },
        responses: { 200: json(z.object({ items: z.array(PlanOfferSchema) }), 'Plans, cheapest first') },
      }),
      async (c) => {
        const q = c.req.valid('query');
        const resellerId = await resolveReseller(c.get('db'), ctx.lookup(nasDirectory), { nasId: q.nas_id, slug: q.reseller });
        const items = (await plansOnSale(c.get('db'), resellerId)).map(planOffer);
        return c.json({ items }, 200);
      },
    );

    // --- the page ---------------------------------------------------------------------------------------------
    const page: Parameters<PluginRouter['raw']>[1] = async (c) => {
      let raw: Record<string, string> = c.req.query();
      if (c.req.method === 'POST') {
        // MikroTik's redirect form can POST its variables (application/x-www-form-urlencoded).
        const form = await c.req.parseBody().catch(() => ({}));
        raw = { ...raw, ...Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string')) };
      }
      const params: Record<string, string> = {};
      for (const k of NAS_PARAMS) if (raw[k]) params[k] = raw[k].slice(0, 2048);
      const lang: Lang = raw.lang === 'en' ? 'en' : 'fr';
      const shown = raw.step === 'code' && raw.phone ? normalisePhone(raw.phone, config.countries) : null;
      const resellerId = await resolveReseller(c.get('db'), ctx.lookup(nasDirectory), { nasId: params.nasid || params.identity, slug: params.reseller });
      const plans = (await plansOnSale(c.get('db'), resellerId)).map(planOffer);
      const nonce = randomBytes(16).toString('base64');
      // Plans can be bought here when billing (the ledger's owner) and at least one payment provider are loaded; the
      // providers' walled-garden hosts (widget script, its iframe, its API) are then allowed by the CSP, nothing else.
      const ledger = ctx.lookup(ledgerWriter);
      const providers = ledger ? [...ctx.collect(PaymentProviders).values()] : [];
      const buy = ledger && providers.length ? ledger.ordersPath : null;
      const hosts = [...new Set(providers.flatMap((p) => p.capabilities.walledGardenHosts))]
        .filter((h) => /^[a-z0-9.-]+$/i.test(h))
        .map((h) => ` https://${h}`)
        .join('');
      const redeem = ctx.lookup(voucherRedeemer)?.redeemPath ?? null;
      const html = renderPage({
        lang,
        brand: config.brand,
        params,
        plans,
        codeFor: shown?.ok ? { e164: shown.e164, display: shown.display } : null,
        nonce,
        buy,
        redeem,
      });
      return c.body(html, 200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'${hosts}; style-src 'nonce-${nonce}'${hosts}; connect-src 'self'${hosts}; img-src 'self' data:${hosts}; frame-src${hosts || " 'none'"}; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'`,
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
    };
    const pageSummary = 'The captive portal page (HTML, French first, ?lang=en); NAS redirect parameters are kept through the flow';
    r.raw({ method: 'get', path: '/', access: 'public', summary: pageSummary, tags: [ctx.name], contentType: 'text/html' }, page);
    r.raw({ method: 'post', path: '/', access: 'public', summary: `${pageSummary} (MikroTik form post)`, tags: [ctx.name], contentType: 'text/html' }, page);
    // `/portal/` with the slash, as NAS configurations usually write it: hono treats it as a distinct path.
    const slash = ctx.router('/');
    slash.raw({ method: 'get', path: '/portal/', access: 'public', summary: pageSummary, tags: [ctx.name], contentType: 'text/html' }, page);
    slash.raw(
      { method: 'post', path: '/portal/', access: 'public', summary: `${pageSummary} (MikroTik form post)`, tags: [ctx.name], contentType: 'text/html' },
      page,
    );
  },
});
