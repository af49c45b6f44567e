import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv, parseCsvRows, toCsv } from './csv.js';

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

  it('keeps the line number of each row (a quoted field may span lines) and drops # comments when asked', () => {
    const text = 'kind,address\n# a comment\ncpe,"10.0.0.1\nsecond line"\n\nap,10.0.0.2\n';
    expect(parseCsvRows(text, { comments: true })).toEqual([
      { line: 1, cells: ['kind', 'address'] },
      { line: 3, cells: ['cpe', '10.0.0.1\nsecond line'] },
      { line: 6, cells: ['ap', '10.0.0.2'] },
    ]);
    expect(parseCsvRows(text).map((r) => r.cells[0])).toEqual(['kind', '# a comment', 'cpe', 'ap']);
    expect(() => parseCsvRows('a\nb,"open')).toThrow(CsvError);
    try {
      parseCsvRows('a\nb,"open');
    } catch (err) {
      expect((err as CsvError).line).toBe(2);
    }
  });
});
