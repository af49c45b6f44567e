/**
 * Sessions over HTTP (`/api/radius/sessions`): the list with its filters, who is online, and the admin disconnect
 * that queues the nas.policy-change task; a reseller sees and disconnects its own subscribers' sessions only.
 */

import type { CoreDatabase, Kysely } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addReseller, addSubscriber, type SubscriberFixture, startWorld, type World } from '../test-support/world.js';

describe.each(BACKENDS)('sessions API (%s)', (backend) => {
  let w: World;
  let resellerA: string;
  let resellerB: string;
  let tokenA: string;
  let tokenB: string;
  let subA: SubscriberFixture;
  let subB: SubscriberFixture;
  const ids: Record<string, string> = {};
  const noc = () => ({ ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' });
  const as = (token: string) => ({ ...w.server.auth(token), 'content-type': 'application/json' });
  const get = async (path: string, headers = noc()) => {
    const res = await w.server.request(path, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };
  const disconnect = (id: string, headers = noc(), body: unknown = { reason: 'abuse report' }) =>
    w.server.request(`/api/radius/sessions/${id}/disconnect`, { method: 'POST', headers, body: JSON.stringify(body) });

  beforeAll(async () => {
    // No worker: the queued disconnect stays pending, so the test reads exactly what the route wrote.
    w = await startWorld({ backend, worker: false });
    resellerA = await addReseller(w, 'sess-res-a');
    resellerB = await addReseller(w, 'sess-res-b');
    tokenA = (await w.server.kernel.tokens.issue({ role: 'reseller', name: 'res-a', resellerId: resellerA })).token;
    tokenB = (await w.server.kernel.tokens.issue({ role: 'reseller', name: 'res-b', resellerId: resellerB })).token;
    subA = await addSubscriber(w, { resellerId: resellerA });
    subB = await addSubscriber(w, { resellerId: resellerB });
    const t0 = new Date(Date.now() - 3_600_000);
    const session = (key: string, subscriberId: string | null, nas: string, open: boolean, bytesIn: number, bytesOut: number) => ({
      key,
      row: {
        subscriber_id: subscriberId,
        nas_id: `config:${nas}`,
        nas_identifier: nas,
        nas_ip_address: '127.0.0.1',
        acct_session_id: `acct-${key}-${backend}`,
        user_name: key,
        mac_address: '02:00:00:00:00:01',
        calling_station_id: '02-00-00-00-00-01',
        framed_ip: '10.0.0.9',
        bytes_in: bytesIn,
        bytes_out: bytesOut,
        session_time: 600,
        session_start: t0,
        session_stop: open ? null : new Date(t0.getTime() + 600_000),
        last_update: new Date(t0.getTime() + 600_000),
        last_status: open ? 'interim' : 'stop',
        terminate_cause: open ? null : 'User-Request',
      },
    });
    for (const s of [
      session('a-closed', subA.id, 'hotspot-test', false, 1000, 50_000),
      session('a-open', subA.id, 'hotspot-test', true, 2000, 7_000_000_000),
      session('b-open', subB.id, 'hotspot-test', true, 10, 20),
      session('b-open-2', subB.id, 'other-nas', true, 10, 20),
      session('anon-open', null, 'other-nas', true, 1, 1),
    ]) {
      const row = await w.db.insertInto('radius_sessions').values(s.row).returning('id').executeTakeFirstOrThrow();
      ids[s.key] = String(row.id);
    }
  });
  afterAll(async () => {
    await w?.close();
  });

  it('lists sessions with bytes, NAS and times, filtered by subscriber and state', async () => {
    const all = await get('/api/radius/sessions');
    expect(all.status).toBe(200);
    expect(all.body.items.map((s: { id: string }) => s.id)).toEqual([ids['anon-open'], ids['b-open-2'], ids['b-open'], ids['a-open'], ids['a-closed']]);
    const open = await get(`/api/radius/sessions?subscriber_id=${subA.id}&open=true`);
    expect(open.body.items).toHaveLength(1);
    expect(open.body.items[0]).toMatchObject({
      id: ids['a-open'],
      subscriber_id: subA.id,
      subscriber_ref: subA.ref,
      nas_id: 'config:hotspot-test',
      nas_identifier: 'hotspot-test',
      upload_bytes: 2000,
      download_bytes: 7_000_000_000,
      session_time: 600,
      session_stop: null,
      last_status: 'interim',
    });
    const closed = await get(`/api/radius/sessions?subscriber_id=${subA.id}&open=false`);
    expect(closed.body.items.map((s: { terminate_cause: string }) => s.terminate_cause)).toEqual(['User-Request']);
    const page1 = await get('/api/radius/sessions?limit=2');
    expect(page1.body.next).toBe(ids['b-open-2']);
    const page2 = await get(`/api/radius/sessions?limit=2&before=${page1.body.next}`);
    expect(page2.body.items.map((s: { id: string }) => s.id)).toEqual([ids['b-open'], ids['a-open']]);
  });

  it('counts who is online, in total and per NAS; a reseller counts its own', async () => {
    const nocView = await get('/api/radius/sessions/summary');
    expect(nocView.body).toMatchObject({ online_subscribers: 2, open_sessions: 4 });
    expect(nocView.body.by_nas).toEqual([
      { nas_id: 'config:hotspot-test', nas_identifier: 'hotspot-test', online_subscribers: 2, open_sessions: 2 },
      { nas_id: 'config:other-nas', nas_identifier: 'other-nas', online_subscribers: 1, open_sessions: 2 },
    ]);
    const bView = await get('/api/radius/sessions/summary', as(tokenB));
    expect(bView.body).toMatchObject({ online_subscribers: 1, open_sessions: 2 });
    const aView = await get('/api/radius/sessions/summary', as(tokenA));
    expect(aView.body).toEqual({
      online_subscribers: 1,
      open_sessions: 1,
      by_nas: [{ nas_id: 'config:hotspot-test', nas_identifier: 'hotspot-test', online_subscribers: 1, open_sessions: 1 }],
    });
  });

  it('a reseller lists only its own subscribers’ sessions, never one without a subscriber', async () => {
    const a = await get('/api/radius/sessions', as(tokenA));
    expect(a.body.items.map((s: { id: string }) => s.id)).toEqual([ids['a-open'], ids['a-closed']]);
    const foreign = await get(`/api/radius/sessions?subscriber_id=${subB.id}`, as(tokenA));
    expect(foreign.body.items).toEqual([]);
  });

  it('disconnect queues an admin_disconnect task for the subscriber and audits it', async () => {
    const res = await disconnect(ids['a-open'] as string, as(tokenA));
    expect(res.status).toBe(202);
    const out = (await res.json()) as { task_id: string; subscriber_id: string };
    expect(out.subscriber_id).toBe(subA.id);
    const db = w.server.kernel.db as Kysely<CoreDatabase>;
    const task = await db.selectFrom('core_tasks').selectAll().where('id', '=', out.task_id).executeTakeFirstOrThrow();
    expect(task).toMatchObject({ name: 'nas.policy-change', status: 'pending' });
    expect(task.payload).toEqual({ subscriberId: subA.id, reason: 'admin_disconnect' });
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'radius.session.disconnect').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_role: 'reseller', target_id: subA.id, reseller_id: resellerA });
    expect(audit.details).toMatchObject({ session_id: ids['a-open'], task_id: out.task_id, reason: 'abuse report' });
    const polled = await get(`/api/core/tasks/${out.task_id}`, as(tokenA));
    expect(polled).toMatchObject({ status: 200, body: { status: 'pending', name: 'nas.policy-change' } });
  });

  it('refuses another reseller’s session, a closed one, one without a subscriber, and bad input, as problem+json', async () => {
    const code = async (res: Response) => [res.status, ((await res.json()) as { code: string }).code, res.headers.get('content-type')?.split(';')[0]];
    expect(await code(await disconnect(ids['b-open'] as string, as(tokenA)))).toEqual([404, 'session_not_found', 'application/problem+json']);
    expect(await code(await disconnect(ids['a-closed'] as string))).toEqual([409, 'session_closed', 'application/problem+json']);
    expect(await code(await disconnect(ids['anon-open'] as string))).toEqual([409, 'session_without_subscriber', 'application/problem+json']);
    expect(await code(await disconnect('999999999'))).toEqual([404, 'session_not_found', 'application/problem+json']);
    expect(await code(await disconnect('abc'))).toEqual([400, 'validation_failed', 'application/problem+json']);
    expect(await code(await disconnect(ids['b-open'] as string, noc(), { reason: 'x'.repeat(501) }))).toEqual([
      400,
      'validation_failed',
      'application/problem+json',
    ]);
    expect((await get('/api/radius/sessions?open=maybe')).status).toBe(400);
    expect((await get('/api/radius/sessions?subscriber_id=nope')).status).toBe(400);
    expect((await w.server.request('/api/radius/sessions')).status).toBe(401);
    const db = w.server.kernel.db as Kysely<CoreDatabase>;
    const tasks = await db.selectFrom('core_tasks').select('id').where('name', '=', 'nas.policy-change').execute();
    expect(tasks).toHaveLength(1);
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await (await w.server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/radius/sessions']?.get).toBeDefined();
    expect(doc.paths['/api/radius/sessions/summary']?.get).toBeDefined();
    expect(doc.paths['/api/radius/sessions/{id}/disconnect']?.post).toBeDefined();
  });
});
