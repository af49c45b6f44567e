/**
 * DBA end to end through startTestServer, on both backends: the real inventory (sites with capacity, CPEs), the real
 * RADIUS plugin (open sessions in radius_sessions, its CoA client and its nas.policy-change handler) with the MikroTik
 * and CoovaChilli dialects, and two fake NAS on loopback addresses that verify each CoA's authenticator with the RADIUS
 * codec.
 *
 * Site A (reseller A, 3000/1500 kbit/s, NAS mt-1 = MikroTik, mapped by `nasSites`): three hotspot subscribers on
 * unlimited plans, each downloading 5 Mbit/s → fair share 1000/500 each, pushed (from the site capacity, 3000/1500).
 * Site B (reseller B, 4000/2000 kbit/s, NAS chilli-1 = CoovaChilli, subscribers found through their CPEs): one
 * unlimited and one DAY100MB (2048/1024) subscriber, both at 5 Mbit/s → level 2000/1000: the unlimited one is pushed,
 * the capped one would move 48/24 kbit/s below its plan — held by the hysteresis (10 %, 128 kbit/s).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { activateSubscription, type CoreDatabase, type Kysely, kvKeys, nasPolicyChange, rateOverrideKey, readRateOverride } from '@rgz/core';
import { BACKENDS, startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import coovachilli, { chilliDictionary } from '@rgz/nas-coovachilli';
import mikrotik, { mikrotikDictionary } from '@rgz/nas-mikrotik';
import inventory from '@rgz/plugin-inventory';
import radius from '@rgz/plugin-radius';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dba from './index.js';
import type { DbaDatabase } from './schema.js';
import { type FakeNas, startFakeNas } from './test-support/fake-nas.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(dba.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${dba.name}`);
});

const SECRET_MT = 'dba-e2e-mikrotik-secret-0123';
const SECRET_CHILLI = 'dba-e2e-chilli-secret-01234';
/** Bytes for 5000 kbit/s over 300 s. */
const FIVE_MBIT_300S = (5000 * 1000 * 300) / 8;

interface RunDetail {
  run: { id: number; pushes: number; suppressed: number; subscribers: number; sites: number };
  sites: Array<{ site_id: string; congested: { down: boolean; up: boolean }; level: { down: number | null; up: number | null } }>;
  allocations: Array<{
    subscriber_id: string;
    site_id: string;
    decision: string;
    mir: { down: number | null; up: number | null };
    share: { down: number | null; up: number | null };
    previous: { down: number | null; up: number | null };
    task_id: string | null;
    push_status: string | null;
    push_detail: Record<string, unknown> | null;
    explanation: string;
  }>;
  total_allocations: number;
}

describe.each(BACKENDS)('DBA end to end (%s)', (backend) => {
  let server: TestServer;
  let mt: FakeNas;
  let chilli: FakeNas;
  let db: Kysely<DbaDatabase>;
  let siteA: string;
  let siteB: string;
  let resA: { id: string; token: string };
  let resB: { id: string; token: string };
  const a: Array<{ id: string; ref: string; acct: string }> = [];
  const b: Array<{ id: string; ref: string; acct: string }> = [];
  let serial = 0;
  const siteAName = `Akpakpa-${backend}`;
  const core = () => db as unknown as Kysely<CoreDatabase>;

  const call = (token: string, path: string, init: RequestInit = {}) =>
    server.request(path, { ...init, headers: { ...server.auth(token), 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const noc = (path: string, init: RequestInit = {}) => call(server.nocToken, path, init);
  const detail = async (token: string, id: number, query = '') => {
    const res = await call(token, `/api/dba/runs/${id}${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as RunDetail;
  };
  const runNow = async (dryRun = false) => {
    const res = await noc(`/api/dba/runs${dryRun ? '?dry_run=1' : ''}`, { method: 'POST' });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: number; pushes: number; suppressed: number; subscribers: number; sites: number; dry_run: boolean };
  };
  const policyTasks = () =>
    core().selectFrom('core_tasks').select(['id', 'status', 'payload', 'max_attempts']).where('name', '=', nasPolicyChange.name).execute();
  const settle = async () => {
    await waitFor(async () => (await policyTasks()).every((t) => t.status === 'done' || t.status === 'dead'), 20_000, { message: 'policy tasks finished' });
  };

  async function reseller(slug: string) {
    const r = await core()
      .insertInto('resellers')
      .values({ name: slug, slug: `${slug}-${backend}-${randomBytes(3).toString('hex')}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: r.id, token: (await server.kernel.tokens.issue({ role: 'reseller', name: slug, resellerId: r.id })).token };
  }

  async function subscriber(resellerId: string, plan: string, nasIdentifier: string) {
    serial++;
    const ref = `RGZ-D${serial}${randomBytes(3).toString('hex').toUpperCase()}`;
    const row = await core()
      .insertInto('subscribers')
      .values({
        subscriber_ref: ref,
        msisdn: `+22901${String(process.pid % 10_000).padStart(4, '0')}${backend === 'real' ? 1 : 0}${String(serial).padStart(3, '0')}`,
        reseller_id: resellerId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const p = await core().selectFrom('plans').select('id').where('code', '=', plan).where('reseller_id', 'is', null).executeTakeFirstOrThrow();
    await activateSubscription(core(), { subscriberId: row.id, planId: p.id, source: 'grant', sourceRef: `dba-${ref}`, at: new Date(Date.now() - 3600_000) });
    const acct = `dba-${backend}-${serial}`;
    const mac = `02:00:00:00:00:${serial.toString(16).padStart(2, '0')}`;
    await (server.kernel.db as unknown as Kysely<{ radius_sessions: Record<string, unknown> }>)
      .insertInto('radius_sessions')
      .values({
        subscriber_id: row.id,
        nas_id: `config:${nasIdentifier}`,
        nas_identifier: nasIdentifier,
        acct_session_id: acct,
        user_name: ref,
        mac_address: mac,
        calling_station_id: mac.toUpperCase().replaceAll(':', '-'),
        framed_ip: `10.5.50.${serial}`,
        bytes_in: FIVE_MBIT_300S / 4,
        bytes_out: FIVE_MBIT_300S,
        session_start: new Date(Date.now() - 300_000),
        last_update: new Date(),
        last_status: 'interim',
      })
      .execute();
    return { id: row.id, ref, acct };
  }

  beforeAll(async () => {
    mt = await startFakeNas({ secret: SECRET_MT, dictionaries: [mikrotikDictionary] });
    chilli = await startFakeNas({ secret: SECRET_CHILLI, dictionaries: [chilliDictionary], host: '127.0.0.2' });
    server = await startTestServer({
      backend,
      plugins: [
        mikrotik,
        coovachilli,
        inventory,
        {
          plugin: radius,
          config: {
            auth: { host: '127.0.0.1', port: 0 },
            acct: { host: '127.0.0.1', port: 0 },
            recvBufferSize: 1024 * 1024,
            nas: [
              { identifier: 'mt-1', address: '127.0.0.1', secret: SECRET_MT, vendor: 'mikrotik', coaPort: mt.port },
              { identifier: 'chilli-1', address: '127.0.0.2', secret: SECRET_CHILLI, vendor: 'coovachilli', coaPort: chilli.port },
            ],
            coa: { backoffSeconds: 0, retransmit: { initialTimeoutMs: 200, maxAttempts: 3, maxTimeoutMs: 400, maxDurationMs: 3000 } },
          },
        },
        { plugin: dba, config: { cir: { unlimitedKbps: { down: 256, up: 128 } }, burstFraction: 0.5, nasSites: { 'mt-1': siteAName } } },
      ],
    });
    db = server.kernel.db as unknown as Kysely<DbaDatabase>;
    resA = await reseller('res-a');
    resB = await reseller('res-b');
    const site = async (name: string, resellerId: string, down: number, up: number) => {
      const res = await noc('/api/inventory/sites', {
        method: 'POST',
        body: JSON.stringify({ name, reseller_id: resellerId, capacity_down_kbps: down, capacity_up_kbps: up }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    siteA = await site(siteAName, resA.id, 3000, 1500);
    siteB = await site(`Godomey-${backend}`, resB.id, 4000, 2000);
    for (let i = 0; i < 3; i++) a.push(await subscriber(resA.id, 'MONTH1GB', 'mt-1'));
    b.push(await subscriber(resB.id, 'MONTH1GB', 'chilli-1'));
    b.push(await subscriber(resB.id, 'DAY100MB', 'chilli-1'));
    for (const [i, s] of b.entries()) {
      const res = await noc('/api/inventory/devices', {
        method: 'POST',
        body: JSON.stringify({ kind: 'cpe', site_id: siteB, address: `10.99.0.${i + 2}`, snmp: { version: '2c', community: 'public' }, subscriber_id: s.id }),
      });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await server?.close();
    await mt?.close();
    await chilli?.close();
  });

  it('registers the 5-minute global job', async () => {
    const jobs = await server.kernel.scheduler.info();
    expect(jobs.find((j) => j.id === 'dba.recalculate')).toMatchObject({ cron: '*/5 * * * *', scope: 'global' });
  });

  let dryId = 0;
  it('dry run: shows what it would push, writes no rate and sends nothing', async () => {
    const run = await runNow(true);
    dryId = run.id;
    expect(run).toMatchObject({ dry_run: true, sites: 2, subscribers: 5, pushes: 4, suppressed: 1 });
    expect(await policyTasks()).toEqual([]);
    for (const s of [...a, ...b]) expect(await server.kernel.kv.get(rateOverrideKey(s.id))).toBeNull();
    expect(await server.kernel.kv.get(kvKeys.dbaMir(resA.id))).toBeNull();
    const d = await detail(server.nocToken, run.id);
    expect(d.allocations.filter((x) => x.decision === 'would_push')).toHaveLength(4);
    expect(d.allocations.every((x) => x.task_id === null)).toBe(true);
    expect(d.allocations.find((x) => x.decision === 'would_push')?.explanation).toMatch(/dry run: would send/);
  });

  let runId = 0;
  it('writes the fair shares, the reseller aggregate, and enqueues one rate_change per changed subscriber', async () => {
    const run = await runNow();
    runId = run.id;
    expect(run).toMatchObject({ dry_run: false, sites: 2, subscribers: 5, pushes: 4, suppressed: 1 });
    const d = await detail(server.nocToken, run.id);
    const siteResA = d.sites.find((s) => s.site_id === siteA);
    expect(siteResA).toMatchObject({ congested: { down: true, up: true }, level: { down: 1000, up: 500 } });
    for (const s of a) {
      const row = d.allocations.find((x) => x.subscriber_id === s.id);
      expect(row).toMatchObject({ decision: 'push', mir: { down: 1000, up: 500 }, share: { down: 1000, up: 500 }, previous: { down: 3000, up: 1500 } });
      expect(await readRateOverride(server.kernel.kv, s.id)).toMatchObject({
        down_kbps: 1000,
        up_kbps: 500,
        burst_down_kbps: 500,
        burst_up_kbps: 250,
        source: 'dba',
      });
      const ttl = await server.kernel.kv.ttl(rateOverrideKey(s.id));
      expect(ttl).toBeGreaterThan(590);
      expect(ttl).toBeLessThanOrEqual(600);
    }
    const [unlimitedB, cappedB] = b.map((s) => d.allocations.find((x) => x.subscriber_id === s.id));
    expect(unlimitedB).toMatchObject({ decision: 'push', mir: { down: 2000, up: 1000 }, previous: { down: 4000, up: 2000 } });
    expect(cappedB).toMatchObject({ decision: 'hold', mir: { down: 2000, up: 1000 }, previous: { down: 2048, up: 1024 }, task_id: null });
    expect(cappedB?.explanation).toMatch(/within the hysteresis/);
    // Held: the key keeps the rate in force (the plan's), so a new session gets what live ones have.
    expect(await readRateOverride(server.kernel.kv, b[1]?.id as string)).toMatchObject({ down_kbps: 2048, up_kbps: 1024 });

    const agg = JSON.parse((await server.kernel.kv.get(kvKeys.dbaMir(resA.id))) ?? 'null');
    expect(agg).toMatchObject({ cir: 768, mir: 3000, burst: 1500, allocated: 3000, subscribers: 3, sites: 1, run_id: run.id });
    expect(await server.kernel.kv.ttl(kvKeys.dbaMir(resA.id))).toBeGreaterThan(590);
    const aggB = JSON.parse((await server.kernel.kv.get(kvKeys.dbaMir(resB.id))) ?? 'null');
    expect(aggB).toMatchObject({ mir: 2000 + 2048, subscribers: 2 });

    const tasks = await policyTasks();
    expect(tasks).toHaveLength(4);
    expect(tasks.every((t) => t.max_attempts === 1)).toBe(true);
    expect(tasks.map((t) => (t.payload as { subscriberId: string }).subscriberId).sort()).toEqual([...a.map((s) => s.id), b[0]?.id].sort());
    expect(tasks.every((t) => (t.payload as { reason: string }).reason === 'rate_change')).toBe(true);
  });

  it('the CoAs reach each NAS in its dialect, authenticated, and the run records the ACKs', async () => {
    await settle();
    expect(mt.received).toHaveLength(3);
    for (const coa of mt.received) {
      expect(coa.code).toBe(43);
      expect(coa.authenticatorValid).toBe(true);
      // MikroTik dialect: session identification plus its VSAs (Mikrotik-Total-Limit for the 1 GB quota).
      expect(a.map((s) => s.ref)).toContain(coa.get('User-Name'));
      expect(a.map((s) => s.acct)).toContain(coa.get('Acct-Session-Id'));
      expect(coa.attributes.some((x) => x.vendorId === 14988)).toBe(true);
    }
    expect(chilli.received).toHaveLength(1);
    const c = chilli.received[0];
    expect(c?.code).toBe(43);
    expect(c?.authenticatorValid).toBe(true);
    expect(c?.get('User-Name')).toBe(b[0]?.ref);
    expect(c?.get('Acct-Session-Id')).toBe(b[0]?.acct);

    const d = await detail(server.nocToken, runId);
    const pushed = d.allocations.filter((x) => x.decision === 'push');
    expect(pushed.map((x) => x.push_status)).toEqual(['ack', 'ack', 'ack', 'ack']);
    expect(pushed[0]?.push_detail).toMatchObject({ task_status: 'done', actions: ['radius.coa.ack'] });
    expect(pushed[0]?.explanation).toMatch(/sent \(ack\)/);
  });

  // The RADIUS plugin lowers the plan's rate by the override (unlimited plans here, so the override is the limit).
  // RouterOS notation: 1000 kbit/s is written `1M`.
  it('the CoA carries the DBA rate (MikroTik rx/tx = up/down; CoovaChilli kbit/s)', () => {
    expect(mt.received).toHaveLength(3);
    for (const coa of mt.received) expect(coa.get('Mikrotik-Rate-Limit')).toBe('500k/1M');
    expect(chilli.received[0]?.get('ChilliSpot-Bandwidth-Max-Down')).toBe(2000);
    expect(chilli.received[0]?.get('ChilliSpot-Bandwidth-Max-Up')).toBe(1000);
  });

  it('the next run with the same demand pushes nothing (and keeps holding the small change)', async () => {
    const run = await runNow();
    expect(run).toMatchObject({ pushes: 0, suppressed: 1, subscribers: 5 });
    const d = await detail(server.nocToken, run.id);
    expect(d.allocations.filter((x) => x.decision === 'same')).toHaveLength(4);
    expect((await policyTasks()).length).toBe(4);
    // Keys refreshed with the rate in force.
    expect(await readRateOverride(server.kernel.kv, a[0]?.id as string)).toMatchObject({ down_kbps: 1000, up_kbps: 500 });
  });

  it('a NAK is recorded as such, and a rate change never falls back to a Disconnect', async () => {
    const patch = await noc(`/api/inventory/sites/${siteA}`, { method: 'PATCH', body: JSON.stringify({ capacity_down_kbps: 6000, capacity_up_kbps: 3000 }) });
    expect(patch.status).toBe(200);
    mt.nakNext(3, 404);
    const before = mt.received.length;
    const run = await runNow();
    expect(run).toMatchObject({ pushes: 3 });
    await settle();
    const d = await detail(server.nocToken, run.id);
    const pushed = d.allocations.filter((x) => x.decision === 'push');
    expect(pushed.map((x) => [x.mir.down, x.previous.down, x.push_status])).toEqual([
      [2000, 1000, 'nak'],
      [2000, 1000, 'nak'],
      [2000, 1000, 'nak'],
    ]);
    expect(pushed[0]?.push_detail).toMatchObject({ task_status: 'dead', error_causes: [404] });
    const sent = mt.received.slice(before);
    expect(sent.map((p) => p.code)).toEqual([43, 43, 43]);
  });

  it('resellers see their own sites and subscribers only; only the NOC may run it', async () => {
    const forA = await detail(resA.token, runId);
    expect(forA.sites.map((s) => s.site_id)).toEqual([siteA]);
    expect(forA.allocations.map((x) => x.subscriber_id).sort()).toEqual(a.map((s) => s.id).sort());
    expect(forA.run).toMatchObject({ subscribers: 3, sites: 1, pushes: 3, suppressed: 0 });
    const forB = await detail(resB.token, runId);
    expect(forB.allocations.map((x) => x.subscriber_id).sort()).toEqual(b.map((s) => s.id).sort());
    expect(forB.run).toMatchObject({ subscribers: 2, pushes: 1, suppressed: 1 });

    const list = (await (await call(resA.token, '/api/dba/runs?limit=10')).json()) as { runs: Array<{ id: number; subscribers: number }> };
    expect(list.runs.find((r) => r.id === runId)?.subscribers).toBe(3);
    const all = (await (await noc('/api/dba/runs')).json()) as { runs: Array<{ id: number; subscribers: number; dry_run: boolean }> };
    expect(all.runs.find((r) => r.id === runId)?.subscribers).toBe(5);
    expect(all.runs.find((r) => r.id === dryId)?.dry_run).toBe(true);

    expect((await call(resA.token, '/api/dba/runs', { method: 'POST' })).status).toBe(403);
    expect((await call(server.nocToken, '/api/dba/runs/999999999')).status).toBe(404);
    expect((await server.request('/api/dba/runs')).status).toBe(401);
  });
});
