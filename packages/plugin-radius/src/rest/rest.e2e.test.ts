/**
 * FreeRADIUS in front of RGZ, end to end: Debian's FreeRADIUS 3.2 (`freeradius -X` from a private raddb built with the
 * shipped packages/plugin-radius/freeradius/ files, rlm_rest) relays to an RGZ server listening on a loopback port
 * (PostgreSQL + Redis), and Debian's radclient is the NAS. Checks what the NAS sees: Accept with the attributes in its
 * vendor's dialect, Reject with RGZ's Reply-Message, accounting stored with Gigawords, and no Accounting-Response when
 * RGZ could not store the record.
 */

import { randomBytes } from 'node:crypto';
import { sql } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chapPassword, PacketCode } from '../codec/index.js';
import { FREERADIUS, type FreeRadiusPeer, startFreeRadius } from '../test-support/freeradius.js';
import { RADCLIENT, radclient } from '../test-support/radclient.js';
import { addSubscriber, DEFAULT_NAS, metric, packet, SECRET, startWorld, udpClient, type World } from '../test-support/world.js';

const TOKEN = randomBytes(32).toString('hex');
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** A CoovaChilli NAS on 127.0.0.2 (radclient sends from it with Packet-Src-IP-Address). */
const CHILLI = { identifier: 'chilli-rest', address: '127.0.0.2', secret: 'chilli-rest-secret-0123456789', vendor: 'coovachilli' };

describe.skipIf(!FREERADIUS || !RADCLIENT)('FreeRADIUS (rlm_rest) in front of RGZ', () => {
  let w: World;
  let fr: FreeRadiusPeer;
  let url: string;

  beforeAll(async () => {
    w = await startWorld({ backend: 'real', nas: [DEFAULT_NAS, CHILLI], config: { rest: { enabled: true, token: TOKEN } } });
    const { port } = await w.server.kernel.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
    fr = await startFreeRadius({
      rgzUrl: url,
      token: TOKEN,
      clients: [
        { name: 'hotspot', address: '127.0.0.1', secret: SECRET },
        { name: 'chilli', address: CHILLI.address, secret: CHILLI.secret },
      ],
    });
  }, 120_000);
  afterAll(async () => {
    await fr?.close();
    await w?.close();
  });

  const auth = (input: string, secret = SECRET) => radclient(fr.authPort, 'auth', secret, input, { timeout: 5, retries: 1 });
  const acct = (input: string) => radclient(fr.acctPort, 'acct', SECRET, input, { timeout: 5, retries: 1 });
  const row = (id: string) => w.db.selectFrom('radius_sessions').selectAll().where('acct_session_id', '=', id).executeTakeFirst();

  it('PAP: Access-Accept with the MikroTik attributes RGZ chose, Class included', async () => {
    const s = await addSubscriber(w);
    const before = await metric(w, 'radius_requests_total', { type: 'access', result: 'accept' });
    const run = await auth(`User-Name = "${s.ref}", User-Password = "${s.token}", Calling-Station-Id = "${s.mac}"`);
    expect(run.received, fr.output().slice(-3000)).toBe('Access-Accept');
    expect(run.reply.get('Mikrotik-Rate-Limit')).toEqual(['"512k/1024k"']);
    expect(run.reply.get('Mikrotik-Total-Limit')).toEqual([String(10 * MiB)]);
    expect(run.reply.get('Acct-Interim-Interval')).toEqual(['300']);
    expect(Number(run.reply.get('Session-Timeout')?.[0])).toBeGreaterThan(0);
    expect(run.reply.get('Class')).toEqual([`0x${Buffer.from(`rgz:${s.id}`).toString('hex')}`]);
    expect(await metric(w, 'radius_requests_total', { type: 'access', result: 'accept' })).toBe(before + 1);

    // A plan above 4 GiB: the Gigawords attribute comes through too.
    const big = await addSubscriber(w, { plan: 'MONTH5GB' });
    const run5 = await auth(`User-Name = "${big.ref}", User-Password = "${big.token}"`);
    expect(run5.received).toBe('Access-Accept');
    expect(run5.reply.get('Mikrotik-Total-Limit')).toEqual([String(GiB)]);
    expect(run5.reply.get('Mikrotik-Total-Limit-Gigawords')).toEqual(['1']);
  });

  it('answers each NAS in its own dialect (CoovaChilli: bandwidth in kbit/s)', async () => {
    const s = await addSubscriber(w);
    const run = await radclient(
      fr.authPort,
      'auth',
      CHILLI.secret,
      `User-Name = "${s.ref}", User-Password = "${s.token}", Packet-Src-IP-Address = ${CHILLI.address}`,
      { timeout: 5, retries: 1 },
    );
    expect(run.received, fr.output().slice(-3000)).toBe('Access-Accept');
    expect(run.reply.get('ChilliSpot-Bandwidth-Max-Up')).toEqual(['512']);
    expect(run.reply.get('ChilliSpot-Bandwidth-Max-Down')).toEqual(['1024']);
    expect(run.reply.has('Mikrotik-Rate-Limit')).toBe(false);
  });

  it('CHAP, with and without CHAP-Challenge (the site hands the Request Authenticator over as the challenge)', async () => {
    const s = await addSubscriber(w);
    // radclient 3.2.1 sends no CHAP-Challenge: the challenge is the Request Authenticator (RFC 2865 §2.2).
    const run = await auth(`User-Name = "${s.ref}", CHAP-Password = "${s.token}"`);
    expect(run.out).not.toMatch(/CHAP-Challenge/);
    expect(run.received, fr.output().slice(-3000)).toBe('Access-Accept');
    expect(run.reply.get('Mikrotik-Rate-Limit')).toEqual(['"512k/1024k"']);
    const bad = await auth(`User-Name = "${s.ref}", CHAP-Password = "not-the-token"`);
    expect(bad.received).toBe('Access-Reject');

    // With a CHAP-Challenge of its own (what CoovaChilli's UAM sends), built with the codec.
    const challenge = randomBytes(16);
    const client = await udpClient();
    try {
      const chap = (password: string, identifier: number) =>
        packet({
          code: 'Access-Request',
          identifier,
          attributes: [
            { name: 'User-Name', value: s.ref },
            { name: 'CHAP-Challenge', value: challenge },
            { name: 'CHAP-Password', value: chapPassword(9, password, challenge) },
          ],
        });
      expect((await client.request(fr.authPort, chap(s.token, 7), 5000))?.[0], fr.output().slice(-3000)).toBe(PacketCode.AccessAccept);
      expect((await client.request(fr.authPort, chap('not-the-token', 8), 5000))?.[0]).toBe(PacketCode.AccessReject);
    } finally {
      await client.close();
    }
  });

  it("wrong password: Access-Reject carrying RGZ's Reply-Message; unknown subscriber: Access-Reject", async () => {
    const s = await addSubscriber(w);
    const before = await metric(w, 'radius_requests_total', { type: 'access', result: 'reject' });
    const wrong = await auth(`User-Name = "${s.ref}", User-Password = "guess"`);
    expect(wrong.received, fr.output().slice(-3000)).toBe('Access-Reject');
    expect(wrong.reply.get('Reply-Message')).toEqual(['"Mot de passe incorrect"']);
    expect(wrong.reply.has('Mikrotik-Rate-Limit')).toBe(false);

    const unknown = await auth('User-Name = "RGZ-NOBODY-HERE", User-Password = "whatever"');
    expect(unknown.received).toBe('Access-Reject');
    expect(unknown.reply.has('Class')).toBe(false);
    // Both decisions were RGZ's (counted there), not FreeRADIUS's own.
    expect(await metric(w, 'radius_requests_total', { type: 'access', result: 'reject' })).toBe(before + 2);

    const suspended = await addSubscriber(w, { status: 'suspended' });
    const locked = await auth(`User-Name = "${suspended.ref}", User-Password = "${suspended.token}"`);
    expect(locked.received).toBe('Access-Reject');
    expect(locked.reply.get('Reply-Message')).toEqual(['"Compte suspendu"']);
  });

  it('accounting Start / Interim-Update / Stop: stored in radius_sessions with Gigawords, answered after the commit', async () => {
    const s = await addSubscriber(w);
    const id = `rest-${randomBytes(4).toString('hex')}`;
    const common = `User-Name = "${s.ref}", Acct-Session-Id = "${id}", Calling-Station-Id = "${s.mac.toUpperCase().replace(/:/g, '-')}", Framed-IP-Address = 10.5.50.77, NAS-Identifier = "hotspot-test"`;
    const start = await acct(`${common}, Acct-Status-Type = Start`);
    expect(start.received, fr.output().slice(-3000)).toBe('Accounting-Response');
    expect(await row(id)).toMatchObject({
      subscriber_id: s.id,
      nas_id: 'config:hotspot-test',
      mac_address: s.mac,
      framed_ip: '10.5.50.77',
      last_status: 'start',
      session_stop: null,
    });

    const interim = await acct(
      `${common}, Acct-Status-Type = Interim-Update, Acct-Input-Octets = 1234, Acct-Input-Gigawords = 1, Acct-Output-Octets = 5678, Acct-Output-Gigawords = 2, Acct-Session-Time = 300`,
    );
    expect(interim.received).toBe('Accounting-Response');
    expect(await row(id)).toMatchObject({ bytes_in: 2 ** 32 + 1234, bytes_out: 2 * 2 ** 32 + 5678, last_status: 'interim', session_stop: null });

    const stop = await acct(
      `${common}, Acct-Status-Type = Stop, Acct-Input-Octets = 4000, Acct-Input-Gigawords = 1, Acct-Output-Octets = 9000, Acct-Output-Gigawords = 2, Acct-Session-Time = 600, Acct-Terminate-Cause = User-Request`,
    );
    expect(stop.received).toBe('Accounting-Response');
    const r = await row(id);
    expect(r).toMatchObject({
      bytes_in: 2 ** 32 + 4000,
      bytes_out: 2 * 2 ** 32 + 9000,
      session_time: 600,
      terminate_cause: 'User-Request',
      last_status: 'stop',
    });
    expect(r?.session_stop).toBeInstanceOf(Date);
  });

  it('an accounting record RGZ cannot store gets no Accounting-Response (the NAS retries)', async () => {
    await sql`create function radius_rest_poison() returns trigger language plpgsql as $$
      begin if new.acct_session_id like 'poison-rest-%' then raise exception 'disk full (test)'; end if; return new; end $$`.execute(w.db);
    await sql`create trigger radius_rest_poison before insert or update on radius_sessions for each row execute function radius_rest_poison()`.execute(w.db);
    try {
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'store_failed' });
      const run = await radclient(fr.acctPort, 'acct', SECRET, 'User-Name = "x", Acct-Session-Id = "poison-rest-1", Acct-Status-Type = Start', {
        timeout: 3,
        retries: 1,
      });
      expect(run.received).toBeUndefined();
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'store_failed' })).toBeGreaterThan(before);
    } finally {
      await sql`drop trigger radius_rest_poison on radius_sessions`.execute(w.db);
      await sql`drop function radius_rest_poison()`.execute(w.db);
    }
  });

  it('refuses a caller without the bearer token, and a NAS RGZ does not know', async () => {
    const body = JSON.stringify({ 'User-Name': { type: 'string', value: ['x'] }, 'User-Password': { type: 'string', value: ['y'] } });
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${url}/radius/rest/${path}?nas=127.0.0.1`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    expect((await post('authorize', {})).status).toBe(401);
    expect((await post('accounting', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` })).status).toBe(401);
    const res = await fetch(`${url}/radius/rest/authorize?nas=127.0.0.9`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('radius_rest_unknown_nas');
  });
});
