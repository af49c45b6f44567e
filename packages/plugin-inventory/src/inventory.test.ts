import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CpeProfile, CpeProfiles, definePlugin, inventoryReader, type Kysely } from '@rgz/core';
import { BACKENDS, startTestServer, type TestServer } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import inventory from './index.js';
import type { InventoryDatabase } from './schema.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** A loaded CpeProfile, so the profile check has something to compare with. */
const fakeProfiles = definePlugin({
  name: 'test-profiles',
  version: '0.0.0',
  core: '*',
  setup(ctx) {
    const profile = (id: string): CpeProfile => ({
      id,
      provider: id,
      probeOids: [],
      plan: { get: ['1.3.6.1.2.1.1.3.0'], walk: [] },
      detect: () => 0,
      parse: (r) => ({ polledAt: r.polledAt, radios: [], interfaces: [], stations: [] }),
    });
    ctx.contribute(CpeProfiles, profile('ubnt-airmax'));
    ctx.contribute(CpeProfiles, profile('if-mib'));
  },
});

it('plugin version equals package.json', () => {
  expect(inventory.version).toBe(pkg.version);
  expect(inventory.name).toBe('inventory');
});

describe.each(BACKENDS)('inventory on %s', (backend) => {
  let server: TestServer;
  let db: Kysely<InventoryDatabase>;
  let resA: { id: string; token: string };
  let resB: { id: string; token: string };
  let subA: string;

  const call = async (token: string, method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await server.request(path, {
      method,
      headers: { ...server.auth(token), ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const noc = (method: string, path: string, body?: unknown, ct?: string) => call(server.nocToken, method, path, body, ct);

  beforeAll(async () => {
    server = await startTestServer({ backend, plugins: [inventory, fakeProfiles] });
    db = server.kernel.db as unknown as Kysely<InventoryDatabase>;
    const mk = async (slug: string) => {
      const r = await noc('POST', '/api/core/resellers', { name: slug, slug });
      expect(r.status).toBe(201);
      const t = await server.kernel.tokens.issue({ role: 'reseller', name: slug, resellerId: r.body.id });
      return { id: r.body.id as string, token: t.token };
    };
    resA = await mk('res-a');
    resB = await mk('res-b');
    const sub = await db
      .insertInto('subscribers')
      .values({ subscriber_ref: 'RGZ-AAA111', msisdn: '+2290197000001', reseller_id: resA.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    subA = sub.id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('NOC manages sites and devices; secrets are never returned', async () => {
    const site = await noc('POST', '/api/inventory/sites', { name: 'Akpakpa', location: 'Cotonou', capacity_down_kbps: 200_000, capacity_up_kbps: 50_000 });
    expect(site.status).toBe(201);
    expect(site.body).toMatchObject({ name: 'Akpakpa', reseller_id: null, capacity_down_kbps: 200_000 });
    expect((await noc('POST', '/api/inventory/sites', { name: 'akpakpa' })).status).toBe(409);

    const dev = await noc('POST', '/api/inventory/devices', {
      kind: 'cpe',
      address: '10.20.0.11',
      site_id: site.body.id,
      profile: 'ubnt-airmax',
      mac_address: '24-A4-3C-01-02-03',
      snmp: { version: '2c', community: 'secret-community' },
    });
    expect(dev.status).toBe(201);
    expect(dev.body).toMatchObject({
      name: '10.20.0.11',
      port: 161,
      profile: 'ubnt-airmax',
      mac_address: '24:a4:3c:01:02:03',
      snmp: { version: '2c', secrets_set: true },
    });
    expect(JSON.stringify(dev.body)).not.toContain('secret-community');

    const v3 = await noc('POST', '/api/inventory/devices', {
      kind: 'access_point',
      name: 'ap-akpakpa-1',
      address: '10.20.0.2',
      port: 1161,
      snmp: { version: '3', user: 'noc', level: 'authPriv', auth_protocol: 'sha', auth_key: 'authpass123', priv_protocol: 'aes', priv_key: 'privpass123' },
    });
    expect(v3.status).toBe(201);
    expect(v3.body.snmp).toEqual({ version: '3', user: 'noc', level: 'authPriv', auth_protocol: 'sha', priv_protocol: 'aes', secrets_set: true });
    expect(JSON.stringify(v3.body)).not.toContain('pass123');

    // Validation, uniqueness, unknown profile.
    const badV3 = await noc('POST', '/api/inventory/devices', { kind: 'cpe', address: '10.20.0.3', snmp: { version: '3', user: 'x', level: 'authPriv' } });
    expect(badV3.status).toBe(400);
    expect((await noc('POST', '/api/inventory/devices', { kind: 'cpe', address: '10.20.0.11', snmp: { version: '2c', community: 'c' } })).status).toBe(409);
    const unknownProfile = await noc('POST', '/api/inventory/devices', {
      kind: 'cpe',
      address: '10.20.0.4',
      profile: 'mikrotik',
      snmp: { version: '2c', community: 'c' },
    });
    expect(unknownProfile.status).toBe(400);
    expect(unknownProfile.body.code).toBe('profile_unknown');

    const patched = await noc('PATCH', `/api/inventory/devices/${dev.body.id}`, { enabled: false, snmp: { version: '2c', community: 'rotated' } });
    expect(patched.status).toBe(200);
    expect(patched.body.enabled).toBe(false);
    const list = await noc('GET', `/api/inventory/devices?site_id=${site.body.id}`);
    expect(list.body.total).toBe(1);
    expect((await noc('GET', '/api/inventory/devices?q=akpakpa-1')).body.devices.map((d: { name: string }) => d.name)).toEqual(['ap-akpakpa-1']);

    expect((await noc('DELETE', `/api/inventory/sites/${site.body.id}`)).status).toBe(409);
    expect((await noc('DELETE', `/api/inventory/devices/${dev.body.id}`)).status).toBe(204);
    expect((await noc('GET', `/api/inventory/devices/${dev.body.id}`)).status).toBe(404);
    expect((await noc('DELETE', `/api/inventory/sites/${site.body.id}`)).status).toBe(204);
  });

  it('a reseller reads and writes only its own sites and devices', async () => {
    const siteA = await call(resA.token, 'POST', '/api/inventory/sites', { name: 'Godomey', capacity_down_kbps: 100_000 });
    expect(siteA.status).toBe(201);
    expect(siteA.body.reseller_id).toBe(resA.id);
    const siteB = await call(resB.token, 'POST', '/api/inventory/sites', { name: 'Godomey' });
    expect(siteB.status).toBe(201);
    expect((await call(resA.token, 'POST', '/api/inventory/sites', { name: 'X', reseller_id: resB.id })).status).toBe(403);

    const devA = await call(resA.token, 'POST', '/api/inventory/devices', {
      kind: 'cpe',
      address: '10.30.0.10',
      site_id: siteA.body.id,
      subscriber_id: subA,
      snmp: { version: '2c', community: 'a' },
    });
    expect(devA.status).toBe(201);
    expect(devA.body).toMatchObject({ reseller_id: resA.id, subscriber_id: subA });
    // B cannot place a device on A's site, nor attach A's subscriber, nor see A's rows.
    expect(
      (
        await call(resB.token, 'POST', '/api/inventory/devices', {
          kind: 'cpe',
          address: '10.30.0.11',
          site_id: siteA.body.id,
          snmp: { version: '2c', community: 'b' },
        })
      ).body.code,
    ).toBe('site_not_found');
    expect(
      (
        await call(resB.token, 'POST', '/api/inventory/devices', {
          kind: 'cpe',
          address: '10.30.0.12',
          subscriber_id: subA,
          snmp: { version: '2c', community: 'b' },
        })
      ).body.code,
    ).toBe('subscriber_not_found');
    expect((await call(resB.token, 'GET', `/api/inventory/devices/${devA.body.id}`)).status).toBe(404);
    expect((await call(resB.token, 'PATCH', `/api/inventory/devices/${devA.body.id}`, { enabled: false })).status).toBe(404);
    expect((await call(resB.token, 'GET', '/api/inventory/devices')).body.total).toBe(0);
    expect((await call(resA.token, 'GET', '/api/inventory/sites')).body.sites.map((s: { id: string }) => s.id)).toEqual([siteA.body.id]);
    // The NOC sees both, and may not put a device of B on A's site.
    expect((await noc('GET', `/api/inventory/devices?reseller_id=${resA.id}`)).body.total).toBe(1);
    const mismatch = await noc('POST', '/api/inventory/devices', {
      kind: 'cpe',
      address: '10.30.0.13',
      site_id: siteA.body.id,
      reseller_id: resB.id,
      snmp: { version: '2c', community: 'x' },
    });
    expect(mismatch.body.code).toBe('reseller_mismatch');
  });

  it('imports a CSV all or nothing, with every error and its line', async () => {
    await noc('POST', '/api/inventory/sites', { name: 'Calavi', capacity_down_kbps: 300_000 });
    const bad = [
      'name;kind;address;site;community;profile',
      'cpe-1;cpe;10.40.0.1;Calavi;public;auto',
      'cpe-2;modem;10.40.0.2;Calavi;public;auto',
      'cpe-3;cpe;10.40.0.3;Nowhere;public;auto',
      'cpe-4;cpe;10.40.0.1;Calavi;public;auto',
      'cpe-5;cpe;10.40.0.5;Calavi;public;mikrotik',
      'cpe-6;cpe;10.40.0.6;Calavi;;auto',
    ].join('\r\n');
    const r = await noc('POST', '/api/inventory/devices/import', bad, 'text/csv');
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('import_invalid');
    expect(r.body.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 5, 6, 7]);
    expect(r.body.errors[0].message).toMatch(/^kind:/);
    expect(r.body.errors[1].message).toMatch(/site "Nowhere" not found/);
    expect(r.body.errors[2].message).toMatch(/already on line 2/);
    expect(r.body.errors[4].message).toMatch(/^community:/);
    expect((await noc('GET', '/api/inventory/devices?q=10.40.')).body.total).toBe(0);

    const good = [
      '# a comment line',
      'name,kind,address,port,site,community,v3_user,v3_level,v3_auth_protocol,v3_auth_key,v3_priv_protocol,v3_priv_key,subscriber,reseller,mac,enabled',
      'cpe-1,cpe,10.40.0.1,,Calavi,public,,,,,,,,,AABBCCDDEEFF,yes',
      'cpe-2,cpe,10.40.0.2,1161,Calavi,,op,authPriv,SHA,authpass1,AES,privpass1,,,,no',
      `cpe-3,cpe,10.40.0.3,,,"pub,lic",,,,,,,RGZ-AAA111,res-a,,`,
    ].join('\n');
    const dry = await noc('POST', '/api/inventory/devices/import?dry_run=true', good, 'text/csv');
    expect(dry.body).toEqual({ created: 3, updated: 0, dry_run: true, errors: [] });
    const ok = await noc('POST', '/api/inventory/devices/import', good, 'text/csv');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ created: 3, updated: 0, dry_run: false, errors: [] });
    const devices = await server.get(inventoryReader).listDevices({ ids: [] });
    expect(devices).toEqual([]);
    const imported = (await db.selectFrom('inventory_devices').selectAll().where('address', 'like', '10.40.%').orderBy('address').execute()) as Array<
      Record<string, unknown>
    >;
    expect(imported.map((d) => [d.address, d.port, d.snmp_version, d.enabled, d.mac_address])).toEqual([
      ['10.40.0.1', 161, '2c', true, 'aa:bb:cc:dd:ee:ff'],
      ['10.40.0.2', 1161, '3', false, null],
      ['10.40.0.3', 161, '2c', true, null],
    ]);
    expect(imported[2]).toMatchObject({ snmp_community: 'pub,lic', reseller_id: resA.id, subscriber_id: subA });
    expect(imported[1]).toMatchObject({ snmp_user: 'op', snmp_auth_protocol: 'sha', snmp_priv_key: 'privpass1' });

    // Same file again: refused without upsert, updates with it.
    const again = await noc('POST', '/api/inventory/devices/import', good, 'text/csv');
    expect(again.status).toBe(422);
    expect(again.body.errors[0].message).toMatch(/upsert/);
    const upsert = await noc('POST', '/api/inventory/devices/import?upsert=true', good.replace('cpe-1,', 'cpe-1-renamed,'), 'text/csv');
    expect(upsert.body).toMatchObject({ created: 0, updated: 3 });
    expect((await noc('GET', '/api/inventory/devices?q=renamed')).body.total).toBe(1);

    // A reseller importing another reseller's address, or naming another reseller, is refused.
    const foreign = await call(
      resB.token,
      'POST',
      '/api/inventory/devices/import',
      'kind,address,community,reseller\ncpe,10.40.0.3,x,\ncpe,10.40.0.9,x,res-a',
      'text/csv',
    );
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors.map((e: { line: number; message: string }) => e.line)).toEqual([2, 3]);
  });

  it('provides InventoryReader with full credentials to other plugins', async () => {
    const reader = server.get(inventoryReader);
    const site = (await reader.listSites()).find((s) => s.name === 'Calavi');
    expect(site).toMatchObject({ capacityDownKbps: 300_000, capacityUpKbps: null, resellerId: null });
    expect(await reader.getSite(site?.id as string)).toEqual(site);
    expect(await reader.getSite('not-a-uuid')).toBeNull();
    const atSite = await reader.listDevices({ siteId: site?.id as string, enabled: true });
    expect(atSite.map((d) => d.address)).toEqual(['10.40.0.1']);
    expect(atSite[0]?.snmp).toEqual({ version: '2c', community: 'public' });
    const v3 = (await reader.listDevices({ kinds: ['cpe'], enabled: false })).find((d) => d.address === '10.40.0.2');
    expect(v3?.snmp).toEqual({
      version: '3',
      user: 'op',
      level: 'authPriv',
      authProtocol: 'sha',
      authKey: 'authpass1',
      privProtocol: 'aes',
      privKey: 'privpass1',
    });
    expect((await reader.listDevices({ resellerId: resA.id })).every((d) => d.resellerId === resA.id)).toBe(true);
    expect(await reader.getDevice(v3?.id as string)).toEqual(v3);
  });

  it('has a CLI: add-site, add, list, import', async () => {
    const cmd = server.kernel.commands.get('inventory');
    expect(cmd).toBeDefined();
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await cmd?.run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
      return { code, out, err };
    };
    const site = await run('add-site', '--name', 'Porto-Novo', '--reseller', 'res-b', '--capacity-down', '50000');
    expect(site.code).toBe(0);
    const added = await run('add', '--kind', 'cpe', '--address', '10.50.0.1', '--site', 'porto-novo', '--community', 'pn', '--name', 'pn-cpe-1');
    expect(added.code, added.err.join('\n')).toBe(0);
    const row = await db.selectFrom('inventory_devices').selectAll().where('address', '=', '10.50.0.1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ reseller_id: resB.id, site_id: site.out[0], snmp_community: 'pn' });
    const dir = mkdtempSync(join(tmpdir(), 'rgz-inv-'));
    writeFileSync(
      join(dir, 'devices.csv'),
      'kind,address,site,v3_user,v3_auth_protocol,v3_auth_key,v3_priv_protocol,v3_priv_key\ncpe,10.50.0.2,Porto-Novo,u,sha,authpass1,aes,privpass1\n',
    );
    const imported = await run('import', join(dir, 'devices.csv'));
    expect(imported.code, imported.err.join('\n')).toBe(0);
    expect(imported.out).toEqual(['created 1, updated 0']);
    writeFileSync(join(dir, 'bad.csv'), 'kind,address,community\nrouter,10.50.0.3,x\n');
    const bad = await run('import', join(dir, 'bad.csv'));
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toMatch(/bad\.csv:2: kind:/);
    const listed = await run('list', '--site', 'Porto-Novo');
    expect(listed.out.at(-1)).toBe('2 device(s)');
    const json = await run('list', '--json', '--kind', 'cpe');
    expect(json.out[0]).not.toContain('authpass1');
    expect((await run('add', '--kind', 'cpe')).code).toBe(2);
  });
});
