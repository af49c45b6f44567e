/**
 * The dns-sinkhole plugin in a real server (startTestServer), queried with the real `dig` over loopback, forwarding
 * to a fake upstream on another loopback port. 127.0.0.1 is the first client; `dig -b 127.0.0.2` acts as a second.
 */
import dgram from 'node:dgram';
import { createServer } from 'node:net';
import { portalClientAuthorised } from '@rgz/core';
import { BACKENDS, startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sinkholePlugin from './index.js';
import { DIG_AVAILABLE, DIG_MISSING, dig } from './test-support/dig.js';
import { type FakeUpstream, SILENT_NAME, startFakeUpstream } from './test-support/fake-upstream.js';

const PORTAL = '10.5.50.1';
const PORTAL6 = 'fd00:5:50::1';

async function listeningPort(server: TestServer, name = 'dns-sinkhole'): Promise<number> {
  const res = await server.request(`/api/${name}/status`, { headers: server.auth(server.nocToken) });
  const body = (await res.json()) as { listening: { udp_port: number; tcp_port: number | null } | null };
  if (!body.listening) throw new Error('sinkhole not listening');
  expect(body.listening.tcp_port).toBe(body.listening.udp_port);
  return body.listening.udp_port;
}

async function decisions(server: TestServer): Promise<Record<string, number>> {
  const metric = await server.kernel.metrics.registry.getSingleMetric('dns_queries_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.decision), v.value]));
}

/** A loopback port nothing listens on (UDP and TCP): queries to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!DIG_AVAILABLE).each(BACKENDS)(`dns-sinkhole with dig on the %s backend${DIG_AVAILABLE ? '' : ` (skipped: ${DIG_MISSING})`}`, (backend) => {
  let upstream: FakeUpstream;
  let server: TestServer;
  let port: number;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    server = await startTestServer({
      backend,
      plugins: [
        {
          plugin: sinkholePlugin,
          config: {
            host: '127.0.0.1',
            port: 0,
            portalIpv4: PORTAL,
            portalIpv6: PORTAL6,
            ttlSeconds: 5,
            upstreams: [`127.0.0.1:${upstream.port}`],
            upstreamTimeoutMs: 500,
            // An operator adding gstatic.com for fonts: Android's probe host must still get the portal.
            walledGarden: ['gstatic.com'],
          },
        },
      ],
    });
    port = await listeningPort(server);
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('answers the portal address to an unauthorised client, with a short TTL, without asking upstream', async () => {
    const a = await dig('example.com', 'A', { port });
    expect(a.status).toBe('NOERROR');
    expect(a.answers).toEqual([{ name: 'example.com.', ttl: 5, type: 'A', data: PORTAL }]);
    expect(a.flags).toEqual(expect.arrayContaining(['qr', 'rd', 'ra']));

    const aaaa = await dig('www.example.org', 'AAAA', { port });
    expect(aaaa.answers).toEqual([{ name: 'www.example.org.', ttl: 5, type: 'AAAA', data: PORTAL6 }]);

    // Other types: empty NOERROR, neither an error the client caches nor a timeout.
    const mx = await dig('example.com', 'MX', { port });
    expect(mx.status).toBe('NOERROR');
    expect(mx.answers).toEqual([]);
    const https = await dig('example.com', 'TYPE65', { port });
    expect(https.status).toBe('NOERROR');
    expect(https.answers).toEqual([]);

    // Names the upstream does not know get the portal too (the browser must land somewhere).
    expect((await dig('no-such-name.test', 'A', { port })).answers[0]?.data).toBe(PORTAL);
    expect(upstream.queries().filter((q) => q.name === 'example.com' || q.name === 'no-such-name.test')).toEqual([]);
  });

  it('keeps the case of the question (0x20) in its answer', async () => {
    const r = await dig('ExAmPlE.CoM', 'A', { port });
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0]).toMatchObject({ name: 'ExAmPlE.CoM.', data: PORTAL });
  });

  it('forwards walled-garden names upstream for an unauthorised client', async () => {
    expect((await dig('api.kkiapay.me', 'A', { port })).answers).toEqual([{ name: 'api.kkiapay.me.', ttl: 300, type: 'A', data: '203.0.113.10' }]);
    expect((await dig('CDN.kkiapay.me', 'A', { port })).answers[0]?.data).toBe('203.0.113.11');
    // Windows NCSI's DNS probe must resolve for real, or Windows says "no Internet" instead of showing the portal.
    expect((await dig('dns.msftncsi.com', 'A', { port })).answers[0]?.data).toBe('131.107.255.255');
    expect((await dig('fonts.gstatic.com', 'A', { port })).answers[0]?.data).toBe('142.250.0.2');
  });

  it('gives OS probe hosts the portal even when the walled garden covers them', async () => {
    expect((await dig('connectivitycheck.gstatic.com', 'A', { port })).answers).toEqual([
      { name: 'connectivitycheck.gstatic.com.', ttl: 5, type: 'A', data: PORTAL },
    ]);
    expect((await dig('captive.apple.com', 'A', { port })).answers[0]?.data).toBe(PORTAL);
    expect(upstream.queries().some((q) => q.name === 'connectivitycheck.gstatic.com')).toBe(false);
  });

  it('answers over TCP', async () => {
    const r = await dig('example.com', 'A', { port, options: ['+tcp'] });
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0]?.data).toBe(PORTAL);
    const garden = await dig('api.kkiapay.me', 'A', { port, options: ['+tcp'] });
    expect(garden.answers[0]?.data).toBe('203.0.113.10');
  });

  it('forwards everything for a client authorised through the route, until it is revoked', async () => {
    const noc = { ...server.auth(server.nocToken), 'content-type': 'application/json' };
    const post = await server.request('/api/dns-sinkhole/authorise', {
      method: 'POST',
      headers: noc,
      body: JSON.stringify({ ip: '127.0.0.1', ttl_seconds: 600, subscriber_id: 'sub-1' }),
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual({ ip: '127.0.0.1', authorised: true, ttl_seconds: 600, subscriber_id: 'sub-1' });

    expect((await dig('example.com', 'A', { port })).answers).toEqual([{ name: 'example.com.', ttl: 300, type: 'A', data: '93.184.216.34' }]);
    expect((await dig('example.com', 'AAAA', { port })).answers[0]?.data).toBe('2606:2800:220:1:248:1893:25c8:1946');
    // Probe hosts resolve for real once authorised: the OS then sees the Internet.
    expect((await dig('connectivitycheck.gstatic.com', 'A', { port })).answers[0]?.data).toBe('142.250.0.1');
    // The upstream's own answers pass through, NXDOMAIN included.
    expect((await dig('no-such-name.test', 'A', { port })).status).toBe('NXDOMAIN');
    expect((await dig('example.com', 'A', { port, options: ['+tcp'] })).answers[0]?.data).toBe('93.184.216.34');

    // Another client (127.0.0.2) is still captive.
    expect((await dig('example.com', 'A', { port, source: '127.0.0.2' })).answers[0]?.data).toBe(PORTAL);

    const got = await server.request('/api/dns-sinkhole/authorise/127.0.0.1', { headers: noc });
    expect(await got.json()).toMatchObject({ ip: '127.0.0.1', authorised: true, subscriber_id: 'sub-1' });

    const del = await server.request('/api/dns-sinkhole/authorise/127.0.0.1', { method: 'DELETE', headers: noc });
    expect(del.status).toBe(204);
    expect((await dig('example.com', 'A', { port })).answers[0]?.data).toBe(PORTAL);
    expect((await server.request('/api/dns-sinkhole/authorise/127.0.0.1', { method: 'DELETE', headers: noc })).status).toBe(404);
  });

  it('authorises a client on the portal.client-authorised event', async () => {
    await server.kernel.events.publish(portalClientAuthorised, { ip: '127.0.0.3', subscriberId: 'sub-3', ttlSeconds: 120 });
    await waitFor(async () => (await dig('example.com', 'A', { port, source: '127.0.0.3' })).answers[0]?.data === '93.184.216.34', 5_000, {
      message: '127.0.0.3 forwarded after the event',
    });
    const res = await server.request('/api/dns-sinkhole/authorise/127.0.0.3', { headers: server.auth(server.nocToken) });
    const body = (await res.json()) as { authorised: boolean; ttl_seconds: number; subscriber_id: string };
    expect(body).toMatchObject({ authorised: true, subscriber_id: 'sub-3' });
    expect(body.ttl_seconds).toBeGreaterThan(100);
    expect(body.ttl_seconds).toBeLessThanOrEqual(120);
  });

  it('falls back to TCP upstream when the UDP answer is truncated, and truncates for a small UDP client', async () => {
    await server.kernel.events.publish(portalClientAuthorised, { ip: '127.0.0.4', subscriberId: 'sub-4', ttlSeconds: 120 });
    await waitFor(async () => (await dig('example.com', 'A', { port, source: '127.0.0.4' })).answers.length === 1 && true);
    const before = upstream.queries().filter((q) => q.name === 'big.example.com');

    // Over TCP from the client: the sinkhole asks over UDP, gets TC, asks again over TCP, relays all 40 records.
    const tcp = await dig('big.example.com', 'A', { port, source: '127.0.0.4', options: ['+tcp', '+noedns'] });
    expect(tcp.status).toBe('NOERROR');
    expect(tcp.answers).toHaveLength(40);
    expect(
      upstream
        .queries()
        .filter((q) => q.name === 'big.example.com')
        .slice(before.length)
        .map((q) => q.transport),
    ).toEqual(['udp', 'tcp']);

    // Over UDP without EDNS (512 bytes): the sinkhole answers TC, and dig retries over TCP by itself.
    const truncated = await dig('big.example.com', 'A', { port, source: '127.0.0.4', options: ['+noedns', '+ignore'] });
    expect(truncated.flags).toContain('tc');
    expect(truncated.answers).toHaveLength(0);
    const retried = await dig('big.example.com', 'A', { port, source: '127.0.0.4', options: ['+noedns'] });
    expect(retried.answers).toHaveLength(40);
  });

  it('answers SERVFAIL when the upstream does not answer in time', async () => {
    await server.kernel.events.publish(portalClientAuthorised, { ip: '127.0.0.5', subscriberId: 'sub-5', ttlSeconds: 120 });
    await waitFor(async () => (await dig('example.com', 'A', { port, source: '127.0.0.5' })).answers[0]?.data === '93.184.216.34');
    const r = await dig(SILENT_NAME, 'A', { port, source: '127.0.0.5', options: ['+time=3'] });
    expect(r.status).toBe('SERVFAIL');
    const histogram = await server.kernel.metrics.registry.getSingleMetric('dns_upstream_duration_seconds')?.get();
    const count = (outcome: string, transport = 'udp') =>
      histogram?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName === 'dns_upstream_duration_seconds_count' &&
          v.labels.outcome === outcome &&
          v.labels.transport === transport,
      )?.value ?? 0;
    expect(count('timeout')).toBeGreaterThanOrEqual(1);
    expect(count('ok')).toBeGreaterThanOrEqual(3);
    expect(count('ok', 'tcp')).toBeGreaterThanOrEqual(1);
  });

  it('drops malformed packets, counts them, and keeps answering', async () => {
    const before = (await decisions(server)).malformed ?? 0;
    const socket = dgram.createSocket('udp4');
    const garbage = [Buffer.from('not dns at all'), Buffer.from([0x12, 0x34]), Buffer.alloc(40, 0xff)];
    // A "response" (QR set) is never answered: no reflection loops.
    const response = Buffer.from('abcd81800001000000000000076578616d706c6503636f6d0000010001', 'hex');
    for (const packet of [...garbage, response]) {
      await new Promise<void>((resolve, reject) => socket.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
    socket.close();
    await waitFor(async () => ((await decisions(server)).malformed ?? 0) - before === 4, 3_000, { message: 'four malformed packets counted' });
    expect((await dig('example.com', 'A', { port })).answers[0]?.data).toBe(PORTAL);
  });

  it('counts every decision in dns_queries_total', async () => {
    const counts = await decisions(server);
    expect(counts.portal).toBeGreaterThanOrEqual(10);
    expect(counts.walled_garden).toBeGreaterThanOrEqual(5);
    expect(counts.forwarded).toBeGreaterThanOrEqual(8);
    expect(counts.malformed).toBeGreaterThanOrEqual(4);
    expect(counts.refused).toBe(0);
    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(/^dns_queries_total\{decision="portal"\} \d+$/m);
  });
});

describe.skipIf(!DIG_AVAILABLE)('dns-sinkhole client restrictions and upstream fail-over', () => {
  let upstream: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const dead = await closedPort();
    server = await startTestServer({
      plugins: [
        {
          plugin: sinkholePlugin,
          config: {
            host: '127.0.0.1',
            port: 0,
            portalIpv4: PORTAL,
            // The first upstream refuses: the second one answers.
            upstreams: [`127.0.0.1:${dead}`, `127.0.0.1:${upstream.port}`],
            upstreamTimeoutMs: 500,
            // Loopback is outside the allowed subnets except 127.0.0.9, which is trusted (forwarded without session).
            allowedClients: ['10.0.0.0/8', '127.0.0.9'],
            trustedClients: ['127.0.0.9/32'],
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('answers REFUSED to a client outside allowedClients, over UDP and TCP', async () => {
    const port = await listeningPort(server);
    const udp = await dig('example.com', 'A', { port });
    expect(udp.status).toBe('REFUSED');
    expect(udp.answers).toEqual([]);
    expect((await dig('api.kkiapay.me', 'A', { port, options: ['+tcp'] })).status).toBe('REFUSED');
    expect((await decisions(server)).refused).toBe(2);
    expect(upstream.queries()).toEqual([]);
  });

  it('forwards a trusted client, moving past an upstream that refuses', async () => {
    const port = await listeningPort(server);
    const r = await dig('example.com', 'A', { port, source: '127.0.0.9' });
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0]?.data).toBe('93.184.216.34');
    const histogram = await server.kernel.metrics.registry.getSingleMetric('dns_upstream_duration_seconds')?.get();
    const errors = histogram?.values.find(
      (v) => (v as { metricName?: string }).metricName === 'dns_upstream_duration_seconds_count' && v.labels.outcome === 'error',
    );
    expect(errors?.value).toBeGreaterThanOrEqual(1);
  });
});
