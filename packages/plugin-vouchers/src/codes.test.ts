/** Codes: alphabet, entropy, what normalisation accepts and refuses, hashing and the PDF seal. */
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, CODE_ENTROPY_BITS, CODE_SPACE, deriveKeys, formatCode, generateCode, hashCode, normaliseCode, open, seal } from './codes.js';

describe('voucher codes', () => {
  it('10 characters of 31 symbols without 0/O, 1/I/L: ≈ 49.5 bits', () => {
    expect(CODE_ALPHABET).toHaveLength(31);
    expect(CODE_ALPHABET).not.toMatch(/[01OIL]/);
    expect(new Set(CODE_ALPHABET).size).toBe(31);
    expect(CODE_SPACE).toBe(819_628_286_980_801);
    expect(CODE_ENTROPY_BITS).toBeCloseTo(49.54, 2);
  });

  it('draws every symbol about equally often (no modulo bias), never an excluded one', () => {
    const counts = new Map<string, number>();
    const n = 31_000;
    for (let i = 0; i < n / 10; i++) for (const ch of generateCode()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect([...counts.keys()].sort().join('')).toBe([...CODE_ALPHABET].sort().join(''));
    // χ² with 30 degrees of freedom: 59.7 is the 0.1 % tail.
    const expected = n / 31;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(59.7);
  });

  it('normalises case, spaces, dashes, full-width and Cyrillic look-alikes', () => {
    const code = 'K7M2Q9XR4T';
    for (const typed of ['K7M2Q9XR4T', 'k7m2q9xr4t', 'K7M2Q-9XR4T', ' k7m2q 9xr4t ', 'K7M2Q–9XR4T', 'K7M.2Q9.XR4T', 'Ｋ７Ｍ２Ｑ９ＸＲ４Ｔ', 'К7М2Q9ХR4Т']) {
      expect(normaliseCode(typed), typed).toEqual({ ok: true, code });
    }
  });

  it('refuses 0, O, 1, I and L (each stands for two symbols), wrong lengths and other characters', () => {
    expect(normaliseCode('K7M2Q9XR4O')).toEqual({ ok: false, reason: 'excluded' });
    expect(normaliseCode('K7M2Q9XR40')).toEqual({ ok: false, reason: 'excluded' });
    expect(normaliseCode('k7m2q9xr4l')).toEqual({ ok: false, reason: 'excluded' });
    expect(normaliseCode('K7M2Q9XR4')).toEqual({ ok: false, reason: 'length' });
    expect(normaliseCode('K7M2Q9XR4TT')).toEqual({ ok: false, reason: 'length' });
    expect(normaliseCode('K7M2Q9XR4#')).toEqual({ ok: false, reason: 'character' });
    expect(normaliseCode('')).toEqual({ ok: false, reason: 'length' });
  });

  it('prints two groups of five', () => {
    expect(formatCode('K7M2Q9XR4T')).toBe('K7M2Q-9XR4T');
  });

  it('hashes with a key derived from the secret: same code, other secret, other hash', () => {
    const a = deriveKeys('a'.repeat(32));
    const b = deriveKeys('b'.repeat(32));
    expect(hashCode(a, 'K7M2Q9XR4T')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashCode(a, 'K7M2Q9XR4T')).toBe(hashCode(a, 'K7M2Q9XR4T'));
    expect(hashCode(a, 'K7M2Q9XR4T')).not.toBe(hashCode(b, 'K7M2Q9XR4T'));
    expect(a.hashKey.equals(a.sealKey)).toBe(false);
  });

  it('seals the PDF bound to its batch: another batch id or secret cannot open it', () => {
    const k = deriveKeys('a'.repeat(32));
    const sealed = seal(k, Buffer.from('%PDF-1.3 tickets'), 'batch-1');
    expect(open(k, sealed, 'batch-1').toString()).toBe('%PDF-1.3 tickets');
    expect(() => open(k, sealed, 'batch-2')).toThrow();
    expect(() => open(deriveKeys('b'.repeat(32)), sealed, 'batch-1')).toThrow();
  });
});
