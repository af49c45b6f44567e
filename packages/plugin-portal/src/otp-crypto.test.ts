import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeMatches, deriveOtpKeys, generateCode, generateSessionPassword, hashCode, openCode, sealCode } from './otp-crypto.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';

describe('OTP cryptography', () => {
  it('draws 6 digits, leading zeros kept, spread over the range', () => {
    const codes = Array.from({ length: 2000 }, generateCode);
    for (const c of codes) expect(c).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBeGreaterThan(1990);
    expect(codes.some((c) => Number(c) < 500_000) && codes.some((c) => Number(c) >= 500_000)).toBe(true);
  });

  it('stores HMAC-SHA256(HKDF(secret), phone:code), and only the right code for the right phone matches', () => {
    const keys = deriveOtpKeys(secret);
    const hkdfKey = Buffer.from(hkdfSync('sha256', secret, 'rgz-portal', 'otp-hash', 32));
    const expected = createHmac('sha256', hkdfKey).update('+2290197000000:012345').digest('hex');
    expect(hashCode(keys, '+2290197000000', '012345')).toBe(expected);
    expect(codeMatches(keys, '+2290197000000', '012345', expected)).toBe(true);
    expect(codeMatches(keys, '+2290197000000', '012346', expected)).toBe(false);
    expect(codeMatches(keys, '+2290197000001', '012345', expected)).toBe(false);
    expect(codeMatches(deriveOtpKeys(`${secret}x`), '+2290197000000', '012345', expected)).toBe(false);
    expect(codeMatches(keys, '+2290197000000', '012345', 'not-hex')).toBe(false);
  });

  it('seals the code for the task and opens it only in the same context under the same secret', () => {
    const keys = deriveOtpKeys(secret);
    const sealed = sealCode(keys, '482913', '+2290197000000|abc');
    expect(sealed).not.toContain('482913');
    expect(openCode(keys, sealed, '+2290197000000|abc')).toBe('482913');
    expect(() => openCode(keys, sealed, '+2290197000001|abc')).toThrow();
    expect(() => openCode(deriveOtpKeys(`${secret}x`), sealed, '+2290197000000|abc')).toThrow();
    const tampered = Buffer.from(sealed, 'base64url');
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect(() => openCode(keys, tampered.toString('base64url'), '+2290197000000|abc')).toThrow();
  });

  it('makes 16-character alphanumeric session passwords', () => {
    const all = Array.from({ length: 200 }, generateSessionPassword);
    for (const p of all) expect(p).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(new Set(all).size).toBe(200);
  });
});
