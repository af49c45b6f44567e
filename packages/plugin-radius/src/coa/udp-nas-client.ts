/**
 * RFC 5176 Dynamic Authorization client over UDP: CoA-Request (43) and Disconnect-Request (40) to a NAS, with
 * Event-Timestamp (replay protection, unchanged on retransmits), optional Message-Authenticator first (computed with a
 * zeroed authenticator, RFC 5176 §3.4), and RFC 5080 §2.2.1 retransmission: the very same octets (Id, authenticator,
 * source port) every time, RT = IRT·(1+RAND) doubling up to MRT, at most MRC transmissions within MRD.
 *
 * Ids: each socket has 256; an Id is not reused while a request on it is outstanding, and they are handed out in
 * rotation (least recently used first). More than 256 outstanding requests open another socket (another source port).
 * Only the first valid answer counts: a response from another address, with the wrong code, a wrong Response
 * Authenticator or a wrong Message-Authenticator is ignored as if lost.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  type CallOptions,
  COA_DEFAULT_PORT,
  type NasClient,
  type NasRequest,
  NasRequestError,
  type NasResponse,
  RadiusAttributeType,
  type RetransmitPolicy,
} from '@rgz/core';
import {
  decode,
  encode,
  PacketCode,
  type RadiusDictionary,
  RadiusEncodeError,
  type RadiusPacket,
  standardDictionary,
  verifyMessageAuthenticator,
  verifyResponseAuthenticator,
} from '../codec/index.js';

const DEFAULTS: Required<RetransmitPolicy> = { initialTimeoutMs: 2000, maxAttempts: 5, maxTimeoutMs: 16_000, maxDurationMs: 30_000 };

interface Outstanding {
  readonly address: string;
  readonly port: number;
  readonly requestCode: number;
  readonly authenticator: Buffer;
  readonly secret: string;
  answer(packet: Buffer): void;
}

class IdSocket {
  readonly socket: Socket;
  readonly outstanding = new Map<number, Outstanding>();
  #next = Math.floor(Math.random() * 256);
  readonly ready: Promise<void>;

  constructor(family: 'udp4' | 'udp6', onError: (err: Error) => void) {
    this.socket = createSocket(family);
    this.socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    this.socket.on('error', onError);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, () => {
        this.socket.off('error', reject);
        this.socket.unref();
        resolve();
      });
    });
  }

  /** A free Id, least recently used first; undefined when all 256 are outstanding. */
  allocate(): number | undefined {
    for (let i = 0; i < 256; i++) {
      const id = (this.#next + i) % 256;
      if (!this.outstanding.has(id)) {
        this.#next = (id + 1) % 256;
        return id;
      }
    }
    return undefined;
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < 20) return;
    const waiting = this.outstanding.get(msg[1] ?? -1);
    if (waiting === undefined) return;
    if (canonical(rinfo.address) !== waiting.address || rinfo.port !== waiting.port) return;
    waiting.answer(msg);
  }
}

function canonical(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address.toLowerCase();
}

const ACKS: Record<number, { ack: number; nak: number }> = {
  [PacketCode.CoaRequest]: { ack: PacketCode.CoaAck, nak: PacketCode.CoaNak },
  [PacketCode.DisconnectRequest]: { ack: PacketCode.DisconnectAck, nak: PacketCode.DisconnectNak },
};

export interface UdpNasClientOptions {
  /** Instance id in `NasClients` (default `rgz-udp`). */
  id?: string;
  /** Defaults for requests that give no `retransmit`. */
  retransmit?: RetransmitPolicy;
  /** Dictionary to name vendor attributes in answers (default: standard only). */
  dictionary?: () => RadiusDictionary;
  /** Clock in seconds for Event-Timestamp (tests). */
  now?: () => number;
  random?: () => number;
}

export class UdpNasClient implements NasClient {
  readonly id: string;
  readonly provider = 'rgz-udp';
  readonly #sockets: { udp4: IdSocket[]; udp6: IdSocket[] } = { udp4: [], udp6: [] };
  readonly #defaults: Required<RetransmitPolicy>;
  readonly #dictionary: () => RadiusDictionary;
  readonly #now: () => number;
  readonly #random: () => number;
  #closed = false;

  constructor(options: UdpNasClientOptions = {}) {
    this.id = options.id ?? 'rgz-udp';
    this.#defaults = { ...DEFAULTS, ...options.retransmit };
    this.#dictionary = options.dictionary ?? (() => standardDictionary);
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#random = options.random ?? Math.random;
  }

  async send(request: NasRequest, options: CallOptions = {}): Promise<NasResponse> {
    if (this.#closed) throw new NasRequestError('unreachable', 'the NAS client is closed');
    const policy = { ...this.#defaults, ...request.retransmit };
    const code = request.code === 'coa' ? PacketCode.CoaRequest : PacketCode.DisconnectRequest;
    const port = request.nas.port ?? COA_DEFAULT_PORT;

    // Encode once with a placeholder Id to reject what cannot be sent before touching the network.
    const attributes = [
      ...request.attributes.filter((a) => !(a.vendorId === undefined && (a.type === RadiusAttributeType.EventTimestamp || a.type === 80))),
      { name: 'Event-Timestamp', type: RadiusAttributeType.EventTimestamp, dataType: 'date' as const, value: this.#now() },
    ];
    const build = (identifier: number) =>
      encode({ code, identifier, attributes, messageAuthenticator: request.nas.messageAuthenticator ?? false }, request.nas.secret, {
        dictionary: this.#dictionary(),
      });
    try {
      build(0);
    } catch (err) {
      if (err instanceof RadiusEncodeError) throw new NasRequestError('invalid_request', `cannot encode the request: ${err.message}`, { cause: err });
      throw err;
    }

    let address: string;
    try {
      address = isIP(request.nas.address) ? canonical(request.nas.address) : (await lookup(request.nas.address)).address;
    } catch (err) {
      throw new NasRequestError('unreachable', `cannot resolve NAS address ${request.nas.address}: ${(err as Error).message}`, { cause: err });
    }
    const family = isIP(address) === 6 ? 'udp6' : 'udp4';
    const { slot, id } = await this.#allocate(family);
    const packet = build(id);
    const authenticator = packet.subarray(4, 20);
    const started = Date.now();
    let attempts = 0;

    return new Promise<NasResponse>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        slot.outstanding.delete(id);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => finish(() => reject(options.signal?.reason ?? new Error('aborted')));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const expected = ACKS[code] as { ack: number; nak: number };
      slot.outstanding.set(id, {
        address,
        port,
        requestCode: code,
        authenticator,
        secret: request.nas.secret,
        answer: (msg) => {
          const rcode = msg[0];
          if (rcode !== expected.ack && rcode !== expected.nak) return;
          if (!verifyResponseAuthenticator(msg, authenticator, request.nas.secret)) return;
          if (verifyMessageAuthenticator(msg, request.nas.secret, authenticator) === 'invalid') return;
          let decoded: RadiusPacket;
          try {
            decoded = decode(msg, request.nas.secret, { requestAuthenticator: authenticator, dictionary: this.#dictionary(), invalidAttributes: 'raw' });
          } catch {
            return;
          }
          const cause = decoded.attributes.find((a) => a.vendorId === undefined && a.type === RadiusAttributeType.ErrorCause);
          const errorCause = typeof cause?.value === 'number' ? cause.value : undefined;
          const response = {
            outcome: rcode === expected.ack ? ('ack' as const) : ('nak' as const),
            ...(errorCause === undefined ? {} : { errorCause }),
            attributes: decoded.attributes,
            attempts,
            elapsedMs: Date.now() - started,
          };
          finish(() => resolve(response));
        },
      });

      let rt = 0;
      const transmit = () => {
        if (done) return;
        attempts++;
        slot.socket.send(packet, port, address, (err) => {
          if (err) finish(() => reject(new NasRequestError('unreachable', `cannot send to ${address}:${port}: ${err.message}`, { attempts, cause: err })));
        });
        const jitter = () => 1 + (this.#random() * 0.2 - 0.1);
        rt = attempts === 1 ? policy.initialTimeoutMs * jitter() : 2 * rt * jitter();
        if (rt > policy.maxTimeoutMs) rt = policy.maxTimeoutMs * jitter();
        const elapsed = Date.now() - started;
        const last = attempts >= policy.maxAttempts || elapsed + rt >= policy.maxDurationMs;
        const wait = Math.max(0, Math.min(rt, policy.maxDurationMs - elapsed));
        timer = setTimeout(() => {
          if (last) {
            finish(() =>
              reject(
                new NasRequestError('timeout', `no answer from ${address}:${port} after ${attempts} transmission(s) in ${Date.now() - started} ms`, {
                  attempts,
                }),
              ),
            );
          } else transmit();
        }, wait);
      };
      transmit();
    });
  }

  async #allocate(family: 'udp4' | 'udp6'): Promise<{ slot: IdSocket; id: number }> {
    const pool = this.#sockets[family];
    for (const slot of pool) {
      const id = slot.allocate();
      if (id !== undefined) {
        // Reserve at once so a concurrent send does not take the same Id before its entry is set.
        slot.outstanding.set(id, RESERVED);
        await slot.ready;
        return { slot, id };
      }
    }
    const slot = new IdSocket(family, () => {
      /* ICMP errors on an unconnected socket are not reported per request; timeouts cover them */
    });
    pool.push(slot);
    const id = slot.allocate() as number;
    slot.outstanding.set(id, RESERVED);
    try {
      await slot.ready;
    } catch (err) {
      pool.splice(pool.indexOf(slot), 1);
      throw new NasRequestError('unreachable', `cannot open a UDP socket: ${(err as Error).message}`, { cause: err });
    }
    return { slot, id };
  }

  /** Close the sockets; outstanding requests then time out. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#sockets.udp4, ...this.#sockets.udp6];
    this.#sockets.udp4 = [];
    this.#sockets.udp6 = [];
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.socket.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    );
  }
}

const RESERVED: Outstanding = {
  address: '',
  port: 0,
  requestCode: 0,
  authenticator: Buffer.alloc(16),
  secret: '',
  answer: () => {},
};
