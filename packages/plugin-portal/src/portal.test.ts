/**
 * The portal inside a real server (startTestServer: the real kernel, task worker and KV) on both backends:
 * PGlite + in-process KV, and PostgreSQL + Redis. SMS codes are read from a recording SmsSender contributed by a
 * tiny test plugin; nothing of the portal is mocked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  activateSubscription,
  auditInsert,
  defineTask,
  type NasDirectory,
  nasDirectory,
  type PortalClientAuthorised,
  portalClientAuthorised,
  sql,
} from '@rgz/core';
import { BACKENDS, deferred, startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import portal, { portalKeys, type SendOtpPayload } from './index.js';
import { loginSubscriber } from './subscribers.js';
import { RecordingSmsSender, recordingSmsPlugin } from './test-support/recording-sms.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const SECRET = 'portal-test-secret-0123456789-abcdefghij';
const UAM_SECRET = 'uam-shared-secret';
const REF = /^RGZ-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

it("declares package.json's version and name", () => {
  expect(portal.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${portal.name}`);
});

/** A distinct, valid Bénin mobile number per call (+229 01 97 0x xx xx). */
let seq = 0;
const newPhone = () => `+22901970${String(++seq).padStart(5, '0')}`;

/** A fake of the RADIUS plugin's NAS directory (another plugin's service, not portal code). */
const directory = (resellerId: () => string | null): NasDirectory => ({
  async findByIdentifier(identifier) {
    return identifier === 'nas-cotonou' ? { id: 'n1', identifier, address: '192.0.2.1', vendor: 'coovachilli', resellerId: resellerId(), coaPort: 3799 } : null;
  },
  async findByAddress() {
    return null;
  },
});

describe.each(BACKENDS)('portal on %s storage', (backend) => {
  let main: TestServer;
  let quick: TestServer;
  const sms = new RecordingSmsSender();
  const quickSms = new RecordingSmsSender();
  let nasReseller: string | null = null;

  beforeAll(async () => {
    [main, quick] = await Promise.all([
      startTestServer({
        backend,
        plugins: [
          recordingSmsPlugin(sms),
          { plugin: portal, config: { secret: SECRET, rateLimit: { perIpPerMinute: 3, perPhonePerDay: 5 }, uam: { secret: UAM_SECRET } } },
        ],
        overrides: [[nasDirectory, directory(() => nasReseller)]],
      }),
      // Tiny windows: codes live 2 s, one code per phone per second, 2 codes per phone per day.
      startTestServer({
        backend,
        plugins: [
          recordingSmsPlugin(quickSms),
          { plugin: portal, config: { secret: SECRET, otp: { ttlSeconds: 2 }, rateLimit: { resendSeconds: 1, perPhonePerDay: 2, perIpPerMinute: 100 } } },
        ],
      }),
    ]);
  });
  afterAll(async () => {
    await main?.close();
    await quick?.close();
  });

  let ipSeq = 1;
  /** Each test comes from its own client address unless it says otherwise (the per-IP limit is 3 phones/min). */
  const freshIp = () => `10.20.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 1}`;
  const post = (server: TestServer, path: string, body: unknown, ip: string, headers: Record<string, string> = {}) =>
    Promise.resolve(
      server.kernel.app.request(
        path,
        { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) },
        { incoming: { socket: { remoteAddress: ip } } },
      ),
    );
  const request = (server: TestServer, phone: string, ip: string, extra: Record<string, unknown> = {}) =>
    post(server, '/portal/otp/request', { phone, ...extra }, ip);
  const verify = (server: TestServer, body: Record<string, unknown>, ip = '10.99.0.1') => post(server, '/portal/otp/verify', body, ip);
  const codeFor = (sender: RecordingSmsSender, phone: string, count = 1) =>
    waitFor(() => (sender.to(phone).length >= count ? sender.lastCode(phone) : undefined), 10_000, { message: `SMS #${count} to ${phone}` });
  /** Request a code and return it as the subscriber reads it from the SMS. */
  const codeSent = async (server: TestServer, sender: RecordingSmsSender, phone: string) => {
    const before = sender.to(phone).length;
    const res = await request(server, phone, freshIp());
    expect(res.status).toBe(202);
    return codeFor(sender, phone, before + 1);
  };
  const login = async (server: TestServer, sender: RecordingSmsSender, phone: string, extra: Record<string, unknown> = {}) => {
    const code = await codeSent(server, sender, phone);
    const res = await verify(server, { phone, code, ...extra });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as {
      subscriber_ref: string;
      has_active_plan: boolean;
      plan: null | { code: string; remaining_seconds: number };
      api_token: string;
      nas_login: null | { kind: string; method: string; url: string; fields: Record<string, string> };
    };
  };
  const subscriberId = async (server: TestServer, phone: string) =>
    (await server.kernel.db.selectFrom('subscribers').select('id').where('msisdn', '=', phone).executeTakeFirstOrThrow()).id;

  it('request → code sent by the task → verify: subscriber, device, session, API token', async () => {
    const phone = newPhone();
    const res = await request(main, phone.replace('+229', '').replace(/(\d\d)(?=\d)/g, '$1 '), freshIp());
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'code_sent', expires_in: 300, phone, display: expect.stringMatching(/^\+229 01 97/) });
    const code = await codeFor(sms, phone);
    expect(sms.to(phone)[0]?.text).toMatch(/^Votre code RGZ WiFi : \d{6}\. Valable 5 min\./);

    // KV keeps a hash, never the code; the task row keeps the code only sealed.
    const stored = JSON.parse((await main.kernel.kv.get(portalKeys.otp(phone))) as string) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['attempts', 'created_at', 'hash', 'id']);
    expect(stored).toMatchObject({ attempts: 0, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(stored)).not.toContain(code);
    const ttl = await main.kernel.kv.ttl(portalKeys.otp(phone));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    const tasks = await main.kernel.db.selectFrom('core_tasks').select(['payload', 'status']).where('name', '=', 'portal.send-otp').execute();
    const task = tasks.map((t) => (typeof t.payload === 'string' ? JSON.parse(t.payload) : t.payload) as Record<string, string>).find((p) => p.phone === phone);
    expect(Object.keys(task ?? {}).sort()).toEqual(['lang', 'otp_id', 'phone', 'sealed']);
    expect(task?.sealed).not.toContain(code);
    expect(JSON.stringify({ ...task, sealed: undefined })).not.toContain(code);

    const ok = await verify(main, { phone, code: ` ${code.slice(0, 3)} ${code.slice(3)} `, mac: 'AA-BB-CC-00-00-01', ip: '10.1.0.23' });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      subscriber_ref: expect.stringMatching(REF),
      phone,
      has_active_plan: false,
      plan: null,
      nas_login: null,
      api_token: expect.stringMatching(/^rgz_sub_/),
    });
    expect(await main.kernel.kv.get(portalKeys.otp(phone))).toBeNull();

    const id = await subscriberId(main, phone);
    const devices = await main.kernel.db.selectFrom('subscriber_devices').selectAll().where('subscriber_id', '=', id).execute();
    expect(devices.map((d) => d.mac_address)).toEqual(['aa:bb:cc:00:00:01']);
    expect(await main.kernel.kv.smembers(portalKeys.devices(id))).toEqual(['aa:bb:cc:00:00:01']);
    const session = JSON.parse((await main.kernel.kv.get(portalKeys.session(id))) as string) as Record<string, string>;
    expect(session).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9]{16}$/), mac: 'aa:bb:cc:00:00:01', issued_at: expect.any(String) });
    const sessionTtl = await main.kernel.kv.ttl(portalKeys.session(id));
    expect(sessionTtl).toBeGreaterThan(86_390);
    expect(sessionTtl).toBeLessThanOrEqual(86_400);

    const me = await main.request('/portal/me', { headers: main.auth(body.api_token as string) });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({
      subscriber_ref: body.subscriber_ref,
      phone,
      status: 'active',
      has_active_plan: false,
      plan: null,
      usage: null,
      devices: [{ mac: 'aa:bb:cc:00:00:01', first_seen_at: expect.any(String), last_seen_at: expect.any(String) }],
    });

    // The code is single-use.
    expect(await (await verify(main, { phone, code })).json()).toMatchObject({ code: 'otp_expired' });
  });

  it('answers before the SMS is sent: the task sends it, not the request', async () => {
    const phone = newPhone();
    const gate = deferred();
    const callsBefore = sms.calls;
    sms.gate = gate.promise;
    try {
      const res = await request(main, phone, freshIp());
      expect(res.status).toBe(202);
      const answeredAt = Date.now();
      // The sender is called after the answer (by the worker) and is still held: nothing sent yet.
      await waitFor(() => sms.calls > callsBefore, 5_000);
      expect(sms.to(phone)).toHaveLength(0);
      gate.resolve();
      await codeFor(sms, phone);
      expect(sms.to(phone)[0]?.at).toBeGreaterThanOrEqual(answeredAt);
    } finally {
      sms.gate = null;
      gate.resolve();
    }
  });

  it('a send task delivered again after the code was used sends nothing (at-least-once tasks)', async () => {
    const phone = newPhone();
    const code = await codeSent(main, sms, phone);
    const row = (await main.kernel.db.selectFrom('core_tasks').select('payload').where('name', '=', 'portal.send-otp').execute())
      .map((t) => (typeof t.payload === 'string' ? JSON.parse(t.payload) : t.payload) as SendOtpPayload)
      .find((p) => p.phone === phone) as SendOtpPayload;
    expect((await verify(main, { phone, code })).status).toBe(200);
    await main.kernel.tasks.enqueue(defineTask<SendOtpPayload>('portal.send-otp'), row);
    await main.kernel.tasks.drain();
    expect(sms.to(phone)).toHaveLength(1);
  });

  it('a portal re-opened while the code lives gets code_already_sent and no second SMS', async () => {
    const phone = newPhone();
    const ip = freshIp();
    expect((await request(main, phone, ip)).status).toBe(202);
    await codeFor(sms, phone);
    const again = await request(main, phone, ip);
    expect(again.status).toBe(200);
    const body = (await again.json()) as { status: string; expires_in: number };
    expect(body.status).toBe('code_already_sent');
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.expires_in).toBeLessThanOrEqual(300);
    // From another address too (the mini-browser may come back with a new lease).
    expect((await request(main, phone, freshIp())).status).toBe(200);
    await main.kernel.tasks.drain();
    expect(sms.to(phone)).toHaveLength(1);
  });

  it('one code per phone per 60 s: an explicit resend, or a new request after the code was used, gets 429 with retry_after', async () => {
    const phone = newPhone();
    const code = await codeSent(main, sms, phone);
    const resend = await request(main, phone, freshIp(), { resend: true });
    expect(resend.status).toBe(429);
    expect(resend.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await resend.json()) as { code: string; retry_after: number };
    expect(problem.code).toBe('rate_limited_phone');
    expect(problem.retry_after).toBeGreaterThan(0);
    expect(problem.retry_after).toBeLessThanOrEqual(60);
    expect(resend.headers.get('retry-after')).toBe(String(problem.retry_after));
    expect((await verify(main, { phone, code })).status).toBe(200);
    const after = await request(main, phone, freshIp());
    expect(after.status).toBe(429);
    expect(await after.json()).toMatchObject({ code: 'rate_limited_phone' });
    await main.kernel.tasks.drain();
    expect(sms.to(phone)).toHaveLength(1);
  });

  it('one client IP asking codes for many phones is stopped after the limit (3 distinct numbers a minute here)', async () => {
    const ip = freshIp();
    const phones = [newPhone(), newPhone(), newPhone(), newPhone()];
    for (const p of phones.slice(0, 3)) expect((await request(main, p, ip)).status).toBe(202);
    const blocked = await request(main, phones[3] as string, ip);
    expect(blocked.status).toBe(429);
    const problem = (await blocked.json()) as { code: string; retry_after: number };
    expect(problem).toMatchObject({ code: 'rate_limited_ip' });
    expect(problem.retry_after).toBeLessThanOrEqual(60);
    // A number it already asked for is not a new one: the re-opened portal still works from this IP.
    expect((await request(main, phones[0] as string, ip)).status).toBe(200);
    // Other addresses are not affected.
    expect((await request(main, phones[3] as string, freshIp())).status).toBe(202);
    await main.kernel.tasks.drain();
    expect(sms.to(phones[3] as string)).toHaveLength(1);
  });

  it('a number asking again from one IP counts as a request, yet the limit stays on distinct numbers (3 here)', async () => {
    const ip = freshIp();
    const [a, b, c, d] = [newPhone(), newPhone(), newPhone(), newPhone()];
    expect((await request(main, a, ip)).status).toBe(202);
    // The re-opened portal: the counter (sent with the set's SADD) goes past the limit, the set still holds one number.
    for (let i = 0; i < 4; i++) expect((await request(main, a, ip)).status).toBe(200);
    expect(Number(await main.kernel.kv.get(portalKeys.rateIpCount(ip)))).toBe(5);
    expect((await request(main, b, ip)).status).toBe(202);
    expect((await request(main, c, ip)).status).toBe(202);
    expect(await (await request(main, d, ip)).json()).toMatchObject({ code: 'rate_limited_ip' });
  });

  it('the per-IP counter is only a shortcut: when it runs ahead of the set of numbers, the set decides', async () => {
    const ip = freshIp();
    const [a, b, c, d] = [newPhone(), newPhone(), newPhone(), newPhone()];
    expect((await request(main, a, ip)).status).toBe(202);
    // A counter ahead of the set (numbers refused earlier stay counted) must not refuse a number the set still allows.
    await main.kernel.kv.set(portalKeys.rateIpCount(ip), '40', 61);
    expect((await request(main, b, ip)).status).toBe(202);
    expect((await request(main, c, ip)).status).toBe(202);
    const blocked = await request(main, d, ip);
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ code: 'rate_limited_ip' });
    expect(Number(await main.kernel.kv.get(portalKeys.rateIpCount(ip)))).toBeGreaterThan(3);
    expect((await main.kernel.kv.smembers(portalKeys.rateIp(ip))).sort()).toEqual([a, b, c].sort());
  });

  it('per phone per day: after the daily number of codes, 429 rate_limited_daily', async () => {
    const phone = newPhone();
    const ip = freshIp();
    expect((await request(quick, phone, ip)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await request(quick, phone, ip, { resend: true })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1100));
    const third = await request(quick, phone, ip, { resend: true });
    expect(third.status).toBe(429);
    const problem = (await third.json()) as { code: string; retry_after: number };
    expect(problem.code).toBe('rate_limited_daily');
    expect(problem.retry_after).toBeGreaterThan(86_000);
    expect(await quick.kernel.kv.ttl(portalKeys.rateDay(phone))).toBeGreaterThan(86_000);
  });

  it('an expired code gets 400 otp_expired (2 s codes on this server)', async () => {
    const phone = newPhone();
    const code = await codeSent(quick, quickSms, phone);
    await new Promise((r) => setTimeout(r, 2100));
    const res = await verify(quick, { phone, code });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'otp_expired' });
    expect(await quick.kernel.db.selectFrom('subscribers').select('id').where('msisdn', '=', phone).executeTakeFirst()).toBeUndefined();
  });

  it('a wrong code costs one attempt; the right one still works afterwards', async () => {
    const phone = newPhone();
    const code = await codeSent(main, sms, phone);
    const wrong = code === '000000' ? '000001' : '000000';
    const res = await verify(main, { phone, code: wrong });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'otp_invalid', attempts_left: 4 });
    expect(await main.kernel.kv.get(portalKeys.otpAttempts(phone))).toBe('1');
    const attemptsTtl = await main.kernel.kv.ttl(portalKeys.otpAttempts(phone));
    expect(attemptsTtl).toBeGreaterThan(0);
    expect(attemptsTtl).toBeLessThanOrEqual(await main.kernel.kv.ttl(portalKeys.otp(phone)));
    expect((await verify(main, { phone, code })).status).toBe(200);
    expect(await main.kernel.kv.get(portalKeys.otpAttempts(phone))).toBeNull();
  });

  it('5 wrong codes burn the OTP: the right code no longer works', async () => {
    const phone = newPhone();
    const code = await codeSent(main, sms, phone);
    const wrong = code === '111111' ? '222222' : '111111';
    for (let left = 4; left >= 1; left--) {
      expect(await (await verify(main, { phone, code: wrong })).json()).toMatchObject({ code: 'otp_invalid', attempts_left: left });
    }
    const fifth = await verify(main, { phone, code: wrong });
    expect(fifth.status).toBe(400);
    expect(await fifth.json()).toMatchObject({ code: 'otp_burned', attempts_left: 0 });
    expect(await main.kernel.kv.get(portalKeys.otp(phone))).toBeNull();
    expect(await (await verify(main, { phone, code })).json()).toMatchObject({ code: 'otp_expired' });
  });

  it('malformed phone, MAC, code or NAS parameters: 400 problem+json with a code, and the OTP is not consumed', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/portal/otp/request', { phone: 'abc' }, 'invalid_phone'],
      ['/portal/otp/request', { phone: '01 20 21 00 00' }, 'phone_not_mobile'],
      ['/portal/otp/request', { phone: '+228 90 12 34 56' }, 'phone_country_not_allowed'],
      ['/portal/otp/request', {}, 'validation_failed'],
      ['/portal/otp/verify', { phone: '0197', code: '123456' }, 'invalid_phone'],
    ];
    for (const [path, body, code] of cases) {
      const res = await post(main, path, body, freshIp());
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(await res.json()).toMatchObject({ code, status: 400 });
    }
    const notJson = await main.kernel.app.request('/portal/otp/request', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);

    const phone = newPhone();
    const code = await codeSent(main, sms, phone);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ mac: 'zz:zz' }, 'invalid_mac'],
      [{ code: '12ab56' }, 'invalid_code'],
      [{ uam: { uamip: 'evil.example', uamport: 3990, challenge: '0'.repeat(32) } }, 'invalid_uam'],
      [{ uam: { uamip: '10.1.0.1', uamport: 3990, challenge: 'nothex' } }, 'validation_failed'],
      [{ mikrotik: { link_login_only: 'javascript:alert(1)' } }, 'invalid_mikrotik'],
    ];
    for (const [extra, problem] of bad) {
      const res = await verify(main, { phone, code, ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(await res.json()).toMatchObject({ code: problem });
    }
    expect((await verify(main, { phone, code })).status).toBe(200);
  });

  it('repeated logins find the same subscriber; each new device is recorded in DB and KV', async () => {
    const phone = newPhone();
    const first = await login(quick, quickSms, phone, { mac: 'aa:bb:cc:00:00:10' });
    await new Promise((r) => setTimeout(r, 1100));
    const second = await login(quick, quickSms, phone, { mac: 'AABB.CC00.0011' });
    expect(second.subscriber_ref).toBe(first.subscriber_ref);
    const rows = await quick.kernel.db.selectFrom('subscribers').selectAll().where('msisdn', '=', phone).execute();
    expect(rows).toHaveLength(1);
    const id = rows[0]?.id as string;
    const macs = (await quick.kernel.db.selectFrom('subscriber_devices').select('mac_address').where('subscriber_id', '=', id).execute())
      .map((d) => d.mac_address)
      .sort();
    expect(macs).toEqual(['aa:bb:cc:00:00:10', 'aa:bb:cc:00:00:11']);
    expect((await quick.kernel.kv.smembers(portalKeys.devices(id))).sort()).toEqual(macs);
    const created = await quick.kernel.db.selectFrom('audit_log').select('id').where('action', '=', 'subscriber.created').where('target_id', '=', id).execute();
    expect(created).toHaveLength(1);
    // Two API tokens, one per login; the session holds the latest device.
    expect(JSON.parse((await quick.kernel.kv.get(portalKeys.session(id))) as string)).toMatchObject({ mac: 'aa:bb:cc:00:00:11' });
  });

  it("a login's writes are one: when one fails, there is no subscriber, audit entry, device or token; the next login creates them", async () => {
    const db = quick.kernel.db;
    const phone = newPhone();
    const refused = 'de:ad:be:ef:00:01';
    // A device row the database refuses (a test trigger) makes the login's one statement fail after the subscriber,
    // its audit entry and the token were written by it.
    await sql`create or replace function portal_test_refuse_device() returns trigger language plpgsql as $$
      begin if new.mac_address = ${sql.lit(refused)} then raise exception 'device refused by test'; end if; return new; end $$`.execute(db);
    await sql`create trigger portal_test_refuse_device before insert on subscriber_devices for each row execute function portal_test_refuse_device()`.execute(
      db,
    );
    const count = async (table: 'audit_log' | 'core_api_tokens') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = { audit: await count('audit_log'), tokens: await count('core_api_tokens') };
    try {
      const failed = await verify(quick, { phone, code: await codeSent(quick, quickSms, phone), mac: refused });
      expect(failed.status).toBe(500);
    } finally {
      await sql`drop trigger portal_test_refuse_device on subscriber_devices`.execute(db);
      await sql`drop function portal_test_refuse_device()`.execute(db);
    }
    expect(await db.selectFrom('subscribers').select('id').where('msisdn', '=', phone).executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('subscriber_devices').select('id').where('mac_address', '=', refused).executeTakeFirst()).toBeUndefined();
    expect({ audit: await count('audit_log'), tokens: await count('core_api_tokens') }).toEqual(before);

    await new Promise((r) => setTimeout(r, 1100));
    const ok = await login(quick, quickSms, phone, { mac: 'de:ad:be:ef:00:02' });
    const id = await subscriberId(quick, phone);
    const created = await db
      .selectFrom('audit_log')
      .select(['target_id', 'details'])
      .where('action', '=', 'subscriber.created')
      .where('target_id', '=', id)
      .execute();
    expect(created).toHaveLength(1);
    expect(created[0]?.details).toMatchObject({ via: 'portal', subscriber_ref: ok.subscriber_ref });
    expect((await db.selectFrom('subscriber_devices').select('mac_address').where('subscriber_id', '=', id).execute()).map((d) => d.mac_address)).toEqual([
      'de:ad:be:ef:00:02',
    ]);
    expect((await quick.request('/portal/me', { headers: quick.auth(ok.api_token) })).status).toBe(200);
  });

  it('concurrent first logins of one number create one subscriber with one audit entry; each gets its token', async () => {
    const db = main.kernel.db;
    const phone = newPhone();
    // Both logins have read "no such subscriber" before either inserts: the race is certain, on both backends.
    const arrived = deferred<void>();
    let waiting = 0;
    const barrier = async () => {
      if (++waiting === 2) arrived.resolve();
      await arrived.promise;
      return null;
    };
    const one = () =>
      loginSubscriber(db, phone, {
        resellerId: barrier,
        writes: (s, created) => [
          created ? auditInsert(db, null, { action: 'subscriber.created', targetType: 'subscriber', targetId: s.id }) : null,
          main.kernel.tokens.draft({ role: 'subscriber', name: `portal ${s.subscriber_ref}`, subscriberId: s.id }).insert,
        ],
        alongside: async (_s, created) => created,
      });
    const [a, b] = await Promise.all([one(), one()]);
    expect(a.subscriber.id).toBe(b.subscriber.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect([a.alongside, b.alongside].sort()).toEqual([false, true]);
    const rows = await db.selectFrom('subscribers').selectAll().where('msisdn', '=', phone).execute();
    expect(rows.map((r) => [r.id, r.subscriber_ref, r.status])).toEqual([[a.subscriber.id, a.subscriber.subscriber_ref, 'active']]);
    expect(
      await db.selectFrom('audit_log').select('id').where('action', '=', 'subscriber.created').where('target_id', '=', a.subscriber.id).execute(),
    ).toHaveLength(1);
    expect(await db.selectFrom('core_api_tokens').select('id').where('subscriber_id', '=', a.subscriber.id).execute()).toHaveLength(2);
  });

  it('a suspended subscriber gets 403 subscriber_suspended, and the login writes nothing (no token, device or session)', async () => {
    const db = quick.kernel.db;
    const phone = newPhone();
    await login(quick, quickSms, phone);
    const id = await subscriberId(quick, phone);
    await db.updateTable('subscribers').set({ status: 'suspended' }).where('id', '=', id).execute();
    await quick.kernel.kv.del(portalKeys.session(id));
    await new Promise((r) => setTimeout(r, 1100));
    const res = await verify(quick, { phone, code: await codeSent(quick, quickSms, phone), mac: 'de:ad:be:ef:00:03' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'subscriber_suspended' });
    expect(await db.selectFrom('core_api_tokens').select('id').where('subscriber_id', '=', id).execute()).toHaveLength(1);
    expect(await db.selectFrom('subscriber_devices').select('id').where('subscriber_id', '=', id).execute()).toHaveLength(0);
    expect(await quick.kernel.kv.get(portalKeys.session(id))).toBeNull();
    expect(await quick.kernel.kv.smembers(portalKeys.devices(id))).toEqual([]);
  });

  it('CoovaChilli UAM: nas_login is the logon URL with response = MD5(0x00 ‖ password ‖ MD5(challenge ‖ uamsecret))', async () => {
    const phone = newPhone();
    const challenge = randomBytes(16);
    const result = await login(main, sms, phone, {
      mac: 'AA-BB-CC-00-00-20',
      uam: { uamip: '10.1.0.1', uamport: '3990', challenge: challenge.toString('hex').toUpperCase(), userurl: 'http://neverssl.com/?a=1&b=2' },
    });
    const session = JSON.parse((await main.kernel.kv.get(portalKeys.session(await subscriberId(main, phone)))) as string) as { token: string };
    const newchal = md5(Buffer.concat([challenge, Buffer.from(UAM_SECRET)]));
    const response = md5(Buffer.concat([Buffer.from([0]), Buffer.from(session.token), newchal])).toString('hex');
    expect(result.nas_login).toMatchObject({
      kind: 'coovachilli',
      method: 'GET',
      fields: { username: result.subscriber_ref, response, userurl: 'http://neverssl.com/?a=1&b=2' },
    });
    const url = new URL(result.nas_login?.url as string);
    expect(url.origin + url.pathname).toBe('http://10.1.0.1:3990/logon');
    expect(url.searchParams.get('username')).toBe(result.subscriber_ref);
    expect(url.searchParams.get('response')).toBe(response);
    expect(url.searchParams.get('userurl')).toBe('http://neverssl.com/?a=1&b=2');
  });

  it('CoovaChilli UAM without uamsecret (the quick server): response = MD5(0x00 ‖ password ‖ challenge)', async () => {
    const phone = newPhone();
    const challenge = randomBytes(16);
    const result = await login(quick, quickSms, phone, { uam: { uamip: '192.168.182.1', uamport: 3990, challenge: challenge.toString('hex') } });
    const session = JSON.parse((await quick.kernel.kv.get(portalKeys.session(await subscriberId(quick, phone)))) as string) as { token: string; mac: null };
    expect(session.mac).toBeNull();
    expect(result.nas_login?.fields.response).toBe(md5(Buffer.concat([Buffer.from([0]), Buffer.from(session.token), challenge])).toString('hex'));
  });

  it('MikroTik hotspot: nas_login POSTs username and MD5(chap-id ‖ password ‖ chap-challenge) to link-login-only', async () => {
    const phone = newPhone();
    const chapChallenge = randomBytes(16);
    const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
    const result = await login(main, sms, phone, {
      mac: 'AA:BB:CC:00:00:30',
      mikrotik: { link_login_only: 'http://10.5.50.1/login', chap_id: '\\042', chap_challenge: octal(chapChallenge), link_orig: 'http://neverssl.com/' },
    });
    const session = JSON.parse((await main.kernel.kv.get(portalKeys.session(await subscriberId(main, phone)))) as string) as { token: string };
    const password = md5(Buffer.concat([Buffer.from([0o42]), Buffer.from(session.token), chapChallenge])).toString('hex');
    expect(result.nas_login).toEqual({
      kind: 'mikrotik',
      method: 'POST',
      url: 'http://10.5.50.1/login',
      fields: { username: result.subscriber_ref, password, dst: 'http://neverssl.com/', popup: 'false' },
    });
  });

  it('reseller: from the NAS when known, else from the slug, else none; plans follow the reseller', async () => {
    const db = main.kernel.db;
    const a = await db
      .insertInto('resellers')
      .values({ name: 'Cotonou Net', slug: `cot-${backend}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const b = await db
      .insertInto('resellers')
      .values({ name: 'Parakou WiFi', slug: `par-${backend}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('plans')
      .values({
        reseller_id: b.id,
        code: 'DAY10MB',
        name: '10 Mo / jour (Parakou)',
        price_fcfa: 900,
        quota_bytes: 10 * 1024 * 1024,
        quota_period: 'day',
        validity_seconds: 30 * 86_400,
        rate_down_kbps: 1024,
        rate_up_kbps: 512,
      })
      .execute();
    nasReseller = a.id;
    try {
      const viaNas = newPhone();
      await login(main, sms, viaNas, { nas_id: 'nas-cotonou', reseller: `par-${backend}` });
      const viaSlug = newPhone();
      await login(main, sms, viaSlug, { nas_id: 'unknown-nas', reseller: `par-${backend}` });
      const none = newPhone();
      await login(main, sms, none, { reseller: 'no-such-reseller' });
      const reseller = async (p: string) =>
        (await db.selectFrom('subscribers').select('reseller_id').where('msisdn', '=', p).executeTakeFirstOrThrow()).reseller_id;
      expect(await reseller(viaNas)).toBe(a.id);
      expect(await reseller(viaSlug)).toBe(b.id);
      expect(await reseller(none)).toBeNull();
    } finally {
      nasReseller = null;
    }

    const plans = async (q: string) =>
      ((await (await main.request(`/portal/plans${q}`)).json()) as { items: Array<{ code: string; price_fcfa: number; name: string }> }).items;
    const defaults = await plans('');
    expect(defaults.map((p) => [p.code, p.price_fcfa])).toEqual([
      ['DAY10MB', 1000],
      ['DAY100MB', 5000],
      ['MONTH1GB', 10000],
      ['MONTH5GB', 50000],
    ]);
    const parakou = await plans(`?reseller=par-${backend}`);
    expect(parakou.map((p) => [p.code, p.price_fcfa])[0]).toEqual(['DAY10MB', 900]);
    expect(parakou).toHaveLength(4);
    expect(await plans(`?reseller=cot-${backend}`)).toEqual(defaults);
  });

  it('with an active plan: verify and /portal/me give the time left, usage stays null, and the DNS sinkhole event is published', async () => {
    const phone = newPhone();
    const first = await login(quick, quickSms, phone);
    const id = await subscriberId(quick, phone);
    const plan = await quick.kernel.db
      .selectFrom('plans')
      .select('id')
      .where('code', '=', 'MONTH1GB')
      .where('reseller_id', 'is', null)
      .executeTakeFirstOrThrow();
    await activateSubscription(quick.kernel.db, { subscriberId: id, planId: plan.id, source: 'grant', sourceRef: `test-${id}` });

    const me = (await (await quick.request('/portal/me', { headers: quick.auth(first.api_token) })).json()) as Record<string, any>;
    expect(me).toMatchObject({ has_active_plan: true, usage: null, plan: { code: 'MONTH1GB', quota_bytes: 1024 ** 3, quota_period: 'month' } });
    expect(me.plan.remaining_seconds).toBeGreaterThan(30 * 86_400 - 60);

    const events: PortalClientAuthorised[] = [];
    quick.kernel.events.on(portalClientAuthorised, (e) => {
      events.push(e);
    });
    await new Promise((r) => setTimeout(r, 1100));
    const second = await login(quick, quickSms, phone, { ip: '10.1.0.77', mac: 'aa:bb:cc:00:00:40' });
    expect(second).toMatchObject({ has_active_plan: true, plan: { code: 'MONTH1GB' } });
    await waitFor(() => events.find((e) => e.ip === '10.1.0.77'));
    expect(events.find((e) => e.ip === '10.1.0.77')).toEqual({ ip: '10.1.0.77', subscriberId: id, ttlSeconds: 86_400 });
  });

  it('GET /portal/me needs a subscriber token', async () => {
    expect((await main.request('/portal/me')).status).toBe(401);
    expect((await main.request('/portal/me', { headers: main.auth(main.nocToken) })).status).toBe(403);
  });

  it('documents every route with its access in /openapi.json', async () => {
    const doc = (await (await main.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { 'x-rgz-access'?: unknown }>> };
    expect(doc.paths['/portal/otp/request']?.post?.['x-rgz-access']).toBe('public');
    expect(doc.paths['/portal/otp/verify']?.post?.['x-rgz-access']).toBe('public');
    expect(doc.paths['/portal/me']?.get?.['x-rgz-access']).toEqual(['subscriber']);
    expect(doc.paths['/portal/plans']?.get?.['x-rgz-access']).toBe('public');
    expect(doc.paths['/portal/']?.get?.['x-rgz-access']).toBe('public');
  });
});

describe('portal configuration errors name the key', () => {
  it('a missing secret', async () => {
    await expect(startTestServer({ plugins: [{ plugin: portal, config: {} }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.portal.config.secret',
    });
  });

  it('an SMS sender id no plugin contributes', async () => {
    await expect(
      startTestServer({
        plugins: [recordingSmsPlugin(new RecordingSmsSender()), { plugin: portal, config: { secret: SECRET, sms: { senders: ['recording', 'letexto'] } } }],
      }),
    ).rejects.toThrow(/plugins\.portal\.config\.sms\.senders: no SMS sender with id "letexto"; loaded senders: recording/);
  });
});
