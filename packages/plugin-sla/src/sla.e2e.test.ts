/**
 * SLA end to end through startTestServer, on both backends, against targets the test starts: an HTTP server (up, slow,
 * 500, and one that flips to 500), a DNS server that answers then goes silent and one that never answers, 127.0.0.1 and
 * an inventory gateway for ICMP, and — where network namespaces are permitted — a host in a namespace of its own that
 * starts dropping pings half way. Four rounds, then the uptime per target, site and reseller must be the exact
 * fractions; breaches open incidents on a test IncidentSink and resolve on recovery.
 */
import { readFileSync } from 'node:fs';
import { type CoreDatabase, definePlugin, type IncidentEvent, IncidentSinks, type Kysely } from '@rgz/core';
import { BACKENDS, startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import inventory from '@rgz/plugin-inventory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sla, { slaBreach } from './index.js';
import { createDropHost, type DropHost, netnsSupport } from './test-support/netns.js';
import { type DnsTarget, type HttpTargets, startDnsTarget, startHttpTargets } from './test-support/targets.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(sla.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${sla.name}`);
});

const netnsWhyNot = netnsSupport();
if (netnsWhyNot) console.warn(`[sla tests] the dropped-ping host is skipped: ${netnsWhyNot}`);
const pingMissing = netnsWhyNot?.startsWith('no ping') ?? false;

interface UptimeBody {
  period: string;
  rows: Array<{ key: string | null; name: string | null; successes: number; total: number; uptime: number; uptime_percent: number }>;
}

describe.skipIf(pingMissing).each(BACKENDS)('SLA end to end (%s)', (backend) => {
  let server: TestServer;
  let http: HttpTargets;
  let dns: DnsTarget;
  let silent: DnsTarget;
  let drop: DropHost | undefined;
  let resA: { id: string; token: string };
  let resB: { id: string; token: string };
  let siteA: string;
  let siteB: string;
  let gatewayTarget: string;
  const siteAName = `SLA-A-${backend}`;
  const siteBName = `SLA-B-${backend}`;
  const sunk: IncidentEvent[] = [];
  const published: Array<{ type: string; targetId: string; kind: string }> = [];

  const testSink = definePlugin({
    name: 'test-sink',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(IncidentSinks, {
        id: 'test',
        provider: 'test',
        accepts: ['opened', 'resolved'],
        async notify(event) {
          if (!sunk.some((e) => e.eventId === event.eventId)) sunk.push(event);
        },
      });
    },
  });

  const call = (token: string, path: string, init: RequestInit = {}) =>
    server.request(path, { ...init, headers: { ...server.auth(token), 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const noc = (path: string, init: RequestInit = {}) => call(server.nocToken, path, init);
  const probe = async () => {
    const res = await noc('/api/sla/probe', { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { targets: number; up: number; down: number; results: Array<{ target_id: string; success: boolean; error: string | null }> };
  };
  const uptimeOf = async (token: string, query: string) => {
    const res = await call(token, `/api/sla/uptime?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as UptimeBody;
  };
  const byKey = (body: UptimeBody) => Object.fromEntries(body.rows.map((r) => [String(r.key), r.uptime]));
  const sinkSettled = () =>
    waitFor(
      async () =>
        (await (server.kernel.db as Kysely<CoreDatabase>).selectFrom('core_tasks').select('status').where('name', '=', 'sla.incident').execute()).every(
          (t) => t.status === 'done',
        ),
      15_000,
      { message: 'incident tasks done' },
    );

  beforeAll(async () => {
    http = await startHttpTargets();
    dns = await startDnsTarget({ answering: true });
    silent = await startDnsTarget({ answering: false });
    if (!netnsWhyNot) drop = createDropHost(`${process.pid % 100_000}${backend === 'real' ? 'r' : 'e'}`);
    server = await startTestServer({
      backend,
      plugins: [
        inventory,
        testSink,
        {
          plugin: sla,
          config: {
            portalHealth: false,
            icmp: { count: 2, intervalSeconds: 0.2, timeoutSeconds: 1 },
            http: { timeoutMs: 1000 },
            dns: { timeoutMs: 1000, tries: 1 },
            breach: { consecutiveFailures: 3, objectivePercent: 99, minSamples: 4, period: 'day' },
            targets: [
              { id: 'http-up', kind: 'http', url: `${http.base}/up`, site: siteAName },
              { id: 'http-slow', kind: 'http', url: `${http.base}/slow` },
              { id: 'http-500', kind: 'http', url: `${http.base}/500` },
              { id: 'http-flip', kind: 'http', url: `${http.base}/flip`, site: siteAName },
              { id: 'dns-ok', kind: 'dns', name: 'portal.rgz.test', server: `127.0.0.1:${dns.port}`, site: siteBName },
              { id: 'dns-silent', kind: 'dns', name: 'portal.rgz.test', server: `127.0.0.1:${silent.port}` },
              { id: 'icmp-lo', kind: 'icmp', host: '127.0.0.1', site: siteAName },
              ...(drop ? [{ id: 'icmp-drop', kind: 'icmp', host: drop.address, command: drop.command, site: siteBName }] : []),
            ],
          },
        },
      ],
    });
    server.kernel.events.on(slaBreach, (p) => {
      published.push({ type: p.type, targetId: p.targetId, kind: p.kind });
    });
    const reseller = async (slug: string) => {
      const r = await (server.kernel.db as Kysely<CoreDatabase>)
        .insertInto('resellers')
        .values({ name: slug, slug: `${slug}-${backend}-${process.pid}`, phone: null, email: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: r.id, token: (await server.kernel.tokens.issue({ role: 'reseller', name: slug, resellerId: r.id })).token };
    };
    resA = await reseller('sla-a');
    resB = await reseller('sla-b');
    const site = async (name: string, resellerId: string) => {
      const res = await noc('/api/inventory/sites', { method: 'POST', body: JSON.stringify({ name, reseller_id: resellerId }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    siteA = await site(siteAName, resA.id);
    siteB = await site(siteBName, resB.id);
    const gw = await noc('/api/inventory/devices', {
      method: 'POST',
      body: JSON.stringify({ kind: 'gateway', name: 'gw-b', site_id: siteB, address: '127.0.0.1', snmp: { version: '2c', community: 'public' } }),
    });
    expect(gw.status).toBe(201);
    gatewayTarget = `gw-${((await gw.json()) as { id: string }).id}`;
  });
  afterAll(async () => {
    await server?.close();
    await http?.close();
    await dns?.close();
    await silent?.close();
    drop?.close();
  });

  it('registers the 5-minute global job and lists the targets (the inventory gateway among them)', async () => {
    const jobs = await server.kernel.scheduler.info();
    expect(jobs.find((j) => j.id === 'sla.probe')).toMatchObject({ cron: '*/5 * * * *', scope: 'global' });
    const res = await noc('/api/sla/targets');
    const { targets } = (await res.json()) as { targets: Array<{ id: string; site_id: string | null; reseller_id: string | null; source: string }> };
    expect(targets.find((t) => t.id === gatewayTarget)).toMatchObject({ site_id: siteB, reseller_id: resB.id, source: 'inventory' });
    expect(targets.find((t) => t.id === 'http-up')).toMatchObject({ site_id: siteA, reseller_id: resA.id, source: 'config' });
    const forA = (await (await call(resA.token, '/api/sla/targets')).json()) as { targets: Array<{ id: string }> };
    expect(forA.targets.map((t) => t.id).sort()).toEqual(['http-flip', 'http-up', 'icmp-lo']);
  });

  it('four rounds: the uptime per target, site and reseller is the exact fraction', async () => {
    const first = await probe();
    expect(first.targets).toBe(drop ? 9 : 8);
    if (first.results.find((r) => r.target_id === 'http-up')?.success !== true) console.error(first.results);
    expect(Object.fromEntries(first.results.map((r) => [r.target_id, r.success]))).toMatchObject({
      'http-up': true,
      'http-slow': false,
      'http-500': false,
      'http-flip': true,
      'dns-ok': true,
      'dns-silent': false,
      'icmp-lo': true,
      [gatewayTarget]: true,
      ...(drop ? { 'icmp-drop': true } : {}),
    });
    await probe();
    drop?.drop();
    const third = await probe();
    if (drop) expect(third.results.find((r) => r.target_id === 'icmp-drop')).toMatchObject({ success: false, error: 'no echo reply' });
    http.flip(true);
    dns.answering(false);
    await probe();

    const expected: Record<string, number> = {
      'http-up': 1,
      'http-slow': 0,
      'http-500': 0,
      'http-flip': 0.75,
      'dns-ok': 0.75,
      'dns-silent': 0,
      'icmp-lo': 1,
      [gatewayTarget]: 1,
      ...(drop ? { 'icmp-drop': 0.5 } : {}),
    };
    for (const period of ['day', 'month']) {
      const targets = await uptimeOf(server.nocToken, `period=${period}&group=target`);
      expect(byKey(targets)).toEqual(expected);
      expect(targets.rows.every((r) => r.total === 4)).toBe(true);
      const sites = await uptimeOf(server.nocToken, `period=${period}&group=site`);
      expect(byKey(sites)).toEqual({ [siteA]: 11 / 12, [siteB]: drop ? 9 / 12 : 7 / 8, null: 0 });
      expect(sites.rows.find((r) => r.key === siteA)?.name).toBe(siteAName);
      const resellers = await uptimeOf(server.nocToken, `period=${period}&group=reseller`);
      expect(byKey(resellers)).toEqual({ [resA.id]: 11 / 12, [resB.id]: drop ? 9 / 12 : 7 / 8, null: 0 });
    }
    const one = await uptimeOf(server.nocToken, 'group=target&target_id=http-flip');
    expect(one.rows).toEqual([{ key: 'http-flip', name: 'http-flip', successes: 3, total: 4, uptime: 0.75, uptime_percent: 75 }]);
    // Another day holds nothing.
    expect((await uptimeOf(server.nocToken, 'period=day&date=2020-01-01')).rows).toEqual([]);
    expect((await call(server.nocToken, '/api/sla/uptime?period=month&date=2026-13')).status).toBe(400);
  });

  it('a reseller sees its own targets, sites and uptime only', async () => {
    const a = await uptimeOf(resA.token, 'group=target');
    expect(byKey(a)).toEqual({ 'http-flip': 0.75, 'http-up': 1, 'icmp-lo': 1 });
    const b = await uptimeOf(resB.token, 'group=site');
    expect(byKey(b)).toEqual({ [siteB]: drop ? 9 / 12 : 7 / 8 });
    const probes = (await (await call(resA.token, '/api/sla/probes?limit=1000')).json()) as { probes: Array<{ target_id: string }> };
    expect(new Set(probes.probes.map((p) => p.target_id))).toEqual(new Set(['http-flip', 'http-up', 'icmp-lo']));
    expect((await call(resA.token, '/api/sla/probe', { method: 'POST' })).status).toBe(403);
  });

  it('breaches: three failures in a row and uptime below the objective open incidents; recovery resolves them', async () => {
    await sinkSettled();
    const opened = sunk.filter((e) => e.type === 'opened');
    const down = opened.filter((e) => e.incident.source === 'sla.down').map((e) => e.incident.labels.target);
    expect(down.sort()).toEqual(['dns-silent', 'http-500', 'http-slow']);
    const objective = opened.filter((e) => e.incident.source === 'sla.objective').map((e) => e.incident.labels.target);
    expect(objective.sort()).toEqual(['dns-ok', 'dns-silent', 'http-500', 'http-flip', 'http-slow', ...(drop ? ['icmp-drop'] : [])].sort());
    const slow = opened.find((e) => e.incident.source === 'sla.down' && e.incident.labels.target === 'http-slow');
    expect(slow?.incident).toMatchObject({ priority: 'P1', status: 'open', title: 'SLA: http-slow down' });
    expect(opened.find((e) => e.incident.source === 'sla.objective' && e.incident.labels.target === 'http-flip')?.incident).toMatchObject({
      priority: 'P2',
      labels: { site: siteAName, reseller: resA.id },
    });
    expect(published.filter((p) => p.type === 'opened')).toHaveLength(opened.length);
    const openBreaches = (await (await noc('/api/sla/breaches?open=true')).json()) as { breaches: unknown[] };
    expect(openBreaches.breaches).toHaveLength(opened.length);

    // A fifth round: the slow server answers in time again → its `down` incident is resolved (its objective stays).
    http.fast(true);
    await probe();
    await sinkSettled();
    const resolved = sunk.filter((e) => e.type === 'resolved');
    expect(resolved.map((e) => [e.incident.labels.target, e.incident.source, e.incident.status])).toEqual([['http-slow', 'sla.down', 'resolved']]);
    expect(resolved[0]?.eventId).toBe(slow?.eventId.replace(':opened', ':resolved'));
  });

  it('exports the metrics with bounded labels', async () => {
    const get = async (name: string) => (await server.kernel.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
    const success = await get('sla_probe_success');
    expect(success.find((v) => v.labels.target === 'http-500')).toMatchObject({ value: 0, labels: { kind: 'http', site: '' } });
    expect(success.find((v) => v.labels.target === 'icmp-lo')).toMatchObject({ value: 1, labels: { kind: 'icmp', site: siteAName } });
    const ratio = await get('sla_uptime_ratio');
    expect(ratio.find((v) => v.labels.target === 'http-flip')?.value).toBeCloseTo(3 / 5, 12);
    expect(ratio.find((v) => v.labels.target === 'http-up')?.value).toBe(1);
    const latency = await get('sla_probe_latency_seconds');
    expect(latency.find((v) => v.labels.target === 'icmp-lo')?.value).toBeGreaterThanOrEqual(0);
    expect(new Set(success.map((v) => Object.keys(v.labels).sort().join(',')))).toEqual(new Set(['kind,site,target']));
  });
});
