/**
 * `GET /api/snmp/latest` on both backends: every device's latest state with the radio figures of its last good poll,
 * filtered by site, kind and failure; a reseller sees its own devices only. Rows are written as the poller writes
 * them (state + sample), so the test does not depend on an SNMP agent.
 */
import type { Kysely } from '@rgz/core';
import { BACKENDS, startTestServer, type TestServer } from '@rgz/core/testing';
import inventory from '@rgz/plugin-inventory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import snmpPlugin from './index.js';
import type { SnmpDatabase } from './schema.js';

describe.each(BACKENDS)('latest radio figures of many devices (%s)', (backend) => {
  let server: TestServer;
  let db: Kysely<SnmpDatabase>;
  let tokenA: string;
  const ids = {
    siteA: '11111111-1111-4111-8111-111111111111',
    siteB: '22222222-2222-4222-8222-222222222222',
    cpeA: 'aaaaaaaa-0000-4000-8000-000000000001',
    apA: 'aaaaaaaa-0000-4000-8000-000000000002',
    cpeB: 'bbbbbbbb-0000-4000-8000-000000000001',
  };
  const get = async (path: string, token = server.nocToken) => {
    const res = await server.request(path, { headers: server.auth(token) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
  };

  beforeAll(async () => {
    server = await startTestServer({ backend, plugins: [inventory, { plugin: snmpPlugin, config: { partitionsAhead: 2 } }] });
    db = server.kernel.db as unknown as Kysely<SnmpDatabase>;
    const reseller = async (slug: string) =>
      (await db.insertInto('resellers').values({ name: slug, slug, phone: null, email: null }).returning('id').executeTakeFirstOrThrow()).id;
    const resA = await reseller(`snmp-latest-a-${backend}`);
    const resB = await reseller(`snmp-latest-b-${backend}`);
    tokenA = (await server.kernel.tokens.issue({ role: 'reseller', name: 'a', resellerId: resA })).token;
    const okAt = new Date(Date.now() - 120_000);
    const failedAt = new Date(Date.now() - 60_000);
    const device = async (id: string, resellerId: string, siteId: string, kind: string, signal: number | null, failing: boolean) => {
      if (signal !== null) {
        await db
          .insertInto('snmp_samples')
          .values({
            device_id: id,
            polled_at: okAt,
            site_id: siteId,
            reseller_id: resellerId,
            kind,
            profile: 'airmax',
            result: 'ok',
            error: null,
            duration_ms: 40,
            uptime_seconds: 3600,
            signal_dbm: signal,
            noise_dbm: -95,
            snr_db: signal + 95,
            ccq_percent: 97,
            capacity_percent: 80,
            airtime_percent: 12,
            tx_rate_bps: 150e6,
            rx_rate_bps: 130e6,
            station_count: kind === 'access_point' ? 7 : null,
            if_index: 2,
            rx_bps: 1e6,
            tx_bps: 2e5,
            cpu_percent: 9,
            temperature_c: 41,
            counter_reset: false,
          } as never)
          .execute();
      }
      await db
        .insertInto('snmp_device_state')
        .values({
          device_id: id,
          reseller_id: resellerId,
          site_id: siteId,
          kind,
          profile: 'airmax',
          detected_profile: null,
          detected_at: null,
          result: failing ? 'timeout' : 'ok',
          error: failing ? 'no answer in 300 ms' : null,
          polled_at: failing ? failedAt : okAt,
          last_ok_at: signal === null ? null : okAt,
          consecutive_failures: failing ? 2 : 0,
          uptime_seconds: 3600,
          rx_bps: 1e6,
          tx_bps: 2e5,
          counters: '{}',
          sample: null,
        } as never)
        .execute();
    };
    await device(ids.cpeA, resA, ids.siteA, 'cpe', -61, false);
    await device(ids.apA, resA, ids.siteA, 'access_point', -55, true);
    await device(ids.cpeB, resB, ids.siteB, 'cpe', null, true);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('returns every device with the figures of its last good poll', async () => {
    const all = await get('/api/snmp/latest');
    expect(all.status).toBe(200);
    expect(all.body.items.map((d: { device_id: string }) => d.device_id).sort()).toEqual([ids.apA, ids.cpeA, ids.cpeB].sort());
    const cpe = all.body.items.find((d: { device_id: string }) => d.device_id === ids.cpeA);
    expect(cpe).toMatchObject({
      site_id: ids.siteA,
      kind: 'cpe',
      result: 'ok',
      consecutive_failures: 0,
      figures: { signal_dbm: -61, snr_db: 34, ccq_percent: 97 },
    });
    // A failing AP still shows what it said when it last answered; a device that never answered has no figures.
    const ap = all.body.items.find((d: { device_id: string }) => d.device_id === ids.apA);
    expect(ap).toMatchObject({ result: 'timeout', consecutive_failures: 2, figures: { signal_dbm: -55, station_count: 7 } });
    expect(all.body.items.find((d: { device_id: string }) => d.device_id === ids.cpeB)).toMatchObject({ figures: null, last_ok_at: null });
  });

  it('filters by site, kind and failure', async () => {
    const ids_ = async (query: string) => (await get(`/api/snmp/latest?${query}`)).body.items.map((d: { device_id: string }) => d.device_id).sort();
    expect(await ids_(`site_id=${ids.siteA}`)).toEqual([ids.cpeA, ids.apA].sort());
    expect(await ids_('kind=access_point')).toEqual([ids.apA]);
    expect(await ids_('failing=true')).toEqual([ids.apA, ids.cpeB].sort());
    expect(await ids_('failing=false')).toEqual([ids.cpeA]);
  });

  it('a reseller sees its own devices only', async () => {
    const a = await get('/api/snmp/latest', tokenA);
    expect(a.body.items.map((d: { device_id: string }) => d.device_id).sort()).toEqual([ids.apA, ids.cpeA].sort());
    expect((await get(`/api/snmp/latest?site_id=${ids.siteB}`, tokenA)).body.items).toEqual([]);
  });

  it('refuses bad filters as problem+json', async () => {
    for (const query of ['site_id=nope', 'kind=router', 'failing=maybe', 'limit=0']) {
      const res = await get(`/api/snmp/latest?${query}`);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('validation_failed');
    }
    expect((await server.request('/api/snmp/latest')).status).toBe(401);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await (await server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/snmp/latest']?.get).toBeDefined();
  });
});
