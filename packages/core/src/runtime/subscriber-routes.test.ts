/**
 * The console's core routes: one subscriber with devices and plans, plan grants and extensions (audited, with their
 * NAS task), task polling, search by MAC, whoami and the audit log's filters, each checked for reseller isolation.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAudit } from '../access/principals.js';
import type { CoreDatabase } from '../domain/schema.js';
import { BACKENDS, startTestServer, type TestServer } from '../testing/index.js';

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe.each(BACKENDS)('console core routes (%s)', (backend) => {
  let server: TestServer;
  let db: Kysely<CoreDatabase>;
  let alpha: string;
  let beta: string;
  let alphaToken: string;
  let betaToken: string;
  let alphaSub: { id: string; ref: string };
  let betaSub: { id: string; ref: string };
  const noc = () => ({ ...server.auth(server.nocToken), 'content-type': 'application/json' });
  const as = (token: string) => ({ ...server.auth(token), 'content-type': 'application/json' });
  const post = (path: string, body: unknown, headers = noc()) => server.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  const get = (path: string, headers = noc()) => server.request(path, { headers });

  beforeAll(async () => {
    server = await startTestServer({ backend });
    db = server.kernel.db;
    const ids: string[] = [];
    for (const slug of ['alpha', 'beta']) {
      const res = await post('/api/core/resellers', { name: `${slug} net`, slug });
      expect(res.status).toBe(201);
      ids.push((await json<{ id: string }>(res)).id);
    }
    [alpha, beta] = ids as [string, string];
    alphaToken = (await server.kernel.tokens.issue({ role: 'reseller', name: 'alpha-admin', resellerId: alpha })).token;
    betaToken = (await server.kernel.tokens.issue({ role: 'reseller', name: 'beta-admin', resellerId: beta, ttlSeconds: 3600 })).token;
    const add = async (ref: string, msisdn: string, resellerId: string, mac: string) => {
      const row = await db.insertInto('subscribers').values({ subscriber_ref: ref, msisdn, reseller_id: resellerId }).returning('id').executeTakeFirstOrThrow();
      await db.insertInto('subscriber_devices').values({ subscriber_id: row.id, mac_address: mac }).execute();
      return { id: row.id, ref };
    };
    alphaSub = await add('RGZ-ALPHA1', '+2290197100001', alpha, 'aa:bb:cc:00:00:01');
    betaSub = await add('RGZ-BETA01', '+2290197100002', beta, 'aa:bb:cc:00:00:02');
    // Alpha sells DAY10MB at its own price: a grant to its subscriber uses that plan, not the default one.
    await db
      .insertInto('plans')
      .values({
        reseller_id: alpha,
        code: 'DAY10MB',
        name: '10 Mo alpha',
        price_fcfa: 900,
        quota_bytes: 10 * 1024 * 1024,
        quota_period: 'day',
        validity_seconds: 86_400,
        rate_down_kbps: 1024,
        rate_up_kbps: 512,
      })
      .execute();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('whoami names the reseller a token acts for and when the token expires', async () => {
    const me = await json(await get('/api/core/whoami', as(betaToken)));
    expect(me).toMatchObject({
      role: 'reseller',
      name: 'beta-admin',
      reseller_id: beta,
      reseller: { id: beta, slug: 'beta', name: 'beta net', status: 'active' },
    });
    expect(Date.parse(me.expires_at) - Date.now()).toBeGreaterThan(3000 * 1000);
    const nocMe = await json(await get('/api/core/whoami'));
    expect(nocMe).toMatchObject({ role: 'noc', reseller: null, expires_at: null });
    expect(nocMe.token_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('searches by MAC address in any notation, within the caller’s subscribers', async () => {
    const refs = async (query: string, headers = noc()) =>
      (await json<{ items: Array<{ subscriber_ref: string }> }>(await get(`/api/core/subscribers?${query}`, headers))).items.map((s) => s.subscriber_ref);
    expect(await refs('mac=AA-BB-CC-00-00-02')).toEqual(['RGZ-BETA01']);
    expect(await refs('mac=aabbcc0000')).toEqual(expect.arrayContaining(['RGZ-ALPHA1', 'RGZ-BETA01']));
    expect(await refs('q=aa:bb:cc:00:00:01')).toEqual(['RGZ-ALPHA1']);
    expect(await refs('mac=aabbcc0000', as(alphaToken))).toEqual(['RGZ-ALPHA1']);
    expect(await refs('q=aa:bb:cc:00:00:02', as(alphaToken))).toEqual([]);
    const bad = await get('/api/core/subscribers?mac=zz');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await json(bad)).code).toBe('invalid_mac');
  });

  it('shows one subscriber by id or reference; another reseller’s is a 404', async () => {
    const byRef = await json(await get(`/api/core/subscribers/${alphaSub.ref.toLowerCase()}`, as(alphaToken)));
    expect(byRef).toMatchObject({ id: alphaSub.id, subscriber_ref: 'RGZ-ALPHA1', reseller_id: alpha, active_subscription: null, subscriptions: [] });
    expect(byRef.devices.map((d: { mac_address: string }) => d.mac_address)).toEqual(['aa:bb:cc:00:00:01']);
    expect((await get(`/api/core/subscribers/${alphaSub.id}`)).status).toBe(200);
    for (const ref of [betaSub.id, betaSub.ref]) {
      const res = await get(`/api/core/subscribers/${ref}`, as(alphaToken));
      expect(res.status).toBe(404);
      expect((await json(res)).code).toBe('subscriber_not_found');
    }
    expect((await get('/api/core/subscribers/not%20an%20id')).status).toBe(400);
  });

  it('grants a plan with a reason: subscription, NAS task and audit entry together; a reseller only to its own subscribers', async () => {
    const res = await post(`/api/core/subscribers/${alphaSub.id}/grants`, { plan_code: 'DAY10MB', reason: 'outage compensation' }, as(alphaToken));
    expect(res.status).toBe(201);
    const out = await json(res);
    expect(out.subscription).toMatchObject({
      plan_code: 'DAY10MB',
      plan_name: '10 Mo alpha',
      price_fcfa: 900,
      source: 'grant',
      status: 'active',
      reseller_id: alpha,
    });
    expect(Date.parse(out.subscription.expires_at) - Date.parse(out.subscription.starts_at)).toBe(86_400_000);
    expect(out.task_id).toMatch(/^\d+$/);

    const task = await db.selectFrom('core_tasks').selectAll().where('id', '=', out.task_id).executeTakeFirstOrThrow();
    expect(task.name).toBe('nas.policy-change');
    expect(task.payload).toMatchObject({ subscriberId: alphaSub.id, reason: 'plan_activated', subscriptionId: out.subscription.id });
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'subscription.grant').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_role: 'reseller', target_id: alphaSub.id, reseller_id: alpha });
    expect(audit[0]?.details).toMatchObject({ reason: 'outage compensation', plan_code: 'DAY10MB', subscription_id: out.subscription.id });

    const detail = await json(await get(`/api/core/subscribers/${alphaSub.ref}`, as(alphaToken)));
    expect(detail.active_subscription?.id).toBe(out.subscription.id);
    expect(detail.subscriptions).toHaveLength(1);

    // Beta can neither grant to Alpha's subscriber nor see the task.
    const foreign = await post(`/api/core/subscribers/${alphaSub.id}/grants`, { plan_code: 'DAY10MB', reason: 'trying' }, as(betaToken));
    expect(foreign.status).toBe(404);
    // A handler records its outcome with the task id (as the RADIUS plugin does per session): the poll shows it.
    await writeAudit(db, null, {
      action: 'radius.coa.ack',
      targetType: 'subscriber',
      targetId: alphaSub.id,
      resellerId: alpha,
      details: { task_id: out.task_id },
    });
    const polled = await get(`/api/core/tasks/${out.task_id}`, as(alphaToken));
    expect(polled.status).toBe(200);
    const view = await json(polled);
    expect(view).toMatchObject({ id: out.task_id, name: 'nas.policy-change', status: 'pending', attempts: 0 });
    expect(view.audit.map((e: { action: string }) => e.action)).toEqual(['radius.coa.ack']);
    expect((await get(`/api/core/tasks/${out.task_id}`, as(betaToken))).status).toBe(404);
    expect((await get(`/api/core/tasks/${out.task_id}`)).status).toBe(200);
    expect((await get('/api/core/tasks/999999999')).status).toBe(404);
    expect((await get('/api/core/tasks/abc')).status).toBe(400);
  });

  it('refuses a grant without a reason or for a plan not on sale, and saves nothing', async () => {
    const before = await db
      .selectFrom('subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const cases: Array<[unknown, number, string]> = [
      [{ plan_code: 'DAY10MB' }, 400, 'validation_failed'],
      [{ plan_code: 'DAY10MB', reason: ' x ' }, 400, 'validation_failed'],
      [{ plan_code: 'day10mb', reason: 'lower case code' }, 400, 'validation_failed'],
      [{ plan_code: 'NOPE', reason: 'no such plan' }, 422, 'plan_not_found'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(`/api/core/subscribers/${betaSub.id}/grants`, body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await json(res)).code).toBe(code);
    }
    const after = await db
      .selectFrom('subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('extends the plan in force by days (audited); 409 when there is none', async () => {
    const none = await post(`/api/core/subscribers/${betaSub.id}/extend`, { days: 3, reason: 'goodwill' }, as(betaToken));
    expect(none.status).toBe(409);
    expect((await json(none)).code).toBe('no_active_plan');
    expect((await post(`/api/core/subscribers/${betaSub.id}/extend`, { days: 0, reason: 'goodwill' })).status).toBe(400);

    const detail = await json(await get(`/api/core/subscribers/${alphaSub.id}`));
    const before = Date.parse(detail.active_subscription.expires_at);
    const res = await post(`/api/core/subscribers/${alphaSub.id}/extend`, { days: 2, reason: 'goodwill after a cut' });
    expect(res.status).toBe(200);
    const out = await json(res);
    expect(out.subscription.id).toBe(detail.active_subscription.id);
    expect(Date.parse(out.subscription.expires_at) - before).toBe(2 * 86_400_000);
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'subscription.extend').executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ days: 2, reason: 'goodwill after a cut', subscription_id: out.subscription.id });
    expect(audit.reseller_id).toBe(alpha);
    expect((await post(`/api/core/subscribers/${alphaSub.id}/extend`, { days: 2, reason: 'not mine' }, as(betaToken))).status).toBe(404);
  });

  it('filters and pages the audit log; a reseller sees its own entries only', async () => {
    const page1 = await json(await get('/api/core/audit?action=subscription.&limit=1'));
    expect(page1.items).toHaveLength(1);
    expect(page1.items[0].action).toBe('subscription.extend');
    expect(typeof page1.items[0].details).toBe('object');
    expect(page1.next).toBe(page1.items[0].id);
    const page2 = await json(await get(`/api/core/audit?action=subscription.&limit=1&before=${page1.next}`));
    expect(page2.items.map((e: { action: string }) => e.action)).toEqual(['subscription.grant']);
    const page3 = await json(await get(`/api/core/audit?action=subscription.&limit=1&before=${page2.next}`));
    expect(page3).toEqual({ items: [], next: null });
    const byTarget = await json(await get(`/api/core/audit?target_type=subscriber&target_id=${alphaSub.id}`));
    expect(byTarget.items.map((e: { action: string }) => e.action).sort()).toEqual(['radius.coa.ack', 'subscription.extend', 'subscription.grant']);
    const future = await json(await get(`/api/core/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`));
    expect(future.items).toEqual([]);
    const betaView = await json(await get('/api/core/audit?action=subscription.', as(betaToken)));
    expect(betaView.items).toEqual([]);
    const bad = await get('/api/core/audit?from=yesterday');
    expect(bad.status).toBe(400);
    expect((await json(bad)).code).toBe('validation_failed');
  });

  it('documents the new routes in /openapi.json', async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await get('/openapi.json'));
    expect(doc.paths['/api/core/subscribers/{id}']?.get).toBeDefined();
    expect(doc.paths['/api/core/subscribers/{id}/grants']?.post).toBeDefined();
    expect(doc.paths['/api/core/subscribers/{id}/extend']?.post).toBeDefined();
    expect(doc.paths['/api/core/tasks/{id}']?.get).toBeDefined();
    expect(doc.paths['/api/core/resellers/{id}/plans/{code}']?.put).toBeDefined();
    expect(doc.paths['/api/core/jobs/runs/{id}']?.get).toBeDefined();
  });
});
