/**
 * The sinkhole's DNS server: UDP and TCP listeners on one address and port, and the decision each query gets.
 * Clients outside the allowed subnets are REFUSED (no open resolver for the Internet); trusted and authorised clients
 * are forwarded upstream; everyone else gets the portal's address, except for walled-garden names, which are
 * forwarded too, and OS probe names, which always get the portal so the phone shows its sign-in sheet.
 */
import dgram from 'node:dgram';
import { createServer as createTcpServer, isIP, type Socket, type Server as TcpServer } from 'node:net';
import type { Logger } from '@rgz/core';
import type { SubnetSet } from './ip.js';
import { normaliseIp } from './ip.js';
import type { DomainSuffixSet, ExactNameSet } from './names.js';
import type { Forwarder } from './upstream.js';
import { clientUdpLimit, errorReply, type ParsedQuery, parseQuery, portalReply, RCODE, truncatedReply } from './wire.js';

/** The `decision` label of `dns_queries_total`. */
export type Decision = 'portal' | 'walled_garden' | 'forwarded' | 'refused' | 'malformed';

export interface DnsSinkholeOptions {
  host: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  tcp: boolean;
  portal: { ipv4: string; ipv6: string | null; ttlSeconds: number };
  forwarder: Forwarder;
  /** Who may query at all. */
  allowedClients: SubnetSet;
  /** Clients always forwarded, session or not (the NAS, the servers, a management LAN). */
  trustedClients: SubnetSet;
  walledGarden: DomainSuffixSet;
  probeHosts: ExactNameSet;
  /** Whether this canonical client address has a live session. */
  isAuthorised: (ip: string) => Promise<boolean>;
  log: Logger;
  count: (decision: Decision) => void;
  /** Concurrent TCP connections accepted (default 256). */
  maxTcpConnections?: number;
  /** A TCP connection idle this long is closed (default 10 s, RFC 7766 suggests seconds). */
  tcpIdleMs?: number;
}

export interface ListenAddress {
  host: string;
  udpPort: number;
  tcpPort: number | null;
}

export class DnsSinkhole {
  private udp: dgram.Socket | undefined;
  private tcp: TcpServer | undefined;
  private readonly connections = new Set<Socket>();
  private listening: ListenAddress | undefined;
  private lastKvErrorLog = 0;

  constructor(private readonly options: DnsSinkholeOptions) {}

  address(): ListenAddress | undefined {
    return this.listening;
  }

  async start(): Promise<ListenAddress> {
    const { host, port } = this.options;
    // With port 0 the UDP socket picks the port and TCP must get the same one; another process may hold it on TCP,
    // so try a few times.
    for (let attempt = 1; ; attempt++) {
      const udp = await this.bindUdp(host, port);
      const udpPort = udp.address().port;
      if (!this.options.tcp) {
        this.udp = udp;
        this.listening = { host, udpPort, tcpPort: null };
        return this.listening;
      }
      try {
        this.tcp = await this.listenTcp(host, udpPort);
        this.udp = udp;
        this.listening = { host, udpPort, tcpPort: udpPort };
        return this.listening;
      } catch (err) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 10) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    this.listening = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of this.connections) socket.destroy();
      await closed;
    }
  }

  /**
   * The answer to one DNS message from `client`, or null to send nothing (malformed input, or a message from a
   * refused client that could not even be read as a query).
   */
  async answer(message: Buffer, client: string, transport: 'udp' | 'tcp'): Promise<Buffer | null> {
    const parsed = parseQuery(message);
    if (parsed.kind === 'drop') {
      this.options.count('malformed');
      this.options.log.debug({ client, transport, reason: parsed.reason, bytes: message.length }, 'dns message dropped');
      return null;
    }
    const ip = normaliseIp(client) ?? client;
    if (!this.options.allowedClients.has(ip)) {
      this.options.count('refused');
      return parsed.kind === 'query' ? errorReply(parsed.query, RCODE.REFUSED) : null;
    }
    if (parsed.kind === 'error') {
      this.options.count('malformed');
      return parsed.reply;
    }
    const query = parsed.query;
    const decision = await this.decide(query, ip);
    this.options.count(decision);
    if (decision === 'portal') return portalReply(query, this.options.portal);
    let answer: Buffer;
    try {
      answer = await this.options.forwarder.forward(message);
    } catch (err) {
      this.options.log.warn({ client: ip, name: query.name, qtype: query.qtype, err }, 'dns forward failed; answering SERVFAIL');
      return errorReply(query, RCODE.SERVFAIL);
    }
    if (transport === 'udp' && answer.length > clientUdpLimit(query)) return truncatedReply(query, answer);
    return answer;
  }

  /** Portal, walled garden or forwarded, for a query from an allowed client. */
  async decide(query: ParsedQuery, ip: string): Promise<Exclude<Decision, 'refused' | 'malformed'>> {
    if (this.options.trustedClients.has(ip)) return 'forwarded';
    let authorised: boolean;
    try {
      authorised = await this.options.isAuthorised(ip);
    } catch (err) {
      // Fail open: the NAS, not DNS, decides who reaches the Internet; a KV outage must not send every
      // subscriber to the portal.
      const now = Date.now();
      if (now - this.lastKvErrorLog > 10_000) {
        this.lastKvErrorLog = now;
        this.options.log.error({ err }, 'dns sinkhole cannot read client authorisations; forwarding every query meanwhile');
      }
      return 'forwarded';
    }
    if (authorised) return 'forwarded';
    if (this.options.probeHosts.has(query.name)) return 'portal';
    if (this.options.walledGarden.has(query.name)) return 'walled_garden';
    return 'portal';
  }

  private bindUdp(host: string, port: number): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', ipv6Only: false });
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.options.log.error({ err }, 'dns udp socket error'));
        socket.on('message', (message, remote) => {
          this.answer(message, remote.address, 'udp').then(
            (reply) => {
              if (reply)
                socket.send(
                  reply,
                  remote.port,
                  remote.address,
                  (err) => err && this.options.log.debug({ err, client: remote.address }, 'dns udp reply not sent'),
                );
            },
            (err: unknown) => this.options.log.error({ err, client: remote.address }, 'dns query failed'),
          );
        });
        resolve(socket);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<TcpServer> {
    return new Promise((resolve, reject) => {
      const server = createTcpServer((socket) => this.serveTcp(socket));
      server.maxConnections = this.options.maxTcpConnections ?? 256;
      server.once('error', reject);
      server.listen({ host, port, ipv6Only: false }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.log.error({ err }, 'dns tcp server error'));
        resolve(server);
      });
    });
  }

  /** RFC 1035 §4.2.2 / RFC 7766: two-byte length, then the message; several per connection, answered as they finish. */
  private serveTcp(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.options.tcpIdleMs ?? 10_000, () => socket.destroy());
    const client = socket.remoteAddress ?? '';
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const size = buffered.readUInt16BE(0);
        if (buffered.length < 2 + size) break;
        const message = buffered.subarray(2, 2 + size);
        buffered = buffered.subarray(2 + size);
        this.answer(message, client, 'tcp').then(
          (reply) => {
            if (!reply || socket.destroyed) return;
            const length = Buffer.alloc(2);
            length.writeUInt16BE(reply.length);
            socket.write(Buffer.concat([length, reply]));
          },
          (err: unknown) => this.options.log.error({ err, client }, 'dns query failed'),
        );
      }
    });
  }
}
