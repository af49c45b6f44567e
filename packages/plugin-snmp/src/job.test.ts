/**
 * The whole flow through the real composition (startTestServer): inventory + snmp + the airMAX and ePMP profiles,
 * devices registered over the API, polled by the scheduled job against real agents on loopback (snmpsim serving
 * LibreNMS's recorded airMAX and ePMP walks and the synthetic wrap/reboot walks, snmpd over SNMPv3, a silent port, a
 * garbage port); rows in the partitioned tables, metrics on /metrics, the read API, partition maintenance.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kysely } from '@rgz/core';
import { sql } from '@rgz/core';
import { BACKENDS, librenms, startTestServer, type TestServer } from '@rgz/core/testing';
import epmp from '@rgz/cpe-cambium-epmp';
import airmax from '@rgz/cpe-ubiquiti-airmax';
import inventory from '@rgz/plugin-inventory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import snmpPlugin from './index.js';
import type { SnmpDatabase } from './schema.js';
import { ensurePartitions, partitionName } from './storage.js';
import { type Agent, HAS_SNMPD, HAS_SNMPSIM, NO_SNMPSIM, startGarbagePort, startSilentPort, startSnmpd, startSnmpsim } from './test-support/agents.js';

const { CONFORMANCE_AVAILABLE, snmprecPath } = librenms;

const fixturePath = (name: string) => fileURLToPath(new URL(`./test-support/fixtures/${name}`, import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

it('plugin version equals package.json', () => {
  expect(snmpPlugin.version).toBe(pkg.version);
  expect(snmpPlugin.requires).toEqual(['inventory']);
});

describe.skipIf(!HAS_SNMPSIM).each(BACKENDS)(`snmp poll job on %s${HAS_SNMPSIM ? '' : ` (${NO_SNMPSIM})`}`, (backend) => {
  let server: TestServer;
  let db: Kysely<SnmpDatabase>;
  let sim: Agent & { ports: number[] };
  let snmpd: Agent | undefined;
  let silent: Agent;
  let garbage: Agent;
  const ids: Record<string, string> = {};
  let resA: { id: string; token: string };
  let resB: { id: string; token: string };
  const v3 = { user: 'rgzgw', authKey: 'gwauthpass1', privKey: 'gwprivpass1' };

  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await server.request(path, {
      method,
      headers: { ...server.auth(token ?? server.nocToken), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };
  const poll = async () => {
    const out = await server.kernel.scheduler.trigger('snmp.poll');
    expect(out.status, out.error).toBe('succeeded');
    return out.result as { devices: number; results: Record<string, number>; withRates: number };
  };
  const sampleRows = (deviceId: string) => db.selectFrom('snmp_samples').selectAll().where('device_id', '=', deviceId).orderBy('polled_at').execute();

  beforeAll(async () => {
    sim = await startSnmpsim(
      [
        fixturePath('wrap-a.snmprec'),
        fixturePath('wrap-b.snmprec'),
        fixturePath('reboot.snmprec'),
        ...(CONFORMANCE_AVAILABLE ? [snmprecPath('airos_airos8'), snmprecPath('epmp')] : []),
      ],
      { ports: 4 },
    );
    if (HAS_SNMPD) snmpd = await startSnmpd({ community: 'gw', v3 });
    silent = await startSilentPort();
    garbage = await startGarbagePort();
    server = await startTestServer({
      backend,
      plugins: [
        inventory,
        {
          plugin: snmpPlugin,
          config: { timeoutMs: 300, retries: 1, deviceTimeoutSeconds: 5, concurrency: 4, retentionDays: 30, partitionsAhead: 2, storeInterfaces: 'all' },
        },
        airmax,
        epmp,
      ],
    });
    db = server.kernel.db as unknown as Kysely<SnmpDatabase>;
    const reseller = async (slug: string) => {
      const r = await api('POST', '/api/core/resellers', { name: slug, slug });
      const t = await server.kernel.tokens.issue({ role: 'reseller', name: slug, resellerId: r.body.id });
      return { id: r.body.id as string, token: t.token };
    };
    resA = await reseller('res-a');
    resB = await reseller('res-b');
    const akpakpa = await api('POST', '/api/inventory/sites', { name: 'Akpakpa', reseller_id: resA.id, capacity_down_kbps: 100_000 });
    const calavi = await api('POST', '/api/inventory/sites', { name: 'Calavi' });
    const device = async (key: string, body: Record<string, unknown>) => {
      const r = await api('POST', '/api/inventory/devices', { name: key, ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      ids[key] = r.body.id;
    };
    await device('wrap', { kind: 'cpe', address: '127.0.0.1', port: sim.port, site_id: akpakpa.body.id, snmp: { version: '2c', community: 'wrap-a' } });
    if (CONFORMANCE_AVAILABLE) {
      await device('litebeam', {
        kind: 'cpe',
        address: '127.0.0.1',
        port: sim.ports[1],
        site_id: akpakpa.body.id,
        snmp: { version: '2c', community: 'airos_airos8' },
      });
      await device('epmp', {
        kind: 'access_point',
        address: '127.0.0.1',
        port: sim.ports[2],
        site_id: calavi.body.id,
        snmp: { version: '2c', community: 'epmp' },
      });
    }
    if (snmpd) {
      await device('gateway', {
        kind: 'gateway',
        address: '127.0.0.1',
        port: snmpd.port,
        site_id: calavi.body.id,
        profile: 'if-mib',
        snmp: { version: '3', user: v3.user, level: 'authPriv', auth_protocol: 'sha', auth_key: v3.authKey, priv_protocol: 'aes', priv_key: v3.privKey },
      });
    }
    await device('dead', { kind: 'cpe', address: '127.0.0.1', port: silent.port, site_id: akpakpa.body.id, snmp: { version: '2c', community: 'x' } });
    await device('garbage', { kind: 'cpe', address: '127.0.0.1', port: garbage.port, site_id: calavi.body.id, snmp: { version: '2c', community: 'x' } });
    await device('off', { kind: 'cpe', address: '127.0.0.1', port: sim.ports[3], enabled: false, snmp: { version: '2c', community: 'wrap-a' } });
  });

  afterAll(async () => {
    await server?.close();
    await Promise.all([sim?.stop(), snmpd?.stop(), silent?.stop(), garbage?.stop()]);
  });

  it('creates the daily partitions ahead at start-up', async () => {
    const mode = await db.selectFrom('snmp_storage').select('value').where('key', '=', 'mode').executeTakeFirst();
    expect(mode?.value).toBe('partitioned');
    const parts = await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent where p.relname = 'snmp_samples' order by 1`.execute(db);
    const today = new Date();
    expect(parts.rows.map((r) => r.name)).toEqual([0, 1, 2].map((d) => partitionName('snmp_samples', new Date(today.getTime() + d * 86_400_000))));
  });

  it('polls every enabled device once: profiles detected, failures classified, rows written', async () => {
    const summary = await poll();
    const okCount = 1 + (CONFORMANCE_AVAILABLE ? 2 : 0) + (snmpd ? 1 : 0);
    expect(summary.devices).toBe(okCount + 2);
    expect(summary.results).toMatchObject({ ok: okCount, timeout: 1, malformed: 1, auth: 0, error: 0, no_profile: 0 });

    const [wrap] = await sampleRows(ids.wrap as string);
    expect(wrap).toMatchObject({ result: 'ok', profile: 'if-mib', kind: 'cpe', reseller_id: resA.id, if_index: 3, rx_bps: null, uptime_seconds: 1000 });
    const [dead] = await sampleRows(ids.dead as string);
    expect(dead).toMatchObject({ result: 'timeout', profile: null, reseller_id: resA.id });
    expect(dead?.duration_ms).toBeLessThan(5000);
    const [bad] = await sampleRows(ids.garbage as string);
    expect(bad).toMatchObject({ result: 'malformed' });
    expect(await sampleRows(ids.off as string)).toEqual([]);

    if (CONFORMANCE_AVAILABLE) {
      const [lb] = await sampleRows(ids.litebeam as string);
      expect(lb).toMatchObject({
        result: 'ok',
        profile: 'ubnt-airmax',
        signal_dbm: -70,
        noise_dbm: -91,
        snr_db: 21,
        ccq_percent: 33,
        airtime_percent: expect.closeTo(69.9, 3),
        tx_rate_bps: 39_000_000,
      });
      // airOS 8 without ifXTable: 32-bit counters, primary interface ath0 (ifIndex 7).
      expect(lb?.if_index).toBe(7);
      const lbIfs = await db
        .selectFrom('snmp_interface_samples')
        .selectAll()
        .where('device_id', '=', ids.litebeam as string)
        .execute();
      expect(lbIfs.length).toBeGreaterThan(0);
      expect(lbIfs.every((i) => i.counter_bits === 32)).toBe(true);
      expect(lbIfs.find((i) => i.if_index === 7)).toMatchObject({ name: 'ath0', in_octets: '2365946539', out_octets: '707218017' });
      const [ap] = await sampleRows(ids.epmp as string);
      expect(ap).toMatchObject({ result: 'ok', profile: 'cambium-epmp', kind: 'access_point', snr_db: 34, station_count: 1, cpu_percent: 42 });
      const apIfs = await db
        .selectFrom('snmp_interface_samples')
        .selectAll()
        .where('device_id', '=', ids.epmp as string)
        .orderBy('if_index')
        .execute();
      expect(apIfs.map((i) => [i.if_index, i.counter_bits, i.in_octets])).toEqual([
        [1, 64, '3377931056550'],
        [2, 64, '271761841907'],
      ]);
    }
    if (snmpd) {
      const [gw] = await sampleRows(ids.gateway as string);
      expect(gw).toMatchObject({ result: 'ok', profile: 'if-mib', kind: 'gateway' });
    }
    const state = await db
      .selectFrom('snmp_device_state')
      .selectAll()
      .where('device_id', '=', ids.wrap as string)
      .executeTakeFirstOrThrow();
    expect(state).toMatchObject({ detected_profile: 'if-mib', consecutive_failures: 0 });
  });

  it('computes throughput across a 32-bit counter wrap, then detects the reboot', async () => {
    expect((await api('PATCH', `/api/inventory/devices/${ids.wrap}`, { snmp: { version: '2c', community: 'wrap-b' } })).status).toBe(200);
    const second = await poll();
    expect(second.withRates).toBeGreaterThanOrEqual(1);
    let rows = await sampleRows(ids.wrap as string);
    expect(rows).toHaveLength(2);
    const elapsed = (new Date(rows[1]?.polled_at as Date).getTime() - new Date(rows[0]?.polled_at as Date).getTime()) / 1000;
    // wlan0 in: 4 294 000 000 → 1 033 000 is a wrap of +2 000 296 octets; out: +4 000 000.
    expect(rows[1]?.rx_bps).toBeCloseTo((2_000_296 * 8) / elapsed, 3);
    expect(rows[1]?.tx_bps).toBeCloseTo((4_000_000 * 8) / elapsed, 3);
    expect(rows[1]?.counter_reset).toBe(false);
    const ifRows = await db
      .selectFrom('snmp_interface_samples')
      .selectAll()
      .where('device_id', '=', ids.wrap as string)
      .where('if_index', '=', 3)
      .orderBy('polled_at')
      .execute();
    expect(ifRows.map((r) => [r.counter_bits, r.in_octets])).toEqual([
      [32, '4294000000'],
      [32, '1033000'],
    ]);
    expect(ifRows[1]?.in_bps).toBeCloseTo((2_000_296 * 8) / elapsed, 3);
    if (CONFORMANCE_AVAILABLE) {
      // A recorded walk does not change: the same counters twice is 0 bit/s, not "unknown".
      const lb = await sampleRows(ids.litebeam as string);
      expect(lb[1]).toMatchObject({ rx_bps: 0, tx_bps: 0 });
    }

    await api('PATCH', `/api/inventory/devices/${ids.wrap}`, { snmp: { version: '2c', community: 'reboot' } });
    await poll();
    rows = await sampleRows(ids.wrap as string);
    expect(rows[2]).toMatchObject({ counter_reset: true, rx_bps: null, tx_bps: null, uptime_seconds: 5 });
  });

  it('publishes per-site aggregates and poll counters on /metrics', async () => {
    const res = await server.request('/metrics');
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('cpe_up{site="Akpakpa",reseller="res-a",kind="cpe"}')).toBe(CONFORMANCE_AVAILABLE ? 2 : 1);
    expect(value('cpe_devices{site="Akpakpa",reseller="res-a",kind="cpe"}')).toBe(CONFORMANCE_AVAILABLE ? 3 : 2);
    expect(value('cpe_up{site="Calavi",reseller="none",kind="cpe"}')).toBe(0);
    expect(value('snmp_polls_total{result="timeout"}')).toBe(3);
    expect(value('snmp_polls_total{result="malformed"}')).toBe(3);
    expect(value('snmp_poll_duration_seconds')).toBeGreaterThan(0);
    if (CONFORMANCE_AVAILABLE) {
      expect(value('cpe_signal_dbm{site="Akpakpa",reseller="res-a",kind="cpe",stat="min"}')).toBe(-70);
      expect(value('cpe_noise_dbm{site="Akpakpa",reseller="res-a",kind="cpe",stat="avg"}')).toBe(-91);
      expect(value('cpe_snr_db{site="Calavi",reseller="none",kind="access_point",stat="max"}')).toBe(34);
      expect(value('cpe_ccq_percent{site="Akpakpa",reseller="res-a",kind="cpe",stat="avg"}')).toBe(33);
    }
    // Per site, never per CPE: no device id or address in any label.
    expect(text).not.toMatch(/cpe_[a-z_]+\{[^}]*(device|address|127\.0\.0)/);
  });

  it('serves the latest sample and the history, scoped by reseller', async () => {
    const latest = await api('GET', `/api/snmp/devices/${ids.wrap}/latest`);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ result: 'ok', profile: 'if-mib', detected_profile: 'if-mib', consecutive_failures: 0 });
    expect(latest.body.sample.interfaces.find((i: { ifIndex: number }) => i.ifIndex === 3)).toMatchObject({ counterBits: 32, inOctets: '300' });
    expect((await api('GET', `/api/snmp/devices/${ids.wrap}/latest`, undefined, resA.token)).status).toBe(200);
    expect((await api('GET', `/api/snmp/devices/${ids.wrap}/latest`, undefined, resB.token)).status).toBe(404);
    const history = await api('GET', `/api/snmp/devices/${ids.wrap}/samples`);
    expect(history.body.samples.map((s: { counter_reset: boolean }) => s.counter_reset)).toEqual([false, false, true]);
    expect((await api('GET', `/api/snmp/devices/${ids.wrap}/samples`, undefined, resB.token)).body.samples).toEqual([]);
    const ifs = await api('GET', `/api/snmp/devices/${ids.wrap}/interfaces?if_index=3`);
    expect(ifs.body.interfaces.map((i: { in_octets: string }) => i.in_octets)).toEqual(['4294000000', '1033000', '300']);
    const now = await api('POST', `/api/snmp/devices/${ids.dead}/poll`, undefined, resA.token);
    expect(now.status).toBe(200);
    expect(now.body).toMatchObject({ result: 'timeout', consecutive_failures: 4 });
    expect((await api('POST', `/api/snmp/devices/${ids.dead}/poll`, undefined, resB.token)).status).toBe(404);
  });

  it('drops partitions older than the retention', async () => {
    const old = new Date(Date.now() - 40 * 86_400_000);
    await ensurePartitions(db, old, 1);
    await db
      .insertInto('snmp_samples')
      .values({
        device_id: ids.wrap as string,
        polled_at: old,
        site_id: null,
        reseller_id: null,
        kind: 'cpe',
        profile: null,
        result: 'timeout',
        error: null,
        duration_ms: 1,
        uptime_seconds: null,
        signal_dbm: null,
        noise_dbm: null,
        snr_db: null,
        ccq_percent: null,
        capacity_percent: null,
        airtime_percent: null,
        tx_rate_bps: null,
        rx_rate_bps: null,
        station_count: null,
        if_index: null,
        rx_bps: null,
        tx_bps: null,
        cpu_percent: null,
        temperature_c: null,
      })
      .execute();
    const out = await server.kernel.scheduler.trigger('snmp.maintain');
    expect(out.status).toBe('succeeded');
    expect((out.result as { dropped: string[] }).dropped).toEqual([partitionName('snmp_interface_samples', old), partitionName('snmp_samples', old)]);
    expect((await sampleRows(ids.wrap as string)).length).toBe(3);
  });
});
