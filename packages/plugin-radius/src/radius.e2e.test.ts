/**
 * The RADIUS server end to end, on both storage backends (PGlite + in-process KV; PostgreSQL + Redis): Debian's
 * radclient is the NAS for PAP/CHAP/accounting/Status-Server, and raw datagrams (node:dgram, packets built with the
 * codec) cover what radclient cannot send: other source addresses, byte-identical duplicates, malformed packets,
 * Proxy-State, and checks on the raw reply bytes (Message-Authenticator first).
 */

import { randomBytes } from 'node:crypto';
import { writeRateOverride } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttributeInput, PacketCode, verifyMessageAuthenticator, verifyResponseAuthenticator } from './codec/index.js';
import { RADCLIENT, radclient } from './test-support/radclient.js';
import {
  addReseller,
  addSubscriber,
  DEFAULT_NAS,
  metric,
  packet,
  read,
  SECRET,
  type SubscriberFixture,
  startWorld,
  udpClient,
  type World,
} from './test-support/world.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** Second NAS: CoovaChilli, Message-Authenticator not required (a legacy NAS), on 127.0.0.2. */
const CHILLI = {
  identifier: 'chilli-legacy',
  address: '127.0.0.2',
  secret: 'chilli-secret-0123456789',
  vendor: 'coovachilli',
  requireMessageAuthenticator: false,
};
/** Third NAS: WISPr, owned by a reseller (set in beforeAll), on 127.0.0.4. */
const WISPR_ADDRESS = '127.0.0.4';
/** A reseller whose subscribers may have one device online (Simultaneous-Use override). */
const STRICT_RESELLER = '5e11e400-0000-4000-8000-000000000001';

let ids = 0;
const nextId = () => ++ids % 256;
const sessionId = () => `s-${randomBytes(4).toString('hex')}`;
const hex = (text: string) => `0x${Buffer.from(text).toString('hex')}`;

describe.each(BACKENDS)('RADIUS server (%s)', (backend) => {
  let w: World;
  let resellerA: string;
  let resellerB: string;

  beforeAll(async () => {
    // Resellers must exist before the NAS that names one; start, add them, then register that NAS by API.
    w = await startWorld({ backend, nas: [DEFAULT_NAS, CHILLI], config: { simultaneousUse: { default: 2, resellers: { [STRICT_RESELLER]: 1 } } } });
    await w.db
      .insertInto('resellers')
      .values({ id: STRICT_RESELLER, name: 'strict', slug: `strict-${backend}`, phone: null, email: null })
      .execute();
    resellerA = await addReseller(w, `res-a-${backend}`);
    resellerB = await addReseller(w, `res-b-${backend}`);
    const res = await w.server.request('/api/radius/nas', {
      method: 'POST',
      headers: { ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({
        identifier: 'wispr-res-a',
        address: WISPR_ADDRESS,
        secret: 'wispr-secret-0123456789',
        vendor: 'wispr',
        reseller_id: resellerA,
        require_message_authenticator: false,
      }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await w?.close();
  });

  const pap = (s: SubscriberFixture, extra = '') =>
    radclient(
      w.authPort,
      'auth',
      SECRET,
      `User-Name = "${s.ref}", User-Password = "${s.token}", Message-Authenticator = 0x00, Calling-Station-Id = "${s.mac}"${extra}`,
    );
  const row = (acctSessionId: string) => w.db.selectFrom('radius_sessions').selectAll().where('acct_session_id', '=', acctSessionId).executeTakeFirst();

  /** An accounting record from a NAS through dgram, answered or not. */
  async function account(attributes: AttributeInput[], options: { from?: string; secret?: string } = {}) {
    const client = await udpClient(options.from);
    try {
      const reply = await client.request(w.acctPort, packet({ code: 'Accounting-Request', identifier: nextId(), attributes }, options.secret ?? SECRET));
      await w.radius.flushAccounting();
      return reply;
    } finally {
      await client.close();
    }
  }
  /** An open session of `s` on the default NAS with `bytes` used, last heard `ago` seconds ago. */
  async function openSession(s: SubscriberFixture, options: { bytes?: number; mac?: string; agoSeconds?: number } = {}) {
    const id = sessionId();
    const at = Math.floor(Date.now() / 1000) - (options.agoSeconds ?? 0);
    const reply = await account([
      { name: 'Acct-Status-Type', value: 'Interim-Update' },
      { name: 'Acct-Session-Id', value: id },
      { name: 'User-Name', value: s.ref },
      { name: 'Calling-Station-Id', value: options.mac ?? s.mac },
      { name: 'Acct-Input-Octets', value: options.bytes ?? 0 },
      { name: 'Acct-Session-Time', value: 60 },
      { name: 'Event-Timestamp', value: at },
    ]);
    expect(reply?.[0]).toBe(PacketCode.AccountingResponse);
    return id;
  }

  describe.skipIf(!RADCLIENT)('with radclient as the NAS', () => {
    it('PAP: Access-Accept with the MikroTik rate and quota, Session-Timeout, Acct-Interim-Interval and Class', async () => {
      const s = await addSubscriber(w);
      const run = await pap(s);
      expect(run.received, run.out).toBe('Access-Accept');
      expect(run.reply.get('Mikrotik-Rate-Limit')).toEqual(['"512k/1024k"']);
      expect(run.reply.get('Mikrotik-Total-Limit')).toEqual([String(10 * MiB)]);
      expect(run.reply.get('Acct-Interim-Interval')).toEqual(['300']);
      expect(Number(run.reply.get('Session-Timeout')?.[0])).toBeGreaterThan(0);
      expect(Number(run.reply.get('Session-Timeout')?.[0])).toBeLessThanOrEqual(86_400);
      expect(run.reply.get('Class')).toEqual([hex(`rgz:${s.id}`)]);
      // radclient 3.2.1 lists attributes in wire order: Message-Authenticator is the first.
      expect([...run.reply.keys()][0]).toBe('Message-Authenticator');

      const big = await addSubscriber(w, { plan: 'MONTH5GB' });
      const run5 = await pap(big);
      expect(run5.received, run5.out).toBe('Access-Accept');
      // 5 GiB = Gigawords 1 + 1 GiB octets; unlimited MIR: no rate limit.
      expect(run5.reply.get('Mikrotik-Total-Limit')).toEqual([String(GiB)]);
      expect(run5.reply.get('Mikrotik-Total-Limit-Gigawords')).toEqual(['1']);
      expect(run5.reply.has('Mikrotik-Rate-Limit')).toBe(false);
    });

    it('CHAP: radclient computes CHAP-Password from the session token; Access-Accept', async () => {
      const s = await addSubscriber(w);
      const run = await radclient(w.authPort, 'auth', SECRET, `User-Name = "${s.ref}", CHAP-Password = "${s.token}", Message-Authenticator = 0x00`);
      expect(run.received, run.out).toBe('Access-Accept');
      expect(run.out).toMatch(/CHAP-Password = 0x/);
      const wrong = await radclient(w.authPort, 'auth', SECRET, `User-Name = "${s.ref}", CHAP-Password = "not-the-token", Message-Authenticator = 0x00`);
      expect(wrong.received).toBe('Access-Reject');
    });

    it('wrong password: Access-Reject with Reply-Message', async () => {
      const s = await addSubscriber(w);
      const before = await metric(w, 'radius_requests_total', { type: 'access', result: 'reject' });
      const run = await radclient(w.authPort, 'auth', SECRET, `User-Name = "${s.ref}", User-Password = "guess", Message-Authenticator = 0x00`);
      expect(run.received, run.out).toBe('Access-Reject');
      expect(run.reply.get('Reply-Message')).toEqual(['"Mot de passe incorrect"']);
      expect(await metric(w, 'radius_requests_total', { type: 'access', result: 'reject' })).toBe(before + 1);
    });

    it('wrong shared secret: no valid answer (Message-Authenticator fails, the packet is dropped)', async () => {
      const s = await addSubscriber(w);
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'bad_message_authenticator' });
      const run = await radclient(
        w.authPort,
        'auth',
        'not-the-secret-at-all',
        `User-Name = "${s.ref}", User-Password = "${s.token}", Message-Authenticator = 0x00`,
        { timeout: 0.5 },
      );
      expect(run.received).toBeUndefined();
      expect(run.out).toMatch(/No reply from server/);
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'bad_message_authenticator' })).toBeGreaterThan(before);
    });

    it('missing Message-Authenticator from a NAS that requires it: dropped, counted; with it: accepted', async () => {
      const s = await addSubscriber(w);
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'missing_message_authenticator' });
      const run = await radclient(w.authPort, 'auth', SECRET, `User-Name = "${s.ref}", User-Password = "${s.token}"`, { timeout: 0.5 });
      expect(run.received).toBeUndefined();
      expect(run.out).toMatch(/No reply from server/);
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'missing_message_authenticator' })).toBeGreaterThan(before);
      expect((await pap(s)).received).toBe('Access-Accept');
    });

    it('accounting Start / Interim-Update / Stop: the radius_sessions row holds the bytes, Gigawords included', async () => {
      const s = await addSubscriber(w);
      const id = sessionId();
      const common = `User-Name = "${s.ref}", Acct-Session-Id = "${id}", Calling-Station-Id = "${s.mac.toUpperCase().replace(/:/g, '-')}", Framed-IP-Address = 10.5.50.23, NAS-Identifier = "hotspot-test"`;
      const start = await radclient(w.acctPort, 'acct', SECRET, `${common}, Acct-Status-Type = Start`);
      expect(start.received, start.out).toBe('Accounting-Response');
      let r = await row(id);
      expect(r).toMatchObject({
        subscriber_id: s.id,
        nas_id: 'config:hotspot-test',
        mac_address: s.mac,
        framed_ip: '10.5.50.23',
        bytes_in: 0,
        bytes_out: 0,
        session_stop: null,
        last_status: 'start',
      });

      const interim = await radclient(
        w.acctPort,
        'acct',
        SECRET,
        `${common}, Acct-Status-Type = Interim-Update, Acct-Input-Octets = 1234, Acct-Input-Gigawords = 1, Acct-Output-Octets = 5678, Acct-Output-Gigawords = 2, Acct-Session-Time = 300`,
      );
      expect(interim.received).toBe('Accounting-Response');
      r = await row(id);
      expect(r?.bytes_in).toBe(2 ** 32 + 1234);
      expect(r?.bytes_out).toBe(2 * 2 ** 32 + 5678);
      expect(r?.session_stop).toBeNull();

      const stop = await radclient(
        w.acctPort,
        'acct',
        SECRET,
        `${common}, Acct-Status-Type = Stop, Acct-Input-Octets = 4000, Acct-Input-Gigawords = 1, Acct-Output-Octets = 9000, Acct-Output-Gigawords = 2, Acct-Session-Time = 600, Acct-Terminate-Cause = User-Request`,
      );
      expect(stop.received).toBe('Accounting-Response');
      r = await row(id);
      expect(r).toMatchObject({ bytes_in: 4_294_971_296, bytes_out: 8_589_943_592, session_time: 600, terminate_cause: 'User-Request', last_status: 'stop' });
      expect(r?.session_stop).toBeInstanceOf(Date);
      expect(await w.db.selectFrom('radius_sessions').select('id').where('acct_session_id', '=', id).execute()).toHaveLength(1);
    });

    it('Status-Server is answered on both ports', async () => {
      const auth = await radclient(w.authPort, 'status', SECRET, 'Message-Authenticator = 0x00');
      expect(auth.received, auth.out).toBe('Access-Accept');
      const acct = await radclient(w.acctPort, 'status', SECRET, 'Message-Authenticator = 0x00');
      expect(acct.received, acct.out).toBe('Accounting-Response');
    });
  });

  describe('raw datagrams', () => {
    const papAttrs = (s: SubscriberFixture, extra: AttributeInput[] = []): AttributeInput[] => [
      { name: 'User-Name', value: s.ref },
      { name: 'User-Password', value: s.token },
      { name: 'Calling-Station-Id', value: s.mac },
      ...extra,
    ];
    async function access(attributes: AttributeInput[], options: { from?: string; secret?: string; messageAuthenticator?: boolean } = {}) {
      const client = await udpClient(options.from);
      try {
        const request = packet(
          { code: 'Access-Request', identifier: nextId(), attributes, messageAuthenticator: options.messageAuthenticator ?? true },
          options.secret ?? SECRET,
        );
        const reply = await client.request(w.authPort, request);
        return { request, reply, authenticator: request.subarray(4, 20) };
      } finally {
        await client.close();
      }
    }

    it('puts a valid Message-Authenticator first in Accept and Reject, also to a request without one', async () => {
      const s = await addSubscriber(w);
      for (const [attrs, code] of [
        [papAttrs(s), PacketCode.AccessAccept],
        [
          [
            { name: 'User-Name', value: s.ref },
            { name: 'User-Password', value: 'wrong' },
          ],
          PacketCode.AccessReject,
        ],
      ] as const) {
        for (const [from, secret, ma] of [
          ['127.0.0.1', SECRET, true],
          [CHILLI.address, CHILLI.secret, false],
        ] as const) {
          const { reply, authenticator } = await access([...attrs], { from, secret, messageAuthenticator: ma });
          expect(reply?.[0], `${from} ${code}`).toBe(code);
          const bytes = reply as Buffer;
          expect(bytes[20], 'first attribute is Message-Authenticator (80)').toBe(80);
          expect(bytes[21]).toBe(18);
          expect(verifyMessageAuthenticator(bytes, secret, authenticator)).toBe('valid');
          expect(verifyResponseAuthenticator(bytes, authenticator, secret)).toBe(true);
        }
      }
    });

    it('answers a CoovaChilli NAS in its dialect (bandwidth in kbit/s)', async () => {
      const s = await addSubscriber(w);
      const { reply, authenticator } = await access(papAttrs(s), { from: CHILLI.address, secret: CHILLI.secret, messageAuthenticator: false });
      const decoded = read(reply as Buffer, authenticator, CHILLI.secret);
      expect(decoded.get('ChilliSpot-Bandwidth-Max-Up')).toBe(512);
      expect(decoded.get('ChilliSpot-Bandwidth-Max-Down')).toBe(1024);
      expect(decoded.get('ChilliSpot-Max-Total-Octets')).toBe(10 * MiB);
    });

    it('a DBA rate override in force lowers the rate of the Accept, in each dialect', async () => {
      const s = await addSubscriber(w);
      await writeRateOverride(w.server.kernel.kv, s.id, { down_kbps: 700, up_kbps: null, computed_at: new Date().toISOString(), source: 'dba' });
      const mt = await access(papAttrs(s));
      // DAY10MB is 1024/512: down lowered to 700, up stays at the plan's.
      expect(read(mt.reply as Buffer, mt.authenticator).get('Mikrotik-Rate-Limit')).toBe('512k/700k');
      const chilli = await access(papAttrs(s), { from: CHILLI.address, secret: CHILLI.secret, messageAuthenticator: false });
      const decoded = read(chilli.reply as Buffer, chilli.authenticator, CHILLI.secret);
      expect(decoded.get('ChilliSpot-Bandwidth-Max-Down')).toBe(700);
      expect(decoded.get('ChilliSpot-Bandwidth-Max-Up')).toBe(512);
      // An unlimited plan, overridden downstream only: upstream 0 = no limit for RouterOS.
      const big = await addSubscriber(w, { plan: 'MONTH1GB' });
      await writeRateOverride(w.server.kernel.kv, big.id, { down_kbps: 2000, up_kbps: null, computed_at: new Date().toISOString() });
      const unl = await access(papAttrs(big));
      expect(read(unl.reply as Buffer, unl.authenticator).get('Mikrotik-Rate-Limit')).toBe('0/2M');
    });

    it('wrong secret without Message-Authenticator: the Reject does not verify with the NAS secret', async () => {
      const s = await addSubscriber(w);
      const { reply, authenticator } = await access(papAttrs(s), { from: CHILLI.address, secret: 'a-wrong-secret-xyz', messageAuthenticator: false });
      // The password decodes to garbage with our secret: Reject, signed with the real secret the NAS does not have.
      expect(reply?.[0]).toBe(PacketCode.AccessReject);
      expect(verifyResponseAuthenticator(reply as Buffer, authenticator, 'a-wrong-secret-xyz')).toBe(false);
      expect(verifyMessageAuthenticator(reply as Buffer, 'a-wrong-secret-xyz', authenticator)).toBe('invalid');
    });

    it('drops Proxy-State without Message-Authenticator (BlastRADIUS), echoes it when signed', async () => {
      const s = await addSubscriber(w);
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'proxy_state_without_message_authenticator' });
      const proxy = { name: 'Proxy-State', value: Buffer.from('attacker') };
      const unsigned = await access(papAttrs(s, [proxy]), { from: CHILLI.address, secret: CHILLI.secret, messageAuthenticator: false });
      expect(unsigned.reply).toBeUndefined();
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'proxy_state_without_message_authenticator' })).toBe(before + 1);
      const signed = await access(papAttrs(s, [proxy]), { from: CHILLI.address, secret: CHILLI.secret, messageAuthenticator: true });
      expect(signed.reply?.[0]).toBe(PacketCode.AccessAccept);
      expect(read(signed.reply as Buffer, signed.authenticator, CHILLI.secret).get('Proxy-State')).toEqual(Buffer.from('attacker'));
    });

    it('drops and counts a packet from an unknown NAS address, never answers it', async () => {
      const s = await addSubscriber(w);
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'unknown_nas' });
      const { reply } = await access(papAttrs(s), { from: '127.0.0.3' });
      expect(reply).toBeUndefined();
      const acct = await account(
        [
          { name: 'Acct-Status-Type', value: 'Start' },
          { name: 'Acct-Session-Id', value: sessionId() },
        ],
        { from: '127.0.0.3' },
      );
      expect(acct).toBeUndefined();
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'unknown_nas' })).toBe(before + 2);
    });

    it('drops and counts malformed, truncated and overrunning packets, and keeps serving', async () => {
      const s = await addSubscriber(w);
      const good = packet({ code: 'Access-Request', identifier: nextId(), attributes: papAttrs(s) });
      const truncated = good.subarray(0, good.length - 5); // Length field says more than arrived
      const overrun = Buffer.from(good);
      overrun[21] = 250; // first attribute (Message-Authenticator) claims 250 octets
      const lengthOne = Buffer.concat([good.subarray(0, 20), Buffer.from([1, 1])]);
      lengthOne.writeUInt16BE(22, 2);
      const tooShort = Buffer.from([1, 2, 0, 10, 0, 0, 0, 0, 0, 0]);
      const lengthHuge = Buffer.from(good);
      lengthHuge.writeUInt16BE(5000, 2);
      const badAcct = packet({
        code: 'Accounting-Request',
        identifier: nextId(),
        attributes: [
          { name: 'Acct-Status-Type', value: 'Start' },
          { name: 'Acct-Session-Id', value: 'x' },
        ],
      });
      badAcct[badAcct.length - 1] = 0xff; // attribute changed after signing: the Request Authenticator no longer matches

      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'malformed' });
      const client = await udpClient();
      try {
        for (const bad of [truncated, overrun, lengthOne, tooShort, lengthHuge, Buffer.alloc(0), randomBytes(4096)]) {
          expect(await client.request(w.authPort, bad, 150)).toBeUndefined();
        }
        const beforeAuth = await metric(w, 'radius_requests_dropped_total', { reason: 'bad_authenticator' });
        expect(await client.request(w.acctPort, badAcct, 150)).toBeUndefined();
        expect(await metric(w, 'radius_requests_dropped_total', { reason: 'bad_authenticator' })).toBe(beforeAuth + 1);
        expect((await client.request(w.authPort, good))?.[0]).toBe(PacketCode.AccessAccept);
      } finally {
        await client.close();
      }
      // randomBytes may start with an unknown code or a bad length: every one of the 7 is malformed.
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'malformed' })).toBe(before + 7);
    });

    it('a duplicate accounting packet is answered from the cache and not applied twice', async () => {
      const s = await addSubscriber(w);
      const id = sessionId();
      const request = packet({
        code: 'Accounting-Request',
        identifier: nextId(),
        attributes: [
          { name: 'Acct-Status-Type', value: 'Interim-Update' },
          { name: 'Acct-Session-Id', value: id },
          { name: 'User-Name', value: s.ref },
          { name: 'Acct-Input-Octets', value: 1000 },
          { name: 'Acct-Output-Octets', value: 2000 },
        ],
      });
      const stored = await metric(w, 'radius_accounting_records_stored_total');
      const dups = await metric(w, 'radius_requests_total', { type: 'accounting', result: 'duplicate' });
      const client = await udpClient();
      try {
        const first = await client.request(w.acctPort, request);
        const second = await client.request(w.acctPort, request);
        expect(first?.[0]).toBe(PacketCode.AccountingResponse);
        expect(second).toEqual(first);
      } finally {
        await client.close();
      }
      await w.radius.flushAccounting();
      expect(await metric(w, 'radius_accounting_records_stored_total')).toBe(stored + 1);
      expect(await metric(w, 'radius_requests_total', { type: 'accounting', result: 'duplicate' })).toBe(dups + 1);
      const r = await row(id);
      expect(r).toMatchObject({ bytes_in: 1000, bytes_out: 2000, subscriber_id: s.id });

      // The NAS's own retransmission with a new Acct-Delay-Time is a new packet: stored again, counters unchanged.
      const again = await account([
        { name: 'Acct-Status-Type', value: 'Interim-Update' },
        { name: 'Acct-Session-Id', value: id },
        { name: 'User-Name', value: s.ref },
        { name: 'Acct-Input-Octets', value: 1000 },
        { name: 'Acct-Output-Octets', value: 2000 },
        { name: 'Acct-Delay-Time', value: 3 },
      ]);
      expect(again?.[0]).toBe(PacketCode.AccountingResponse);
      expect(await row(id)).toMatchObject({ bytes_in: 1000, bytes_out: 2000 });
    });

    it('finds the subscriber of an accounting record by the Class of our Accept, or by the MAC of a MAC-auth session', async () => {
      const s = await addSubscriber(w);
      const byClass = sessionId();
      await account([
        { name: 'Acct-Status-Type', value: 'Start' },
        { name: 'Acct-Session-Id', value: byClass },
        { name: 'User-Name', value: 'whatever-the-nas-says' },
        { name: 'Class', value: Buffer.from(`rgz:${s.id}`) },
      ]);
      expect((await row(byClass))?.subscriber_id).toBe(s.id);
      const byMac = sessionId();
      await account([
        { name: 'Acct-Status-Type', value: 'Start' },
        { name: 'Acct-Session-Id', value: byMac },
        { name: 'User-Name', value: s.mac.toUpperCase().replace(/:/g, '') },
      ]);
      expect((await row(byMac))?.subscriber_id).toBe(s.id);
    });

    it('an Interim-Update re-opens a closed session; Accounting-On closes the NAS open sessions only', async () => {
      const s = await addSubscriber(w);
      const id = sessionId();
      const base: AttributeInput[] = [
        { name: 'Acct-Session-Id', value: id },
        { name: 'User-Name', value: s.ref },
      ];
      await account([
        { name: 'Acct-Status-Type', value: 'Stop' },
        ...base,
        { name: 'Acct-Input-Octets', value: 10 },
        { name: 'Acct-Terminate-Cause', value: 'Lost-Carrier' },
      ]);
      expect(await row(id)).toMatchObject({ last_status: 'stop', terminate_cause: 'Lost-Carrier' });
      await account([{ name: 'Acct-Status-Type', value: 'Interim-Update' }, ...base, { name: 'Acct-Input-Octets', value: 20 }]);
      expect(await row(id)).toMatchObject({ session_stop: null, terminate_cause: null, last_status: 'interim', bytes_in: 20 });

      // A session on the CoovaChilli NAS stays open when the MikroTik NAS reboots.
      const other = sessionId();
      await account(
        [
          { name: 'Acct-Status-Type', value: 'Start' },
          { name: 'Acct-Session-Id', value: other },
          { name: 'User-Name', value: s.ref },
        ],
        {
          from: CHILLI.address,
          secret: CHILLI.secret,
        },
      );
      const on = await account([
        { name: 'Acct-Status-Type', value: 'Accounting-On' },
        { name: 'NAS-Identifier', value: 'hotspot-test' },
      ]);
      expect(on?.[0]).toBe(PacketCode.AccountingResponse);
      expect(await row(id)).toMatchObject({ terminate_cause: 'NAS-Reboot', last_status: 'nas-reboot' });
      expect((await row(id))?.session_stop).toBeInstanceOf(Date);
      expect(await row(other)).toMatchObject({ session_stop: null });
      const open = await w.db
        .selectFrom('radius_sessions')
        .select('id')
        .where('nas_id', '=', 'config:hotspot-test')
        .where('session_stop', 'is', null)
        .execute();
      expect(open).toEqual([]);
    });

    it('the stale-session job closes sessions silent past the timeout; their next Interim re-opens them', async () => {
      const s = await addSubscriber(w);
      const id = await openSession(s);
      expect(await w.radius.closeStaleSessions(new Date(Date.now() + 3600_000))).toBeGreaterThan(0);
      expect(await row(id)).toMatchObject({ terminate_cause: 'Stale-Timeout', last_status: 'stale' });
      await account([
        { name: 'Acct-Status-Type', value: 'Interim-Update' },
        { name: 'Acct-Session-Id', value: id },
        { name: 'User-Name', value: s.ref },
      ]);
      expect(await row(id)).toMatchObject({ session_stop: null, last_status: 'interim' });
    });

    // Sessions count against the plan bought before they started (a purchase starts a fresh allowance).
    const hourAgo = () => new Date(Date.now() - 3600_000);

    it('rejects when the quota is used up, counting every device of the subscriber', async () => {
      const s = await addSubscriber(w, { startsAt: hourAgo() });
      await openSession(s, { bytes: 6 * MiB, mac: '02:aa:00:00:00:01' });
      expect((await access(papAttrs(s))).reply?.[0]).toBe(PacketCode.AccessAccept);
      await openSession(s, { bytes: 4 * MiB, mac: '02:aa:00:00:00:02' });
      const { reply, authenticator } = await access(papAttrs(s));
      expect(reply?.[0]).toBe(PacketCode.AccessReject);
      expect(read(reply as Buffer, authenticator).get('Reply-Message')).toBe('Forfait épuisé : rechargez sur le portail');
    });

    it('offers only what is left of the quota; sessions older than the purchase do not count', async () => {
      const s = await addSubscriber(w, { startsAt: hourAgo() });
      await openSession(s, { bytes: 3 * MiB, mac: '02:aa:00:00:00:03' });
      const { reply, authenticator } = await access(papAttrs(s));
      expect(read(reply as Buffer, authenticator).get('Mikrotik-Total-Limit')).toBe(7 * MiB);
      const fresh = await addSubscriber(w);
      await openSession(fresh, { bytes: 3 * MiB, mac: '02:aa:00:00:00:04', agoSeconds: 5 });
      const r = await access(papAttrs(fresh));
      expect(read(r.reply as Buffer, r.authenticator).get('Mikrotik-Total-Limit')).toBe(10 * MiB);
    });

    it('Simultaneous-Use: 2 devices online by default; the same device re-authenticating does not count', async () => {
      const s = await addSubscriber(w, { plan: 'MONTH1GB' });
      await openSession(s, { mac: '02:bb:00:00:00:01' });
      await openSession(s, { mac: '02:bb:00:00:00:02' });
      const third = await access(papAttrs(s));
      expect(third.reply?.[0]).toBe(PacketCode.AccessReject);
      expect(read(third.reply as Buffer, third.authenticator).get('Reply-Message')).toBe("Nombre maximal d'appareils connectés atteint");
      const again = await access([
        { name: 'User-Name', value: s.ref },
        { name: 'User-Password', value: s.token },
        { name: 'Calling-Station-Id', value: '02-BB-00-00-00-02' },
      ]);
      expect(again.reply?.[0]).toBe(PacketCode.AccessAccept);
      // A session silent past the stale timeout does not count.
      const t = await addSubscriber(w, { plan: 'MONTH1GB' });
      await openSession(t, { mac: '02:bb:00:00:01:01', agoSeconds: 3600 });
      await openSession(t, { mac: '02:bb:00:00:01:02' });
      expect((await access(papAttrs(t))).reply?.[0]).toBe(PacketCode.AccessAccept);
    });

    it('Simultaneous-Use is configurable per reseller', async () => {
      const s = await addSubscriber(w, { plan: 'MONTH1GB', resellerId: STRICT_RESELLER });
      expect((await access(papAttrs(s))).reply?.[0]).toBe(PacketCode.AccessAccept);
      await openSession(s, { mac: '02:cc:00:00:00:01' });
      expect((await access(papAttrs(s))).reply?.[0]).toBe(PacketCode.AccessReject);
    });

    it('answers accounting only after the commit, in groups; a record that cannot be stored is not answered, and its retransmission is', async () => {
      const { sql } = await import('@rgz/core');
      const histogram = async () => {
        const values = (await w.server.kernel.metrics.registry.getSingleMetric('radius_accounting_batch_size')?.get())?.values ?? [];
        const pick = (suffix: string) => values.find((v) => (v as { metricName?: string }).metricName === `radius_accounting_batch_size_${suffix}`)?.value ?? 0;
        return { sum: pick('sum'), count: pick('count') };
      };
      await sql`create function radius_test_poison() returns trigger language plpgsql as $$
        begin if new.acct_session_id like 'poison-%' then raise exception 'disk full (test)'; end if; return new; end $$`.execute(w.db);
      await sql`create trigger radius_test_poison before insert or update on radius_sessions for each row execute function radius_test_poison()`.execute(w.db);
      const s = await addSubscriber(w);
      const before = await histogram();
      const failedBefore = await metric(w, 'radius_requests_dropped_total', { reason: 'store_failed' });
      const poison = packet({
        code: 'Accounting-Request',
        identifier: 7,
        attributes: [
          { name: 'Acct-Status-Type', value: 'Start' },
          { name: 'Acct-Session-Id', value: `poison-${backend}` },
          { name: 'User-Name', value: s.ref },
        ],
      });
      const clients = await Promise.all(Array.from({ length: 41 }, () => udpClient()));
      try {
        const goods = Array.from({ length: 40 }, (_, i) =>
          packet({
            code: 'Accounting-Request',
            identifier: i,
            attributes: [
              { name: 'Acct-Status-Type', value: 'Start' },
              { name: 'Acct-Session-Id', value: `bulk-${backend}-${i}` },
              { name: 'User-Name', value: s.ref },
            ],
          }),
        );
        const replies = await Promise.all([...goods.map((g, i) => clients[i]!.request(w.acctPort, g, 2000)), clients[40]!.request(w.acctPort, poison, 1000)]);
        expect(replies.slice(0, 40).every((r) => r?.[0] === PacketCode.AccountingResponse)).toBe(true);
        expect(replies[40]).toBeUndefined();
        const stored = await w.db.selectFrom('radius_sessions').select('acct_session_id').where('acct_session_id', 'like', `bulk-${backend}-%`).execute();
        expect(stored).toHaveLength(40);
        const after = await histogram();
        // Fewer commits than records: at least one group held several records.
        expect(after.count - before.count).toBeLessThan(41);
        expect(after.sum - before.sum).toBeGreaterThanOrEqual(41);
        expect(await metric(w, 'radius_requests_dropped_total', { reason: 'store_failed' })).toBe(failedBefore + 1);
      } finally {
        await sql`drop trigger radius_test_poison on radius_sessions`.execute(w.db);
        await sql`drop function radius_test_poison()`.execute(w.db);
      }
      try {
        // The NAS retransmits the very same packet: it was not cached as answered, so it is processed now.
        expect((await clients[40]!.request(w.acctPort, poison))?.[0]).toBe(PacketCode.AccountingResponse);
        expect(await row(`poison-${backend}`)).toMatchObject({ subscriber_id: s.id });
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

    it('MAC authentication: a known device of a subscriber with a live session and plan; other MACs rejected', async () => {
      const s = await addSubscriber(w);
      const dashed = s.mac.toUpperCase().replace(/:/g, '-');
      const ok = await access([
        { name: 'User-Name', value: dashed },
        { name: 'User-Password', value: dashed },
        { name: 'Calling-Station-Id', value: dashed },
      ]);
      expect(ok.reply?.[0]).toBe(PacketCode.AccessAccept);
      expect(read(ok.reply as Buffer, ok.authenticator).get('Class')).toEqual(Buffer.from(`rgz:${s.id}`));

      const reason = async (attrs: AttributeInput[]) => {
        const r = await access(attrs);
        expect(r.reply?.[0]).toBe(PacketCode.AccessReject);
        return read(r.reply as Buffer, r.authenticator).get('Reply-Message');
      };
      expect(
        await reason([
          { name: 'User-Name', value: dashed },
          { name: 'User-Password', value: 'x' },
          { name: 'Calling-Station-Id', value: '02:00:00:99:99:99' },
        ]),
      ).toBe('Adresse MAC incohérente');
      expect(
        await reason([
          { name: 'User-Name', value: '02:00:00:99:99:98' },
          { name: 'User-Password', value: 'x' },
        ]),
      ).toBe('Appareil inconnu : connectez-vous sur le portail');
      const lapsed = await addSubscriber(w, { session: false });
      expect(
        await reason([
          { name: 'User-Name', value: lapsed.mac },
          { name: 'User-Password', value: 'x' },
        ]),
      ).toBe('Session expirée : reconnectez-vous sur le portail');
    });

    it('rejects with a clear Reply-Message: unknown user, expired session, suspended, no plan, reseller mismatch', async () => {
      const reason = async (attrs: AttributeInput[], from?: { address: string; secret: string }) => {
        const r = await access(attrs, from ? { from: from.address, secret: from.secret, messageAuthenticator: true } : {});
        expect(r.reply?.[0]).toBe(PacketCode.AccessReject);
        return read(r.reply as Buffer, r.authenticator, from?.secret ?? SECRET).get('Reply-Message');
      };
      expect(
        await reason([
          { name: 'User-Name', value: 'RGZ-NOBODY' },
          { name: 'User-Password', value: 'x' },
        ]),
      ).toBe('Identifiant inconnu');
      expect(await reason([{ name: 'User-Name', value: 'RGZ-NOBODY' }])).toBe('Mot de passe manquant');
      const expired = await addSubscriber(w, { session: false });
      expect(await reason(papAttrs(expired))).toBe('Session expirée : reconnectez-vous sur le portail');
      const suspended = await addSubscriber(w, { status: 'suspended' });
      expect(await reason(papAttrs(suspended))).toBe('Compte suspendu');
      const noPlan = await addSubscriber(w, { plan: null });
      expect(await reason(papAttrs(noPlan))).toBe('Aucun forfait actif : achetez un forfait sur le portail');
      const wispr = { address: WISPR_ADDRESS, secret: 'wispr-secret-0123456789' };
      const ofB = await addSubscriber(w, { resellerId: resellerB });
      expect(await reason(papAttrs(ofB), wispr)).toBe("Ce compte n'est pas valable sur ce point d'accès");
      // Same reseller, and a subscriber of no reseller, are both fine on the reseller's NAS.
      for (const ok of [await addSubscriber(w, { resellerId: resellerA }), await addSubscriber(w)]) {
        const r = await access(papAttrs(ok), { from: wispr.address, secret: wispr.secret });
        expect(r.reply?.[0]).toBe(PacketCode.AccessAccept);
        expect(read(r.reply as Buffer, r.authenticator, wispr.secret).get('WISPr-Bandwidth-Max-Down')).toBe(1_024_000);
      }
    });

    it('exposes radius_auth_success_rate, request counts and latency on /metrics', async () => {
      const text = await (await w.server.request('/metrics')).text();
      const rate = Number(/^radius_auth_success_rate (\S+)$/m.exec(text)?.[1]);
      expect(rate).toBeGreaterThan(0);
      expect(rate).toBeLessThan(1);
      expect(text).toMatch(/^radius_requests_total\{type="access",result="accept"\} \d+$/m);
      expect(text).toMatch(/^radius_request_duration_seconds_count\{type="access"\} \d+$/m);
      expect(text).toMatch(/^radius_requests_dropped_total\{reason="unknown_nas"\} \d+$/m);
    });
  });
});
