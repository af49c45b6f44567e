/**
 * Voucher codes: drawn, normalised, formatted and hashed. Keys come from the plugin's `secret` through HKDF-SHA256
 * with distinct labels (one for hashing codes, one for sealing the PDF at rest), so no key serves two purposes.
 *
 * A code is CODE_LENGTH characters from a 31-symbol alphabet without 0/O, 1/I/L: log2(31^10) ≈ 49.5 bits.
 * Only HMAC-SHA256(hashKey, code) is stored; lookup is by that hash (a unique index), so the database never holds a
 * code and a stolen database without the secret does not give them back.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';

/** 23456789 + the Latin capitals without I, L, O: nothing two people could read differently. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 10;
/** log2(31^10). */
export const CODE_ENTROPY_BITS = CODE_LENGTH * Math.log2(CODE_ALPHABET.length);
/** 31^10 = 819 628 286 980 801 possible codes. */
export const CODE_SPACE = CODE_ALPHABET.length ** CODE_LENGTH;

export interface VoucherKeys {
  readonly hashKey: Buffer;
  readonly sealKey: Buffer;
}

export function deriveKeys(secret: string): VoucherKeys {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('rgz-vouchers'), Buffer.from(label), 32));
  return { hashKey: derive('code-hash'), sealKey: derive('pdf-seal') };
}

/** CODE_LENGTH uniformly random symbols (crypto.randomInt: no modulo bias). */
export function generateCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(0, CODE_ALPHABET.length)];
  return s;
}

/** `K7M2Q9XR4T` → `K7M2Q-9XR4T`: two groups of five, as printed. */
export function formatCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** Look-alikes from other scripts a phone keyboard may produce (Cyrillic, Greek capitals) → the Latin letter. */
const HOMOGLYPHS: Record<string, string> = {
  А: 'A',
  В: 'B',
  С: 'C',
  Е: 'E',
  Н: 'H',
  К: 'K',
  М: 'M',
  Р: 'P',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Η: 'H',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ρ: 'P',
  Τ: 'T',
  Χ: 'X',
  Υ: 'Y',
  Ζ: 'Z',
};

export type Normalised = { ok: true; code: string } | { ok: false; reason: 'length' | 'excluded' | 'character' };

/**
 * What the subscriber typed → the code: Unicode NFKC (full-width digits and letters become ASCII), Cyrillic/Greek
 * look-alikes mapped to Latin, upper case, and every space, dash, dot, underscore or slash removed (the printed
 * `K7M2Q-9XR4T`, `k7m2q 9xr4t` and `K7M2Q–9XR4T` are one code). 0, O, 1, I and L never occur in a code: they are
 * reported as `excluded` (the page says so) rather than guessed at, since each of them stands for two symbols.
 */
export function normaliseCode(input: string): Normalised {
  const folded = [...input.normalize('NFKC').toUpperCase()].map((ch) => HOMOGLYPHS[ch] ?? ch).join('');
  const stripped = folded.replace(/[\s\-‐‑‒–—―.·_/\\]+/g, '');
  if (/[01OIL]/.test(stripped)) return { ok: false, reason: 'excluded' };
  if (!/^[2-9A-Z]*$/.test(stripped)) return { ok: false, reason: 'character' };
  if (stripped.length !== CODE_LENGTH) return { ok: false, reason: 'length' };
  return { ok: true, code: stripped };
}

/** What the database stores and looks codes up by: hex HMAC-SHA256 of the normalised code. */
export function hashCode(keys: VoucherKeys, code: string): string {
  return createHmac('sha256', keys.hashKey).update(code, 'utf8').digest('hex');
}

/** AES-256-GCM: `iv ‖ tag ‖ ciphertext`, bound to `aad` (the batch id), for the PDF kept for download. */
export function seal(keys: VoucherKeys, data: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.sealKey, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

/** Throws when tampered with, sealed for another batch, or under another secret. */
export function open(keys: VoucherKeys, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 28) throw new Error('sealed document too short');
  const decipher = createDecipheriv('aes-256-gcm', keys.sealKey, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}
