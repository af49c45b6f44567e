/**
 * The UDP side: an authentication and an accounting listener. For each datagram, in this order:
 * 1. the NAS is chosen by source address (unknown → dropped, counted, never answered; RFC 2865 §3);
 * 2. the packet is decoded strictly (truncated, overrunning attributes, bad lengths → dropped as `malformed`);
 * 3. only the codes the port serves are accepted (Access-Request/Status-Server on auth, Accounting-Request/
 *    Status-Server on accounting);
 * 4. duplicates (RFC 5080 §2.2.2) get the cached answer or, while the first copy is in progress, nothing;
 * 5. authenticators: Accounting-Request's Request Authenticator; Message-Authenticator wherever present (wrong →
 *    drop); missing on an Access-Request from a NAS that requires it → drop; Proxy-State without it → drop
 *    (BlastRADIUS `limit_proxy_state`);
 * 6. the request is processed; the answer (Message-Authenticator first, by the codec) is sent and cached.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '@rgz/core';
import {
  decode,
  encodeResponse,
  PacketCode,
  type RadiusDictionary,
  type RadiusPacket,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
} from '../codec/index.js';
import type { NasEntry, NasRegistry } from '../nas/registry.js';
import { DuplicateCache } from './duplicate-cache.js';
import type { DropReason, RadiusMetrics, RequestType } from './metrics.js';
import { packetAttributes } from './request.js';
import { AccountingNotStored, type RadiusService } from './service.js';

export type ListenerKind = 'auth' | 'acct';

export interface RadiusServerOptions {
  auth: { host: string; port: number };
  acct: { host: string; port: number };
  recvBufferSize: number;
  duplicateCacheSeconds: number;
  maxInFlight: number;
}

export interface RadiusServerDeps {
  registry: NasRegistry;
  dictionary: () => RadiusDictionary;
  /** The decision and the accounting store, shared with the rlm_rest backend. */
  service: RadiusService;
  metrics: RadiusMetrics;
  log: Logger;
}

const ALLOWED: Record<ListenerKind, ReadonlySet<number>> = {
  auth: new Set([PacketCode.AccessRequest, PacketCode.StatusServer]),
  acct: new Set([PacketCode.AccountingRequest, PacketCode.StatusServer]),
};

class Dropped extends Error {
  constructor(readonly reason: DropReason) {
    super(reason);
  }
}

export class RadiusServer {
  readonly #sockets = new Map<ListenerKind, Socket>();
  readonly #caches: Record<ListenerKind, DuplicateCache>;
  readonly #inFlight: Record<ListenerKind, number> = { auth: 0, acct: 0 };
  readonly #unknownLogged = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly options: RadiusServerOptions,
    private readonly deps: RadiusServerDeps,
  ) {
    const ttlMs = options.duplicateCacheSeconds * 1000;
    this.#caches = { auth: new DuplicateCache({ ttlMs }), acct: new DuplicateCache({ ttlMs }) };
  }

  /** Bound address of a listener, once started. */
  address(kind: ListenerKind): { address: string; port: number } | undefined {
    const s = this.#sockets.get(kind);
    if (!s) return undefined;
    const a = s.address();
    return { address: a.address, port: a.port };
  }

  async start(): Promise<void> {
    for (const kind of ['auth', 'acct'] as const) {
      const { host, port } = this.options[kind];
      const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: this.options.recvBufferSize });
      socket.on('message', (msg, rinfo) => this.#receive(kind, msg, rinfo));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, host, () => {
          socket.off('error', reject);
          resolve();
        });
      }).catch((err: Error) => {
        throw new Error(`cannot listen for RADIUS ${kind === 'auth' ? 'authentication' : 'accounting'} on ${host}:${port}: ${err.message}`, { cause: err });
      });
      socket.on('error', (err) => this.deps.log.error({ err, listener: kind }, 'RADIUS socket error'));
      this.#sockets.set(kind, socket);
      const bound = socket.address();
      this.deps.log.info({ listener: kind, address: bound.address, port: bound.port }, `RADIUS ${kind} listening on ${bound.address}:${bound.port}`);
    }
  }

  /** Stop receiving, let requests in progress finish, close the sockets. */
  async stop(): Promise<void> {
    const sockets = [...this.#sockets.values()];
    for (const s of sockets) s.removeAllListeners('message');
    await Promise.allSettled([...this.#pending]);
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#sockets.clear();
    this.#caches.auth.clear();
    this.#caches.acct.clear();
  }

  #drop(reason: DropReason, context: Record<string, unknown> = {}): void {
    this.deps.metrics.drop(reason);
    this.deps.log.debug({ reason, ...context }, 'RADIUS packet dropped');
  }

  #receive(kind: ListenerKind, msg: Buffer, rinfo: RemoteInfo): void {
    const work = this.#handle(kind, msg, rinfo).catch((err) => {
      this.deps.metrics.drop('internal_error');
      this.deps.log.error({ err, listener: kind, from: rinfo.address }, 'RADIUS request failed');
    });
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  async #handle(kind: ListenerKind, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const started = process.hrtime.bigint();
    const nas = this.deps.registry.byAddress(rinfo.address);
    if (nas === undefined) {
      this.#drop('unknown_nas', { from: rinfo.address });
      this.#logUnknown(rinfo.address);
      return;
    }
    let packet: RadiusPacket;
    try {
      packet = decode(msg, nas.secret, { dictionary: this.deps.dictionary(), invalidAttributes: 'raw' });
    } catch (err) {
      this.#drop('malformed', { from: rinfo.address, nas: nas.identifier, error: (err as Error).message });
      return;
    }
    if (!ALLOWED[kind].has(packet.code)) return this.#drop('unexpected_code', { code: packet.code, listener: kind });

    const type: RequestType = packet.code === PacketCode.StatusServer ? 'status' : kind === 'auth' ? 'access' : 'accounting';
    const cache = this.#caches[kind];
    const key = DuplicateCache.key(rinfo.address, rinfo.port, packet.identifier);
    const seen = cache.lookup(key, packet.raw);
    if (seen.kind === 'answered') {
      this.#send(kind, seen.response, rinfo);
      this.deps.metrics.request(type, 'duplicate');
      return;
    }
    if (seen.kind !== 'new') return this.#drop('duplicate_in_progress', { from: rinfo.address, id: packet.identifier });

    if (packet.code === PacketCode.AccountingRequest && !verifyRequestAuthenticator(packet.raw, nas.secret)) {
      return this.#drop('bad_authenticator', { from: rinfo.address, nas: nas.identifier });
    }
    const ma = verifyMessageAuthenticator(packet.raw, nas.secret);
    if (ma === 'invalid') return this.#drop('bad_message_authenticator', { from: rinfo.address, nas: nas.identifier });
    if (packet.code === PacketCode.AccessRequest && ma === 'missing') {
      if (nas.requireMessageAuthenticator) return this.#drop('missing_message_authenticator', { from: rinfo.address, nas: nas.identifier });
      if (packet.has('Proxy-State')) return this.#drop('proxy_state_without_message_authenticator', { from: rinfo.address, nas: nas.identifier });
    }
    if (this.#inFlight[kind] >= this.options.maxInFlight) return this.#drop('overloaded', { listener: kind });

    cache.begin(key, packet.raw);
    this.#inFlight[kind]++;
    try {
      const response = await this.#process(kind, nas, packet, started);
      cache.finish(key, packet.raw, response);
      if (response) this.#send(kind, response, rinfo);
    } catch (err) {
      cache.abandon(key, packet.raw);
      if (err instanceof Dropped) return this.#drop(err.reason, { from: rinfo.address, nas: nas.identifier });
      throw err;
    } finally {
      this.#inFlight[kind]--;
    }
  }

  async #process(kind: ListenerKind, nas: NasEntry, packet: RadiusPacket, started: bigint): Promise<Buffer | null> {
    const dictionary = this.deps.dictionary();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    if (packet.code === PacketCode.StatusServer) {
      const reply = encodeResponse(
        packet,
        { code: kind === 'auth' ? PacketCode.AccessAccept : PacketCode.AccountingResponse, messageAuthenticator: true },
        nas.secret,
        { dictionary },
      );
      this.deps.metrics.request('status', 'ok', seconds());
      return reply;
    }
    if (packet.code === PacketCode.AccessRequest) {
      const outcome = await this.deps.service.access(nas, packetAttributes(packet), 'udp', started);
      return encodeResponse(
        packet,
        { code: outcome.accepted ? PacketCode.AccessAccept : PacketCode.AccessReject, attributes: outcome.attributes },
        nas.secret,
        { dictionary },
      );
    }
    // Accounting-Request: answered only once the record is committed.
    try {
      await this.deps.service.accounting(nas, packet, new Date(), started);
    } catch (err) {
      if (err instanceof AccountingNotStored) throw new Dropped(err.code);
      throw err;
    }
    return encodeResponse(packet, { code: PacketCode.AccountingResponse }, nas.secret, { dictionary });
  }

  #logUnknown(address: string): void {
    const now = Date.now();
    const last = this.#unknownLogged.get(address);
    if (last !== undefined && now - last < 60_000) return;
    if (this.#unknownLogged.size > 10_000) this.#unknownLogged.clear();
    this.#unknownLogged.set(address, now);
    this.deps.log.warn({ from: address }, 'RADIUS packet from an unknown NAS address dropped (add the NAS or check its source address)');
  }

  #send(kind: ListenerKind, packet: Buffer, rinfo: RemoteInfo): void {
    this.#sockets.get(kind)?.send(packet, rinfo.port, rinfo.address, (err) => {
      if (err) this.deps.log.warn({ err, to: rinfo.address }, 'RADIUS answer not sent');
    });
  }
}
