import { z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerConfig } from '../config/server-config.js';
import { defineRoute } from '../http/router.js';
import { createMemoryKv } from '../kv/memory-kv.js';
import { definePlugin, type RgzPlugin } from '../plugin/define-plugin.js';
import { point, token } from '../plugin/tokens.js';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer, waitFor } from '../testing/index.js';
import { CORE_VERSION } from '../version.js';
import { createKernel, type PluginLoad } from './kernel.js';

const json = <T extends z.ZodType>(schema: T) => ({ description: 'OK', content: { 'application/json': { schema } } });

interface Greeter {
  greet(name: string): string;
}
const GreeterToken = token<Greeter>('demo.greeter');

const demo = definePlugin({
  name: 'demo',
  version: '1.0.0',
  core: '^0.1.0',
  config: z.object({ greeting: z.string().default('Bonjour'), limit: z.number().int().positive().default(5) }),
  provides: [GreeterToken],
  setup(ctx) {
    ctx.provide(GreeterToken, { greet: (n) => `${ctx.config.greeting} ${n}` });
    const r = ctx.router();
    r.add(
      defineRoute({
        method: 'get',
        path: '/ping',
        access: 'public',
        summary: 'Ping',
        responses: { 200: json(z.object({ pong: z.boolean(), greeting: z.string(), limit: z.number() })) },
      }),
      (c) => c.json({ pong: true, greeting: ctx.config.greeting, limit: ctx.config.limit }, 200),
    );
    r.add(
      defineRoute({
        method: 'get',
        path: '/items/{id}',
        access: ['noc'],
        summary: 'One item',
        request: { params: z.object({ id: z.string().regex(/^\d+$/) }) },
        responses: { 200: json(z.object({ id: z.string() })) },
      }),
      (c) => c.json({ id: c.req.valid('param').id }, 200),
    );
    r.add(
      defineRoute({
        method: 'post',
        path: '/echo',
        access: ['noc', 'reseller'],
        summary: 'Echo a payment',
        request: {
          body: {
            content: {
              'application/json': {
                schema: z.object({ customer: z.object({ phone: z.string().regex(/^\+229\d{8,10}$/) }), amount: z.number().int().positive() }),
              },
            },
          },
        },
        responses: { 200: json(z.object({ amount: z.number() })) },
      }),
      (c) => c.json({ amount: c.req.valid('json').amount }, 200),
    );
    r.add(defineRoute({ method: 'get', path: '/boom', access: 'public', summary: 'Fails', responses: { 200: json(z.object({})) } }), () => {
      throw new Error('secret internal detail: password=hunter2');
    });
    r.raw({ method: 'post', path: '/hook', access: 'public', summary: 'Raw webhook' }, async (c) => c.text(`raw:${await c.req.text()}`));
  },
});

async function body(res: Response): Promise<any> {
  return res.json();
}

describe('kernel over HTTP (embedded)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ plugins: [{ plugin: demo, config: { greeting: 'Akwaba' } }] });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the plugin with its parsed config (defaults applied) and its provided token', async () => {
    const res = await server.request('/api/demo/ping');
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ pong: true, greeting: 'Akwaba', limit: 5 });
    expect(server.get(GreeterToken).greet('Koffi')).toBe('Akwaba Koffi');
  });

  it('/health and /ready answer 200', async () => {
    expect((await server.request('/health')).status).toBe(200);
    const ready = await server.request('/ready');
    expect(ready.status).toBe(200);
    expect(await body(ready)).toEqual({ status: 'ready', database: true, kv: true });
  });

  it('/openapi.json lists core and plugin routes with their access', async () => {
    const res = await server.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await body(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(CORE_VERSION);
    expect(doc.paths['/api/demo/ping']?.get?.['x-rgz-access']).toBe('public');
    expect(doc.paths['/api/demo/items/{id}']?.get?.['x-rgz-access']).toEqual(['noc']);
    expect(doc.paths['/api/demo/items/{id}']?.get?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/demo/echo']?.post?.requestBody).toBeDefined();
    expect(doc.paths['/api/demo/hook']?.post?.['x-rgz-access']).toBe('public');
    expect(doc.paths['/api/core/subscribers']?.get).toBeDefined();
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('/metrics counts requests by route template, not by raw path', async () => {
    for (const id of ['41', '42']) {
      const res = await server.request(`/api/demo/items/${id}`, { headers: server.auth(server.nocToken) });
      expect(res.status).toBe(200);
    }
    await server.request('/api/demo/ping');
    await server.request('/no/such/route');
    const res = await server.request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    const line = (route: string, status: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith('api_requests_total{') && l.includes(`route="${route}"`) && l.includes(`status="${status}"`) && l.includes('method="GET"'));
    expect(line('/api/demo/items/:id', '200')).toMatch(/ 2$/);
    expect(line('/api/demo/ping', '200')).toMatch(/ [1-9]\d*$/);
    expect(line('unmatched', '404')).toBeDefined();
    expect(text).not.toContain('/api/demo/items/42');
    expect(text).toContain('api_request_duration_seconds_bucket');
    expect(text).toContain('db_connections_active');
  });

  it('echoes X-Request-Id, and replaces an unsafe one', async () => {
    const res = await server.request('/api/demo/ping', { headers: { 'x-request-id': 'req-abc.123' } });
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    const bad = await server.request('/api/demo/ping', { headers: { 'x-request-id': 'evil id<script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const long = await server.request('/api/demo/ping', { headers: { 'x-request-id': 'a'.repeat(200) } });
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await server.request('/api/demo/ping');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const err = await server.request('/api/demo/items/1', { headers: { 'x-request-id': 'req-err-1' } });
    expect(err.status).toBe(401);
    expect((await body(err)).request_id).toBe('req-err-1');
  });

  it('missing, garbage, unknown, expired and revoked tokens get 401 problem+json', async () => {
    const check = async (headers: Record<string, string>) => {
      const res = await server.request('/api/core/whoami', { headers: { ...headers, 'x-request-id': 'req-401' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const p = await body(res);
      expect(p).toMatchObject({ status: 401, code: 'unauthorized', request_id: 'req-401' });
      expect(p.type).toMatch(/unauthorized/);
      expect(p.title).toBeTruthy();
    };
    await check({});
    await check({ authorization: 'Bearer nonsense' });
    await check({ authorization: 'Basic dXNlcjpwYXNz' });
    await check({ authorization: `Bearer rgz_noc_${'A'.repeat(43)}` });

    const expired = await server.kernel.tokens.issue({ role: 'noc', name: 'old', ttlSeconds: 3600 });
    await server.kernel.db
      .updateTable('core_api_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.id)
      .execute();
    await check(server.auth(expired.token));

    // Revocation takes effect at once, even for a token used a moment ago.
    const issued = await server.request('/api/core/tokens', {
      method: 'POST',
      headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'temp-admin', role: 'noc' }),
    });
    expect(issued.status).toBe(201);
    const temp = (await body(issued)) as { id: string; token: string };
    expect(temp.token).toMatch(/^rgz_noc_/);
    const before = await server.request('/api/core/whoami', { headers: server.auth(temp.token) });
    expect(before.status).toBe(200);
    expect(await body(before)).toMatchObject({ role: 'noc', name: 'temp-admin' });
    const revoked = await server.request(`/api/core/tokens/${temp.id}`, { method: 'DELETE', headers: server.auth(server.nocToken) });
    expect(revoked.status).toBe(204);
    await check(server.auth(temp.token));
    // Revoking twice is a 404 with a code.
    const again = await server.request(`/api/core/tokens/${temp.id}`, { method: 'DELETE', headers: server.auth(server.nocToken) });
    expect(again.status).toBe(404);
    expect((await body(again)).code).toBe('token_not_found');
  });

  it('the verified-token cache never outlives the token', async () => {
    const t = await server.kernel.tokens.issue({ role: 'noc', name: 'short', ttlSeconds: 3600 });
    await server.kernel.db
      .updateTable('core_api_tokens')
      .set({ expires_at: new Date(Date.now() + 300) })
      .where('id', '=', t.id)
      .execute();
    const ok = await server.request('/api/core/whoami', { headers: server.auth(t.token) });
    expect(ok.status).toBe(200);
    await waitFor(async () => (await server.request('/api/core/whoami', { headers: server.auth(t.token) })).status === 401, 3_000);
  });

  it('a valid token with the wrong role gets 403 problem+json', async () => {
    const reseller = await server.kernel.db
      .insertInto('resellers')
      .values({ name: 'R', slug: 'r-403', phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sub = await server.kernel.db
      .insertInto('subscribers')
      .values({ subscriber_ref: 'RGZ-403', msisdn: '+22901970403', reseller_id: reseller.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    const res = await server.kernel.tokens.issue({ role: 'reseller', name: 'r', resellerId: reseller.id });
    const subTok = await server.kernel.tokens.issue({ role: 'subscriber', name: 's', subscriberId: sub.id });
    for (const [tok, path] of [
      [res.token, '/api/core/plugins'],
      [res.token, '/api/demo/items/1'],
      [subTok.token, '/api/core/resellers'],
    ] as const) {
      const r = await server.request(path, { headers: server.auth(tok) });
      expect(r.status, path).toBe(403);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      const p = await body(r);
      expect(p.code).toBe('forbidden');
      expect(p.request_id).toMatch(/.+/);
    }
    // The same reseller token is fine where resellers are allowed.
    const ok = await server.request('/api/demo/echo', {
      method: 'POST',
      headers: { ...server.auth(res.token), 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { phone: '+2290197000000' }, amount: 1000 }),
    });
    expect(ok.status).toBe(200);
    expect(await body(ok)).toEqual({ amount: 1000 });
  });

  it('a malformed JSON body is a 400 with a code, never a 500', async () => {
    for (const raw of ['{"customer": ', 'not json at all', '']) {
      const res = await server.request('/api/demo/echo', {
        method: 'POST',
        headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' },
        body: raw,
      });
      expect(res.status, JSON.stringify(raw)).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const p = await body(res);
      expect(typeof p.code).toBe('string');
      expect(p.code.length).toBeGreaterThan(0);
      expect(p.request_id).toBeTruthy();
    }
    // The wrong content type is a client error too.
    const text = await server.request('/api/demo/echo', {
      method: 'POST',
      headers: { ...server.auth(server.nocToken), 'content-type': 'text/plain' },
      body: '{"amount": 1}',
    });
    expect(text.status).toBeGreaterThanOrEqual(400);
    expect(text.status).toBeLessThan(500);
    expect((await body(text)).code).toBeTruthy();
  });

  it('validation errors list each failing key path', async () => {
    const res = await server.request('/api/demo/echo', {
      method: 'POST',
      headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { phone: '12345' }, amount: -3 }),
    });
    expect(res.status).toBe(400);
    const p = await body(res);
    expect(p.code).toBe('validation_failed');
    const paths = (p.issues as Array<{ path: string; message: string }>).map((i) => i.path).sort();
    expect(paths).toEqual(['json.amount', 'json.customer.phone']);
    expect(p.title).toContain('json.');

    const q = await server.request('/api/core/subscribers?limit=0', { headers: server.auth(server.nocToken) });
    expect(q.status).toBe(400);
    expect((await body(q)).issues.map((i: { path: string }) => i.path)).toEqual(['query.limit']);

    const param = await server.request('/api/demo/items/abc', { headers: server.auth(server.nocToken) });
    expect(param.status).toBe(400);
    expect((await body(param)).issues.map((i: { path: string }) => i.path)).toEqual(['param.id']);
  });

  it('an unexpected error is a 500 internal_error with the request id and no detail', async () => {
    const res = await server.request('/api/demo/boom', { headers: { 'x-request-id': 'req-boom' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('secret internal detail');
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error', request_id: 'req-boom' });
  });

  it('unknown routes are a 404 problem with a code; raw routes get the raw body', async () => {
    const res = await server.request('/api/demo/nope');
    expect(res.status).toBe(404);
    expect((await body(res)).code).toBe('route_not_found');
    const hook = await server.request('/api/demo/hook', { method: 'POST', body: 'a=1&b=2' });
    expect(await hook.text()).toBe('raw:a=1&b=2');
  });

  it('/api/core/plugins lists the plugin with its routes', async () => {
    const res = await server.request('/api/core/plugins', { headers: server.auth(server.nocToken) });
    const items = (await body(res)).items as Array<{ name: string; version: string; routes: string[]; provides: string[] }>;
    const d = items.find((p) => p.name === 'demo');
    expect(d?.version).toBe('1.0.0');
    expect(d?.provides).toEqual(['demo.greeter']);
    expect(d?.routes).toEqual(expect.arrayContaining(['GET /api/demo/ping', 'GET /api/demo/items/:id', 'POST /api/demo/hook']));
  });
});

describe('kernel start-up', () => {
  let tdb: TestDatabase;
  const config = parseServerConfig({ log: { level: 'silent' } }, {});

  beforeAll(async () => {
    tdb = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    await tdb.drop();
  });

  /** Compose a kernel over the shared database; a kernel that unexpectedly boots is stopped. */
  async function boot(plugins: Array<RgzPlugin | PluginLoad>): Promise<void> {
    const kernel = await createKernel({
      config,
      plugins: plugins.map((p) => ('plugin' in p ? p : { plugin: p })),
      database: tdb.database,
      kv: createMemoryKv(),
    });
    await kernel.stop();
  }
  const simple = (name: string, extra: Partial<Parameters<typeof definePlugin>[0]> = {}) =>
    definePlugin({ name, version: '1.0.0', core: '>=0.1.0', setup() {}, ...extra });

  it('a plugin config error names the full key path, what was expected and what was found', async () => {
    const sms = definePlugin({
      name: 'sms-demo',
      version: '1.0.0',
      core: '^0.1.0',
      config: z.object({ apiKey: z.string().min(10), sender: z.string(), retry: z.object({ max: z.number().int() }) }),
      setup() {},
    });
    const err = await boot([{ plugin: sms, config: { apiKey: 5, retry: { max: 'three' } } }]).then(
      () => null,
      (e: Error & { code?: string; path?: string }) => e,
    );
    expect(err?.code).toBe('config_invalid');
    expect(err?.path).toBe('plugins.sms-demo.config.apiKey');
    expect(err?.message).toMatch(/plugins\.sms-demo\.config\.apiKey: .*expected string.*found a number \(value hidden: secret\)/);
    expect(err?.message).not.toContain('5)');
    expect(err?.message).toMatch(/plugins\.sms-demo\.config\.sender: .*found nothing/);
    expect(err?.message).toMatch(/plugins\.sms-demo\.config\.retry\.max: .*found "three"/);
    // A second instance is named by its instance name.
    await expect(boot([{ plugin: sms, name: 'sms-backup', config: { apiKey: 'x' } }])).rejects.toThrow(/plugins\.sms-backup\.config\.apiKey/);
  });

  it('a missing required plugin is named', async () => {
    await expect(boot([simple('reports', { requires: ['payments'] })])).rejects.toThrow(/"reports" requires plugin "payments"/);
  });

  it('a missing token provider is named', async () => {
    const needs = simple('portal', { deps: { sms: token<unknown>('sms.sender') } });
    await expect(boot([needs])).rejects.toThrow(/"portal" needs "sms\.sender"/);
  });

  it('an incompatible core range is named with both versions', async () => {
    const old = simple('legacy', { core: '^9.0.0' });
    const err = await boot([old]).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('plugin_incompatible');
    expect(err?.message).toContain('"legacy"');
    expect(err?.message).toContain('^9.0.0');
    expect(err?.message).toContain(CORE_VERSION);
  });

  it('duplicate instance names are named', async () => {
    const p = simple('radius');
    await expect(boot([p, p])).rejects.toThrow(/"radius" is loaded twice/);
    // Distinct instance names are fine.
    await expect(
      boot([
        { plugin: p, name: 'radius-a' },
        { plugin: p, name: 'radius-b' },
      ]),
    ).resolves.toBeUndefined();
  });

  it('a route registered without an access declaration fails start-up, naming it', async () => {
    const sneaky = simple('sneaky', {
      setup(ctx) {
        const r = ctx.router();
        r.add(defineRoute({ method: 'get', path: '/ok', access: 'public', responses: { 200: { description: 'ok' } } }), (c) => c.body(null, 200));
        r.get('/secret', (c) => c.text('no access check'));
        r.post('/also', (c) => c.text('x'));
      },
    });
    const err = await boot([sneaky]).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('route_access_missing');
    expect(err?.message).toContain('"sneaky"');
    expect(err?.message).toContain('GET /secret');
    expect(err?.message).toContain('POST /also');
    expect(err?.message).not.toContain('/ok');
  });

  it('a dependency cycle is named with every plugin in it', async () => {
    const A = token<string>('cyc.a');
    const B = token<string>('cyc.b');
    const C = token<string>('cyc.c');
    const a = simple('alpha', { provides: [A], deps: { c: C } });
    const b = simple('beta', { provides: [B], deps: { a: A } });
    const c = simple('gamma', { provides: [C], deps: { b: B } });
    const err = await boot([a, b, c]).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('plugin_cycle');
    for (const name of ['alpha', 'beta', 'gamma']) expect(err?.message).toContain(name);
  });

  it('a throwing setup and a duplicate extension-point key are named', async () => {
    const broken = simple('broken', {
      setup() {
        throw new Error('cannot read property x');
      },
    });
    await expect(boot([broken])).rejects.toThrow(/"broken" failed during setup: cannot read property x/);

    const Senders = point<{ id: string }>('test.senders', (s) => s.id);
    const one = simple('sms-one', { setup: (ctx) => ctx.contribute(Senders, { id: 'letexto' }) });
    const two = simple('sms-two', { setup: (ctx) => ctx.contribute(Senders, { id: 'letexto' }) });
    await expect(boot([one, two])).rejects.toThrow(/"letexto".*"sms-one".*"sms-two"/);
  });

  it('sets up and starts providers before dependants, and stops in reverse', async () => {
    const events: string[] = [];
    const T = token<string>('order.value');
    const provider = simple('provider', {
      provides: [T],
      setup(ctx) {
        events.push('setup provider');
        ctx.provide(T, 'v');
        ctx.onStart(() => void events.push('start provider'));
        ctx.onStop(() => void events.push('stop provider'));
      },
    });
    const consumer = definePlugin({
      name: 'consumer',
      version: '1.0.0',
      core: '>=0.1.0',
      deps: { value: T },
      setup(ctx, deps) {
        events.push(`setup consumer ${deps.value}`);
        ctx.onStart(() => void events.push('start consumer'));
        ctx.onStop(() => void events.push('stop consumer'));
      },
    });
    const server = await startTestServer({ plugins: [consumer, provider], worker: false });
    await server.close();
    expect(events).toEqual(['setup provider', 'setup consumer v', 'start provider', 'start consumer', 'stop consumer', 'stop provider']);
  });

  it('overrides replace a provided token for the provider and its dependants', async () => {
    const fake: Greeter = { greet: (n) => `fake ${n}` };
    let seen = '';
    const consumer = definePlugin({
      name: 'consumer',
      version: '1.0.0',
      core: '>=0.1.0',
      deps: { greeter: GreeterToken },
      setup(_ctx, deps) {
        seen = deps.greeter.greet('x');
      },
    });
    const kernel = await createKernel({
      config,
      plugins: [{ plugin: consumer }, { plugin: demo }],
      database: tdb.database,
      kv: createMemoryKv(),
      overrides: [[GreeterToken, fake]],
    });
    try {
      expect(seen).toBe('fake x');
      expect(kernel.get(GreeterToken)).toBe(fake);
      expect(kernel.plugins.find((p) => p.name === 'demo')?.provides).toEqual([]);
    } finally {
      await kernel.stop();
    }
  });

  it('a failing onStart is named', async () => {
    const p = simple('starter', {
      setup(ctx) {
        ctx.onStart(() => {
          throw new Error('NAS unreachable');
        });
      },
    });
    await expect(startTestServer({ plugins: [p], worker: false })).rejects.toThrow(/"starter" failed to start: NAS unreachable/);
  });
});
