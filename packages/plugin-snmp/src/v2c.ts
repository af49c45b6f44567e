/**
 * SNMPv2c Get and GetBulk on the wire (RFC 3416 PDUs, BER), for the poller's hot path. net-snmp builds several objects
 * per varbind, re-parses every OID string on each request and makes a session (engine, random id, socket) per device:
 * together the largest part of a poll's CPU after the kernel's own UDP work. SNMPv3 (USM) stays on net-snmp
 * (session.ts); this file only speaks community-based v2c, one UDP socket per client like before.
 *
 * Behaviour kept from net-snmp as the client used it: a request is re-sent as is (same request id) after each
 * `timeoutMs`, `retries` times; answers with an unknown request id are ignored; any datagram that does not decode fails
 * every pending request as `malformed` at once; an error-status PDU fails the request with the status name (`TooBig`…);
 * a Get answer must hold as many varbinds as asked.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Oid, SnmpVarbind } from '@rgz/core';
import snmp from 'net-snmp';
import { SnmpError } from './errors.js';

const GET = 0xa0;
const GET_BULK = 0xa5;
const RESPONSE = 0xa2;

export interface V2cOptions {
  timeoutMs: number;
  retries: number;
  transport: 'udp4' | 'udp6';
}

/** The answer to a GetBulk: the non-repeaters', then each repeater's rows in order (as many as the agent sent). */
export interface BulkAnswer {
  scalars: SnmpVarbind[];
  columns: SnmpVarbind[][];
}

// --- encoding --------------------------------------------------------------------------------------------------------

/** Encoded OIDs (tag, length, content) by dotted string: a plan asks the same OIDs of every device. Bounded. */
const oidCache = new Map<string, Buffer>();
const OID_CACHE_MAX = 20_000;

function lengthOf(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  return [0x83, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, ...lengthOf(content.length)]), content]);
}

/** Content bytes of a non-negative INTEGER below 2^31 (request id, counts, version). */
function integerSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x8000 ? 2 : n < 0x80_0000 ? 3 : n < 0x8000_0000 ? 4 : 5;
}

export function encodeOid(oid: Oid): Buffer {
  const hit = oidCache.get(oid);
  if (hit) return hit;
  const arcs = oid.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0 || a > 0xffff_ffff) || (arcs[0] as number) > 2) {
    throw new SnmpError('error', `not an OID: "${oid}"`);
  }
  const content: number[] = [];
  const push = (arc: number) => {
    const groups = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v % 128) | 0x80);
    content.push(...groups);
  };
  push((arcs[0] as number) * 40 + (arcs[1] as number));
  for (let i = 2; i < arcs.length; i++) push(arcs[i] as number);
  const out = tlv(0x06, Buffer.from(content));
  if (oidCache.size >= OID_CACHE_MAX) oidCache.clear();
  oidCache.set(oid, out);
  return out;
}

/** Bytes a BER length takes. */
const lengthSize = (n: number) => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 4);

/** A request message, sized first and written into one buffer (the per-varbind pieces would be a buffer each). */
export function encodeRequest(community: Buffer, pduType: number, requestId: number, a: number, b: number, oids: readonly Oid[]): Buffer {
  const encoded = oids.map(encodeOid);
  let list = 0;
  for (const e of encoded) list += 1 + lengthSize(e.length + 2) + e.length + 2;
  const pdu = 6 + integerSize(requestId) + integerSize(a) + integerSize(b) + 1 + lengthSize(list) + list;
  const message = 3 + 1 + lengthSize(community.length) + community.length + 1 + lengthSize(pdu) + pdu;
  const out = Buffer.allocUnsafe(1 + lengthSize(message) + message);
  let at = 0;
  const header = (tag: number, len: number) => {
    out[at++] = tag;
    if (len < 0x80) out[at++] = len;
    else for (const byte of lengthOf(len)) out[at++] = byte;
  };
  const bytes = (b: Buffer) => {
    b.copy(out, at);
    at += b.length;
  };
  const integer = (n: number) => {
    const size = integerSize(n);
    header(0x02, size);
    for (let i = size - 1; i >= 0; i--) out[at++] = Math.floor(n / 256 ** i) & 0xff;
  };
  header(0x30, message);
  integer(1); // version: v2c
  header(0x04, community.length);
  bytes(community);
  header(pduType, pdu);
  integer(requestId);
  integer(a);
  integer(b);
  header(0x30, list);
  for (const e of encoded) {
    header(0x30, e.length + 2);
    bytes(e);
    out[at++] = 0x05;
    out[at++] = 0x00;
  }
  return out;
}

// --- decoding --------------------------------------------------------------------------------------------------------

class Malformed extends Error {}

/** A BER reader over one datagram; every read checks its bounds. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  /** Reads a tag and its length; returns [tag, start of content, end of content]. */
  header(): [number, number, number] {
    const { buf } = this;
    if (this.pos + 2 > buf.length) throw new Malformed('truncated');
    const tag = buf[this.pos++] as number;
    let len = buf[this.pos++] as number;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || this.pos + n > buf.length) throw new Malformed('bad length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (buf[this.pos++] as number);
    }
    const end = this.pos + len;
    if (end > buf.length) throw new Malformed('length past the end');
    return [tag, this.pos, end];
  }

  expect(tag: number): number {
    const [t, , end] = this.header();
    if (t !== tag) throw new Malformed(`expected tag 0x${tag.toString(16)}, got 0x${t.toString(16)}`);
    return end;
  }

  int(): number {
    const end = this.expect(0x02);
    const v = signed(this.buf, this.pos, end);
    this.pos = end;
    return v;
  }
}

function signed(buf: Buffer, start: number, end: number): number {
  if (end === start) return 0;
  let v = 0;
  for (let i = start; i < end; i++) v = v * 256 + (buf[i] as number);
  return (buf[start] as number) & 0x80 ? v - 2 ** (8 * (end - start)) : v;
}

function unsigned(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 256 + (buf[i] as number);
  return v;
}

function oidString(buf: Buffer, start: number, end: number): string {
  if (end === start) throw new Malformed('empty OID');
  let out = '';
  let v = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    v = v * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    if (out === '') {
      const first = v < 40 ? 0 : v < 80 ? 1 : 2;
      out = `${first}.${v - first * 40}`;
    } else out += `.${v}`;
    v = 0;
  }
  if (out === '') throw new Malformed('OID cut short');
  return out;
}

/**
 * OID strings by their BER bytes: every device of a plan answers the same OIDs, and building the dotted string arc by
 * arc allocated more than the rest of a poll's decoding. Bounded: cleared when full.
 */
const oidStrings = new Map<string, string>();
const OID_STRINGS_MAX = 50_000;

function oidAt(buf: Buffer, start: number, end: number): string {
  const key = buf.toString('latin1', start, end);
  let oid = oidStrings.get(key);
  if (oid === undefined) {
    oid = oidString(buf, start, end);
    if (oidStrings.size >= OID_STRINGS_MAX) oidStrings.clear();
    oidStrings.set(key, oid);
  }
  return oid;
}

function counter64(buf: Buffer, start: number, end: number): bigint {
  let v = 0n;
  for (let i = start; i < end; i++) v = (v << 8n) | BigInt(buf[i] as number);
  return v & 0xffff_ffff_ffff_ffffn;
}

/** One varbind's value, as `decodeVarbind` (session.ts) decodes net-snmp's. */
function value(oid: Oid, tag: number, buf: Buffer, start: number, end: number): SnmpVarbind {
  switch (tag) {
    case 0x02:
    case 0x01:
      return { oid, type: 'Integer', value: signed(buf, start, end) };
    case 0x41:
      return { oid, type: 'Counter32', value: unsigned(buf, start, end) };
    case 0x42:
      return { oid, type: 'Gauge32', value: unsigned(buf, start, end) };
    case 0x43:
      return { oid, type: 'TimeTicks', value: unsigned(buf, start, end) };
    case 0x46:
      return { oid, type: 'Counter64', value: counter64(buf, start, end) };
    case 0x04:
    case 0x03:
      return { oid, type: 'OctetString', value: new Uint8Array(buf.subarray(start, end)) };
    case 0x44:
      return { oid, type: 'Opaque', value: new Uint8Array(buf.subarray(start, end)) };
    case 0x06:
      return { oid, type: 'ObjectIdentifier', value: oidString(buf, start, end) };
    case 0x40:
      if (end - start !== 4) throw new Malformed('IpAddress is not 4 bytes');
      return { oid, type: 'IpAddress', value: `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}` };
    case 0x80:
      return { oid, type: 'NoSuchObject', value: null };
    case 0x81:
      return { oid, type: 'NoSuchInstance', value: null };
    case 0x82:
      return { oid, type: 'EndOfMibView', value: null };
    default:
      return { oid, type: 'Null', value: null };
  }
}

export interface Response {
  requestId: number;
  errorStatus: number;
  errorIndex: number;
  varbinds: SnmpVarbind[];
}

/** A v1/v2c Response PDU; throws on anything else. */
export function decodeResponse(buf: Buffer): Response {
  const r = new Reader(buf);
  r.expect(0x30);
  r.int(); // version
  r.pos = r.expect(0x04); // community
  const [pduType, , pduEnd] = r.header();
  if (pduType !== RESPONSE) throw new Malformed(`not a Response PDU (0x${pduType.toString(16)})`);
  const requestId = r.int();
  const errorStatus = r.int();
  const errorIndex = r.int();
  const listEnd = r.expect(0x30);
  if (listEnd > pduEnd) throw new Malformed('varbind list past the PDU');
  const varbinds: SnmpVarbind[] = [];
  while (r.pos < listEnd) {
    const vbEnd = r.expect(0x30);
    const oidEnd = r.expect(0x06);
    const oid = oidAt(buf, r.pos, oidEnd);
    r.pos = oidEnd;
    const [tag, start, end] = r.header();
    if (end > vbEnd) throw new Malformed('value past its varbind');
    varbinds.push(value(oid, tag, buf, start, end));
    r.pos = vbEnd;
  }
  return { requestId, errorStatus, errorIndex, varbinds };
}

// --- transport -------------------------------------------------------------------------------------------------------

interface Pending {
  resolve(r: Response): void;
  reject(e: SnmpError): void;
  timer: NodeJS.Timeout;
}

export class V2cWire {
  private readonly socket: Socket;
  private readonly community: Buffer;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly address: string,
    private readonly port: number,
    community: string,
    private readonly options: V2cOptions,
  ) {
    this.community = Buffer.from(community, 'utf8');
    this.socket = createSocket(options.transport);
    // Pending requests' timers keep the process up; an idle client must not.
    this.socket.unref();
    this.socket.on('message', (msg) => this.onMessage(msg));
    this.socket.on('error', (err) => this.failAll(() => new SnmpError('error', err.message, { cause: err })));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(() => new SnmpError('timeout', 'session closed (deadline or shutdown)'));
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  async get(oids: readonly Oid[]): Promise<SnmpVarbind[]> {
    const r = await this.request(GET, 0, 0, oids);
    if (r.varbinds.length !== oids.length) throw new SnmpError('malformed', 'invalid response: Requested OIDs do not match response OIDs');
    return r.varbinds;
  }

  async getBulk(oids: readonly Oid[], nonRepeaters: number, maxRepetitions: number): Promise<BulkAnswer> {
    const { varbinds } = await this.request(GET_BULK, nonRepeaters, maxRepetitions, oids);
    const repeaters = oids.length - nonRepeaters;
    const columns: SnmpVarbind[][] = Array.from({ length: repeaters }, () => []);
    for (let i = nonRepeaters; i < varbinds.length && repeaters > 0; i++) columns[(i - nonRepeaters) % repeaters]?.push(varbinds[i] as SnmpVarbind);
    return { scalars: varbinds.slice(0, Math.min(nonRepeaters, varbinds.length)), columns };
  }

  private request(pduType: number, a: number, b: number, oids: readonly Oid[]): Promise<Response> {
    if (this.closed) return Promise.reject(new SnmpError('timeout', 'session closed (deadline or shutdown)'));
    // Random, as net-snmp's: with the random source port, what an off-path sender would have to guess.
    let id = Math.floor(Math.random() * 0x7fff_ffff);
    while (this.pending.has(id)) id = (id + 1) & 0x7fff_ffff;
    const message = encodeRequest(this.community, pduType, id, a, b, oids);
    return new Promise<Response>((resolve, reject) => {
      let left = this.options.retries;
      const send = () => {
        const failed = (err: Error) => this.settle(id)?.reject(new SnmpError('error', err.message, { cause: err }));
        try {
          this.socket.send(message, this.port, this.address, (err) => err && failed(err));
        } catch (err) {
          // Thrown at once: a bad port or address, a socket closed meanwhile.
          failed(err as Error);
        }
      };
      const onTimeout = () => {
        const p = this.pending.get(id);
        if (!p) return;
        if (left-- > 0) {
          p.timer = setTimeout(onTimeout, this.options.timeoutMs);
          send();
          return;
        }
        this.settle(id)?.reject(new SnmpError('timeout', 'no answer (timeout)'));
      };
      this.pending.set(id, { resolve, reject, timer: setTimeout(onTimeout, this.options.timeoutMs) });
      send();
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  /** Fails every pending request; `err` is only built when there is one (an Error captures a stack: not per device). */
  private failAll(err: () => SnmpError): void {
    if (this.pending.size === 0) return;
    const e = err();
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }

  private onMessage(msg: Buffer): void {
    let r: Response;
    try {
      r = decodeResponse(msg);
    } catch (err) {
      // The agent will not say anything better: give up on this device now rather than after the timeout.
      this.failAll(() => new SnmpError('malformed', `response does not decode as SNMP: ${(err as Error).message}`, { cause: err }));
      this.close();
      return;
    }
    const p = this.settle(r.requestId);
    if (!p) return;
    if (r.errorStatus !== 0) {
      const name = snmp.ErrorStatus[r.errorStatus] ?? `status ${r.errorStatus}`;
      p.reject(new SnmpError('error', `agent error: ${name}: at varbind ${r.errorIndex}`));
      return;
    }
    p.resolve(r);
  }
}
