/**
 * Attribute list codec: Type-Length-Value records (RFC 2865 §5) with Vendor-Specific sub-attributes that keep their
 * vendor id (RFC 2865 §5.26, vendor header formats as in FreeRADIUS), RFC 2868 tags, value hiding (User-Password,
 * Tunnel-Password/`encrypt=2`) and "concat" attributes split over 253-octet pieces (EAP-Message, RFC 3579 §3.1).
 * packet.ts adds the header, authenticators and Message-Authenticator around it.
 */

import { randomBytes } from 'node:crypto';
import {
  DEFAULT_VSA_FORMAT,
  type RadiusAttributeDef,
  type RadiusDataType,
  type RadiusDictionary,
  type VsaFormat,
  Attr,
  standardDictionary,
} from './dictionary.js';
import { RadiusDecodeError, type RadiusDecodeErrorCode, RadiusEncodeError } from './errors.js';
import {
  type RadiusSecret,
  decodeTunnelPassword,
  decodeUserPassword,
  encodeTunnelPassword,
  encodeUserPassword,
  USER_PASSWORD_MAX,
} from './crypto.js';
import { type RadiusValueInput, decodeValue, encodeValue } from './values.js';

/** A value with its data type; the same pairs as `@rgz/core`'s `RadiusValue` (octets as `Buffer`, a `Uint8Array`). */
export type TypedValue =
  | { readonly dataType: 'string' | 'ipaddr' | 'ipv6addr' | 'ipv6prefix' | 'ether'; readonly value: string }
  | { readonly dataType: 'integer' | 'short' | 'byte' | 'date'; readonly value: number }
  | { readonly dataType: 'integer64'; readonly value: bigint }
  | { readonly dataType: 'octets' | 'ifid'; readonly value: Buffer };

/**
 * A decoded attribute. Assignable to `@rgz/core`'s `RadiusAttribute` (`type` is the attribute number, `dataType` the
 * data type), plus what a server needs to log or re-check it.
 */
export type RadiusAttribute = {
  /** Dictionary name; unknown ones are named like FreeRADIUS 3: `Attr-241`, `Attr-26.14988.99`. */
  readonly name: string;
  /** Vendor of a VSA; absent for standard attributes. */
  readonly vendorId?: number;
  /** Attribute number (vendor type for a VSA). */
  readonly type: number;
  /** RFC 2868 tag, 1–31; absent when untagged (tag 0). */
  readonly tag?: number;
  /** Canonical name of an enumerated integer value (`Interim-Update`), when the dictionary has one. */
  readonly valueName?: string;
  /** Value octets as received: still hidden for User-Password/Tunnel-Password, tag octet included. */
  readonly raw: Buffer;
  /**
   * Set when the value was malformed and `invalidAttributes: 'raw'` kept it as octets instead of failing
   * (RFC 6929 §2.8 "invalid attribute"); the reason says what was wrong.
   */
  readonly invalid?: string;
} & TypedValue;

/** An attribute by dictionary name; enumerated integers take a number or a value name (`'Interim-Update'`). */
export interface NamedAttributeInput {
  readonly name: string;
  readonly value: RadiusValueInput;
  readonly tag?: number;
}

/**
 * An attribute already typed, e.g. a `@rgz/core` `RadiusAttribute` from a NAS dialect. The dictionary is consulted
 * (by vendor and type) only for tag, hiding and concat rules, and only when its data type matches.
 */
export type TypedAttributeInput = {
  readonly name?: string;
  readonly vendorId?: number;
  readonly type: number;
  readonly tag?: number;
} & (
  | { readonly dataType: 'string' | 'ipaddr' | 'ipv6addr' | 'ipv6prefix' | 'ether'; readonly value: string }
  | { readonly dataType: 'integer' | 'short' | 'byte' | 'date'; readonly value: number }
  | { readonly dataType: 'integer64'; readonly value: bigint }
  | { readonly dataType: 'octets' | 'ifid'; readonly value: Uint8Array }
);

/** Value octets written verbatim (no tag, hiding or type checks): for attributes no dictionary knows. */
export interface RawAttributeInput {
  readonly type: number;
  readonly vendorId?: number;
  readonly raw: Uint8Array;
}

export type AttributeInput = NamedAttributeInput | TypedAttributeInput | RawAttributeInput;

/** What the attribute codec needs beyond the octets. */
export interface AttributeCodecContext {
  readonly secret: RadiusSecret;
  /**
   * Authenticator that keys User-Password / Tunnel-Password hiding (see `hidingVector` in packet.ts). When absent,
   * hidden attributes cannot be encoded or decoded and raise `request_authenticator_required`.
   */
  readonly vector?: Uint8Array;
  readonly dictionary?: RadiusDictionary;
  /** Source of salts (encode). Tests inject fixed bytes; default `crypto.randomBytes`. */
  readonly random?: (size: number) => Buffer;
  /** Malformed values: `'throw'` (default) a `RadiusDecodeError`, or `'raw'` keep them as octets marked `invalid`. */
  readonly invalidAttributes?: 'throw' | 'raw';
}

/** Largest value in one attribute: 255 minus the 2-octet header. */
export const MAX_VALUE_LENGTH = 253;

// ─── Encoding ────────────────────────────────────────────────────────────────────────────────────────────────────

/** Encode attributes in the given order. Throws `RadiusEncodeError`. */
export function encodeAttributes(attributes: readonly AttributeInput[], context: AttributeCodecContext): Buffer {
  const usedSalts = new Set<number>();
  return Buffer.concat(attributes.map((a) => encodeAttribute(a, context, usedSalts)));
}

function encodeAttribute(input: AttributeInput, context: AttributeCodecContext, usedSalts: Set<number>): Buffer {
  const dictionary = context.dictionary ?? standardDictionary;

  if (!('dataType' in input) && 'raw' in input) {
    return frame(input.type, input.vendorId, Buffer.from(input.raw), `raw ${input.vendorId ?? 0}/${input.type}`, dictionary);
  }

  let def: RadiusAttributeDef | undefined;
  let dataType: RadiusDataType | 'tlv';
  let value: RadiusValueInput;
  let type: number;
  let vendorId: number | undefined;
  if ('dataType' in input) {
    type = input.type;
    vendorId = input.vendorId === 0 ? undefined : input.vendorId;
    const known = dictionary.attributeByType(type, vendorId ?? 0);
    // Tag/hiding rules belong to the dictionary's reading of this attribute; a value typed differently (an invalid
    // attribute echoed back as octets) is written as given.
    def = known?.dataType === input.dataType ? known : undefined;
    dataType = input.dataType;
    value = input.value;
  } else {
    def = dictionary.attribute(input.name);
    if (def === undefined) throw new RadiusEncodeError('unknown_attribute', `unknown attribute ${input.name}`, input.name);
    if (def.vendorId === 0 && def.type === Attr.VendorSpecific) {
      throw new RadiusEncodeError(
        'invalid_value',
        'Vendor-Specific is written through vendor attributes, or as { type: 26, raw } for opaque bytes',
        input.name,
      );
    }
    type = def.type;
    vendorId = def.vendorId === 0 ? undefined : def.vendorId;
    dataType = def.dataType;
    value = input.value;
    if (typeof value === 'string' && def.values !== undefined && isIntegerType(dataType)) {
      const n = dictionary.valueNumber(def, value);
      if (n === undefined) throw new RadiusEncodeError('invalid_value', `${def.name} has no value named ${value}`, def.name);
      value = n;
    }
  }
  const name = def?.name ?? input.name ?? `${vendorId ?? 0}/${type}`;

  let bytes: Buffer;
  if (def?.type === Attr.MessageAuthenticator && def.vendorId === 0) {
    // Placeholder only: the packet layer computes the HMAC over the finished packet.
    bytes = Buffer.alloc(16);
  } else {
    try {
      bytes = encodeValue(dataType, value);
    } catch (error) {
      throw new RadiusEncodeError('invalid_value', `${name}: ${(error as Error).message}`, name);
    }
  }
  if (def?.size !== undefined && bytes.length !== def.size) {
    throw new RadiusEncodeError('invalid_value', `${name} must be ${def.size} octets, got ${bytes.length}`, name);
  }
  // Zero-length text/octets are not valid RADIUS (RFC 2865 §5: String/Text are 1-253 octets); FreeRADIUS skips them.
  if (bytes.length === 0 && !def?.allowEmpty) return Buffer.alloc(0);

  const tag = input.tag ?? 0;
  if (!Number.isInteger(tag) || tag < 0 || tag > 0x1f) throw new RadiusEncodeError('invalid_tag', `${name}: tag must be 1-31`, name);
  if (tag !== 0 && !def?.hasTag) throw new RadiusEncodeError('invalid_tag', `${name} does not take a tag`, name);

  if (def?.encrypt === 1) {
    const max = hiddenMax(def, dictionary);
    if (bytes.length > max) throw new RadiusEncodeError('value_too_long', `${name} longer than ${max} octets`, name);
    bytes = encodeUserPassword(bytes, context.secret, requireVector(context, name), max);
  } else if (def?.encrypt === 2) {
    const headerRoom = maxValueLength(vendorId, dictionary) - (def.hasTag ? 1 : 0) - 2;
    if (Math.ceil((bytes.length + 1) / 16) * 16 > headerRoom) {
      // RFC 2868 §3.5 pads to a multiple of 16; FreeRADIUS truncates the padding instead, which we do not copy.
      throw new RadiusEncodeError('value_too_long', `${name}: ${bytes.length} octets do not fit once padded`, name);
    }
    const salt = uniqueSalt(context, usedSalts);
    bytes = encodeTunnelPassword(bytes, context.secret, requireVector(context, name), salt);
    if (def.hasTag) bytes = Buffer.concat([Buffer.from([tag]), bytes]);
  } else if (def?.hasTag) {
    if (isIntegerType(dataType)) {
      // Tagged integers carry the tag in the high octet, leaving 24 bits of value (RFC 2868 §3.1).
      if (bytes.length !== 4 || bytes[0] !== 0) {
        throw new RadiusEncodeError('invalid_value', `${name}: tagged integers are limited to 24 bits`, name);
      }
      bytes[0] = tag;
    } else if (tag !== 0 || (bytes[0] ?? 0xff) <= 0x1f) {
      // A first octet in 0x00-0x1f would be read as a tag, so untagged values starting like that get a 0 tag.
      bytes = Buffer.concat([Buffer.from([tag]), bytes]);
    }
  }

  if (def?.concat && vendorId === undefined && bytes.length > MAX_VALUE_LENGTH) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += MAX_VALUE_LENGTH) {
      pieces.push(frame(type, undefined, bytes.subarray(i, i + MAX_VALUE_LENGTH), name, dictionary));
    }
    return Buffer.concat(pieces);
  }
  return frame(type, vendorId, bytes, name, dictionary);
}

/** Wrap a value in its attribute header, or in Vendor-Specific + the vendor's sub-attribute header. */
function frame(type: number, vendorId: number | undefined, value: Buffer, name: string, dictionary: RadiusDictionary): Buffer {
  if (vendorId === undefined) {
    if (!Number.isInteger(type) || type < 1 || type > 255) {
      throw new RadiusEncodeError('invalid_value', `${name}: attribute type ${type} not in 1-255`, name);
    }
    if (value.length > MAX_VALUE_LENGTH) {
      throw new RadiusEncodeError('value_too_long', `${name}: ${value.length} octets > ${MAX_VALUE_LENGTH}`, name);
    }
    return Buffer.concat([Buffer.from([type, value.length + 2]), value]);
  }
  if (!Number.isInteger(vendorId) || vendorId < 0 || vendorId > 0xffff_ffff) {
    throw new RadiusEncodeError('invalid_value', `${name}: vendor id ${vendorId} not a 32-bit number`, name);
  }
  const format = dictionary.vendor(vendorId)?.format ?? DEFAULT_VSA_FORMAT;
  const max = maxValueLength(vendorId, dictionary);
  if (value.length > max) throw new RadiusEncodeError('value_too_long', `${name}: ${value.length} octets > ${max}`, name);
  const typeMax = format.typeSize === 4 ? 0xffff_ffff : format.typeSize === 2 ? 0xffff : 0xff;
  if (!Number.isInteger(type) || type < 0 || type > typeMax) {
    throw new RadiusEncodeError('invalid_value', `${name}: vendor type ${type} does not fit ${format.typeSize} octet(s)`, name);
  }
  const header = Buffer.alloc(6 + format.typeSize + format.lengthSize);
  header[0] = Attr.VendorSpecific;
  header[1] = header.length + value.length;
  header.writeUInt32BE(vendorId, 2);
  header.writeUIntBE(type, 6, format.typeSize);
  if (format.lengthSize > 0) header.writeUIntBE(format.typeSize + format.lengthSize + value.length, 6 + format.typeSize, format.lengthSize);
  return Buffer.concat([header, value]);
}

function maxValueLength(vendorId: number | undefined, dictionary: RadiusDictionary): number {
  if (vendorId === undefined) return MAX_VALUE_LENGTH;
  const format = dictionary.vendor(vendorId)?.format ?? DEFAULT_VSA_FORMAT;
  return MAX_VALUE_LENGTH - 4 - format.typeSize - format.lengthSize;
}

/**
 * Longest plaintext for User-Password-style hiding: 128 for User-Password (RFC 2865 §5.2); a vendor attribute hidden
 * the same way (Aruba's, FreeRADIUS `encrypt=1`) may fill its attribute, in whole 16-octet blocks.
 */
function hiddenMax(def: RadiusAttributeDef, dictionary: RadiusDictionary): number {
  if (def.vendorId === 0 && def.type === Attr.UserPassword) return USER_PASSWORD_MAX;
  return Math.floor(maxValueLength(def.vendorId === 0 ? undefined : def.vendorId, dictionary) / 16) * 16;
}

function isIntegerType(dataType: RadiusDataType | 'tlv'): boolean {
  return dataType === 'integer' || dataType === 'short' || dataType === 'byte';
}

function requireVector(context: AttributeCodecContext, name: string): Uint8Array {
  if (context.vector === undefined) {
    throw new RadiusEncodeError('request_authenticator_required', `${name} is hidden with the request authenticator, none given`, name);
  }
  return context.vector;
}

/** Salt with the high bit set, distinct from the other salts of this packet (RFC 2868 §3.5). */
function uniqueSalt(context: AttributeCodecContext, used: Set<number>): Buffer {
  const random = (context.random ?? randomBytes)(2);
  let key = 0x8000 | (((random[0] ?? 0) << 8) | (random[1] ?? 0));
  // A repeat (rare with a real random source) moves to the next free salt rather than failing.
  while (used.has(key)) key = 0x8000 | ((key + 1) & 0x7fff);
  used.add(key);
  return Buffer.from([key >> 8, key & 0xff]);
}

// ─── Decoding ────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Decode an attribute list (the part of a packet after the 20-octet header). Structural errors always throw;
 * malformed values throw or are kept raw per `invalidAttributes`. `baseOffset` only shifts error offsets.
 */
export function decodeAttributes(bytes: Uint8Array, context: AttributeCodecContext, baseOffset = 0): RadiusAttribute[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dictionary = context.dictionary ?? standardDictionary;
  const out: RadiusAttribute[] = [];
  for (const { type, value, offset } of walk(buf, baseOffset)) {
    if (type === Attr.VendorSpecific) {
      out.push(...decodeVendorSpecific(value, offset, context, dictionary));
      continue;
    }
    const def = dictionary.attributeByType(type);
    if (def === undefined) {
      if (value.length > 0) out.push(octets(`Attr-${type}`, type, undefined, value));
      continue;
    }
    const decoded = decodeDefined(def, value, offset, context, dictionary);
    if (decoded !== undefined) out.push(decoded);
  }
  return joinConcat(out, dictionary);
}

/** Walk Type-Length-Value records, checking each header against the octets that remain. */
export function* walk(buf: Buffer, baseOffset = 0): Generator<{ type: number; value: Buffer; offset: number }> {
  let offset = 0;
  while (offset < buf.length) {
    const at = baseOffset + offset;
    if (buf.length - offset < 2) throw new RadiusDecodeError('attribute_header_overflow', 'attribute header overflows the data', at);
    const type = buf[offset] ?? 0;
    const length = buf[offset + 1] ?? 0;
    if (type === 0) throw new RadiusDecodeError('attribute_type_zero', 'attribute type 0 is invalid', at);
    if (length < 2) throw new RadiusDecodeError('attribute_length_invalid', `attribute ${type} has length ${length} < 2`, at);
    if (offset + length > buf.length) {
      throw new RadiusDecodeError('attribute_overflow', `attribute ${type} length ${length} overflows the data`, at);
    }
    yield { type, value: buf.subarray(offset + 2, offset + length), offset: at };
    offset += length;
  }
}

function octets(name: string, type: number, vendorId: number | undefined, value: Buffer, invalid?: string): RadiusAttribute {
  return {
    name,
    type,
    ...(vendorId === undefined ? {} : { vendorId }),
    dataType: 'octets',
    value: Buffer.from(value),
    raw: value,
    ...(invalid === undefined ? {} : { invalid }),
  };
}

/** Reject or keep-as-raw a malformed value, per the context. */
function malformed(
  code: RadiusDecodeErrorCode,
  reason: string,
  offset: number,
  context: AttributeCodecContext,
  keep: () => RadiusAttribute,
): RadiusAttribute {
  if (context.invalidAttributes === 'raw') return keep();
  throw new RadiusDecodeError(code, reason, offset);
}

/** Decode one known attribute's value: tag, hiding, then data type. `undefined` = empty value, dropped. */
function decodeDefined(
  def: RadiusAttributeDef,
  value: Buffer,
  offset: number,
  context: AttributeCodecContext,
  dictionary: RadiusDictionary,
): RadiusAttribute | undefined {
  if (value.length === 0 && !def.allowEmpty) return undefined;
  const vendorId = def.vendorId === 0 ? undefined : def.vendorId;
  const bad = (code: RadiusDecodeErrorCode, reason: string) =>
    malformed(code, `${def.name}: ${reason}`, offset, context, () => octets(def.name, def.type, vendorId, value, reason));

  let data = value;
  let tag = 0;
  if (def.hasTag) {
    const first = value[0] ?? 0;
    if (isIntegerType(def.dataType) && def.encrypt === undefined) {
      if (value.length !== 4) return bad('attribute_value_size', `tagged integer needs 4 octets, got ${value.length}`);
      if (first > 0x1f) return bad('attribute_value_invalid', `tag ${first} > 31`);
      tag = first;
      data = Buffer.concat([Buffer.from([0]), value.subarray(1)]);
    } else if (def.encrypt !== undefined) {
      if (first > 0x1f) return bad('attribute_value_invalid', `tag ${first} > 31`);
      tag = first;
      data = value.subarray(1);
    } else if (first <= 0x1f) {
      tag = first;
      data = value.subarray(1);
    }
  }

  if (def.encrypt !== undefined) {
    if (context.vector === undefined) {
      throw new RadiusDecodeError(
        'request_authenticator_required',
        `${def.name} is hidden with the request authenticator; pass requestAuthenticator to decode`,
        offset,
      );
    }
    try {
      data =
        def.encrypt === 1
          ? decodeUserPassword(data, context.secret, context.vector, hiddenMax(def, dictionary))
          : decodeTunnelPassword(data, context.secret, context.vector);
    } catch (error) {
      return bad('attribute_value_invalid', (error as Error).message);
    }
  }

  if (def.size !== undefined && data.length !== def.size) {
    return bad('attribute_value_size', `needs ${def.size} octets, got ${data.length}`);
  }
  const decoded = decodeValue(def.dataType, data);
  if (!decoded.ok) return bad(decoded.code, decoded.reason);
  const valueName = typeof decoded.value === 'number' && def.values !== undefined ? dictionary.valueName(def, decoded.value) : undefined;
  return {
    name: def.name,
    type: def.type,
    ...(vendorId === undefined ? {} : { vendorId }),
    ...(tag === 0 ? {} : { tag }),
    dataType: def.dataType === 'tlv' ? 'octets' : def.dataType,
    value: decoded.value,
    ...(valueName === undefined ? {} : { valueName }),
    raw: value,
  } as RadiusAttribute;
}

/**
 * Vendor-Specific: Vendor-Id(4) then sub-attributes in the vendor's format. A vendor we do not know is tried as the
 * common 1,1 format (RFC 2865 §5.26's suggestion) and otherwise kept whole; a known vendor whose sub-attributes do not
 * parse is `vsa_truncated`.
 */
function decodeVendorSpecific(
  value: Buffer,
  offset: number,
  context: AttributeCodecContext,
  dictionary: RadiusDictionary,
): RadiusAttribute[] {
  const whole = (reason?: string) => octets('Vendor-Specific', Attr.VendorSpecific, undefined, value, reason);
  if (value.length < 5) {
    return [malformed('vsa_truncated', `Vendor-Specific of ${value.length} octets has no room for a sub-attribute`, offset, context, () => whole('truncated'))];
  }
  const vendorId = value.readUInt32BE(0);
  const vendor = dictionary.vendor(vendorId);
  const subs = splitVsa(value.subarray(4), vendor?.format ?? DEFAULT_VSA_FORMAT);
  if (subs === undefined) {
    if (vendor === undefined) return [whole()];
    return [malformed('vsa_truncated', `Vendor-Specific ${vendor.name}: sub-attribute overruns the attribute`, offset, context, () => whole('truncated'))];
  }
  const out: RadiusAttribute[] = [];
  for (const sub of subs) {
    const def = dictionary.attributeByType(sub.type, vendorId);
    if (def === undefined) {
      if (sub.value.length > 0) out.push(octets(`Attr-26.${vendorId}.${sub.type}`, sub.type, vendorId, sub.value));
      continue;
    }
    const decoded = decodeDefined(def, sub.value, offset, context, dictionary);
    if (decoded !== undefined) out.push(decoded);
  }
  return out;
}

/** Split a VSA body into sub-attributes; `undefined` when a header or length does not fit. */
function splitVsa(body: Buffer, format: VsaFormat): { type: number; value: Buffer }[] | undefined {
  const headerSize = format.typeSize + format.lengthSize;
  const out: { type: number; value: Buffer }[] = [];
  let offset = 0;
  while (offset < body.length) {
    if (body.length - offset < headerSize) return undefined;
    const type = body.readUIntBE(offset, format.typeSize);
    if (format.lengthSize === 0) {
      out.push({ type, value: body.subarray(offset + headerSize) });
      break;
    }
    const length = body.readUIntBE(offset + format.typeSize, format.lengthSize);
    if (length < headerSize || offset + length > body.length) return undefined;
    out.push({ type, value: body.subarray(offset + headerSize, offset + length) });
    offset += length;
  }
  return out;
}

/** Join runs of consecutive pieces of a "concat" attribute (EAP-Message) into one value. */
function joinConcat(attributes: RadiusAttribute[], dictionary: RadiusDictionary): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  for (const a of attributes) {
    const previous = out[out.length - 1];
    const concat = a.vendorId === undefined && a.invalid === undefined && dictionary.attributeByType(a.type)?.concat === true;
    if (concat && previous !== undefined && previous.type === a.type && previous.vendorId === undefined && previous.invalid === undefined) {
      const raw = Buffer.concat([previous.raw, a.raw]);
      out[out.length - 1] = { ...previous, dataType: 'octets', value: Buffer.from(raw), raw };
    } else {
      out.push(a);
    }
  }
  return out;
}
