import { describe, expect, it } from 'vitest';
import { isTimeZone, localDate, localMidnight, zonedMidnight, zonedToUtc, zoneOffsetMs } from './zoned-time.js';

describe('zoned time', () => {
  it('reads offsets of a fixed zone and across a DST change', () => {
    expect(zoneOffsetMs(new Date('2026-11-25T12:00:00Z'), 'Africa/Porto-Novo')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Paris')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Paris')).toBe(7_200_000);
    expect(zoneOffsetMs(Date.parse('2026-07-15T12:00:00Z'), 'UTC')).toBe(0);
  });

  it('turns wall-clock times into instants, including the hour skipped by DST', () => {
    expect(new Date(zonedToUtc(2026, 10, 25, 0, 30, 0, 'Africa/Porto-Novo')).toISOString()).toBe('2026-11-24T23:30:00.000Z');
    expect(new Date(zonedToUtc(2026, 6, 15, 14, 0, 0, 'Europe/Paris')).toISOString()).toBe('2026-07-15T12:00:00.000Z');
    // 02:30 does not exist in Paris on 2026-03-29; it maps to an instant next to the gap, never NaN.
    expect(Number.isFinite(zonedToUtc(2026, 2, 29, 2, 30, 0, 'Europe/Paris'))).toBe(true);
  });

  it('finds local midnight, also on a day that is 23 hours long', () => {
    expect(localMidnight(new Date('2026-11-25T23:30:00Z'), 'Africa/Porto-Novo').toISOString()).toBe('2026-11-25T23:00:00.000Z');
    expect(localMidnight(new Date('2026-03-29T12:00:00Z'), 'Europe/Paris', 1).toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it('knows real zone names only', () => {
    expect(isTimeZone('Africa/Porto-Novo')).toBe(true);
    expect(isTimeZone('Africa/Nowhere')).toBe(false);
  });

  it('gives the instant a local calendar day starts, and the local date of an instant', () => {
    expect(zonedMidnight(2026, 12, 1, 'Africa/Porto-Novo').toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(zonedMidnight(2026, 4, 1, 'Europe/Paris').toISOString()).toBe('2026-03-31T22:00:00.000Z');
    // 23:30 UTC on 31 December is already New Year's Day in Porto-Novo (UTC+1).
    expect(localDate(new Date('2026-12-31T23:30:00Z'), 'Africa/Porto-Novo')).toEqual({ year: 2027, month: 1, day: 1 });
    expect(localDate(new Date('2026-12-31T23:30:00Z'), 'UTC')).toEqual({ year: 2026, month: 12, day: 31 });
  });
});
