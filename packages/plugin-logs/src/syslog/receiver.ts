/**
 * Syslog listeners: UDP (RFC 5426, one message per datagram) and TCP (RFC 6587, octet counting or LF framing), on a
 * configurable host and port — 5514 by default, since 514 needs root (see docs/logs.md for `setcap` / an iptables
 * redirect). Lines longer than `maxMessageBytes` are cut (flagged `truncated`), invalid UTF-8 is replaced (flagged
 * `invalid_utf8`). The same framing serves the NetFlow line sockets (`mode: 'lf'`, one JSON object per line).
 */

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from '@rgz/core';
import type { IngestItem, Pipeline } from '../ingest/pipeline.js';
import { decodeLine } from '../util/text.js';
import { SyslogFramer } from './framing.js';

export interface ListenerOptions {
  host: string;
  udpPort: number | null;
  tcpPort: number | null;
  maxMessageBytes: number;
  maxConnections: number;
  idleTimeoutMs: number;
  recvBufferSize?: number | undefined;
  /** `syslog`: items go through the envelope parser; `flow`: JSON flow lines. */
  kind: 'syslog' | 'flow';
}

export interface BoundAddress {
  address: string;
  port: number;
}

const unmap = (a: string | undefined) => (a?.startsWith('::ffff:') ? a.slice(7) : a);

export class LineListener {
  #udp: UdpSocket | undefined;
  #tcp: Server | undefined;
  #sockets = new Set<Socket>();
  readonly #o: ListenerOptions;

  constructor(
    options: ListenerOptions,
    private readonly pipeline: Pipeline,
    private readonly log: Logger,
    private readonly onConnections: (n: number) => void = () => {},
  ) {
    this.#o = options;
  }

  get udpAddress(): BoundAddress | undefined {
    const a = this.#udp?.address();
    return a ? { address: a.address, port: a.port } : undefined;
  }

  get tcpAddress(): BoundAddress | undefined {
    const a = this.#tcp?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Datagrams the kernel dropped because the socket's receive buffer was full (Linux: the `drops` column of
   * /proc/net/udp{,6} for our port) — under a UDP flood this is where most loss happens, before any code of ours runs.
   * Undefined where /proc is not available.
   */
  kernelDrops(): number | undefined {
    const port = this.udpAddress?.port;
    if (port === undefined) return undefined;
    const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    let total: number | undefined;
    for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const row of text.split('\n').slice(1)) {
        const cols = row.trim().split(/\s+/);
        if (cols.length < 13 || !cols[1]?.endsWith(hexPort)) continue;
        total = (total ?? 0) + Number(cols[cols.length - 1]);
      }
    }
    return total;
  }

  async start(): Promise<void> {
    if (this.#o.udpPort !== null) await this.#startUdp(this.#o.udpPort);
    if (this.#o.tcpPort !== null) await this.#startTcp(this.#o.tcpPort);
  }

  #source(): string {
    return this.#o.kind === 'syslog' ? 'syslog' : 'netflow';
  }

  #startUdp(port: number): Promise<void> {
    const ipv6 = isIPv6(this.#o.host) || this.#o.host === '::';
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', reuseAddr: false, ...(ipv6 ? { ipv6Only: false } : {}) });
    const source = `${this.#source()}_udp`;
    const max = this.#o.maxMessageBytes;
    const dropIndex = this.#o.kind === 'syslog' ? 'syslog' : 'netflow';
    socket.on('message', (buf, rinfo) => {
      this.pipeline.count('lines', source);
      // Check room before decoding: under a flood a dropped datagram costs almost nothing.
      if (!this.pipeline.hasRoom(Math.min(buf.length, max) * 2 + 64)) {
        this.pipeline.drop(dropIndex);
        return;
      }
      const receivedAt = Date.now();
      if (this.#o.kind === 'syslog') {
        this.#offer({ t: 'syslog', line: decodeLine(buf, max), receivedAt, source: unmap(rinfo.address), transport: 'udp' }, source, false, dropIndex);
        return;
      }
      // Flow lines: a datagram may carry several.
      let start = 0;
      while (start < buf.length) {
        let end = buf.indexOf(0x0a, start);
        if (end < 0) end = buf.length;
        if (end > start) this.#offer({ t: 'flow', line: decodeLine(buf.subarray(start, end), max), receivedAt, id: undefined }, source, false, dropIndex);
        start = end + 1;
      }
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: this.#o.host }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log.error({ err }, 'UDP listener error'));
        if (this.#o.recvBufferSize) {
          try {
            socket.setRecvBufferSize(this.#o.recvBufferSize);
          } catch (err) {
            this.log.warn({ err }, 'could not set the UDP receive buffer size (raise net.core.rmem_max)');
          }
        }
        this.#udp = socket;
        resolve();
      });
    });
  }

  #offer(item: IngestItem, source: string, force: boolean, dropIndex: string): boolean {
    if (item.line.truncated) this.pipeline.count('truncated', source);
    if (item.line.invalidUtf8) this.pipeline.count('invalidUtf8', source);
    if (this.pipeline.offer(item, force)) return true;
    this.pipeline.drop(dropIndex);
    return false;
  }

  #startTcp(port: number): Promise<void> {
    const server = createServer({ noDelay: true });
    server.maxConnections = this.#o.maxConnections;
    const source = `${this.#source()}_tcp`;
    const max = this.#o.maxMessageBytes;
    server.on('connection', (socket) => this.#connection(socket, source, max));
    server.on('drop', (data) => this.log.warn({ from: data?.remoteAddress, max: this.#o.maxConnections }, 'TCP log connection refused: too many connections'));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.#o.host }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err }, 'TCP listener error'));
        this.#tcp = server;
        resolve();
      });
    });
  }

  #connection(socket: Socket, source: string, max: number): void {
    this.#sockets.add(socket);
    this.onConnections(this.#sockets.size);
    const framer = new SyslogFramer(max, this.#o.kind === 'syslog' ? 'octet-or-lf' : 'lf');
    const from = unmap(socket.remoteAddress);
    const dropIndex = this.#o.kind === 'syslog' ? 'syslog' : 'netflow';
    const emit = (frame: { bytes: Buffer; originalBytes: number; truncated: boolean }) => {
      this.pipeline.count('lines', source);
      const line = decodeLine(frame.bytes, max, frame.truncated ? frame.originalBytes : undefined);
      const receivedAt = Date.now();
      const item: IngestItem =
        this.#o.kind === 'syslog' ? { t: 'syslog', line, receivedAt, source: from, transport: 'tcp' } : { t: 'flow', line, receivedAt, id: undefined };
      // Already read from the socket: never dropped (force); the socket is paused below instead.
      this.#offer(item, source, true, dropIndex);
    };
    if (this.#o.idleTimeoutMs > 0) socket.setTimeout(this.#o.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk, emit);
      if (this.pipeline.paused && !socket.isPaused()) {
        socket.pause();
        this.pipeline.onResume(() => {
          if (!socket.destroyed) socket.resume();
        });
      }
    });
    socket.on('end', () => framer.end(emit));
    socket.on('error', () => {});
    socket.on('close', () => {
      // A reset connection: keep what had arrived (as truncated, when mid-frame).
      framer.end(emit);
      this.#sockets.delete(socket);
      this.onConnections(this.#sockets.size);
    });
  }

  async stop(): Promise<void> {
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.#tcp;
    this.#tcp = undefined;
    if (tcp) {
      const closed = new Promise<void>((r) => tcp.close(() => r()));
      // Let senders' last frames in, then cut.
      for (const s of this.#sockets) s.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      for (const s of this.#sockets) s.destroy();
      await closed.catch(() => {});
    }
  }
}
