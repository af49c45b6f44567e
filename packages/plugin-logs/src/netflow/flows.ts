/**
 * Flow records → the seed's netflow_logs document (`source_ip, dest_ip, bytes, duration_ms, protocol`, plus ports,
 * packets and exporter fields). Three input shapes, told apart by their keys (../shared/specs/logs-and-netflow.md §3):
 *
 * - goflow2 v2 JSON (snake_case): `time_flow_start_ns`, `bytes`, `sampling_rate`, `src_addr`, `proto` ("TCP"), …
 * - goflow2 v1 JSON (CamelCase, seconds): `TimeFlowStart`, `Bytes`, `SamplingRate`, `SrcAddr`, `Proto` (6) / `ProtoName`…
 * - nfdump `-o json` records (`type: "FLOW"`, `src4_addr`/`src6_addr`, `in_bytes`, `first`/`last`), the second ingest
 *   path (softflowd/any exporter → nfcapd → nfdump), one object per line.
 *
 * `bytes` and `packets` are multiplied by the sampling rate (goflow2 does not: sFlow and sampled NetFlow carry 1-in-N
 * samples); the unscaled counts stay in `bytes_raw` / `packets_raw`.
 */

import { isIP } from 'node:net';
import { normalizeMac } from '../util/mac.js';

export type FlowFormat = 'goflow2-v2' | 'goflow2-v1' | 'nfdump';

export interface Flow {
  format: FlowFormat;
  /** Flow start (else end, else received), ms since epoch. */
  time: number;
  source_ip: string;
  dest_ip: string;
  bytes: number;
  packets?: number;
  bytes_raw: number;
  packets_raw?: number;
  sampling_rate: number;
  duration_ms: number;
  protocol: string;
  source_port?: number;
  dest_port?: number;
  flow_type?: string;
  etype?: string;
  sampler_address?: string;
  src_mac?: string;
  dst_mac?: string;
  in_if?: number;
  out_if?: number;
  tcp_flags?: number;
  src_as?: number;
  dst_as?: number;
  flow_start?: number;
  flow_end?: number;
  time_received?: number;
}

const PROTOCOLS: Record<number, string> = {
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  89: 'OSPF',
  132: 'SCTP',
};
const ETYPES: Record<number, string> = { 2048: 'IPv4', 34525: 'IPv6', 2054: 'ARP' };

export function protocolName(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255) return PROTOCOLS[value] ?? String(value);
  if (typeof value === 'string' && value.length > 0 && value.length <= 16) return /^\d+$/.test(value) ? protocolName(Number(value)) : value.toUpperCase();
  return undefined;
}

const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(?:\.\d+)?$/.test(v)) return Number(v);
  return undefined;
};
const ip = (v: unknown): string | undefined => (typeof v === 'string' && isIP(v) !== 0 ? v : undefined);
const int = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
};

export function detectFormat(o: Record<string, unknown>): FlowFormat | undefined {
  if ('src_addr' in o || 'time_flow_start_ns' in o || 'sampler_address' in o) return 'goflow2-v2';
  if ('SrcAddr' in o || 'TimeFlowStart' in o || 'SamplerAddress' in o) return 'goflow2-v1';
  if ('src4_addr' in o || 'src6_addr' in o || ('in_bytes' in o && 'first' in o)) return 'nfdump';
  return undefined;
}

/** One decoded JSON object → a flow, or undefined when it is not a flow record with both addresses. */
export function normalizeFlow(o: Record<string, unknown>, receivedAt: number): Flow | undefined {
  switch (detectFormat(o)) {
    case 'goflow2-v2':
      return fromV2(o, receivedAt);
    case 'goflow2-v1':
      return fromV1(o, receivedAt);
    case 'nfdump':
      return fromNfdump(o, receivedAt);
    default:
      return undefined;
  }
}

function scaled(o: {
  bytes: unknown;
  packets: unknown;
  rate: unknown;
}): Pick<Flow, 'bytes' | 'bytes_raw' | 'packets' | 'packets_raw' | 'sampling_rate'> | undefined {
  const bytesRaw = int(o.bytes);
  if (bytesRaw === undefined) return undefined;
  const packetsRaw = int(o.packets);
  const r = int(o.rate);
  const rate = r !== undefined && r > 0 ? r : 1;
  return {
    bytes: bytesRaw * rate,
    bytes_raw: bytesRaw,
    sampling_rate: rate,
    ...(packetsRaw !== undefined ? { packets: packetsRaw * rate, packets_raw: packetsRaw } : {}),
  };
}

function common(flow: Partial<Flow>, extras: Record<string, unknown>): Partial<Flow> {
  for (const [k, v] of Object.entries(extras)) if (v !== undefined) (flow as Record<string, unknown>)[k] = v;
  return flow;
}

function fromV2(o: Record<string, unknown>, receivedAt: number): Flow | undefined {
  const source = ip(o.src_addr);
  const dest = ip(o.dst_addr);
  const counts = scaled({ bytes: o.bytes, packets: o.packets, rate: o.sampling_rate });
  if (!source || !dest || !counts) return undefined;
  const startNs = num(o.time_flow_start_ns);
  const endNs = num(o.time_flow_end_ns);
  const recvNs = num(o.time_received_ns);
  const start = startNs !== undefined && startNs > 0 ? Math.floor(startNs / 1e6) : undefined;
  const end = endNs !== undefined && endNs > 0 ? Math.floor(endNs / 1e6) : undefined;
  const received = recvNs !== undefined && recvNs > 0 ? Math.floor(recvNs / 1e6) : undefined;
  const duration = start !== undefined && end !== undefined && end >= start ? end - start : 0;
  return common(
    {
      format: 'goflow2-v2',
      time: start ?? end ?? received ?? receivedAt,
      source_ip: source,
      dest_ip: dest,
      ...counts,
      duration_ms: duration,
      protocol: protocolName(o.proto) ?? 'UNKNOWN',
    },
    {
      source_port: int(o.src_port),
      dest_port: int(o.dst_port),
      flow_type: typeof o.type === 'string' ? o.type : undefined,
      etype: typeof o.etype === 'string' ? o.etype : typeof o.etype === 'number' ? (ETYPES[o.etype] ?? String(o.etype)) : undefined,
      sampler_address: ip(o.sampler_address),
      src_mac: normalizeMac(o.src_mac),
      dst_mac: normalizeMac(o.dst_mac),
      in_if: int(o.in_if),
      out_if: int(o.out_if),
      tcp_flags: int(o.tcp_flags),
      src_as: int(o.src_as),
      dst_as: int(o.dst_as),
      flow_start: start,
      flow_end: end,
      time_received: received,
    },
  ) as Flow;
}

function fromV1(o: Record<string, unknown>, receivedAt: number): Flow | undefined {
  const source = ip(o.SrcAddr);
  const dest = ip(o.DstAddr);
  const counts = scaled({ bytes: o.Bytes, packets: o.Packets, rate: o.SamplingRate });
  if (!source || !dest || !counts) return undefined;
  const secs = (v: unknown) => {
    const n = num(v);
    return n !== undefined && n > 0 ? n * 1000 : undefined;
  };
  const start = secs(o.TimeFlowStart);
  const end = secs(o.TimeFlowEnd);
  const received = secs(o.TimeReceived);
  const duration = start !== undefined && end !== undefined && end >= start ? end - start : 0;
  return common(
    {
      format: 'goflow2-v1',
      time: start ?? end ?? received ?? receivedAt,
      source_ip: source,
      dest_ip: dest,
      ...counts,
      duration_ms: duration,
      protocol: protocolName(o.ProtoName) ?? protocolName(o.Proto) ?? 'UNKNOWN',
    },
    {
      source_port: int(o.SrcPort),
      dest_port: int(o.DstPort),
      flow_type: typeof o.Type === 'string' ? o.Type : undefined,
      etype: typeof o.EtypeName === 'string' ? o.EtypeName : typeof o.Etype === 'number' ? (ETYPES[o.Etype] ?? String(o.Etype)) : undefined,
      sampler_address: ip(o.SamplerAddress),
      src_mac: normalizeMac(o.SrcMac),
      dst_mac: normalizeMac(o.DstMac),
      in_if: int(o.InIf),
      out_if: int(o.OutIf),
      tcp_flags: int(o.TCPFlags),
      src_as: int(o.SrcAS),
      dst_as: int(o.DstAS),
      flow_start: start,
      flow_end: end,
      time_received: received,
    },
  ) as Flow;
}

/** nfdump prints local times without a zone (`2026-11-25T12:57:24.674`); read them as UTC (run nfdump with TZ=UTC). */
function nfTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number((m[7] ?? '0').padEnd(3, '0')));
  return Number.isFinite(t) ? t : undefined;
}

function fromNfdump(o: Record<string, unknown>, receivedAt: number): Flow | undefined {
  const source = ip(o.src4_addr) ?? ip(o.src6_addr);
  const dest = ip(o.dst4_addr) ?? ip(o.dst6_addr);
  const counts = scaled({ bytes: o.in_bytes, packets: o.in_packets, rate: o.sampling_rate });
  if (!source || !dest || !counts) return undefined;
  const start = nfTime(o.first);
  const end = nfTime(o.last);
  const received = nfTime(o.received);
  const duration = start !== undefined && end !== undefined && end >= start ? end - start : 0;
  return common(
    {
      format: 'nfdump',
      time: start ?? end ?? received ?? receivedAt,
      source_ip: source,
      dest_ip: dest,
      ...counts,
      duration_ms: duration,
      protocol: protocolName(o.proto) ?? 'UNKNOWN',
    },
    {
      source_port: int(o.src_port),
      dest_port: int(o.dst_port),
      flow_type: 'NFDUMP',
      etype: source.includes(':') ? 'IPv6' : 'IPv4',
      sampler_address: ip(o.ip4_router) ?? ip(o.ip6_router),
      in_if: int(o.input_snmp),
      out_if: int(o.output_snmp),
      src_as: int(o.src_as),
      dst_as: int(o.dst_as),
      flow_start: start,
      flow_end: end,
      time_received: received,
    },
  ) as Flow;
}

/**
 * `nfdump -o json` prints one pretty-printed JSON array; turn it into objects (for `rgz logs`-side tooling and tests).
 * Operators feeding a tailed file can do the same with `nfdump -r <file> -o json | jq -c '.[]' >> flows.jsonl`.
 */
export function nfdumpJsonRecords(text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const parsed = JSON.parse(trimmed) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && !Array.isArray(r));
}
