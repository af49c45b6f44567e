/**
 * RADIUS packets: the 20-octet header, strict decoding (RFC 2865 §3), encoding with the right authenticator for each
 * code (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3), Message-Authenticator (RFC 3579 §3.2, RFC 5176 §3.4) placed first
 * as BlastRADIUS hardening requires (draft-ietf-radext-deprecating-radius), and constant-time verifiers.
 */

import { randomBytes } from 'node:crypto';
import { type AttributeInput, type RadiusAttribute, decodeAttributes, encodeAttributes, walk } from './attributes.js';
import { type RadiusSecret, hmacMd5, md5, safeEqual, secretBytes } from './crypto.js';
import { Attr, type RadiusDictionary, standardDictionary } from './dictionary.js';
import { RadiusDecodeError, RadiusEncodeError } from './errors.js';
import type { RadiusValue } from './values.js';

export const HEADER_LENGTH = 20;
export const MIN_PACKET_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;

/** Packet codes handled by the codec. */
export const PacketCode = {
  AccessRequest: 1,
  AccessAccept: 2,
  AccessReject: 3,
  AccountingRequest: 4,
  AccountingResponse: 5,
  AccessChallenge: 11,
  StatusServer: 12,
  DisconnectRequest: 40,
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43,
  CoaAck: 44,
  CoaNak: 45,
  /** RFC 7930; the BlastRADIUS draft's debug reply. */
  ProtocolError: 52,
} as const;

export type PacketCodeName =
  | 'Access-Request'
  | 'Access-Accept'
  | 'Access-Reject'
  | 'Accounting-Request'
  | 'Accounting-Response'
  | 'Access-Challenge'
  | 'Status-Server'
  | 'Disconnect-Request'
  | 'Disconnect-ACK'
  | 'Disconnect-NAK'
  | 'CoA-Request'
  | 'CoA-ACK'
  | 'CoA-NAK'
  | 'Protocol-Error';

export const PACKET_CODE_NAMES: Readonly<Record<number, PacketCodeName>> = Object.freeze({
  1: 'Access-Request',
  2: 'Access-Accept',
  3: 'Access-Reject',
  4: 'Accounting-Request',
  5: 'Accounting-Response',
  11: 'Access-Challenge',
  12: 'Status-Server',
  40: 'Disconnect-Request',
  41: 'Disconnect-ACK',
  42: 'Disconnect-NAK',
  43: 'CoA-Request',
  44: 'CoA-ACK',
  45: 'CoA-NAK',
  52: 'Protocol-Error',
});

const CODE_BY_NAME = new Map(Object.entries(PACKET_CODE_NAMES).map(([n, name]) => [name, Number(n)]));

/**
 * How a code's Authenticator field is made:
 * - `random`: Access-Request, Status-Server: a random Request Authenticator.
 * - `signed`: Accounting-, Disconnect-, CoA-Request: MD5(Code+Id+Length+16 zeros+Attributes+Secret).
 * - `response`: every reply: MD5(Code+Id+Length+Request Authenticator+Attributes+Secret).
 */
export type AuthenticatorKind = 'random' | 'signed' | 'response';

export function authenticatorKind(code: number): AuthenticatorKind {
  switch (code) {
    case PacketCode.AccessRequest:
    case PacketCode.StatusServer:
      return 'random';
    case PacketCode.AccountingRequest:
    case PacketCode.DisconnectRequest:
    case PacketCode.CoaRequest:
      return 'signed';
    default:
      return 'response';
  }
}

/** Codes whose packets must carry Message-Authenticator, first: replies to Access-Request (BlastRADIUS), Status-Server (RFC 5997 §3). */
const MESSAGE_AUTHENTICATOR_REQUIRED: ReadonlySet<number> = new Set([
  PacketCode.AccessAccept,
  PacketCode.AccessReject,
  PacketCode.AccessChallenge,
  PacketCode.StatusServer,
  PacketCode.ProtocolError,
]);

const ZERO_AUTHENTICATOR: Buffer = Buffer.alloc(16);

/** Numeric code for a code or its name; throws `RadiusEncodeError('unknown_code')`. */
export function packetCodeOf(code: number | PacketCodeName): number {
  const n = typeof code === 'number' ? code : CODE_BY_NAME.get(code);
  if (n === undefined || PACKET_CODE_NAMES[n] === undefined) {
    throw new RadiusEncodeError('unknown_code', `unknown packet code ${String(code)}`);
  }
  return n;
}

/**
 * Authenticator that keys User-Password / Tunnel-Password hiding in a packet: the packet's own Request Authenticator
 * for Access-Request/Status-Server, 16 zeros for Accounting/CoA/Disconnect-Request (their authenticator is a hash of
 * the hidden values; FreeRADIUS hides with zeros there), and the request's authenticator in replies (RFC 2868 §3.5).
 */
export function hidingVector(code: number, authenticator: Uint8Array, requestAuthenticator?: Uint8Array): Uint8Array | undefined {
  switch (authenticatorKind(code)) {
    case 'random':
      return authenticator;
    case 'signed':
      return ZERO_AUTHENTICATOR;
    case 'response':
      return requestAuthenticator;
  }
}

// ─── Decoding ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface DecodeOptions {
  /** For replies: the authenticator of the request answered, needed to reveal Tunnel-Password and friends. */
  readonly requestAuthenticator?: Uint8Array;
  readonly dictionary?: RadiusDictionary;
  /**
   * Malformed attribute values (wrong size, bad tag, undecryptable, truncated VSA): `'throw'` (default) rejects the
   * packet, `'raw'` keeps them as octets with `invalid` set (RFC 6929 §2.8; what FreeRADIUS does).
   */
  readonly invalidAttributes?: 'throw' | 'raw';
}

/** A decoded packet. Attributes keep wire order; helpers return the first match by name. */
export interface RadiusPacket {
  readonly code: number;
  readonly codeName: PacketCodeName;
  readonly identifier: number;
  readonly authenticator: Buffer;
  readonly attributes: readonly RadiusAttribute[];
  /** The packet's octets up to its Length field (padding removed): what the verifiers take. */
  readonly raw: Buffer;
  /** Value of the first attribute named `name`. */
  get(name: string): RadiusValue | undefined;
  /** Values of every attribute named `name`, in order. */
  getAll(name: string): RadiusValue[];
  /** First attribute named `name`, with its type, tag, vendor and raw octets. */
  find(name: string): RadiusAttribute | undefined;
  has(name: string): boolean;
}

class DecodedPacket implements RadiusPacket {
  readonly codeName: PacketCodeName;
  constructor(
    readonly code: number,
    readonly identifier: number,
    readonly authenticator: Buffer,
    readonly attributes: readonly RadiusAttribute[],
    readonly raw: Buffer,
  ) {
    this.codeName = PACKET_CODE_NAMES[code] as PacketCodeName;
  }
  get(name: string): RadiusValue | undefined {
    return this.find(name)?.value;
  }
  getAll(name: string): RadiusValue[] {
    return this.attributes.filter((a) => a.name === name).map((a) => a.value);
  }
  find(name: string): RadiusAttribute | undefined {
    return this.attributes.find((a) => a.name === name);
  }
  has(name: string): boolean {
    return this.find(name) !== undefined;
  }
}

/**
 * Check a packet's framing and return it cut to its Length field. Octets past Length are padding and ignored
 * (RFC 2865 §3). Throws `RadiusDecodeError`.
 */
export function checkHeader(data: Uint8Array): Buffer {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < MIN_PACKET_LENGTH) {
    throw new RadiusDecodeError('packet_too_short', `packet of ${buf.length} octets is shorter than ${MIN_PACKET_LENGTH}`, 0);
  }
  const code = buf[0] ?? 0;
  if (PACKET_CODE_NAMES[code] === undefined) throw new RadiusDecodeError('unknown_code', `unknown packet code ${code}`, 0);
  const length = buf.readUInt16BE(2);
  if (length < MIN_PACKET_LENGTH) throw new RadiusDecodeError('length_too_small', `Length field ${length} < ${MIN_PACKET_LENGTH}`, 2);
  if (length > MAX_PACKET_LENGTH) throw new RadiusDecodeError('length_too_large', `Length field ${length} > ${MAX_PACKET_LENGTH}`, 2);
  if (length > buf.length) {
    throw new RadiusDecodeError('length_exceeds_data', `Length field ${length} > ${buf.length} octets received`, 2);
  }
  return buf.subarray(0, length);
}

/**
 * Decode a packet. Checks framing, every attribute header, Message-Authenticator length, count and presence where
 * mandatory (Status-Server, EAP-Message); reveals hidden attributes with `secret`. It does not verify authenticators:
 * use the `verify*` functions on `packet.raw` (a server picks the secret by source address, possibly after decoding).
 */
export function decode(data: Uint8Array, secret: RadiusSecret, options: DecodeOptions = {}): RadiusPacket {
  const raw = checkHeader(data);
  const code = raw[0] ?? 0;
  const body = raw.subarray(HEADER_LENGTH);

  let messageAuthenticators = 0;
  let eapMessage = false;
  for (const { type, value, offset } of walk(body, HEADER_LENGTH)) {
    if (type === Attr.MessageAuthenticator) {
      if (value.length !== 16) {
        throw new RadiusDecodeError('message_authenticator_length', `Message-Authenticator of ${value.length + 2} octets, not 18`, offset);
      }
      if (++messageAuthenticators > 1) {
        throw new RadiusDecodeError('message_authenticator_duplicate', 'more than one Message-Authenticator', offset);
      }
    } else if (type === Attr.EapMessage) {
      eapMessage = true;
    }
  }
  if (messageAuthenticators === 0 && (code === PacketCode.StatusServer || eapMessage)) {
    throw new RadiusDecodeError(
      'message_authenticator_missing',
      `${PACKET_CODE_NAMES[code]}${eapMessage ? ' with EAP-Message' : ''} requires Message-Authenticator`,
    );
  }

  const authenticator = Buffer.from(raw.subarray(4, 20));
  const vector = hidingVector(code, authenticator, options.requestAuthenticator);
  const attributes = decodeAttributes(
    body,
    {
      secret,
      ...(vector === undefined ? {} : { vector }),
      dictionary: options.dictionary ?? standardDictionary,
      invalidAttributes: options.invalidAttributes ?? 'throw',
    },
    HEADER_LENGTH,
  );
  return new DecodedPacket(code, raw[1] ?? 0, authenticator, Object.freeze(attributes), Buffer.from(raw));
}

// ─── Encoding ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface PacketInput {
  readonly code: number | PacketCodeName;
  /** 0-255. Replies use the request's (see `encodeResponse`). */
  readonly identifier: number;
  readonly attributes?: readonly AttributeInput[];
  /**
   * Access-Request / Status-Server only: the Request Authenticator. Give the same one to retransmit an identical
   * packet (RFC 5080 §2.2.1); omitted → 16 random octets. Ignored for other codes, whose authenticator is computed.
   */
  readonly authenticator?: Uint8Array;
  /** Replies only: the Request Authenticator of the request being answered. */
  readonly requestAuthenticator?: Uint8Array;
  /**
   * Add Message-Authenticator (always as the first attribute). Forced for Access-Accept/Reject/Challenge,
   * Protocol-Error, Status-Server and any packet with EAP-Message (passing `false` there throws); defaults to true for
   * Access-Request (the BlastRADIUS draft makes it mandatory for clients) and to false for accounting, CoA and
   * Disconnect packets, where it is a per-NAS choice. A Message-Authenticator in `attributes` counts as `true`.
   */
  readonly messageAuthenticator?: boolean;
}

export interface EncodeOptions {
  readonly dictionary?: RadiusDictionary;
  /**
   * How an Accounting-Response's Message-Authenticator is keyed. No RFC defines it and FreeRADIUS changed its mind:
   * 3.x (Debian 12's radclient 3.2.1, checked) zeroes the Authenticator field for the HMAC unless the response answers
   * a Status-Server; 4.x uses the request's authenticator, like the other replies. Default `'request'`. By default
   * `encodeResponse` sends Accounting-Response without Message-Authenticator, which both versions accept.
   */
  readonly accountingResponseKey?: 'request' | 'zero';
  /** Random source for Request Authenticators and salts (default `crypto.randomBytes`); tests inject fixed bytes. */
  readonly random?: (size: number) => Buffer;
}

function isMessageAuthenticator(a: AttributeInput, dictionary: RadiusDictionary): boolean {
  if ('dataType' in a || 'raw' in a) return a.type === Attr.MessageAuthenticator && (a.vendorId ?? 0) === 0;
  const def = dictionary.attribute(a.name);
  return def?.vendorId === 0 && def.type === Attr.MessageAuthenticator;
}

function isEapMessage(a: AttributeInput, dictionary: RadiusDictionary): boolean {
  if ('dataType' in a || 'raw' in a) return a.type === Attr.EapMessage && (a.vendorId ?? 0) === 0;
  const def = dictionary.attribute(a.name);
  return def?.vendorId === 0 && def.type === Attr.EapMessage;
}

function sixteen(value: Uint8Array | undefined, what: string): Buffer | undefined {
  if (value === undefined) return undefined;
  if (value.length !== 16) throw new RadiusEncodeError('invalid_value', `${what} must be 16 octets, got ${value.length}`);
  return Buffer.from(value);
}

/** Encode a packet with its authenticator and, where due, Message-Authenticator first. Throws `RadiusEncodeError`. */
export function encode(packet: PacketInput, secret: RadiusSecret, options: EncodeOptions = {}): Buffer {
  const code = packetCodeOf(packet.code);
  const dictionary = options.dictionary ?? standardDictionary;
  const random = options.random ?? randomBytes;
  if (!Number.isInteger(packet.identifier) || packet.identifier < 0 || packet.identifier > 255) {
    throw new RadiusEncodeError('invalid_identifier', `identifier must be 0-255, got ${packet.identifier}`);
  }
  const kind = authenticatorKind(code);
  const requestAuthenticator = sixteen(packet.requestAuthenticator, 'requestAuthenticator');
  let headerAuthenticator: Buffer;
  if (kind === 'random') {
    headerAuthenticator = sixteen(packet.authenticator, 'authenticator') ?? Buffer.from(random(16).subarray(0, 16));
  } else if (kind === 'signed') {
    headerAuthenticator = ZERO_AUTHENTICATOR;
  } else {
    if (requestAuthenticator === undefined) {
      throw new RadiusEncodeError('request_authenticator_required', `${PACKET_CODE_NAMES[code]} needs the request's authenticator`);
    }
    headerAuthenticator = requestAuthenticator;
  }

  const inputs = packet.attributes ?? [];
  const attributes = inputs.filter((a) => !isMessageAuthenticator(a, dictionary));
  const forced = MESSAGE_AUTHENTICATOR_REQUIRED.has(code) || attributes.some((a) => isEapMessage(a, dictionary));
  if (forced && packet.messageAuthenticator === false) {
    throw new RadiusEncodeError('message_authenticator_required', `${PACKET_CODE_NAMES[code]} must carry Message-Authenticator`);
  }
  const withMessageAuthenticator =
    forced || (packet.messageAuthenticator ?? (attributes.length !== inputs.length || code === PacketCode.AccessRequest));

  const vector = hidingVector(code, headerAuthenticator, requestAuthenticator);
  const body = encodeAttributes(attributes, {
    secret,
    ...(vector === undefined ? {} : { vector }),
    dictionary,
    random,
  });
  const placeholder = withMessageAuthenticator ? Buffer.from([Attr.MessageAuthenticator, 18, ...ZERO_AUTHENTICATOR]) : Buffer.alloc(0);
  const length = HEADER_LENGTH + placeholder.length + body.length;
  if (length > MAX_PACKET_LENGTH) {
    throw new RadiusEncodeError('packet_too_large', `packet of ${length} octets > ${MAX_PACKET_LENGTH}`);
  }

  const out = Buffer.concat([Buffer.alloc(HEADER_LENGTH), placeholder, body]);
  out[0] = code;
  out[1] = packet.identifier;
  out.writeUInt16BE(length, 2);
  headerAuthenticator.copy(out, 4);
  const key = secretBytes(secret);
  if (withMessageAuthenticator) {
    // HMAC over the packet with M-A zeroed and the Authenticator field as the table of RFC 5176 §3.4 / RFC 3579 §3.2
    // says: own Request Authenticator, request's authenticator in replies, zeros in Accounting/CoA/Disconnect-Request.
    const zeroKeyed = code === PacketCode.AccountingResponse && options.accountingResponseKey === 'zero';
    if (zeroKeyed) out.fill(0, 4, 20);
    hmacMd5(key, out).copy(out, HEADER_LENGTH + 2);
    if (zeroKeyed) headerAuthenticator.copy(out, 4);
  }
  if (kind !== 'random') md5(out, key).copy(out, 4);
  return out;
}

/** What to answer with `encodeResponse`. */
export interface ResponseInput {
  readonly code: number | PacketCodeName;
  readonly attributes?: readonly AttributeInput[];
  /**
   * As in `PacketInput`. Defaults to true when the request carried Message-Authenticator, except for
   * Accounting-Response, which gets one only when asked for (or when answering Status-Server, RFC 5997 §3): RFC 2866
   * defines none and FreeRADIUS 3 and 4 key it differently (see `EncodeOptions.accountingResponseKey`).
   */
  readonly messageAuthenticator?: boolean;
  /** Copy the request's Proxy-State attributes, unmodified and in order, at the end (RFC 2865 §5.33). Default true. */
  readonly proxyState?: boolean;
}

/** Encode the reply to a decoded request: same identifier, its authenticator, its Proxy-State echoed. */
export function encodeResponse(request: RadiusPacket, response: ResponseInput, secret: RadiusSecret, options: EncodeOptions = {}): Buffer {
  const proxyState: AttributeInput[] =
    response.proxyState === false
      ? []
      : request.attributes.filter((a) => a.type === Attr.ProxyState && a.vendorId === undefined).map((a) => ({ type: Attr.ProxyState, raw: a.raw }));
  const hadMessageAuthenticator = request.attributes.some((a) => a.type === Attr.MessageAuthenticator && a.vendorId === undefined);
  const code = packetCodeOf(response.code);
  const statusServer = request.code === PacketCode.StatusServer;
  const messageAuthenticator =
    response.messageAuthenticator ??
    (statusServer ? true : hadMessageAuthenticator && code !== PacketCode.AccountingResponse ? true : undefined);
  // A reply to Status-Server is keyed with its authenticator by every FreeRADIUS version.
  const encodeOptions: EncodeOptions = statusServer ? { ...options, accountingResponseKey: 'request' } : options;
  return encode(
    {
      code,
      identifier: request.identifier,
      requestAuthenticator: request.authenticator,
      attributes: [...(response.attributes ?? []), ...proxyState],
      ...(messageAuthenticator === undefined ? {} : { messageAuthenticator }),
    },
    secret,
    encodeOptions,
  );
}

// ─── Verification ────────────────────────────────────────────────────────────────────────────────────────────────

/** Frame the packet, or `undefined` when it cannot even be framed (verifiers then answer "invalid"). */
function framed(packet: Uint8Array): Buffer | undefined {
  try {
    return checkHeader(packet);
  } catch {
    return undefined;
  }
}

/** MD5(Code+Id+Length+`authenticatorField`+Attributes+Secret) over `packet` cut to its Length field (throws if unframeable). */
export function computeAuthenticator(packet: Uint8Array, authenticatorField: Uint8Array, secret: RadiusSecret): Buffer {
  const raw = Buffer.from(checkHeader(packet));
  Buffer.from(authenticatorField).copy(raw, 4);
  return md5(raw, secretBytes(secret));
}

/**
 * Check an Accounting-, CoA- or Disconnect-Request's Request Authenticator (RFC 2866 §3, RFC 5176 §2.3). An invalid
 * one means: silently discard (RFC 5080 §2.3.3). Throws `TypeError` for other codes, whose Request Authenticator is
 * random and cannot be checked.
 */
export function verifyRequestAuthenticator(packet: Uint8Array, secret: RadiusSecret): boolean {
  const raw = framed(packet);
  if (raw === undefined) return false;
  const code = raw[0] ?? 0;
  if (authenticatorKind(code) !== 'signed') {
    throw new TypeError(`${PACKET_CODE_NAMES[code]} has a random Request Authenticator; nothing to verify`);
  }
  return safeEqual(computeAuthenticator(raw, ZERO_AUTHENTICATOR, secret), raw.subarray(4, 20));
}

/** Check a reply's Response Authenticator against the authenticator of the request it answers (RFC 2865 §3). */
export function verifyResponseAuthenticator(response: Uint8Array, requestAuthenticator: Uint8Array, secret: RadiusSecret): boolean {
  const raw = framed(response);
  if (raw === undefined || requestAuthenticator.length !== 16) return false;
  return safeEqual(computeAuthenticator(raw, requestAuthenticator, secret), raw.subarray(4, 20));
}

export type MessageAuthenticatorStatus = 'valid' | 'invalid' | 'missing';

/**
 * Check Message-Authenticator wherever it is in the packet (its position is not checked on input, per the BlastRADIUS
 * draft). `requestAuthenticator` is required for replies (throws `TypeError` without it) and ignored otherwise.
 * `missing` lets the caller apply its own "require Message-Authenticator" policy.
 */
export function verifyMessageAuthenticator(
  packet: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator?: Uint8Array,
): MessageAuthenticatorStatus {
  const raw = framed(packet);
  if (raw === undefined) return 'invalid';
  const code = raw[0] ?? 0;
  const kind = authenticatorKind(code);
  if (kind === 'response' && requestAuthenticator === undefined) {
    throw new TypeError(`verifying Message-Authenticator of ${PACKET_CODE_NAMES[code]} needs the request's authenticator`);
  }
  let at = -1;
  try {
    for (const { type, value, offset } of walk(raw.subarray(HEADER_LENGTH), HEADER_LENGTH)) {
      if (type !== Attr.MessageAuthenticator) continue;
      if (value.length !== 16 || at >= 0) return 'invalid';
      at = offset + 2;
    }
  } catch {
    return 'invalid';
  }
  if (at < 0) return 'missing';
  const received = Buffer.from(raw.subarray(at, at + 16));
  const copy = Buffer.from(raw);
  copy.fill(0, at, at + 16);
  const key = secretBytes(secret);
  if (kind === 'signed') copy.fill(0, 4, 20);
  else if (kind === 'response') Buffer.from(requestAuthenticator as Uint8Array).copy(copy, 4);
  if (safeEqual(hmacMd5(key, copy), received)) return 'valid';
  if (code === PacketCode.AccountingResponse) {
    // FreeRADIUS 3.x keys it with 16 zeros (see EncodeOptions.accountingResponseKey): both come from the secret.
    copy.fill(0, 4, 20);
    if (safeEqual(hmacMd5(key, copy), received)) return 'valid';
  }
  return 'invalid';
}

/** The CHAP challenge of an Access-Request: CHAP-Challenge when present, else the Request Authenticator (RFC 2865 §5.40). */
export function chapChallenge(packet: RadiusPacket): Buffer {
  const challenge = packet.attributes.find((a) => a.type === Attr.ChapChallenge && a.vendorId === undefined);
  return challenge !== undefined ? Buffer.from(challenge.raw) : packet.authenticator;
}
