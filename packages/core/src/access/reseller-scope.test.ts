import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreDatabase } from '../domain/schema.js';
import { BACKENDS, startTestServer, type TestServer } from '../testing/index.js';
import { OwnershipRegistry, ResellerScopePlugin } from './reseller-scope.js';

interface World {
  alpha: string;
  beta: string;
  alphaToken: string;
  betaToken: string;
  subs: Record<'alpha' | 'beta' | 'none', Array<{ id: string; msisdn: string }>>;
}

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe.each(BACKENDS)('reseller isolation (%s)', (backend) => {
  let server: TestServer;
  let db: Kysely<CoreDatabase>;
  let w: World;
  const scoped = (resellerId: string) => db.withPlugin(new ResellerScopePlugin(new OwnershipRegistry(), resellerId));

  beforeAll(async () => {
    server = await startTestServer({ backend });
    db = server.kernel.db;
    const noc = server.auth(server.nocToken);
    const post = (path: string, body: unknown) =>
      server.request(path, { method: 'POST', headers: { ...noc, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const ids: string[] = [];
    for (const [name, slug] of [
      ['Alpha Net', 'alpha'],
      ['Beta WiFi', 'beta'],
    ]) {
      const res = await post('/api/core/resellers', { name, slug, phone: '+22997000000', share_percent: 50 });
      expect(res.status).toBe(201);
      ids.push((await json<{ id: string }>(res)).id);
    }
    const [alpha, beta] = ids as [string, string];
    const tokens: string[] = [];
    for (const [name, id] of [
      ['alpha-admin', alpha],
      ['beta-admin', beta],
    ]) {
      const res = await post('/api/core/tokens', { name, role: 'reseller', reseller_id: id });
      expect(res.status).toBe(201);
      tokens.push((await json<{ token: string }>(res)).token);
    }
    const subs: World['subs'] = { alpha: [], beta: [], none: [] };
    let i = 0;
    for (const [owner, resellerId, count] of [
      ['alpha', alpha, 3],
      ['beta', beta, 2],
      ['none', null, 1],
    ] as const) {
      for (let k = 0; k < count; k++) {
        i++;
        const msisdn = `+229019700000${i}`;
        const row = await db
          .insertInto('subscribers')
          .values({ subscriber_ref: `RGZ-T${i}`, msisdn, reseller_id: resellerId })
          .returning(['id', 'msisdn'])
          .executeTakeFirstOrThrow();
        subs[owner].push(row);
        await db
          .insertInto('subscriber_devices')
          .values({ subscriber_id: row.id, mac_address: `aa:bb:cc:dd:ee:0${i}` })
          .execute();
      }
    }
    // Each reseller overrides one default plan.
    for (const [resellerId, price] of [
      [alpha, 900],
      [beta, 800],
    ] as const) {
      await db
        .insertInto('plans')
        .values({
          reseller_id: resellerId,
          code: 'DAY10MB',
          name: '10 Mo promo',
          price_fcfa: price,
          quota_bytes: 10 * 1024 * 1024,
          quota_period: 'day',
          validity_seconds: 86_400,
          rate_down_kbps: 1024,
          rate_up_kbps: 512,
        })
        .execute();
    }
    w = { alpha, beta, alphaToken: tokens[0] as string, betaToken: tokens[1] as string, subs };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET /api/core/subscribers: a reseller sees only its own subscribers, the NOC sees all', async () => {
    const list = async (token: string, query = '') => {
      const res = await server.request(`/api/core/subscribers${query}`, { headers: server.auth(token) });
      expect(res.status).toBe(200);
      return (await json<{ items: Array<{ id: string; reseller_id: string | null }> }>(res)).items;
    };
    const a = await list(w.alphaToken);
    expect(a.map((s) => s.id).sort()).toEqual(w.subs.alpha.map((s) => s.id).sort());
    expect(a.every((s) => s.reseller_id === w.alpha)).toBe(true);
    const b = await list(w.betaToken);
    expect(b.map((s) => s.id).sort()).toEqual(w.subs.beta.map((s) => s.id).sort());
    expect(await list(server.nocToken)).toHaveLength(6);
    // Searching for another reseller's subscriber finds nothing (the search's OR stays inside the filter).
    const other = w.subs.beta[0]?.msisdn as string;
    expect(await list(w.alphaToken, `?q=${encodeURIComponent(other.slice(-6))}`)).toEqual([]);
    expect(await list(w.betaToken, `?q=${encodeURIComponent(other.slice(-6))}`)).toHaveLength(1);
  });

  it('GET /api/core/resellers: a reseller sees only itself', async () => {
    const res = await server.request('/api/core/resellers', { headers: server.auth(w.betaToken) });
    expect(res.status).toBe(200);
    const items = (await json<{ items: Array<{ id: string; slug: string }> }>(res)).items;
    expect(items.map((r) => r.slug)).toEqual(['beta']);
    const all = await server.request('/api/core/resellers', { headers: server.auth(server.nocToken) });
    expect((await json<{ items: unknown[] }>(all)).items).toHaveLength(2);
  });

  it('GET /api/core/audit: a reseller sees only entries about itself', async () => {
    const res = await server.request('/api/core/audit', { headers: server.auth(w.alphaToken) });
    expect(res.status).toBe(200);
    const items = (await json<{ items: Array<{ reseller_id: string | null; action: string }> }>(res)).items;
    expect(items.length).toBeGreaterThanOrEqual(2); // reseller.create + token.issue
    expect(items.every((e) => e.reseller_id === w.alpha)).toBe(true);
  });

  it('a select with a join only reaches the reseller’s rows on both sides', async () => {
    const rows = await scoped(w.alpha)
      .selectFrom('subscriber_devices as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['d.mac_address', 's.reseller_id'])
      .execute();
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.reseller_id === w.alpha)).toBe(true);
    // Joined the other way, starting from an unowned-looking alias.
    const joined = await scoped(w.beta).selectFrom('resellers as r').leftJoin('subscribers as s', 's.reseller_id', 'r.id').select(['r.slug', 's.id']).execute();
    expect(joined.map((r) => r.slug)).toEqual(['beta', 'beta']);
  });

  it('subqueries are scoped too: in the select list, in FROM and in WHERE', async () => {
    const counted = await scoped(w.alpha)
      .selectNoFrom((eb) => [
        eb.selectFrom('subscribers').select(eb.fn.countAll<number>().as('n')).as('subscribers'),
        eb.selectFrom('subscriber_devices').select(eb.fn.countAll<number>().as('n')).as('devices'),
      ])
      .executeTakeFirstOrThrow();
    expect(Number(counted.subscribers)).toBe(3);
    expect(Number(counted.devices)).toBe(3);

    const fromSub = await scoped(w.beta)
      .selectFrom((eb) => eb.selectFrom('subscribers').select(['id', 'reseller_id']).as('x'))
      .selectAll()
      .execute();
    expect(fromSub.map((r) => r.reseller_id)).toEqual([w.beta, w.beta]);

    // An unscoped table filtered by a subquery on a scoped one.
    const tokens = await scoped(w.beta)
      .selectFrom('core_api_tokens')
      .select('name')
      .where('reseller_id', 'in', (eb) => eb.selectFrom('resellers').select('id'))
      .execute();
    expect(tokens.map((t) => t.name)).toEqual(['beta-admin']);
  });

  it('an OR in the query (builder or raw sql) cannot widen the reseller filter', async () => {
    const betaMsisdn = w.subs.beta[0]?.msisdn as string;
    const viaBuilder = await scoped(w.alpha)
      .selectFrom('subscribers')
      .select('id')
      .where((eb) => eb.or([eb('msisdn', '=', betaMsisdn), eb('status', '=', 'active')]))
      .execute();
    expect(viaBuilder).toHaveLength(3);
    const viaRaw = await scoped(w.alpha).selectFrom('subscribers').select(['id', 'reseller_id']).where(sql<boolean>`msisdn = ${betaMsisdn} or 1 = 1`).execute();
    expect(viaRaw.map((r) => r.reseller_id)).toEqual([w.alpha, w.alpha, w.alpha]);
    const joinRaw = await scoped(w.alpha)
      .selectFrom('resellers as r')
      .innerJoin('subscribers as s', (j) => j.on(sql<boolean>`s.reseller_id = r.id or 1 = 1`))
      .select('s.reseller_id')
      .execute();
    expect(new Set(joinRaw.map((r) => r.reseller_id))).toEqual(new Set([w.alpha]));
  });

  it('update touches only the reseller’s rows', async () => {
    const all = await scoped(w.alpha).updateTable('subscribers').set({ status: 'suspended' }).executeTakeFirst();
    expect(Number(all.numUpdatedRows)).toBe(3);
    const other = await scoped(w.alpha)
      .updateTable('subscribers')
      .set({ status: 'closed' })
      .where('id', '=', w.subs.beta[0]?.id as string)
      .executeTakeFirst();
    expect(Number(other.numUpdatedRows)).toBe(0);
    const statuses = await db.selectFrom('subscribers').select(['reseller_id', 'status']).execute();
    for (const s of statuses) expect(s.status).toBe(s.reseller_id === w.alpha ? 'suspended' : 'active');
    // Through an alias too, then restore.
    const back = await scoped(w.alpha).updateTable('subscribers as s').set({ status: 'active' }).executeTakeFirst();
    expect(Number(back.numUpdatedRows)).toBe(3);
    // A table owned through its subscriber.
    const dev = await scoped(w.beta).updateTable('subscriber_devices').set({ last_seen_at: new Date() }).executeTakeFirst();
    expect(Number(dev.numUpdatedRows)).toBe(2);
  });

  it('plans: shared catalogue rows are readable but never writable by a reseller', async () => {
    const visible = await scoped(w.alpha).selectFrom('plans').select(['code', 'reseller_id', 'price_fcfa']).execute();
    expect(visible.filter((p) => p.reseller_id === null)).toHaveLength(4);
    expect(visible.filter((p) => p.reseller_id !== null).map((p) => [p.reseller_id, p.price_fcfa])).toEqual([[w.alpha, 900]]);

    const shared = await scoped(w.alpha).updateTable('plans').set({ price_fcfa: 1 }).where('reseller_id', 'is', null).executeTakeFirst();
    expect(Number(shared.numUpdatedRows)).toBe(0);
    const mine = await scoped(w.alpha).updateTable('plans').set({ price_fcfa: 950 }).executeTakeFirst();
    expect(Number(mine.numUpdatedRows)).toBe(1);
    const gone = await scoped(w.alpha).deleteFrom('plans').where('code', '=', 'MONTH1GB').executeTakeFirst();
    expect(Number(gone.numDeletedRows)).toBe(0);

    const prices = await db.selectFrom('plans').select(['reseller_id', 'code', 'price_fcfa']).where('code', 'in', ['DAY10MB', 'MONTH1GB']).execute();
    expect(prices.find((p) => p.reseller_id === null && p.code === 'DAY10MB')?.price_fcfa).toBe(1000);
    expect(prices.find((p) => p.reseller_id === null && p.code === 'MONTH1GB')?.price_fcfa).toBe(10000);
    expect(prices.find((p) => p.reseller_id === w.alpha)?.price_fcfa).toBe(950);
    expect(prices.find((p) => p.reseller_id === w.beta)?.price_fcfa).toBe(800);
  });

  it('delete touches only the reseller’s rows', async () => {
    const none = await scoped(w.alpha)
      .deleteFrom('subscriber_devices')
      .where('subscriber_id', '=', w.subs.beta[0]?.id as string)
      .executeTakeFirst();
    expect(Number(none.numDeletedRows)).toBe(0);
    const mine = await scoped(w.alpha).deleteFrom('subscriber_devices').executeTakeFirst();
    expect(Number(mine.numDeletedRows)).toBe(3);
    const left = await db.selectFrom('subscriber_devices').select('subscriber_id').execute();
    expect(left.map((d) => d.subscriber_id).sort()).toEqual([...w.subs.beta, ...w.subs.none].map((s) => s.id).sort());
    const subs = await scoped(w.beta)
      .deleteFrom('subscribers as s')
      .where('s.id', '=', w.subs.alpha[0]?.id as string)
      .executeTakeFirst();
    expect(Number(subs.numDeletedRows)).toBe(0);
  });

  it('writes: a reseller inserts only rows it owns and cannot hand a row to another reseller', async () => {
    await expect(
      scoped(w.alpha).insertInto('subscribers').values({ subscriber_ref: 'RGZ-XALPHA', msisdn: '+2290197999991', reseller_id: w.beta }).execute(),
    ).rejects.toMatchObject({ code: 'reseller_scope_violation' });
    await expect(
      scoped(w.alpha).insertInto('subscribers').values({ subscriber_ref: 'RGZ-XNONE', msisdn: '+2290197999992', reseller_id: null }).execute(),
    ).rejects.toMatchObject({
      code: 'reseller_scope_violation',
    });
    await expect(scoped(w.alpha).insertInto('subscribers').values({ subscriber_ref: 'RGZ-XMISS', msisdn: '+2290197999993' }).execute()).rejects.toMatchObject({
      code: 'reseller_scope_violation',
    });
    const ok = await scoped(w.alpha)
      .insertInto('subscribers')
      .values({ subscriber_ref: 'RGZ-XOWN', msisdn: '+2290197999994', reseller_id: w.alpha })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(scoped(w.alpha).updateTable('subscribers').set({ reseller_id: w.beta }).where('id', '=', ok.id).execute()).rejects.toMatchObject({
      code: 'reseller_scope_violation',
    });
    const owner = await db.selectFrom('subscribers').select('reseller_id').where('id', '=', ok.id).executeTakeFirstOrThrow();
    expect(owner.reseller_id).toBe(w.alpha);
    expect(await db.selectFrom('subscribers').select('id').where('subscriber_ref', 'in', ['RGZ-XALPHA', 'RGZ-XNONE', 'RGZ-XMISS']).execute()).toHaveLength(0);
  });
});
