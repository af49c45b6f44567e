/**
 * The MD5-based primitives of RADIUS: User-Password hiding (RFC 2865 §5.2), Tunnel-Password salt encryption
 * (RFC 2868 §3.5), CHAP (RFC 1994 via RFC 2865 §2.2), and the constant-time comparison every verifier uses.
 * Packet authenticators and Message-Authenticator live in packet.ts, next to the packet layout they hash.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Shared secret: text is taken as UTF-8. */
export type RadiusSecret = string | Uint8Array;

export function secretBytes(secret: RadiusSecret): Buffer {
  return typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
}

export function md5(...parts: readonly Uint8Array[]): Buffer {
  const hash = createHash('md5');
  for (const p of parts) hash.update(p);
  return hash.digest();
}

export function hmacMd5(key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('md5', key).update(data).digest();
}

/** Constant-time equality; unequal lengths are simply unequal (the length is not secret). */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Maximum User-Password plaintext: 128 octets (RFC 2865 §5.2). */
export const USER_PASSWORD_MAX = 128;

/**
 * Hide a User-Password: pad with NULs to a multiple of 16, then c1 = p1 ⊕ MD5(S + vector),
 * ci = pi ⊕ MD5(S + c(i-1)). `vector` is the Request Authenticator of the Access-Request. `maxLength` is 128 for
 * User-Password itself; vendor attributes hidden the same way (`encrypt=1`) may use what fits in their attribute.
 */
export function encodeUserPassword(
  password: string | Uint8Array,
  secret: RadiusSecret,
  vector: Uint8Array,
  maxLength = USER_PASSWORD_MAX,
): Buffer {
  const plain = typeof password === 'string' ? Buffer.from(password, 'utf8') : Buffer.from(password);
  if (plain.length > maxLength) throw new RangeError(`hidden value longer than ${maxLength} octets`);
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plain.length / 16) * 16));
  plain.copy(padded);
  return xorChain(padded, secretBytes(secret), vector, 'encrypt');
}

/**
 * Reveal a hidden User-Password and strip the NUL padding. Throws `RangeError` when the length is not a multiple
 * of 16 in 16..128, since such a value cannot come from a correct client.
 */
export function decodeUserPassword(
  hidden: Uint8Array,
  secret: RadiusSecret,
  vector: Uint8Array,
  maxLength = USER_PASSWORD_MAX,
): Buffer {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > Math.ceil(maxLength / 16) * 16) {
    throw new RangeError(`hidden value must be 16-${maxLength} octets in steps of 16, got ${hidden.length}`);
  }
  const plain = xorChain(Buffer.from(hidden), secretBytes(secret), vector, 'decrypt');
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

/**
 * Tunnel-Password (and every `encrypt=2` VSA): Salt(2) ‖ E(len ‖ data ‖ padding) with b1 = MD5(S + vector + salt).
 * The salt's high bit must be set and salts must differ within a packet (RFC 2868 §3.5); the caller picks it.
 */
export function encodeTunnelPassword(
  data: Uint8Array,
  secret: RadiusSecret,
  vector: Uint8Array,
  salt: Uint8Array,
): Buffer {
  if (data.length > 255) throw new RangeError('Tunnel-Password data longer than 255 octets');
  if (salt.length !== 2 || ((salt[0] ?? 0) & 0x80) === 0) throw new RangeError('salt must be 2 octets with the high bit set');
  const padded = Buffer.alloc(Math.ceil((data.length + 1) / 16) * 16);
  padded[0] = data.length;
  Buffer.from(data).copy(padded, 1);
  const cipher = xorChain(padded, secretBytes(secret), Buffer.concat([vector, salt]), 'encrypt');
  return Buffer.concat([salt, cipher]);
}

/**
 * Reverse of `encodeTunnelPassword`. Accepts a last block shorter than 16 octets, which FreeRADIUS sends when the
 * padded value would not fit in 253 octets (its 249-octet passwords), and rejects a length octet pointing past the data.
 */
export function decodeTunnelPassword(value: Uint8Array, secret: RadiusSecret, vector: Uint8Array): Buffer {
  if (value.length < 2 + 16) throw new RangeError(`encrypted value needs salt + 16 octets, got ${value.length}`);
  const salt = value.subarray(0, 2);
  const plain = xorChain(Buffer.from(value.subarray(2)), secretBytes(secret), Buffer.concat([vector, salt]), 'decrypt');
  const length = plain[0] ?? 0;
  if (length > plain.length - 1) throw new RangeError(`encrypted length octet ${length} exceeds the ${plain.length - 1} octets present`);
  return plain.subarray(1, 1 + length);
}

/**
 * The RFC 2865 §5.2 / RFC 2868 §3.5 chain, in place over whole 16-octet blocks (a short last block is XORed with a
 * prefix of its key). Block i's key is MD5(secret + previous ciphertext block), the first one MD5(secret + iv).
 */
function xorChain(buf: Buffer, secret: Buffer, iv: Uint8Array, direction: 'encrypt' | 'decrypt'): Buffer {
  let previous: Uint8Array = iv;
  for (let offset = 0; offset < buf.length; offset += 16) {
    const key = md5(secret, previous);
    const end = Math.min(offset + 16, buf.length);
    const cipherBlock = direction === 'decrypt' ? Buffer.from(buf.subarray(offset, end)) : undefined;
    for (let i = offset; i < end; i++) buf[i] = (buf[i] ?? 0) ^ (key[i - offset] ?? 0);
    previous = cipherBlock ?? buf.subarray(offset, end);
  }
  return buf;
}

/** CHAP-Password value: ident(1) ‖ MD5(ident ‖ password ‖ challenge) (RFC 2865 §2.2, §5.3). */
export function chapPassword(ident: number, password: string | Uint8Array, challenge: Uint8Array): Buffer {
  if (!Number.isInteger(ident) || ident < 0 || ident > 255) throw new RangeError(`CHAP ident must be 0-255, got ${ident}`);
  const secret = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  return Buffer.concat([Buffer.from([ident]), md5(Buffer.from([ident]), secret, challenge)]);
}

/**
 * Check a CHAP-Password (17 octets) against the cleartext password. `challenge` is the CHAP-Challenge attribute when
 * the request has one, else its Request Authenticator (RFC 2865 §5.40; see `chapChallenge` in packet.ts).
 */
export function verifyChap(chapPasswordValue: Uint8Array, challenge: Uint8Array, cleartextPassword: string | Uint8Array): boolean {
  if (chapPasswordValue.length !== 17) return false;
  const expected = chapPassword(chapPasswordValue[0] ?? 0, cleartextPassword, challenge);
  return safeEqual(expected, chapPasswordValue);
}
