/**
 * Core's `nas.policy-change` task handled end to end through startTestServer, on both backends: the task sends a
 * CoA-Request in the session NAS's dialect (MikroTik) to a fake NAS (a UDP listener that checks the authenticators with
 * the codec); ACK is recorded in the audit log; NAK or timeout makes the task retry; after 3 failed CoA attempts a
 * Disconnect-Request goes out instead.
 */

import { type CoreDatabase, type Kysely, nasPolicyChange, RadiusErrorCause } from '@rgz/core';
import { BACKENDS, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeNas, startFakeNas } from '../test-support/fake-nas.js';
import { addSubscriber, DICTIONARY, metric, type SubscriberFixture, startWorld, type World } from '../test-support/world.js';

const MiB = 1024 ** 2;

describe.each(BACKENDS)('nas.policy-change → CoA / Disconnect (%s)', (backend) => {
  let w: World;
  let nas1: FakeNas;
  let nas2: FakeNas;

  beforeAll(async () => {
    nas1 = await startFakeNas({ secret: 'coa-secret-nas-one-0123', dictionary: DICTIONARY });
    nas2 = await startFakeNas({ secret: 'coa-secret-nas-two-0123', dictionary: DICTIONARY, host: '127.0.0.5' });
    w = await startWorld({
      backend,
      nas: [
        { identifier: 'mt-1', address: '127.0.0.1', secret: nas1.endpoint.secret, vendor: 'mikrotik', coaPort: nas1.port, coaMessageAuthenticator: true },
        { identifier: 'mt-2', address: '127.0.0.5', secret: nas2.endpoint.secret, vendor: 'mikrotik', coaPort: nas2.port },
      ],
      config: {
        coa: {
          attempts: 3,
          disconnectAttempts: 2,
          backoffSeconds: 0,
          // Generous first timeout: on a loaded machine an 80 ms timer fires before the fake NAS answers.
          retransmit: { initialTimeoutMs: 600, maxAttempts: 2, maxTimeoutMs: 1200, maxDurationMs: 3000 },
        },
      },
    });
  });
  afterAll(async () => {
    await w?.close();
    await nas1?.close();
    await nas2?.close();
  });
  beforeEach(() => {
    nas1.answerAlways({ reply: 'ack' });
    nas2.answerAlways({ reply: 'ack' });
  });

  let serial = 0;
  async function openSession(s: SubscriberFixture, nasIdentifier = 'mt-1', bytes = 2 * MiB) {
    const acct = `coa-${backend}-${++serial}`;
    await w.db
      .insertInto('radius_sessions')
      .values({
        subscriber_id: s.id,
        nas_id: `config:${nasIdentifier}`,
        nas_identifier: nasIdentifier,
        acct_session_id: acct,
        user_name: s.ref,
        mac_address: s.mac,
        calling_station_id: s.mac.toUpperCase(),
        framed_ip: '10.5.50.23',
        bytes_in: bytes / 2,
        bytes_out: bytes / 2,
        session_start: new Date(Date.now() - 60_000),
        last_update: new Date(),
        last_status: 'interim',
      })
      .execute();
    return acct;
  }
  const audit = (s: SubscriberFixture) =>
    (w.server.kernel.db as Kysely<CoreDatabase>)
      .selectFrom('audit_log')
      .select(['action', 'details', 'actor_role'])
      .where('target_id', '=', s.id)
      .where('action', 'like', 'radius.%')
      .orderBy('id')
      .execute();
  const task = async (id: string) =>
    (w.server.kernel.db as Kysely<CoreDatabase>)
      .selectFrom('core_tasks')
      .select(['status', 'attempts', 'last_error'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  async function run(s: SubscriberFixture, reason: 'plan_activated' | 'admin_disconnect' | 'plan_ended' = 'plan_activated') {
    const id = (await w.server.kernel.tasks.enqueue(nasPolicyChange, { subscriberId: s.id, reason })) as string;
    await waitFor(async () => ['done', 'dead'].includes((await task(id)).status), 15_000, { message: 'task finished' });
    return task(id);
  }
  const since = async (nas: FakeNas, before: number) => (await nas.received()).slice(before);

  it('sends a CoA-Request in the MikroTik dialect with the new plan, and records the ACK', async () => {
    const s = await addSubscriber(w, { startsAt: new Date(Date.now() - 3600_000) });
    const acct = await openSession(s);
    const before = (await nas1.received()).length;
    const acks = await metric(w, 'radius_coa_total', { vendor: 'mikrotik', result: 'ack' });
    expect(await run(s)).toMatchObject({ status: 'done', attempts: 1 });

    const [coa, ...rest] = await since(nas1, before);
    expect(rest).toEqual([]);
    expect(coa?.code).toBe(43);
    expect(coa?.authenticatorValid).toBe(true);
    expect(coa?.messageAuthenticatorValid).toBe(true);
    expect(coa?.attributes[0]?.type).toBe(80);
    const get = (name: string) => coa?.attributes.find((a) => a.name === name)?.value;
    expect(get('User-Name')).toBe(s.ref);
    expect(get('Acct-Session-Id')).toBe(acct);
    expect(get('Framed-IP-Address')).toBe('10.5.50.23');
    expect(get('Mikrotik-Rate-Limit')).toBe('512k/1024k');
    // 10 MiB plan, 2 MiB used by this very session: the NAS counts from the session start, so 8 + 2 MiB.
    expect(get('Mikrotik-Total-Limit')).toBe(10 * MiB);
    expect(get('Mikrotik-Total-Limit-Gigawords')).toBe(0);
    expect(Math.abs((get('Event-Timestamp') as number) - Date.now() / 1000)).toBeLessThan(10);

    const entries = await audit(s);
    expect(entries.map((e) => e.action)).toEqual(['radius.coa.ack']);
    expect(entries[0]?.actor_role).toBe('system');
    expect(entries[0]?.details).toMatchObject({ acct_session_id: acct, nas_identifier: 'mt-1', vendor: 'mikrotik', reason: 'plan_activated', attempts: 1 });
    expect(await metric(w, 'radius_coa_total', { vendor: 'mikrotik', result: 'ack' })).toBe(acks + 1);
  });

  it('NAK three times → Disconnect-Request, every step audited and counted', async () => {
    const s = await addSubscriber(w);
    await openSession(s);
    const before = (await nas1.received()).length;
    await nas1.answer(
      { reply: 'nak', errorCause: RadiusErrorCause.UnsupportedAttribute },
      { reply: 'nak', errorCause: 401 },
      { reply: 'nak', errorCause: 401 },
    );
    const naks = await metric(w, 'radius_coa_total', { vendor: 'mikrotik', result: 'nak' });
    expect(await run(s)).toMatchObject({ status: 'done', attempts: 4 });
    expect((await since(nas1, before)).map((p) => p.code)).toEqual([43, 43, 43, 40]);
    const disconnect = (await since(nas1, before))[3];
    expect(disconnect?.authenticatorValid).toBe(true);
    expect(disconnect?.attributes.some((a) => a.name === 'Mikrotik-Rate-Limit')).toBe(false);
    expect((await audit(s)).map((e) => e.action)).toEqual([
      'radius.coa.nak',
      'radius.coa.nak',
      'radius.coa.nak',
      'radius.policy.disconnect_fallback',
      'radius.disconnect.ack',
    ]);
    expect((await audit(s))[0]?.details).toMatchObject({ error_cause: 401, attempt: 1 });
    expect(await metric(w, 'radius_coa_total', { vendor: 'mikrotik', result: 'nak' })).toBe(naks + 3);
    expect(await metric(w, 'radius_coa_total', { vendor: 'mikrotik', result: 'disconnect_ack' })).toBeGreaterThan(0);
  });

  it('a CoA timeout is retried like a NAK (each attempt retransmits identically)', async () => {
    const s = await addSubscriber(w);
    await openSession(s);
    const before = (await nas1.received()).length;
    // Attempt 1: both transmissions lost; attempt 2: ACK.
    await nas1.answer({ reply: 'drop' }, { reply: 'drop' });
    expect(await run(s)).toMatchObject({ status: 'done', attempts: 2 });
    const packets = await since(nas1, before);
    expect(packets.map((p) => p.code)).toEqual([43, 43, 43]);
    expect(packets[1]?.authenticator).toBe(packets[0]?.authenticator);
    expect(packets[2]?.authenticator).not.toBe(packets[0]?.authenticator);
    expect((await audit(s)).map((e) => e.action)).toEqual(['radius.coa.timeout', 'radius.coa.ack']);
  });

  it('only retries the sessions that failed; a session the NAS no longer has (NAK 503) is done', async () => {
    const s = await addSubscriber(w, { plan: 'MONTH1GB' });
    await openSession(s, 'mt-1');
    await openSession(s, 'mt-2');
    const b1 = (await nas1.received()).length;
    const b2 = (await nas2.received()).length;
    await nas2.answer({ reply: 'nak', errorCause: 506 });
    expect(await run(s)).toMatchObject({ status: 'done', attempts: 2 });
    expect((await since(nas1, b1)).length).toBe(1);
    expect((await since(nas2, b2)).length).toBe(2);

    const gone = await addSubscriber(w);
    await openSession(gone);
    await nas1.answer({ reply: 'nak', errorCause: RadiusErrorCause.SessionContextNotFound });
    expect(await run(gone)).toMatchObject({ status: 'done', attempts: 1 });
    expect((await audit(gone)).map((e) => e.action)).toEqual(['radius.coa.nak']);
  });

  it('disconnects at once for admin_disconnect and for a subscriber without an active plan; nothing to do without a session', async () => {
    const s = await addSubscriber(w);
    await openSession(s);
    const before = (await nas1.received()).length;
    expect(await run(s, 'admin_disconnect')).toMatchObject({ status: 'done', attempts: 1 });
    expect((await since(nas1, before)).map((p) => p.code)).toEqual([40]);

    const expired = await addSubscriber(w, { plan: null });
    await openSession(expired);
    expect(await run(expired, 'plan_ended')).toMatchObject({ status: 'done' });
    expect((await audit(expired)).map((e) => e.action)).toEqual(['radius.disconnect.ack']);

    const idle = await addSubscriber(w);
    expect(await run(idle)).toMatchObject({ status: 'done' });
    expect((await audit(idle)).map((e) => e.action)).toEqual(['radius.policy.no_session']);
  });

  it('gives the task up (dead) when the Disconnect-Requests fail too', async () => {
    const s = await addSubscriber(w);
    await openSession(s);
    nas1.answerAlways({ reply: 'nak' });
    const t = await run(s);
    expect(t).toMatchObject({ status: 'dead', attempts: 5 });
    expect(t.last_error).toMatch(/Disconnect failed/);
    expect((await audit(s)).map((e) => e.action)).toEqual([
      'radius.coa.nak',
      'radius.coa.nak',
      'radius.coa.nak',
      'radius.policy.disconnect_fallback',
      'radius.disconnect.nak',
      'radius.disconnect.nak',
    ]);
  });
});
