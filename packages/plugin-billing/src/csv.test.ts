import { describe, expect, it } from 'vitest';
import { parseCsv, toCsv } from './csv.js';
import { dayBefore, parseTimestamp } from './reconciliation.js';

describe('CSV', () => {
  it('parses quotes, doubled quotes, CRLF, a BOM and the French ; delimiter', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n1,\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', ''],
    ]);
    expect(parseCsv('transaction_id;montant\nT1;1 000\n')).toEqual([
      ['transaction_id', 'montant'],
      ['T1', '1 000'],
    ]);
    expect(() => parseCsv('a\n"open')).toThrow(/unterminated/);
  });

  it('writes RFC 4180 and defuses spreadsheet formulas', () => {
    const out = toCsv(
      ['a', 'b', 'c'],
      [
        { a: 'x,y', b: '=HYPERLINK("x")', c: -5 },
        { a: null, b: ['p', 'q'], c: new Date('2026-01-02T03:04:05Z') },
      ],
    );
    expect(out).toBe('a,b,c\r\n"x,y","\'=HYPERLINK(""x"")",-5\r\n,p|q,2026-01-02T03:04:05.000Z\r\n');
    expect(parseCsv(out)[1]).toEqual(['x,y', `'=HYPERLINK("x")`, '-5']);
  });

  it('reads timestamps: ISO 8601 with offset, or a UTC date/time', () => {
    expect(parseTimestamp('2026-11-24T10:00:00+01:00')?.toISOString()).toBe('2026-11-24T09:00:00.000Z');
    expect(parseTimestamp('2026-11-24 10:00:00')?.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(parseTimestamp('2026-11-24')?.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(parseTimestamp('24/11/2026')).toBeNull();
    expect(parseTimestamp('2026-13-45')).toBeNull();
  });

  it('the 00:15 UTC tick reconciles the previous UTC day', () => {
    expect(dayBefore(new Date('2026-11-25T00:15:00Z'))).toBe('2026-11-24');
    expect(dayBefore(new Date('2026-03-01T00:15:00Z'))).toBe('2026-02-28');
  });
});
