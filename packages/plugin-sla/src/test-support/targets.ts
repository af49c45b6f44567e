/**
 * Probe targets the SLA tests start themselves, all on 127.0.0.1 (nothing leaves the machine):
 * - an HTTP server with `/up` (200), `/slow` (answers after 4 s unless made fast), `/500`, and `/flip` (200 until
 *   switched to 500);
 * - a DNS server built with dns-packet that answers A queries for any name with 192.0.2.10 (TEST-NET-1) while
 *   `answering`, and stays silent otherwise.
 */
import dgram from 'node:dgram';
import { createServer, type Server } from 'node:http';
import dnsPacket from 'dns-packet';

export interface HttpTargets {
  readonly base: string;
  /** `/flip` answers 500 from now on (true) or 200 (false). */
  flip(down: boolean): void;
  /** `/slow` answers at once from now on. */
  fast(yes: boolean): void;
  close(): Promise<void>;
}

export async function startHttpTargets(): Promise<HttpTargets> {
  let flipped = false;
  let fast = false;
  const server: Server = createServer((req, res) => {
    const reply = (status: number) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status }));
    };
    if (req.url === '/up') return reply(200);
    if (req.url === '/500') return reply(500);
    if (req.url === '/flip') return reply(flipped ? 500 : 200);
    if (req.url === '/slow') {
      if (fast) return reply(200);
      const t = setTimeout(() => reply(200), 4000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    reply(404);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    base: `http://127.0.0.1:${port}`,
    flip: (down) => {
      flipped = down;
    },
    fast: (yes) => {
      fast = yes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const DNS_ANSWER = '192.0.2.10';

export interface DnsTarget {
  readonly port: number;
  /** Queries received. */
  readonly queries: number;
  answering(yes: boolean): void;
  close(): Promise<void>;
}

export async function startDnsTarget(options: { answering: boolean }): Promise<DnsTarget> {
  let answering = options.answering;
  let queries = 0;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let query: ReturnType<typeof dnsPacket.decode>;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    queries++;
    if (!answering) return;
    const q = query.questions?.[0];
    if (!q) return;
    const reply = dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [q],
      answers: q.type === 'A' ? [{ name: q.name, type: 'A', ttl: 60, data: DNS_ANSWER }] : [],
    });
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    get queries() {
      return queries;
    },
    answering: (yes) => {
      answering = yes;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
