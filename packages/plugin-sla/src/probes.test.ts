/**
 * Each probe against targets the test starts on 127.0.0.1, and the ping output parser on recorded outputs.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBreach } from './incident.js';
import { dnsProbe, httpProbe, icmpProbe, parsePingOutput } from './probes.js';
import { DNS_ANSWER, type DnsTarget, type HttpTargets, startDnsTarget, startHttpTargets } from './test-support/targets.js';
import { currentPeriodKey, validPeriodKey } from './uptime.js';

const hasPing = spawnSync('ping', ['-V']).status === 0;

describe('parsePingOutput', () => {
  it('reads iputils summaries, with and without replies, errors and duplicates', () => {
    expect(
      parsePingOutput(`PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 405ms
rtt min/avg/max/mdev = 0.040/0.051/0.066/0.011 ms
`),
    ).toEqual({ transmitted: 3, received: 3, lossPercent: 0, avgMs: 0.051 });
    expect(parsePingOutput('--- 10.0.0.9 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1011ms\n')).toEqual({
      transmitted: 2,
      received: 0,
      lossPercent: 100,
      avgMs: null,
    });
    expect(
      parsePingOutput('4 packets transmitted, 1 received, +3 errors, 75% packet loss, time 3004ms\nrtt min/avg/max/mdev = 1.5/1.5/1.5/0.0 ms'),
    ).toMatchObject({
      received: 1,
      lossPercent: 75,
      avgMs: 1.5,
    });
    expect(parsePingOutput('3 packets transmitted, 3 received, +1 duplicates, 0% packet loss, time 2003ms')).toMatchObject({ received: 3 });
  });
  it('reads BusyBox summaries and refuses anything else', () => {
    expect(parsePingOutput('3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.046/0.061/0.084 ms')).toEqual({
      transmitted: 3,
      received: 3,
      lossPercent: 0,
      avgMs: 0.061,
    });
    expect(parsePingOutput('ping: nosuchhost.invalid: Name or service not known')).toBeNull();
  });
});

describe.skipIf(!hasPing)('icmpProbe (system ping; skipped without iputils-ping)', () => {
  const o = { count: 2, intervalSeconds: 0.2, timeoutSeconds: 1, maxLossPercent: 50, command: ['ping'] };
  it('127.0.0.1 answers', async () => {
    const r = await icmpProbe('127.0.0.1', o);
    expect(r).toMatchObject({ success: true, loss: 0, error: null, detail: { transmitted: 2, received: 2 } });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });
  it('an unknown name is a failure with the reason', async () => {
    const r = await icmpProbe('nosuchhost.invalid', o);
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/nosuchhost|not known|resolve|failure/i);
  });
});

describe('probes that cannot run', () => {
  it('a missing ping binary is a failure naming the package', async () => {
    const r = await icmpProbe('127.0.0.1', { count: 1, intervalSeconds: 0.2, timeoutSeconds: 1, maxLossPercent: 50, command: ['/nonexistent/ping'] });
    expect(r).toMatchObject({ success: false });
    expect(r.error).toMatch(/iputils-ping/);
  });
});

describe('httpProbe and dnsProbe', () => {
  let http: HttpTargets;
  let dns: DnsTarget;
  let silent: DnsTarget;
  beforeAll(async () => {
    http = await startHttpTargets();
    dns = await startDnsTarget({ answering: true });
    silent = await startDnsTarget({ answering: false });
  });
  afterAll(async () => {
    await http?.close();
    await dns?.close();
    await silent?.close();
  });

  it('HTTP: 200 is up, 500 and a timeout are down, an expected status list is honoured, a closed port is down', async () => {
    expect(await httpProbe(`${http.base}/up`, { timeoutMs: 1000 })).toMatchObject({ success: true, detail: { status: 200 }, error: null });
    expect(await httpProbe(`${http.base}/500`, { timeoutMs: 1000 })).toMatchObject({ success: false, detail: { status: 500 }, error: 'HTTP 500' });
    expect(await httpProbe(`${http.base}/500`, { timeoutMs: 1000, expectStatus: [500] })).toMatchObject({ success: true });
    const slow = await httpProbe(`${http.base}/slow`, { timeoutMs: 200 });
    expect(slow).toMatchObject({ success: false, latencyMs: null, error: 'no answer within 200 ms' });
    expect((await httpProbe('http://127.0.0.1:9/', { timeoutMs: 1000 })).success).toBe(false);
  });

  it('DNS: an answering resolver is up, a silent one times out, through the given server only', async () => {
    const before = dns.queries;
    const ok = await dnsProbe('portal.rgz.test', { server: `127.0.0.1:${dns.port}`, type: 'A', timeoutMs: 500, tries: 1 });
    expect(ok).toMatchObject({ success: true, detail: { answers: [DNS_ANSWER] }, error: null });
    expect(dns.queries).toBeGreaterThan(before);
    const none = await dnsProbe('portal.rgz.test', { server: `127.0.0.1:${silent.port}`, type: 'A', timeoutMs: 300, tries: 1 });
    expect(none).toMatchObject({ success: false, error: 'no answer within 300 ms' });
    const empty = await dnsProbe('portal.rgz.test', { server: `127.0.0.1:${dns.port}`, type: 'AAAA', timeoutMs: 500, tries: 1 });
    expect(empty.success).toBe(false);
    expect((await dnsProbe('x.test', { server: 'not an address', type: 'A', timeoutMs: 300, tries: 1 })).error).toMatch(/bad resolver address/);
  });
});

describe('periods and the incident task without sinks', () => {
  it('period keys are local dates in the server time zone', () => {
    const at = new Date('2026-11-30T23:30:00Z');
    expect(currentPeriodKey('day', at, 'Africa/Porto-Novo')).toBe('2026-12-01');
    expect(currentPeriodKey('month', at, 'Africa/Porto-Novo')).toBe('2026-12');
    expect(currentPeriodKey('day', at, 'UTC')).toBe('2026-11-30');
    expect(validPeriodKey('day', '2026-02-29')).toBe(false);
    expect(validPeriodKey('day', '2028-02-29')).toBe(true);
    expect(validPeriodKey('month', '2026-13')).toBe(false);
  });

  it('with no IncidentSink, a breach is a log line and an event', async () => {
    const published: unknown[] = [];
    const logs: Array<[string, unknown, string]> = [];
    const log = {
      error: (o: unknown, m: string) => logs.push(['error', o, m]),
      warn: (o: unknown, m: string) => logs.push(['warn', o, m]),
      info: (o: unknown, m: string) => logs.push(['info', o, m]),
    };
    const events = { publish: async (_e: unknown, p: unknown) => void published.push(p) };
    const payload = {
      type: 'opened' as const,
      breachId: 7,
      kind: 'down' as const,
      targetId: 'gw-1',
      probeKind: 'icmp' as const,
      address: '10.0.0.1',
      siteId: null,
      siteName: null,
      resellerId: null,
      periodKey: '',
      openedAt: new Date().toISOString(),
      at: new Date().toISOString(),
      title: 'SLA: gw-1 down',
      summary: 'x',
      priority: 'P1' as const,
    };
    await deliverBreach({ events: events as never, sinks: () => new Map() }, payload, {
      taskId: '1',
      attempt: 1,
      signal: new AbortController().signal,
      log: log as never,
    });
    expect(published).toEqual([payload]);
    expect(logs.map(([level, , m]) => [level, m])).toEqual([
      ['error', 'SLA: gw-1 down'],
      ['warn', 'no IncidentSink is loaded: the SLA breach is this log line and the sla.breach event'],
    ]);
  });
});
