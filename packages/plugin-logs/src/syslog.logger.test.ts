/**
 * Real syslog in, records out: util-linux `logger` sends RFC 3164 and RFC 5424 messages over UDP, TCP (LF framing)
 * and TCP with octet counting to the plugin inside a real server; the records are found again through the search
 * route and the CLI command, parsed by the vendor parsers and routed to the right index.
 */

import { waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasLogger, sendWithLogger } from './test-support/logger.js';
import { metricValue, startWorld, type World } from './test-support/world.js';

describe.skipIf(!hasLogger)('syslog from util-linux logger', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  const search = async (params: Record<string, string>) => {
    const res = await w.server.request(`/api/logs/search?${new URLSearchParams(params)}`, { headers: w.server.auth(w.server.nocToken) });
    expect(res.status).toBe(200);
    return (await res.json()) as { items: Array<Record<string, unknown>>; more: boolean; backend: string };
  };
  const find = async (params: Record<string, string>, n = 1) =>
    waitFor(
      async () => {
        await w.logs.flush();
        const r = await search(params);
        return r.items.length >= n ? r.items : undefined;
      },
      10_000,
      { message: JSON.stringify(params) },
    );

  it('RFC 3164 over UDP: hostapd association parsed by the airOS parser into logstash-cpe', async () => {
    sendWithLogger('ath0: STA 24:a4:3c:01:02:03 IEEE 802.11: associated', { port: w.syslogUdp, transport: 'udp', format: 'rfc3164', tag: 'hostapd' });
    const [rec] = await find({ mac: '24-A4-3C-01-02-03' });
    expect(rec).toMatchObject({
      kind: 'wifi.associated',
      parser: 'airos',
      app: 'hostapd',
      mac: '24:a4:3c:01:02:03',
      interface: 'ath0',
      syslog_format: 'rfc3164',
      transport: 'udp',
      sender_ip: '127.0.0.1',
    });
    expect(rec?._index).toMatch(/^logstash-cpe-\d{4}\.\d{2}\.\d{2}$/);
    // logger stamps local time without zone; the default zone is UTC and this machine runs in UTC: within a minute.
    expect(Math.abs(Date.parse(String(rec?.['@timestamp'])) - Date.now())).toBeLessThan(120_000);
  });

  it('RFC 5424 over UDP: a FreeRADIUS auth line goes to logstash-radius with user and MAC, no password', async () => {
    sendWithLogger(
      'Auth: (7) Login incorrect (pap: Cleartext password does not match "known good" password): [alice/s3cret] (from client nas-porto port 3 cli AA-BB-CC-DD-EE-01)',
      {
        port: w.syslogUdp,
        transport: 'udp',
        format: 'rfc5424',
        tag: 'freeradius',
      },
    );
    const [rec] = await find({ subscriber: 'alice' });
    expect(rec).toMatchObject({
      kind: 'auth.login_failed',
      parser: 'freeradius',
      user: 'alice',
      mac: 'aa:bb:cc:dd:ee:01',
      client: 'nas-porto',
      module: 'pap',
      syslog_format: 'rfc5424',
    });
    expect(rec?._index).toMatch(/^logstash-radius-/);
    expect(rec?.structured_data).toMatchObject({ timeQuality: { tzKnown: '1' } });
    // The raw message is kept as sent (it contains the password FreeRADIUS logged); the parsed fields never do.
    expect(JSON.stringify({ ...rec, message: undefined })).not.toContain('s3cret');
  });

  it('RFC 5424 over TCP (LF framing) with structured data and MSGID', async () => {
    sendWithLogger('ath0: CTRL-EVENT-SIGNAL-CHANGE above=1 signal=-61 noise=-95 txrate=65000', {
      port: w.syslogTcp,
      transport: 'tcp',
      format: 'rfc5424',
      tag: 'wpa_supplicant',
      msgId: 'SIG',
      sdId: 'rgz@32473',
      sdParams: ['site="cotonou-1"'],
    });
    const [rec] = await find({ service: 'wpa_supplicant' });
    expect(rec).toMatchObject({ kind: 'wifi.signal_changed', signal_dbm: -61, noise_dbm: -95, txrate_kbps: 65000, msg_id: 'SIG', transport: 'tcp' });
    expect(rec?.structured_data).toMatchObject({ 'rgz@32473': { site: 'cotonou-1' } });
  });

  it('RFC 5424 over TCP with octet counting, several messages on one connection', async () => {
    sendWithLogger(undefined, {
      port: w.syslogTcp,
      transport: 'tcp',
      format: 'rfc5424',
      tag: 'octet-test',
      octetCount: true,
      stdin: 'first octet-counted line\nsecond octet-counted line\nthird octet-counted line\n',
    });
    const items = await find({ service: 'octet-test' }, 3);
    expect(items.map((i) => i.message).sort()).toEqual(['first octet-counted line', 'second octet-counted line', 'third octet-counted line']);
  });

  it('RFC 3164 over TCP: an unknown line is kept raw, never dropped', async () => {
    sendWithLogger('something no parser knows about 0xDEADBEEF', { port: w.syslogTcp, transport: 'tcp', format: 'rfc3164', tag: 'mystery' });
    const [rec] = await find({ q: '0xDEADBEEF' });
    expect(rec).toMatchObject({ message: 'something no parser knows about 0xDEADBEEF', app: 'mystery', syslog_format: 'rfc3164' });
    expect(rec?.kind).toBeUndefined();
    expect(rec?._index).toMatch(/^logstash-cpe-/);
    expect(await metricValue(w.server, 'logs_parsed_total', { parser: 'none' })).toBeGreaterThan(0);
  });

  it('oversized messages are cut with a flag; non-UTF-8 bytes become U+FFFD with a flag', async () => {
    const big = `BIGLINE ${'x'.repeat(20_000)}`;
    sendWithLogger(big, { port: w.syslogTcp, transport: 'tcp', format: 'rfc3164', tag: 'big', size: 30_000 });
    const [cut] = await find({ q: 'BIGLINE' });
    expect(cut?.truncated).toBe(true);
    expect(Number(cut?.original_bytes)).toBeGreaterThan(20_000);
    expect(String(cut?.message).length).toBeLessThan(8192);

    sendWithLogger(undefined, {
      port: w.syslogUdp,
      transport: 'udp',
      format: 'rfc3164',
      tag: 'latin1',
      stdin: Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' cr\xe8me NONUTF8\n', 'latin1')]),
    });
    const [bad] = await find({ q: 'NONUTF8' });
    expect(bad?.invalid_utf8).toBe(true);
    expect(String(bad?.message)).toContain('caf\uFFFD');
    await w.logs.flush();
    expect(await metricValue(w.server, 'logs_lines_truncated_total', { source: 'syslog_tcp' })).toBeGreaterThan(0);
    expect(await metricValue(w.server, 'logs_lines_invalid_utf8_total', { source: 'syslog_udp' })).toBeGreaterThan(0);
  });

  it('the CLI command finds the same records', async () => {
    const cmd = w.server.kernel.commands.get('logs');
    expect(cmd).toBeDefined();
    const out: string[] = [];
    const err: string[] = [];
    const code = await cmd?.run(['search', '--since', '1h', '--mac', 'aa:bb:cc:dd:ee:01'], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Login incorrect');
    expect(err.join('\n')).toMatch(/1 record\(s\) from local files/);
    const json: string[] = [];
    await cmd?.run(['search', '--service', 'radius', '--json'], { out: (l) => json.push(l), err: () => {} });
    expect(JSON.parse(json[0] as string)).toMatchObject({ kind: 'auth.login_failed' });
    expect(await cmd?.run(['search', '--since', 'yesterday'], { out: () => {}, err: () => {} })).toBe(2);
  });
});
