/**
 * A tiny pcap writer (libpcap classic format, Ethernet link type) for the NetFlow test: IPv4 TCP/UDP packets between
 * given addresses, with correct IPv4 header checksums, so that softflowd (a real NetFlow exporter) can read them with
 * `-r` and export flows. Written for the tests; no capture of real traffic.
 */
import { writeFileSync } from 'node:fs';

export interface PcapPacket {
  timeMs: number;
  src: string;
  dst: string;
  protocol: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  payloadBytes: number;
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += (buf[i] as number) * 256 + (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function frame(p: PcapPacket): Buffer {
  const payload = Buffer.alloc(p.payloadBytes, 0x61);
  const l4 =
    p.protocol === 'udp'
      ? Buffer.concat([
          Buffer.from([p.srcPort >> 8, p.srcPort & 255, p.dstPort >> 8, p.dstPort & 255, (8 + payload.length) >> 8, (8 + payload.length) & 255, 0, 0]),
          payload,
        ])
      : Buffer.concat([
          Buffer.from([p.srcPort >> 8, p.srcPort & 255, p.dstPort >> 8, p.dstPort & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]),
          payload,
        ]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip.writeUInt16BE(1, 4);
  ip[8] = 64;
  ip[9] = p.protocol === 'udp' ? 17 : 6;
  ipBytes(p.src).copy(ip, 12);
  ipBytes(p.dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
  return Buffer.concat([eth, ip, l4]);
}

export function writePcap(path: string, packets: PcapPacket[]): void {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  parts.push(header);
  for (const p of packets) {
    const f = frame(p);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.timeMs / 1000), 0);
    rec.writeUInt32LE((p.timeMs % 1000) * 1000, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  writeFileSync(path, Buffer.concat(parts));
}
