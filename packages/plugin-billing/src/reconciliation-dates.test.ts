import { describe, expect, it } from 'vitest';
import { dayBefore, parseTimestamp } from './reconciliation.js';

describe('reconciliation dates', () => {
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
