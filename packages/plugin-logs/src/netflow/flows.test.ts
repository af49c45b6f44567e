import { describe, expect, it } from 'vitest';
import { syntheticV2, V1_README, V2_README } from '../fixtures/flows.js';
import { detectFormat, nfdumpJsonRecords, normalizeFlow, protocolName } from './flows.js';

const now = Date.now();

describe('flow normalisation', () => {
  it('goflow2 v2 (README example): sampled sFlow, bytes × sampling rate, IPv6', () => {
    const f = normalizeFlow(V2_README, now);
    expect(f).toMatchObject({
      format: 'goflow2-v2',
      source_ip: 'fd01::1',
      dest_ip: 'fd01::2',
      bytes: 150_000,
      bytes_raw: 1500,
      packets: 100,
      sampling_rate: 100,
      protocol: 'TCP',
      source_port: 443,
      dest_port: 50001,
      flow_type: 'SFLOW_5',
      sampler_address: '192.168.0.1',
      etype: 'IPv6',
      duration_ms: 0,
    });
    expect(f?.time).toBe(1681583295157);
  });

  it('goflow2 v1 (README example): CamelCase, seconds, numeric protocol and etype', () => {
    const f = normalizeFlow(V1_README, now);
    expect(f).toMatchObject({
      format: 'goflow2-v1',
      source_ip: '192.168.1.1',
      dest_ip: '10.0.0.1',
      bytes: 7000,
      packets: 100,
      protocol: 'TCP',
      etype: 'IPv4',
      src_mac: 'ff:ff:ff:ff:ff:ff',
      in_if: 1,
      out_if: 2,
      tcp_flags: 16,
    });
    expect(f?.time).toBe(1621820000_000);
  });

  it('the seed document fields from a v2 NetFlow v9 record (synthetic); rate 0 means unsampled', () => {
    const f = normalizeFlow(syntheticV2(), now);
    expect(f).toMatchObject({ source_ip: '10.100.0.50', dest_ip: '8.8.8.8', bytes: 1048576, duration_ms: 5000, protocol: 'TCP', sampling_rate: 1 });
  });

  it('nfdump -o json records (softflowd → nfcapd → nfdump)', () => {
    const text =
      '[\n{\n\t"type" : "FLOW",\n\t"first" : "2026-11-25T12:57:27.134",\n\t"last" : "2026-11-25T12:57:36.134",\n\t"received" : "2026-11-25T12:57:40.000",\n\t"in_packets" : 10,\n\t"in_bytes" : 1280,\n\t"proto" : 17,\n\t"src_port" : 40000,\n\t"dst_port" : 53,\n\t"src4_addr" : "10.100.0.50",\n\t"dst4_addr" : "8.8.8.8",\n\t"ip4_router" : "127.0.0.1"\n}]';
    const [rec] = nfdumpJsonRecords(text);
    expect(detectFormat(rec as Record<string, unknown>)).toBe('nfdump');
    expect(normalizeFlow(rec as Record<string, unknown>, now)).toMatchObject({
      format: 'nfdump',
      source_ip: '10.100.0.50',
      dest_ip: '8.8.8.8',
      bytes: 1280,
      packets: 10,
      protocol: 'UDP',
      duration_ms: 9000,
      sampler_address: '127.0.0.1',
    });
  });

  it('not a flow: missing or invalid addresses, no byte count, unknown shape', () => {
    expect(normalizeFlow({ ...syntheticV2(), src_addr: 'nope' }, now)).toBeUndefined();
    expect(normalizeFlow({ ...syntheticV2(), bytes: 'many' }, now)).toBeUndefined();
    expect(normalizeFlow({ hello: 'world' }, now)).toBeUndefined();
  });

  it('protocol names', () => {
    expect([protocolName(6), protocolName(17), protocolName(1), protocolName(58), protocolName(253), protocolName('udp'), protocolName('17')]).toEqual([
      'TCP',
      'UDP',
      'ICMP',
      'ICMPv6',
      '253',
      'UDP',
      'UDP',
    ]);
  });
});
