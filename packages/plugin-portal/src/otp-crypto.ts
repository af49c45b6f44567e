/**
 * The cryptography of one-time codes, with keys derived from the plugin's `secret`:
 * - the code is never stored: KV keeps HMAC-SHA256(hashKey, phone ‖ ':' ‖ code), compared in constant time;
 * - the code reaches the SMS task sealed with AES-256-GCM (sealKey), bound to the phone and the OTP id, so the
 *   task row in PostgreSQL never holds it in clear.
 * The two keys come from HKDF-SHA256 over the secret with distinct labels: one secret, no key reuse.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export interface OtpKeys {
  readonly hashKey: Buffer;
  readonly sealKey: Buffer;
}

export function deriveOtpKeys(secret: string): OtpKeys {
  const derive = (label: string) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('rgz-portal'), Buffer.from(label), 32));
  return { hashKey: derive('otp-hash'), sealKey: derive('otp-seal') };
}

/** Six uniformly random digits (crypto.randomInt), leading zeros kept. */
export function generateCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export function hashCode(keys: OtpKeys, phone: string, code: string): string {
  return createHmac('sha256', keys.hashKey).update(`${phone}:${code}`).digest('hex');
}

/** Constant-time comparison of the presented code's HMAC with the stored one. */
export function codeMatches(keys: OtpKeys, phone: string, code: string, storedHashHex: string): boolean {
  const presented = createHmac('sha256', keys.hashKey).update(`${phone}:${code}`).digest();
  const stored = Buffer.from(storedHashHex, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** `base64url(iv ‖ tag ‖ ciphertext)`; `aad` binds the ciphertext to its context (phone and OTP id). */
export function sealCode(keys: OtpKeys, code: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.sealKey, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(code, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
}

/** Throws when the sealed value was tampered with, sealed for another context, or under another secret. */
export function openCode(keys: OtpKeys, sealed: string, aad: string): string {
  const buf = Buffer.from(sealed, 'base64url');
  if (buf.length < 29) throw new Error('sealed code too short');
  const decipher = createDecipheriv('aes-256-gcm', keys.sealKey, buf.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The NAS login password of a session: 16 random alphanumerics (≈ 95 bits). Exactly 16 characters because
 * CoovaChilli's UAM PAP XORs the password with one 16-octet block (redir.c: `for (n=0; n<REDIR_MD5LEN; n++)`),
 * so a longer one would be cut; ASCII so every NAS and RADIUS encoding carries it unchanged.
 */
export function generateSessionPassword(): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += ALNUM[randomInt(0, ALNUM.length)];
  return out;
}
