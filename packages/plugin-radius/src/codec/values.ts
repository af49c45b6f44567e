/**
 * Conversion between attribute values and their wire octets, one data type at a time (RFC 2865 §5, RFC 8044).
 * No tags, encryption or headers here: attributes.ts layers those on top.
 */

import type { RadiusDataType } from './dictionary.js';

/** A decoded value: `string` for text and addresses, `number` for 8/16/32-bit integers and dates (Unix seconds), `bigint` for integer64, `Buffer` for octets/ifid. */
export type RadiusValue = string | number | bigint | Buffer;

/** What callers may pass when encoding. Numbers for integers and dates, `Date` for dates, strings for text. */
export type RadiusValueInput = string | number | bigint | Uint8Array | Date;

/** Outcome of decoding a value: invalid values keep a reason so the caller can throw or keep them raw. */
export type DecodedValue =
  | { readonly ok: true; readonly value: RadiusValue }
  | { readonly ok: false; readonly code: 'attribute_value_size' | 'attribute_value_invalid'; readonly reason: string };

const sizeError = (reason: string): DecodedValue => ({ ok: false, code: 'attribute_value_size', reason });
const invalid = (reason: string): DecodedValue => ({ ok: false, code: 'attribute_value_invalid', reason });

/** Decode `bytes` as `dataType`. `tlv` is not interpreted and comes back as octets. */
export function decodeValue(dataType: RadiusDataType | 'tlv', bytes: Buffer): DecodedValue {
  switch (dataType) {
    case 'string':
      return { ok: true, value: bytes.toString('utf8') };
    case 'octets':
    case 'tlv':
      return { ok: true, value: Buffer.from(bytes) };
    case 'integer':
    case 'date':
      return bytes.length === 4 ? { ok: true, value: bytes.readUInt32BE(0) } : sizeError(`${dataType} needs 4 octets, got ${bytes.length}`);
    case 'short':
      return bytes.length === 2 ? { ok: true, value: bytes.readUInt16BE(0) } : sizeError(`short needs 2 octets, got ${bytes.length}`);
    case 'byte':
      return bytes.length === 1 ? { ok: true, value: bytes[0] ?? 0 } : sizeError(`byte needs 1 octet, got ${bytes.length}`);
    case 'integer64':
      return bytes.length === 8 ? { ok: true, value: bytes.readBigUInt64BE(0) } : sizeError(`integer64 needs 8 octets, got ${bytes.length}`);
    case 'ipaddr':
      return bytes.length === 4 ? { ok: true, value: formatIPv4(bytes) } : sizeError(`ipaddr needs 4 octets, got ${bytes.length}`);
    case 'ipv6addr':
      return bytes.length === 16 ? { ok: true, value: formatIPv6(bytes) } : sizeError(`ipv6addr needs 16 octets, got ${bytes.length}`);
    case 'ifid':
      return bytes.length === 8 ? { ok: true, value: Buffer.from(bytes) } : sizeError(`ifid needs 8 octets, got ${bytes.length}`);
    case 'ether':
      return bytes.length === 6 ? { ok: true, value: formatEther(bytes) } : sizeError(`ether needs 6 octets, got ${bytes.length}`);
    case 'ipv6prefix':
      return decodeIPv6Prefix(bytes);
  }
}

/**
 * RFC 3162 §2.3: Reserved(1) Prefix-Length(1) Prefix(0-16). The prefix may carry more octets than its length needs
 * (some NASes always send 16) but not fewer; bits past the prefix length are cleared, as FreeRADIUS does.
 */
function decodeIPv6Prefix(bytes: Buffer): DecodedValue {
  if (bytes.length < 2 || bytes.length > 18) return sizeError(`ipv6prefix needs 2-18 octets, got ${bytes.length}`);
  const length = bytes[1] ?? 0;
  if (length > 128) return invalid(`ipv6prefix length ${length} > 128`);
  const prefix = bytes.subarray(2);
  if (prefix.length < Math.ceil(length / 8)) return sizeError(`ipv6prefix /${length} needs ${Math.ceil(length / 8)} prefix octets, got ${prefix.length}`);
  const address = Buffer.alloc(16);
  prefix.copy(address, 0, 0, Math.min(16, prefix.length));
  maskIPv6(address, length);
  return { ok: true, value: `${formatIPv6(address)}/${length}` };
}

/** Encode `value` as `dataType`. Throws `TypeError`/`RangeError` with a reason; attributes.ts wraps it with the attribute name. */
export function encodeValue(dataType: RadiusDataType | 'tlv', value: RadiusValueInput): Buffer {
  switch (dataType) {
    case 'string':
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      if (value instanceof Uint8Array) return Buffer.from(value);
      throw new TypeError(`string expects text or bytes, got ${describe(value)}`);
    case 'octets':
    case 'tlv':
    case 'ifid': {
      if (value instanceof Uint8Array) {
        if (dataType === 'ifid' && value.length !== 8) throw new RangeError(`ifid needs 8 octets, got ${value.length}`);
        return Buffer.from(value);
      }
      if (typeof value === 'string') return dataType === 'ifid' ? parseIfid(value) : Buffer.from(value, 'utf8');
      throw new TypeError(`${dataType} expects bytes, got ${describe(value)}`);
    }
    case 'integer':
      return uint(value, 4);
    case 'short':
      return uint(value, 2);
    case 'byte':
      return uint(value, 1);
    case 'date': {
      const seconds = value instanceof Date ? Math.floor(value.getTime() / 1000) : value;
      return uint(seconds, 4);
    }
    case 'integer64': {
      let n: bigint;
      if (typeof value === 'bigint') n = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
      else if (typeof value === 'string' && /^\d+$/.test(value)) n = BigInt(value);
      else throw new TypeError(`integer64 expects a bigint, got ${describe(value)}`);
      if (n < 0n || n >= 1n << 64n) throw new RangeError(`integer64 out of range: ${n}`);
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(n);
      return out;
    }
    case 'ipaddr':
      if (typeof value !== 'string') throw new TypeError(`ipaddr expects a dotted quad, got ${describe(value)}`);
      return parseIPv4(value);
    case 'ipv6addr':
      if (typeof value !== 'string') throw new TypeError(`ipv6addr expects text, got ${describe(value)}`);
      return parseIPv6(value);
    case 'ether':
      if (typeof value !== 'string') throw new TypeError(`ether expects aa:bb:cc:dd:ee:ff, got ${describe(value)}`);
      return parseEther(value);
    case 'ipv6prefix': {
      if (typeof value !== 'string') throw new TypeError(`ipv6prefix expects addr/len, got ${describe(value)}`);
      const slash = value.indexOf('/');
      const length = slash < 0 ? 128 : Number(value.slice(slash + 1));
      if (!Number.isInteger(length) || length < 0 || length > 128 || (slash >= 0 && !/^\d+$/.test(value.slice(slash + 1)))) {
        throw new RangeError(`invalid IPv6 prefix length in ${JSON.stringify(value)}`);
      }
      const address = parseIPv6(slash < 0 ? value : value.slice(0, slash));
      maskIPv6(address, length);
      // Shortest form (RFC 8044 §3.11): only the octets the prefix length covers.
      return Buffer.concat([Buffer.from([0, length]), address.subarray(0, Math.ceil(length / 8))]);
    }
  }
}

function uint(value: RadiusValueInput, size: 1 | 2 | 4): Buffer {
  const max = size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`expected an integer, got ${describe(value)}`);
  if (n < 0 || n > max) throw new RangeError(`${n} does not fit ${size * 8} bits unsigned`);
  const out = Buffer.alloc(size);
  out.writeUIntBE(n, 0, size);
  return out;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value instanceof Date) return `Date ${value.toISOString()}`;
  return `${typeof value} ${String(value)}`;
}

export function parseIPv4(text: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    throw new RangeError(`invalid IPv4 address ${JSON.stringify(text)}`);
  }
  return Buffer.from(parts.map(Number));
}

export function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

/** Parse RFC 4291 §2.2 text (with `::` and an optional trailing dotted quad) into 16 octets. */
export function parseIPv6(text: string): Buffer {
  const fail = () => new RangeError(`invalid IPv6 address ${JSON.stringify(text)}`);
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) throw fail();
  if (s.includes('.', lastColon)) {
    // Trailing IPv4 (::ffff:192.0.2.1): rewrite as two hex groups so one parser handles both forms.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) throw fail();
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').map((g) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw fail();
          return Number.parseInt(g, 16);
        });
  let groups: number[];
  if (halves.length === 2) {
    const left = toGroups(halves[0] ?? '');
    const right = toGroups(halves[1] ?? '');
    if (left.length + right.length > 7) throw fail();
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    groups = toGroups(s);
    if (groups.length !== 8) throw fail();
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** RFC 5952 text: lower case, no leading zeros, the first longest run (≥ 2) of zero groups as `::`. */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function maskIPv6(address: Buffer, length: number): void {
  for (let bit = length; bit < 128; bit++) {
    const i = bit >> 3;
    address[i] = (address[i] ?? 0) & ~(0x80 >> (bit & 7)) & 0xff;
  }
}

function parseEther(text: string): Buffer {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`invalid MAC address ${JSON.stringify(text)}`);
  }
  return Buffer.from(parts.map((p) => Number.parseInt(p, 16)));
}

function formatEther(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function parseIfid(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 4 || !parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) {
    throw new RangeError(`invalid interface id ${JSON.stringify(text)}`);
  }
  const out = Buffer.alloc(8);
  parts.forEach((p, i) => out.writeUInt16BE(Number.parseInt(p, 16), i * 2));
  return out;
}
