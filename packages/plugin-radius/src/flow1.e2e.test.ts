/**
 * Flow 1 (issue #4, seed "Subscriber → Portal → RADIUS → API → DB → Session") end to end on PostgreSQL + Redis, with
 * the real plugins: the portal sends the login code through the Letexto plugin to Letexto's wire-compatible test
 * server, the subscriber types it back, and Debian's radclient then plays the MikroTik hotspot: PAP with the
 * subscriber_ref and the session password the portal handed to the login page, CHAP as RouterOS's http-chap login
 * builds it from the portal's answer, MAC authentication of the device the portal recorded, and accounting Start /
 * Interim-Update / Stop past 4 GiB (Gigawords) into `radius_sessions`.
 *
 * `@rgz/plugin-portal` is imported from the workspace without being a devDependency of this package: the portal
 * already has this package as a devDependency (its payment-flow test), and a cycle would break turbo's build graph.
 */

import { randomBytes } from 'node:crypto';
import { activateSubscription, type CoreDatabase, type Kysely } from '@rgz/core';
import { startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import mikrotik from '@rgz/nas-mikrotik';
import letexto from '@rgz/plugin-letexto';
import { type LetextoTestServer, startLetextoTestServer } from '@rgz/plugin-letexto/test-server';
import portal from '@rgz/plugin-portal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import radius, { radiusServer } from './index.js';
import type { RadiusDatabase } from './schema.js';
import { RADCLIENT, radclient } from './test-support/radclient.js';

const NAS = { identifier: 'mt-flow1-cadjehoun', address: '127.0.0.1', secret: 'flow1-hotspot-secret-0123456789', vendor: 'mikrotik' };
const TWO_32 = 2 ** 32;

interface VerifyAnswer {
  subscriber_ref: string;
  has_active_plan: boolean;
  nas_login: { kind: string; method: string; url: string; fields: Record<string, string> } | null;
}

describe.skipIf(!RADCLIENT)('Flow 1: portal login by SMS code, RADIUS PAP/CHAP/MAC, accounting with Gigawords (real backend)', () => {
  let sms: LetextoTestServer;
  let server: TestServer;
  let authPort: number;
  let acctPort: number;
  const db = () => server.kernel.db as unknown as Kysely<RadiusDatabase>;
  // A fresh Bénin mobile number (+229 01 97 …) per run: Redis keeps rate-limit keys across runs.
  const phone = `+2290197${String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0')}`;
  const deviceA = 'A4-5E-60-C1-00-0A';
  const deviceB = 'A4-5E-60-C1-00-0B';
  let ref = '';
  let subscriberId = '';

  beforeAll(async () => {
    sms = await startLetextoTestServer({ senders: ['RGZ'] });
    server = await startTestServer({
      backend: 'real',
      config: { tasks: { pollIntervalMs: 50 } },
      plugins: [
        { plugin: letexto, config: { baseUrl: sms.url, apiKey: sms.apiKey, senderId: 'RGZ', retries: 0, timeoutMs: 5000 } },
        {
          plugin: portal,
          config: { secret: randomBytes(32).toString('base64'), sms: { senders: ['letexto'] }, rateLimit: { resendSeconds: 1, perIpPerMinute: 100 } },
        },
        mikrotik,
        { plugin: radius, config: { auth: { host: '127.0.0.1', port: 0 }, acct: { host: '127.0.0.1', port: 0 }, recvBufferSize: 1024 * 1024, nas: [NAS] } },
      ],
    });
    const handle = server.get(radiusServer);
    authPort = handle.auth?.port ?? 0;
    acctPort = handle.acct?.port ?? 0;
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await sms?.close();
  });

  const post = (path: string, body: unknown) =>
    server.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** The portal flow as the login page runs it: ask for a code, read it from the SMS, send it back with the NAS's parameters. */
  async function login(extra: Record<string, unknown>): Promise<VerifyAnswer> {
    const before = sms.messages().filter((m) => m.outcome === 'accepted').length;
    // One code per phone per second (rateLimit.resendSeconds): a second login right after the first waits that out.
    let asked = await post('/portal/otp/request', { phone });
    for (let i = 0; i < 5 && asked.status === 429; i++) {
      const { retry_after } = (await asked.json()) as { retry_after?: number };
      await new Promise((r) => setTimeout(r, (retry_after ?? 1) * 1000 + 100));
      asked = await post('/portal/otp/request', { phone });
    }
    expect(asked.status, await asked.clone().text()).toBe(202);
    const message = await waitFor(
      () => (sms.messages().filter((m) => m.outcome === 'accepted').length > before ? sms.lastMessageTo(phone) : undefined),
      20_000,
      { message: `the login SMS to ${phone}` },
    );
    expect(message.from).toBe('RGZ');
    const code = /\b(\d{6})\b/.exec(message.content ?? '')?.[1];
    expect(code, message.content).toMatch(/^\d{6}$/);
    const verified = await post('/portal/otp/verify', { phone, code, nas_id: NAS.identifier, ...extra });
    expect(verified.status, await verified.clone().text()).toBe(200);
    return (await verified.json()) as VerifyAnswer;
  }

  const auth = (input: string) =>
    radclient(authPort, 'auth', NAS.secret, `${input}, NAS-Identifier = "${NAS.identifier}", Message-Authenticator = 0x00`, { timeout: 3 });
  const acct = (input: string) => radclient(acctPort, 'acct', NAS.secret, `${input}, NAS-Identifier = "${NAS.identifier}"`, { timeout: 3 });

  it('device A logs in on the portal (MikroTik http-pap): the SMS code, then the login form for the hotspot', async () => {
    const answer = await login({ mac: deviceA, mikrotik: { link_login_only: 'http://10.5.50.1/login', link_orig: 'http://neverssl.com/' } });
    expect(answer.nas_login).toMatchObject({ kind: 'mikrotik', method: 'POST', url: 'http://10.5.50.1/login' });
    ref = answer.subscriber_ref;
    expect(answer.nas_login?.fields.username).toBe(ref);
    const row = await (db() as unknown as Kysely<CoreDatabase>)
      .selectFrom('subscribers')
      .select(['id', 'msisdn'])
      .where('subscriber_ref', '=', ref)
      .executeTakeFirstOrThrow();
    expect(row.msisdn).toBe(phone);
    subscriberId = row.id;

    // No plan yet: the hotspot's PAP login is refused with the portal's words.
    const password = answer.nas_login?.fields.password as string;
    const refused = await auth(`User-Name = "${ref}", User-Password = "${password}", Calling-Station-Id = "${deviceA}"`);
    expect(refused.received, refused.out).toBe('Access-Reject');
    expect(refused.reply.get('Reply-Message')).toEqual(['"Aucun forfait actif : achetez un forfait sur le portail"']);

    // A plan (bought in flow 2; granted here), then the same PAP login is accepted in the MikroTik dialect.
    const plan = await (db() as unknown as Kysely<CoreDatabase>)
      .selectFrom('plans')
      .select('id')
      .where('code', '=', 'MONTH5GB')
      .where('reseller_id', 'is', null)
      .executeTakeFirstOrThrow();
    await activateSubscription(db() as unknown as Kysely<CoreDatabase>, { subscriberId, planId: plan.id, source: 'grant', sourceRef: `flow1-${ref}` });
    const accepted = await auth(`User-Name = "${ref}", User-Password = "${password}", Calling-Station-Id = "${deviceA}"`);
    expect(accepted.received, accepted.out).toBe('Access-Accept');
    expect(accepted.reply.get('Mikrotik-Total-Limit')).toEqual([String(1024 ** 3)]);
    expect(accepted.reply.get('Mikrotik-Total-Limit-Gigawords')).toEqual(['1']);
    expect(accepted.reply.get('Acct-Interim-Interval')).toEqual(['300']);
    expect(Number(accepted.reply.get('Session-Timeout')?.[0])).toBeGreaterThan(0);
    expect(accepted.reply.get('Class')).toEqual([`0x${Buffer.from(`rgz:${subscriberId}`).toString('hex')}`]);
    expect([...accepted.reply.keys()][0]).toBe('Message-Authenticator');

    const wrong = await auth(`User-Name = "${ref}", User-Password = "not-the-password", Calling-Station-Id = "${deviceA}"`);
    expect(wrong.received).toBe('Access-Reject');
    expect(wrong.reply.get('Reply-Message')).toEqual(['"Mot de passe incorrect"']);
  });

  it('device B logs in (MikroTik http-chap): RouterOS turns the hashed form field into CHAP, RADIUS accepts it', async () => {
    const chapId = 0xce;
    const challenge = randomBytes(16);
    const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');
    const answer = await login({
      mac: deviceB,
      mikrotik: { link_login_only: 'http://10.5.50.1/login', chap_id: octal(Buffer.from([chapId])), chap_challenge: octal(challenge) },
    });
    expect(answer.subscriber_ref).toBe(ref);
    expect(answer.has_active_plan).toBe(true);
    const hashed = answer.nas_login?.fields.password as string;
    expect(hashed).toMatch(/^[0-9a-f]{32}$/);
    // What RouterOS sends: CHAP-Password = chap-id ‖ the MD5 the login page computed, CHAP-Challenge = its challenge.
    const chap = `CHAP-Password = 0x${chapId.toString(16)}${hashed}, CHAP-Challenge = 0x${challenge.toString('hex')}`;
    const run = await auth(`User-Name = "${ref}", ${chap}, Calling-Station-Id = "${deviceB}"`);
    expect(run.received, run.out).toBe('Access-Accept');
    expect(run.reply.get('Mikrotik-Total-Limit-Gigawords')).toEqual(['1']);
    const tampered = `CHAP-Password = 0x${chapId.toString(16)}${hashed.replace(/^./, (c) => (c === '0' ? '1' : '0'))}, CHAP-Challenge = 0x${challenge.toString('hex')}`;
    expect((await auth(`User-Name = "${ref}", ${tampered}`)).received).toBe('Access-Reject');
  });

  it('MAC authentication of device B (recorded by the portal, live session, plan): Access-Accept for the same subscriber', async () => {
    const run = await auth(`User-Name = "${deviceB}", User-Password = "${deviceB}", Calling-Station-Id = "${deviceB}"`);
    expect(run.received, run.out).toBe('Access-Accept');
    expect(run.reply.get('Class')).toEqual([`0x${Buffer.from(`rgz:${subscriberId}`).toString('hex')}`]);
    expect(run.reply.get('Mikrotik-Total-Limit-Gigawords')).toEqual(['1']);
    const stranger = await auth('User-Name = "A4-5E-60-C1-FF-FF", User-Password = "A4-5E-60-C1-FF-FF"');
    expect(stranger.received).toBe('Access-Reject');
    expect(stranger.reply.get('Reply-Message')).toEqual(['"Appareil inconnu : connectez-vous sur le portail"']);
  });

  it('accounting Start / Interim-Update / Stop past 4 GiB: the radius_sessions row holds exactly the bytes sent', async () => {
    const session = `80f0${randomBytes(4).toString('hex')}`;
    const common = `User-Name = "${ref}", Acct-Session-Id = "${session}", Calling-Station-Id = "${deviceB}", Framed-IP-Address = 10.5.50.42, Class = 0x${Buffer.from(`rgz:${subscriberId}`).toString('hex')}`;
    const row = () => db().selectFrom('radius_sessions').selectAll().where('acct_session_id', '=', session).executeTakeFirst();

    expect((await acct(`${common}, Acct-Status-Type = Start`)).received).toBe('Accounting-Response');
    expect(await row()).toMatchObject({
      subscriber_id: subscriberId,
      nas_id: `config:${NAS.identifier}`,
      mac_address: 'a4:5e:60:c1:00:0b',
      bytes_in: 0,
      bytes_out: 0,
    });

    // 1 Gigaword + 123 456 octets up, 2 Gigawords + 654 321 down after 5 minutes.
    const interim = await acct(
      `${common}, Acct-Status-Type = Interim-Update, Acct-Session-Time = 300, Acct-Input-Octets = 123456, Acct-Input-Gigawords = 1, Acct-Output-Octets = 654321, Acct-Output-Gigawords = 2`,
    );
    expect(interim.received).toBe('Accounting-Response');
    expect(await row()).toMatchObject({ bytes_in: TWO_32 + 123_456, bytes_out: 2 * TWO_32 + 654_321, session_stop: null, last_status: 'interim' });

    const stop = await acct(
      `${common}, Acct-Status-Type = Stop, Acct-Session-Time = 900, Acct-Input-Octets = 7, Acct-Input-Gigawords = 2, Acct-Output-Octets = 4000000000, Acct-Output-Gigawords = 3, Acct-Terminate-Cause = User-Request`,
    );
    expect(stop.received).toBe('Accounting-Response');
    const final = await row();
    expect(final).toMatchObject({
      subscriber_id: subscriberId,
      bytes_in: 2 * TWO_32 + 7,
      bytes_out: 3 * TWO_32 + 4_000_000_000,
      session_time: 900,
      last_status: 'stop',
      terminate_cause: 'User-Request',
      framed_ip: '10.5.50.42',
    });
    expect(final?.session_stop).toBeInstanceOf(Date);
    // Past 2^53 nothing would be exact in JS numbers; here the sums are well inside it, and bigint columns hold them.
    expect(Number.isSafeInteger(final?.bytes_out)).toBe(true);
  });
});
