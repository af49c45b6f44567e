/**
 * A tiny authoritative-for-everything DNS server for tests, on 127.0.0.1 (UDP and TCP on one port), built with
 * dns-packet: fixed records, NXDOMAIN for other names, truncation (TC) over UDP when the answer exceeds what the
 * query allows, and a name that is never answered. The test network is closed: no test queries a real resolver.
 */
import dgram from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer } from 'dns-packet';

export interface FakeUpstreamQuery {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

export interface FakeUpstream {
  readonly port: number;
  /** Every query received, oldest first. */
  queries(): readonly FakeUpstreamQuery[];
  close(): Promise<void>;
}

/** Records by lower-case name; `big.example.com` has 40 A records, enough to overflow 512 bytes. */
export const FAKE_RECORDS: Readonly<Record<string, readonly Answer[]>> = {
  'example.com': [
    { name: 'example.com', type: 'A', ttl: 300, data: '93.184.216.34' },
    { name: 'example.com', type: 'AAAA', ttl: 300, data: '2606:2800:220:1:248:1893:25c8:1946' },
  ],
  'www.example.org': [{ name: 'www.example.org', type: 'A', ttl: 300, data: '93.184.216.35' }],
  'api.kkiapay.me': [{ name: 'api.kkiapay.me', type: 'A', ttl: 300, data: '203.0.113.10' }],
  'cdn.kkiapay.me': [{ name: 'cdn.kkiapay.me', type: 'A', ttl: 300, data: '203.0.113.11' }],
  'dns.msftncsi.com': [{ name: 'dns.msftncsi.com', type: 'A', ttl: 300, data: '131.107.255.255' }],
  'connectivitycheck.gstatic.com': [{ name: 'connectivitycheck.gstatic.com', type: 'A', ttl: 300, data: '142.250.0.1' }],
  'fonts.gstatic.com': [{ name: 'fonts.gstatic.com', type: 'A', ttl: 300, data: '142.250.0.2' }],
  'big.example.com': Array.from({ length: 40 }, (_, i) => ({ name: 'big.example.com', type: 'A' as const, ttl: 300, data: `198.51.100.${i + 1}` })),
};

/** Never answered: the forwarder's timeout path. */
export const SILENT_NAME = 'silent.example.com';

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const received: FakeUpstreamQuery[] = [];
  const sockets = new Set<Socket>();

  const answer = (query: DecodedPacket, transport: 'udp' | 'tcp'): Buffer | null => {
    const question = query.questions?.[0];
    if (!question) return null;
    const name = question.name.toLowerCase();
    received.push({ name, type: question.type, transport });
    if (name === SILENT_NAME) return null;
    const all = FAKE_RECORDS[name];
    const answers = (all ?? []).filter((r) => r.type === question.type);
    const opt = query.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE;
    const rcode = all === undefined ? 3 : 0; // NXDOMAIN for names we do not know
    const build = (list: Answer[], extraFlags: number) =>
      dnsPacket.encode({
        id: query.id,
        type: 'response',
        flags: flags | extraFlags | rcode,
        questions: [question],
        answers: list,
        additionals: opt ? [{ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
      });
    const full = build(answers, 0);
    const limit = opt ? Math.max(512, opt.udpPayloadSize) : 512;
    if (transport === 'udp' && full.length > limit) return build([], dnsPacket.TRUNCATED_RESPONSE);
    return full;
  };

  const decode = (message: Buffer): DecodedPacket | null => {
    try {
      return dnsPacket.decode(message);
    } catch {
      return null;
    }
  };

  // UDP first on a free port, then TCP on the same port; retry if another process holds it on TCP.
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (message, remote) => {
      const query = decode(message);
      const reply = query && answer(query, 'udp');
      if (reply) udp.send(reply, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    const port = udp.address().port;
    const tcp: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const size = buffered.readUInt16BE(0);
          const query = decode(buffered.subarray(2, 2 + size));
          buffered = buffered.subarray(2 + size);
          const reply = query && answer(query, 'tcp');
          if (reply) {
            const length = Buffer.alloc(2);
            length.writeUInt16BE(reply.length);
            socket.write(Buffer.concat([length, reply]));
          }
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (attempt >= 10) throw err;
      continue;
    }
    return {
      port,
      queries: () => [...received],
      async close() {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      },
    };
  }
}
