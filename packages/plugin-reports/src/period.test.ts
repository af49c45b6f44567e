import { describe, expect, it } from 'vitest';
import { balanceSentence, formatDate, formatFcfa, formatMonth, groupThousands } from './format.js';
import { monthPeriod, parseMonth, previousMonth, zonedMidnight } from './period.js';

describe('months in a time zone', () => {
  it('Porto-Novo (UTC+1, no DST): October 2026 is [30 Sep 23:00Z, 31 Oct 23:00Z)', () => {
    const p = monthPeriod(2026, 10, 'Africa/Porto-Novo');
    expect(p.from.toISOString()).toBe('2026-09-30T23:00:00.000Z');
    expect(p.to.toISOString()).toBe('2026-10-31T23:00:00.000Z');
    expect(p.label).toBe('2026-10');
    expect(parseMonth('2026-12', 'Africa/Porto-Novo').to.toISOString()).toBe('2026-12-31T23:00:00.000Z');
    expect(() => parseMonth('2026-13', 'UTC')).toThrow(/not a month/);
  });

  it('a zone with DST gets its own midnights', () => {
    expect(zonedMidnight(2026, 3, 1, 'Europe/Paris').toISOString()).toBe('2026-02-28T23:00:00.000Z');
    expect(zonedMidnight(2026, 4, 1, 'Europe/Paris').toISOString()).toBe('2026-03-31T22:00:00.000Z');
  });

  it('the job of 5 November 06:00 invoices October; of 5 January, December of the year before', () => {
    expect(previousMonth(new Date('2026-11-05T05:00:00Z'), 'Africa/Porto-Novo').label).toBe('2026-10');
    expect(previousMonth(new Date('2027-01-05T05:00:00Z'), 'Africa/Porto-Novo').label).toBe('2026-12');
    // 31 Oct 23:30Z is already 1 November in Porto-Novo.
    expect(previousMonth(new Date('2026-10-31T23:30:00Z'), 'Africa/Porto-Novo').label).toBe('2026-10');
  });
});

describe('formats', () => {
  it('FCFA with a plain space between thousands', () => {
    expect(formatFcfa(1000n)).toBe('1 000 FCFA');
    expect(formatFcfa(-15n)).toBe('-15 FCFA');
    expect(formatFcfa(0)).toBe('0 FCFA');
    expect(groupThousands(1234567890123n)).toBe('1 234 567 890 123');
    expect(groupThousands(-100000n)).toBe('-100 000');
  });
  it('dates, months and balance sentences in both languages', () => {
    const d = new Date('2026-10-31T23:30:00Z');
    expect(formatDate(d, 'fr', 'Africa/Porto-Novo')).toBe('01/11/2026');
    expect(formatDate(d, 'en', 'Africa/Porto-Novo')).toBe('2026-11-01');
    expect(formatMonth(2026, 10, 'fr')).toBe('octobre 2026');
    expect(formatMonth(2026, 10, 'en')).toBe('October 2026');
    expect(balanceSentence(6209n, 'fr')).toBe('RGZ doit au revendeur : 6 209 FCFA');
    expect(balanceSentence(-500n, 'en')).toBe('The reseller owes RGZ: 500 FCFA');
    expect(balanceSentence(0n, 'fr')).toBe('Solde nul : rien n’est dû');
  });
});
