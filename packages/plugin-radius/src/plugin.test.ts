/**
 * The radius plugin as a whole: package metadata, config defaults and errors, what it provides and contributes, the
 * start-up checks, and the one-line-per-authentication log in the seed's shape.
 */

import { readFileSync } from 'node:fs';
import {
  activateSubscription,
  type CoreDatabase,
  createKernel,
  createMemoryKv,
  type Kysely,
  kvKeys,
  NasClients,
  nasDirectory,
  parseServerConfig,
} from '@rgz/core';
import { createTestDatabase, startTestServer } from '@rgz/core/testing';
import mikrotik from '@rgz/nas-mikrotik';
import { describe, expect, it } from 'vitest';
import { PacketCode } from './codec/index.js';
import radius, { configSchema, radiusServer } from './index.js';
import { DEFAULT_NAS, HOST, packet, SECRET, udpClient } from './test-support/world.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(radius.version).toBe(pkg.version);
  expect(radius.name).toBe('radius');
  expect(pkg.name).toBe('@rgz/plugin-radius');
});

it('has the documented defaults', () => {
  const c = configSchema.parse({});
  expect(c).toMatchObject({
    listen: true,
    auth: { host: '0.0.0.0', port: 1812 },
    acct: { host: '0.0.0.0', port: 1813 },
    nas: [],
    interimIntervalSeconds: 300,
    simultaneousUse: { default: 2, resellers: {} },
    duplicateCacheSeconds: 30,
    capSessionAtQuotaWindow: true,
    accounting: { batchWindowMs: 2, maxBatch: 500 },
    coa: {
      client: 'rgz-udp',
      attempts: 3,
      disconnectAttempts: 3,
      backoffSeconds: 5,
      retransmit: { initialTimeoutMs: 2000, maxAttempts: 5, maxTimeoutMs: 16_000, maxDurationMs: 30_000 },
    },
  });
  const nas = configSchema.parse({ nas: [{ identifier: 'a', address: '10.0.0.1', secret: 's', vendor: 'mikrotik' }] }).nas[0];
  expect(nas).toMatchObject({ requireMessageAuthenticator: true, coaPort: 3799, enabled: true, resellerId: null });
});

it('refuses duplicate NAS and bad addresses in config, naming the key', async () => {
  const twice = { nas: [DEFAULT_NAS, { ...DEFAULT_NAS, identifier: 'other' }] };
  await expect(startTestServer({ plugins: [mikrotik, { plugin: radius, config: twice }] })).rejects.toThrow(
    /plugins\.radius\.config\.nas\.1: same address as nas\[0\]/,
  );
  await expect(startTestServer({ plugins: [mikrotik, { plugin: radius, config: { nas: [{ ...DEFAULT_NAS, address: 'hotspot.local' }] } }] })).rejects.toThrow(
    /nas\.0\.address/,
  );
  await expect(startTestServer({ plugins: [mikrotik, { plugin: radius, config: { interimIntervalSeconds: 30 } }] })).rejects.toThrow(/interimIntervalSeconds/);
});

it('fails to start when a config NAS names a dialect no plugin provides', async () => {
  await expect(startTestServer({ plugins: [{ plugin: radius, config: { listen: false, nas: [DEFAULT_NAS] } }] })).rejects.toThrow(
    /no NAS dialect "mikrotik" is loaded/,
  );
});

it('provides nasDirectory and radius.server, contributes the rgz-udp NasClient, owns its migrations', async () => {
  const server = await startTestServer({ plugins: [mikrotik, { plugin: radius, config: { listen: false, nas: [DEFAULT_NAS] } }] });
  try {
    expect(server.get(radiusServer).auth).toBeUndefined();
    expect(await server.get(nasDirectory).findByIdentifier('hotspot-test')).toMatchObject({ address: HOST, vendor: 'mikrotik' });
    expect([...server.collect(NasClients).keys()]).toEqual(['rgz-udp']);
    const info = server.kernel.plugins.find((p) => p.name === 'radius');
    expect(info?.migrations).toEqual(['radius_0001_nas_and_sessions']);
    expect(info?.provides).toEqual(['core.nas-directory', 'radius.server']);
    expect(info?.jobs).toEqual(['radius.close-stale-sessions']);
    expect(info?.routes).toEqual(expect.arrayContaining(['GET /api/radius/nas', 'POST /api/radius/nas', 'PATCH /api/radius/nas/:id']));
    const outcome = await server.kernel.scheduler.trigger('radius.close-stale-sessions');
    expect(outcome).toMatchObject({ ran: true, status: 'succeeded', result: { closed: 0 } });
  } finally {
    await server.close();
  }
});

describe('auth log', () => {
  it('writes one JSON line per authentication in the seed shape: [Auth] [Success|Failure] User=…, NAS-ID=…', async () => {
    const lines: Record<string, unknown>[] = [];
    const tdb = await createTestDatabase('embedded');
    const kv = createMemoryKv();
    const kernel = await createKernel({
      config: parseServerConfig({ log: { level: 'info' } }, {}),
      plugins: [{ plugin: mikrotik }, { plugin: radius, config: { auth: { host: HOST, port: 0 }, acct: { host: HOST, port: 0 }, nas: [DEFAULT_NAS] } }],
      database: tdb.database,
      kv,
      logDestination: { write: (msg: string) => void lines.push(JSON.parse(msg) as Record<string, unknown>) },
    });
    await kernel.start({ worker: false, scheduler: false });
    const client = await udpClient();
    try {
      const db = kernel.db as Kysely<CoreDatabase>;
      const sub = await db
        .insertInto('subscribers')
        .values({ subscriber_ref: 'RGZ-LOG1', msisdn: '+2290197001001', reseller_id: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      const plan = await db.selectFrom('plans').select('id').where('code', '=', 'DAY100MB').executeTakeFirstOrThrow();
      await activateSubscription(db, { subscriberId: sub.id, planId: plan.id, source: 'grant', sourceRef: 'log-test' });
      await kv.set(kvKeys.session(sub.id), JSON.stringify({ token: 'tok-123', mac: 'aa:bb:cc:dd:ee:ff', issued_at: new Date().toISOString() }), 3600);
      const port = kernel.get(radiusServer).auth?.port as number;
      const ask = (password: string) =>
        client.request(
          port,
          packet(
            {
              code: 'Access-Request',
              identifier: password.length,
              attributes: [
                { name: 'User-Name', value: 'RGZ-LOG1' },
                { name: 'User-Password', value: password },
                { name: 'NAS-Identifier', value: 'access_tech_connect' },
                { name: 'Calling-Station-Id', value: 'AA-BB-CC-DD-EE-FF' },
              ],
            },
            SECRET,
          ),
        );
      expect((await ask('tok-123'))?.[0]).toBe(PacketCode.AccessAccept);
      expect((await ask('wrong-password'))?.[0]).toBe(PacketCode.AccessReject);
    } finally {
      await client.close();
      await kernel.stop();
      await kv.close();
      await tdb.drop();
    }
    const auth = lines.filter((l) => l.event === 'radius_auth');
    expect(auth).toHaveLength(2);
    expect(auth[0]).toMatchObject({
      level: 'INFO',
      service: 'rgz-api',
      plugin: 'radius',
      message: '[Auth] [Success] User=RGZ-LOG1, NAS-ID=access_tech_connect',
      result: 'success',
      user: 'RGZ-LOG1',
      nas_id: 'access_tech_connect',
      method: 'pap',
      mode: 'subscriber',
      calling_station_id: 'AA-BB-CC-DD-EE-FF',
    });
    expect(typeof auth[0]?.timestamp).toBe('string');
    expect(auth[1]).toMatchObject({
      message: '[Auth] [Failure] User=RGZ-LOG1, NAS-ID=access_tech_connect, reason=bad_password',
      result: 'failure',
      reason: 'bad_password',
    });
    expect(JSON.stringify(auth)).not.toMatch(/tok-123|wrong-password/);
  });
});
