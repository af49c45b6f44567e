/**
 * A reseller's prices over HTTP: reading the catalogue with its overrides, setting and withdrawing an override
 * (audited; the plan row is updated in place so past purchases keep their plan), and the isolation rules: a reseller
 * changes its own prices only and never the default catalogue.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreDatabase } from '../domain/schema.js';
import { BACKENDS, startTestServer, type TestServer } from '../testing/index.js';

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe.each(BACKENDS)('reseller prices (%s)', (backend) => {
  let server: TestServer;
  let db: Kysely<CoreDatabase>;
  let alpha: string;
  let beta: string;
  let alphaToken: string;
  const noc = () => ({ ...server.auth(server.nocToken), 'content-type': 'application/json' });
  const as = (token: string) => ({ ...server.auth(token), 'content-type': 'application/json' });
  const put = (reseller: string, code: string, body: unknown, headers = noc()) =>
    server.request(`/api/core/resellers/${reseller}/plans/${code}`, { method: 'PUT', headers, body: JSON.stringify(body) });
  const del = (reseller: string, code: string, headers = noc()) =>
    server.request(`/api/core/resellers/${reseller}/plans/${code}`, { method: 'DELETE', headers });
  const onSale = async (reseller: string) =>
    (await json<{ items: Array<{ code: string; price_fcfa: number }> }>(await server.request(`/api/core/plans?reseller=${reseller}`))).items;

  beforeAll(async () => {
    server = await startTestServer({ backend });
    db = server.kernel.db;
    const ids: string[] = [];
    for (const slug of ['prices-a', 'prices-b']) {
      const res = await server.request('/api/core/resellers', { method: 'POST', headers: noc(), body: JSON.stringify({ name: slug, slug }) });
      ids.push((await json<{ id: string }>(res)).id);
    }
    [alpha, beta] = ids as [string, string];
    alphaToken = (await server.kernel.tokens.issue({ role: 'reseller', name: 'alpha', resellerId: alpha })).token;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a reseller sets its own price; the rest comes from the default plan; audited', async () => {
    const res = await put(alpha, 'DAY10MB', { price_fcfa: 900, name: '10 Mo promo' }, as(alphaToken));
    expect(res.status).toBe(200);
    const plan = await json(res);
    expect(plan).toMatchObject({
      reseller_id: alpha,
      code: 'DAY10MB',
      name: '10 Mo promo',
      price_fcfa: 900,
      quota_period: 'day',
      rate_down_kbps: 1024,
      active: true,
    });
    expect((await onSale(alpha)).find((p) => p.code === 'DAY10MB')?.price_fcfa).toBe(900);
    expect((await onSale(beta)).find((p) => p.code === 'DAY10MB')?.price_fcfa).toBe(1000);

    // A second change updates the same row (subscriptions reference it).
    const again = await json(await put(alpha, 'DAY10MB', { price_fcfa: 950 }, as(alphaToken)));
    expect(again.id).toBe(plan.id);
    expect(again).toMatchObject({ price_fcfa: 950, name: '10 Mo / jour' });
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'plan.price.set').orderBy('id').execute();
    expect(audit.map((a) => a.details)).toEqual([
      expect.objectContaining({ code: 'DAY10MB', price_fcfa: 900, price_before: 1000 }),
      expect.objectContaining({ code: 'DAY10MB', price_fcfa: 950, price_before: 900 }),
    ]);
    expect(audit.every((a) => a.reseller_id === alpha && a.actor_role === 'reseller')).toBe(true);

    const view = await json(await server.request(`/api/core/resellers/${alpha}/plans`, { headers: as(alphaToken) }));
    expect(view.defaults).toHaveLength(4);
    expect(view.overrides.map((p: { code: string; price_fcfa: number }) => [p.code, p.price_fcfa])).toEqual([['DAY10MB', 950]]);
    expect(view.on_sale.find((p: { code: string }) => p.code === 'DAY10MB')).toMatchObject({ price_fcfa: 950, reseller_id: alpha });
  });

  it('withdrawing an override brings the default price back', async () => {
    const res = await del(alpha, 'DAY10MB', as(alphaToken));
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ code: 'DAY10MB', active: false });
    expect((await onSale(alpha)).find((p) => p.code === 'DAY10MB')?.price_fcfa).toBe(1000);
    const again = await del(alpha, 'DAY10MB', as(alphaToken));
    expect(again.status).toBe(404);
    expect((await json(again)).code).toBe('override_not_found');
    // Setting a price again reactivates the same row.
    expect((await json(await put(alpha, 'DAY10MB', { price_fcfa: 800 }))).active).toBe(true);
  });

  it('a reseller cannot read or change another reseller’s prices, and nothing is saved', async () => {
    const plansBefore = await db.selectFrom('plans').selectAll().orderBy('id').execute();
    for (const res of [
      await server.request(`/api/core/resellers/${beta}/plans`, { headers: as(alphaToken) }),
      await put(beta, 'DAY10MB', { price_fcfa: 1 }, as(alphaToken)),
      await del(beta, 'DAY10MB', as(alphaToken)),
    ]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await json(res)).code).toBe('reseller_not_found');
    }
    expect(await db.selectFrom('plans').selectAll().orderBy('id').execute()).toEqual(plansBefore);
  });

  it('refuses bad input as problem+json', async () => {
    const cases: Array<[Response, number, string]> = [
      [await put(alpha, 'NOPE', { price_fcfa: 100 }), 422, 'plan_not_found'],
      [await put(alpha, 'DAY10MB', { price_fcfa: -1 }), 400, 'validation_failed'],
      [await put(alpha, 'DAY10MB', { price_fcfa: 1.5 }), 400, 'validation_failed'],
      [await put(alpha, 'DAY10MB', {}), 400, 'validation_failed'],
      [await put(alpha, 'day10mb', { price_fcfa: 100 }), 400, 'validation_failed'],
      [await put('not-a-uuid', 'DAY10MB', { price_fcfa: 100 }), 400, 'validation_failed'],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await json(res)).code).toBe(code);
    }
    expect((await server.request(`/api/core/resellers/${alpha}/plans`)).status).toBe(401);
  });
});
