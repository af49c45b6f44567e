/**
 * NetFlow into logstash-netflow: goflow2 JSON lines (v2 and v1) from a tailed file (goflow2 `-transport=file`) and from
 * the TCP line socket, attributed to subscribers through a radius_sessions fixture table (the seed's columns plus
 * framed_ip, as @rgz/plugin-radius creates it); and real NetFlow v9 from Debian's softflowd (reading a pcap this test
 * writes) collected by nfcapd and decoded by nfdump, as a second ingest path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sql } from '@rgz/core';
import { waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticV2, V1_README } from './fixtures/flows.js';
import { nfdumpJsonRecords } from './netflow/flows.js';
import { writePcap } from './test-support/pcap.js';
import { metricValue, startWorld, tempDir, type World } from './test-support/world.js';

const has = (bin: string) => spawnSync('which', [bin]).status === 0;
const hasFlowTools = has('softflowd') && has('nfcapd') && has('nfdump');

describe('NetFlow ingest', () => {
  let w: World;
  let flowsFile: string;
  let subscriberId: string;
  const dir = tempDir('rgz-flows-');

  beforeAll(async () => {
    flowsFile = join(dir, 'goflow2.json');
    writeFileSync(flowsFile, '');
    w = await startWorld({
      config: {
        files: [{ path: flowsFile, type: 'netflow', startAt: 'beginning' }],
        netflow: { host: '127.0.0.1', tcpPort: 0, udpPort: 0, attribution: { refreshSeconds: 3600 } },
      },
    });
    const db = w.server.kernel.db;
    // Fixture of the seed's radius_sessions (+ framed_ip) — @rgz/plugin-radius owns the real one.
    await sql`create table radius_sessions (
      id bigserial primary key, subscriber_id uuid references subscribers(id), nas_id text not null, mac_address text,
      framed_ip text, bytes_in bigint not null default 0, bytes_out bigint not null default 0,
      session_start timestamptz not null, session_stop timestamptz)`.execute(db);
    const sub = await sql<{ id: string }>`insert into subscribers (subscriber_ref, msisdn) values ('RGZ-000050', '+2290197000050') returning id`.execute(db);
    subscriberId = sub.rows[0]?.id as string;
    await sql`insert into radius_sessions (subscriber_id, nas_id, mac_address, framed_ip, session_start)
      values (${subscriberId}, 'access_tech_connect', '24:a4:3c:01:02:03', '10.100.0.50', now() - interval '1 hour'),
             (${subscriberId}, 'access_tech_connect', '24:a4:3c:01:02:03', '10.100.0.77', now() - interval '1 hour')`.execute(db);
    await sql`insert into radius_sessions (subscriber_id, nas_id, mac_address, framed_ip, session_start, session_stop)
      values (null, 'old-nas', null, '10.100.0.99', now() - interval '3 hours', now() - interval '2 hours')`.execute(db);
    await w.logs.refreshSessions();
  });
  afterAll(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const search = async (params: Record<string, string>, n = 1) =>
    waitFor(
      async () => {
        await w.logs.flush();
        const res = await w.server.request(`/api/logs/search?${new URLSearchParams({ index: 'netflow', limit: '1000', ...params })}`, {
          headers: w.server.auth(w.server.nocToken),
        });
        const body = (await res.json()) as { items: Array<Record<string, unknown>> };
        return body.items.length >= n ? body.items : undefined;
      },
      15_000,
      { message: JSON.stringify(params) },
    );

  it('goflow2 v2 lines from a tailed file, attributed to the subscriber behind the source address', async () => {
    appendFileSync(
      flowsFile,
      `${JSON.stringify(syntheticV2())}\n${JSON.stringify(syntheticV2({ src_addr: '8.8.4.4', dst_addr: '10.100.0.50', src_port: 53, dst_port: 40000, proto: 'UDP', bytes: 120, sampling_rate: 10 }))}\n`,
    );
    const items = await search({ subscriber: subscriberId }, 2);
    const up = items.find((i) => i.direction === 'upload');
    const down = items.find((i) => i.direction === 'download');
    expect(up).toMatchObject({
      source_ip: '10.100.0.50',
      dest_ip: '8.8.8.8',
      bytes: 1048576,
      duration_ms: 5000,
      protocol: 'TCP',
      subscriber_ref: 'RGZ-000050',
      nas_id: 'access_tech_connect',
      mac: '24:a4:3c:01:02:03',
      input_format: 'goflow2-v2',
    });
    expect(down).toMatchObject({
      source_ip: '8.8.4.4',
      dest_ip: '10.100.0.50',
      bytes: 1200,
      bytes_raw: 120,
      sampling_rate: 10,
      protocol: 'UDP',
      subscriber_ip: '10.100.0.50',
    });
    expect(up?._index).toMatch(/^logstash-netflow-\d{4}\.\d{2}\.\d{2}$/);
    // Searching by the subscriber's MAC or NAS finds the flows too.
    expect((await search({ mac: '24-A4-3C-01-02-03' }, 2)).length).toBeGreaterThanOrEqual(2);
  });

  it('goflow2 v1 lines over the TCP line socket; garbage is kept raw and tagged; unattributable flows stay unattributed', async () => {
    const port = w.logs.status().listeners.netflowTcp?.port as number;
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end(
          `${JSON.stringify({ ...V1_README, SrcAddr: '192.0.2.7', TimeFlowStart: Math.floor(Date.now() / 1000), TimeFlowEnd: Math.floor(Date.now() / 1000) + 2 })}\nthis is not json\n{"flow":"unknown shape"}\n`,
        );
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    const v1 = await waitFor(async () => (await search({ service: 'netflow' })).find((i) => i.input_format === 'goflow2-v1'), 15_000);
    expect(v1).toMatchObject({ source_ip: '192.0.2.7', dest_ip: '10.0.0.1', bytes: 7000, duration_ms: 2000, protocol: 'TCP' });
    expect(v1?.subscriber_id).toBeUndefined();
    const raw = await search({ q: 'this is not json' });
    expect(raw[0]).toMatchObject({ tags: ['_jsonparsefailure'] });
    const shape = await search({ q: 'unknown shape' });
    expect(shape[0]).toMatchObject({ tags: ['_flowparsefailure'] });
    expect(await metricValue(w.server, 'logs_netflow_attributed_total', { result: 'none' })).toBeGreaterThan(0);
  });

  it('goflow2 lines over UDP datagrams (several per datagram)', async () => {
    const port = w.logs.status().listeners.netflowUdp?.port as number;
    const sock = createSocket('udp4');
    const lines = [
      syntheticV2({ src_addr: '10.100.0.50', dst_addr: '1.0.0.1', dst_port: 853 }),
      syntheticV2({ src_addr: '10.100.0.50', dst_addr: '1.0.0.2', dst_port: 853 }),
      // 10.100.0.99's session ended two hours ago: not attributed.
      syntheticV2({ src_addr: '10.100.0.99', dst_addr: '1.0.0.3', dst_port: 853 }),
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    await new Promise<void>((r) => sock.send(lines, port, '127.0.0.1', () => r()));
    sock.close();
    const items = await search({ subscriber: 'RGZ-000050' }, 4);
    expect(items.filter((i) => i.dest_port === 853)).toHaveLength(2);
    const stale = await waitFor(async () => (await search({ service: 'netflow' })).find((i) => i.source_ip === '10.100.0.99'), 15_000);
    expect(stale.subscriber_id).toBeUndefined();
    expect(stale.nas_id).toBeUndefined();
  });

  it.skipIf(!hasFlowTools)('real NetFlow v9: softflowd (from a pcap) → nfcapd → nfdump -o json → the same pipeline', async () => {
    const work = join(dir, 'nf');
    mkdirSync(join(work, 'flows'), { recursive: true });
    const t0 = Date.now() - 60_000;
    writePcap(join(work, 'capture.pcap'), [
      ...Array.from({ length: 12 }, (_, i) => ({
        timeMs: t0 + i * 500,
        src: '10.100.0.77',
        dst: '1.1.1.1',
        protocol: 'tcp' as const,
        srcPort: 45000,
        dstPort: 443,
        payloadBytes: 1000,
      })),
      ...Array.from({ length: 4 }, (_, i) => ({
        timeMs: t0 + i * 250,
        src: '10.100.0.77',
        dst: '9.9.9.9',
        protocol: 'udp' as const,
        srcPort: 41000,
        dstPort: 53,
        payloadBytes: 60,
      })),
    ]);
    // A free UDP port for nfcapd.
    const probe = createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    const nfcapd = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', join(work, 'flows')], { stdio: 'ignore', env: { ...process.env, TZ: 'UTC' } });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const sf = spawnSync('softflowd', ['-r', join(work, 'capture.pcap'), '-n', `127.0.0.1:${port}`, '-v', '9'], { encoding: 'utf8', timeout: 20_000 });
      expect(sf.status, sf.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      nfcapd.kill('SIGTERM');
      await new Promise((r) => nfcapd.once('exit', r));
    }
    const dump = spawnSync('nfdump', ['-R', join(work, 'flows'), '-o', 'json'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(dump.status, dump.stderr).toBe(0);
    const records = nfdumpJsonRecords(dump.stdout);
    expect(records.length).toBeGreaterThanOrEqual(2);
    // What an operator does with `nfdump … -o json | jq -c '.[]' >> flows.jsonl`: one object per line, tailed.
    appendFileSync(flowsFile, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const items = (await search({ subscriber: 'RGZ-000050' }, 6)).filter((i) => i.input_format === 'nfdump');
    const tcp = items.find((i) => i.protocol === 'TCP');
    const udp = items.find((i) => i.protocol === 'UDP');
    // 12 × (14 Ethernet header excluded) IP packets of 20 + 20 + 1000 bytes; 4 × (20 + 8 + 60).
    expect(tcp).toMatchObject({
      source_ip: '10.100.0.77',
      dest_ip: '1.1.1.1',
      source_port: 45000,
      dest_port: 443,
      packets: 12,
      bytes: 12 * 1040,
      duration_ms: 5500,
      sampler_address: '127.0.0.1',
      subscriber_ref: 'RGZ-000050',
    });
    expect(udp).toMatchObject({ source_ip: '10.100.0.77', dest_ip: '9.9.9.9', packets: 4, bytes: 4 * 88, duration_ms: 750 });
  });
});
