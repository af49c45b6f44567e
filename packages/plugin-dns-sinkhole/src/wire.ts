/**
 * DNS messages as the sinkhole reads and writes them. Queries are checked with dns-packet (a full decode, so
 * garbage is dropped before any decision) and their question section is also kept as raw bytes: answers echo it
 * byte for byte, whatever the case (0x20 randomisation) or odd label bytes, which resolvers compare strictly.
 * Answers the sinkhole makes up (portal address, empty NOERROR, REFUSED, SERVFAIL, truncated) are written by hand:
 * they are a header, that question, and at most one or two fixed-size records.
 */

import { isIP } from 'node:net';
import dnsPacket, { type DecodedPacket, type OptAnswer } from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export const QTYPE = { A: 1, AAAA: 28, OPT: 41, ANY: 255 } as const;
const CLASS_IN = 1;
/** UDP payload size the sinkhole advertises in its own EDNS records (the DNS Flag Day 2020 value). */
export const OUR_UDP_PAYLOAD = 1232;

export interface ParsedQuery {
  readonly id: number;
  /** Recursion desired, checking disabled: echoed in answers. */
  readonly rd: boolean;
  readonly cd: boolean;
  /** The question's name, lower-case, no trailing dot (`` for the root). */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  /** The question section exactly as received. */
  readonly question: Buffer;
  /** The client's EDNS record, if it sent one: how large a UDP answer it takes. */
  readonly edns: { readonly udpPayloadSize: number } | null;
}

/**
 * What to do with a datagram or TCP frame: a query to decide on; a message to answer with an error code at once
 * (wrong opcode, not exactly one question); or one to drop (not DNS, or a response: never answer those).
 */
export type ParseOutcome =
  | { readonly kind: 'query'; readonly query: ParsedQuery }
  | { readonly kind: 'error'; readonly reply: Buffer; readonly reason: string }
  | { readonly kind: 'drop'; readonly reason: string };

export function parseQuery(buf: Buffer): ParseOutcome {
  if (buf.length < 12) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return { kind: 'drop', reason: 'a response, not a query' };
  const opcode = (flags >> 11) & 0xf;
  const rd = (flags & 0x0100) !== 0;
  const cd = (flags & 0x0010) !== 0;
  const qdcount = buf.readUInt16BE(4);
  let decoded: DecodedPacket;
  try {
    decoded = dnsPacket.decode(buf);
  } catch (err) {
    return { kind: 'drop', reason: `undecodable: ${(err as Error).message}` };
  }
  if (opcode !== 0) return { kind: 'error', reply: bareReply(id, rd, cd, RCODE.NOTIMP), reason: `opcode ${opcode}` };
  if (qdcount !== 1) return { kind: 'error', reply: bareReply(id, rd, cd, RCODE.FORMERR), reason: `${qdcount} questions` };
  const end = questionEnd(buf, 12);
  if (end === null) return { kind: 'drop', reason: 'bad question name' };
  const question = Buffer.from(buf.subarray(12, end));
  const opt = decoded.additionals?.find((a) => a.type === 'OPT') as OptAnswer | undefined;
  return {
    kind: 'query',
    query: {
      id,
      rd,
      cd,
      name: readName(buf, 12),
      qtype: buf.readUInt16BE(end - 4),
      qclass: buf.readUInt16BE(end - 2),
      question,
      edns: opt ? { udpPayloadSize: Math.max(512, opt.udpPayloadSize) } : null,
    },
  };
}

/** Offset just past the question (name, type, class) starting at `offset`, or null. Pointers are not allowed there. */
function questionEnd(buf: Buffer, offset: number): number | null {
  let at = offset;
  for (let labels = 0; labels < 128; labels++) {
    if (at >= buf.length) return null;
    const len = buf[at] as number;
    if (len === 0) return at + 1 + 4 <= buf.length ? at + 1 + 4 : null;
    if (len & 0xc0) return null;
    at += 1 + len;
  }
  return null;
}

/** The question name, labels joined with dots, lower-cased; only called after `questionEnd` succeeded. */
function readName(buf: Buffer, offset: number): string {
  const labels: string[] = [];
  let at = offset;
  for (let len = buf[at] as number; len !== 0; len = buf[at] as number) {
    labels.push(buf.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    at += 1 + len;
  }
  return labels.join('.');
}

function header(id: number, flags: number, counts: [qd: number, an: number, ns: number, ar: number]): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  for (const [i, n] of counts.entries()) h.writeUInt16BE(n, 4 + i * 2);
  return h;
}

/** QR, RD as asked, RA (we do recurse, through the upstreams), CD as asked, and the code. */
function replyFlags(rd: boolean, cd: boolean, rcode: number, extra = 0): number {
  return 0x8000 | (rd ? 0x0100 : 0) | 0x0080 | (cd ? 0x0010 : 0) | extra | (rcode & 0xf);
}

/** An answer with no question section, for messages whose question could not be trusted. */
function bareReply(id: number, rd: boolean, cd: boolean, rcode: number): Buffer {
  return header(id, replyFlags(rd, cd, rcode), [0, 0, 0, 0]);
}

/** An OPT record advertising our UDP size, added when the client used EDNS (RFC 6891 §6.1.1). */
function optRecord(): Buffer {
  const rr = Buffer.alloc(11);
  rr.writeUInt8(0, 0); // root name
  rr.writeUInt16BE(QTYPE.OPT, 1);
  rr.writeUInt16BE(OUR_UDP_PAYLOAD, 3);
  rr.writeUInt32BE(0, 5); // extended rcode 0, version 0, no DO
  rr.writeUInt16BE(0, 9);
  return rr;
}

/** An error answer echoing the question (REFUSED, SERVFAIL, FORMERR, NXDOMAIN). */
export function errorReply(q: ParsedQuery, rcode: number): Buffer {
  const parts = [header(q.id, replyFlags(q.rd, q.cd, rcode), [1, 0, 0, q.edns ? 1 : 0]), q.question];
  if (q.edns) parts.push(optRecord());
  return Buffer.concat(parts);
}

/**
 * The sinkhole's own answer for an unauthorised client: the portal's address for A (and ANY), the IPv6 portal
 * address for AAAA when one is configured, and an empty NOERROR for everything else (so the client neither caches
 * a failure nor waits for a timeout). TTL short so an authorised client soon sees real addresses.
 */
export function portalReply(q: ParsedQuery, portal: { ipv4: string; ipv6: string | null; ttlSeconds: number }): Buffer {
  const answers: Buffer[] = [];
  if (q.qclass === CLASS_IN || q.qclass === QTYPE.ANY) {
    if (q.qtype === QTYPE.A || q.qtype === QTYPE.ANY) answers.push(addressRecord(QTYPE.A, ipv4Bytes(portal.ipv4), portal.ttlSeconds));
    if (q.qtype === QTYPE.AAAA && portal.ipv6) answers.push(addressRecord(QTYPE.AAAA, ipv6Bytes(portal.ipv6), portal.ttlSeconds));
  }
  const parts = [header(q.id, replyFlags(q.rd, q.cd, RCODE.NOERROR), [1, answers.length, 0, q.edns ? 1 : 0]), q.question, ...answers];
  if (q.edns) parts.push(optRecord());
  return Buffer.concat(parts);
}

/** One A or AAAA record owned by the question name (compression pointer to offset 12). */
function addressRecord(type: number, address: Buffer, ttl: number): Buffer {
  const rr = Buffer.alloc(12 + address.length);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(ttl, 6);
  rr.writeUInt16BE(address.length, 10);
  address.copy(rr, 12);
  return rr;
}

/**
 * An upstream answer too large for the client's UDP buffer, cut down to header and question with TC set, so the
 * client asks again over TCP (RFC 1035 §4.2.1, RFC 7766).
 */
export function truncatedReply(q: ParsedQuery, upstreamAnswer: Buffer): Buffer {
  const flags = upstreamAnswer.length >= 4 ? upstreamAnswer.readUInt16BE(2) | 0x0200 : replyFlags(q.rd, q.cd, RCODE.NOERROR, 0x0200);
  const parts = [header(q.id, flags, [1, 0, 0, q.edns ? 1 : 0]), q.question];
  if (q.edns) parts.push(optRecord());
  return Buffer.concat(parts);
}

/** How large a UDP answer this client takes: its EDNS size, else the classic 512 bytes. */
export function clientUdpLimit(q: ParsedQuery): number {
  return q.edns ? Math.min(q.edns.udpPayloadSize, 65_535) : 512;
}

/** A copy of `message` with another id (queries go upstream under a fresh random id; answers come back under the client's). */
export function withId(message: Buffer, id: number): Buffer {
  const copy = Buffer.from(message);
  copy.writeUInt16BE(id, 0);
  return copy;
}

export function ipv4Bytes(ip: string): Buffer {
  if (isIP(ip) !== 4) throw new Error(`${ip} is not an IPv4 address`);
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv6Bytes(ip: string): Buffer {
  if (isIP(ip) !== 6) throw new Error(`${ip} is not an IPv6 address`);
  // Canonical spelling first: hex groups only (no embedded dotted quad), at most one `::`.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}
