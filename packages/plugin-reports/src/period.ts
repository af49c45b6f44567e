/**
 * Calendar months in a time zone, as `[from, to)` instants: an invoice covers what was booked from local midnight on
 * the 1st to local midnight on the 1st of the next month (Africa/Porto-Novo has no DST; the code handles zones that do).
 */
import { localDate, zonedMidnight } from '@rgz/core';

export { zonedMidnight };

export interface MonthPeriod {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  readonly from: Date;
  readonly to: Date;
  /** `2026-10` */
  readonly label: string;
  readonly timeZone: string;
}

/** Year and month (1–12) of an instant in a zone. */
export function localYearMonth(at: Date, timeZone: string): { year: number; month: number } {
  const { year, month } = localDate(at, timeZone);
  return { year, month };
}

export function monthPeriod(year: number, month: number, timeZone: string): MonthPeriod {
  if (!Number.isInteger(year) || !Number.isInteger(month) || month < 1 || month > 12) throw new RangeError(`no month ${year}-${month}`);
  const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
  return {
    year,
    month,
    from: zonedMidnight(year, month, 1, timeZone),
    to: zonedMidnight(next.year, next.month, 1, timeZone),
    label: `${year}-${String(month).padStart(2, '0')}`,
    timeZone,
  };
}

/** `2026-10` → the month; throws on anything else. */
export function parseMonth(label: string, timeZone: string): MonthPeriod {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(label);
  if (!m) throw new RangeError(`"${label}" is not a month such as 2026-10`);
  return monthPeriod(Number(m[1]), Number(m[2]), timeZone);
}

/** The month before the one containing `at` (the job on 5 November invoices October). */
export function previousMonth(at: Date, timeZone: string): MonthPeriod {
  const { year, month } = localYearMonth(at, timeZone);
  return month === 1 ? monthPeriod(year - 1, 12, timeZone) : monthPeriod(year, month - 1, timeZone);
}
