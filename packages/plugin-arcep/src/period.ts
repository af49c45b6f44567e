/** Calendar quarters in a time zone, as core's `ReportPeriod`: `[from, to)` at local midnight, labelled `2026-T3`. */
import { localDate, type ReportPeriod, zonedMidnight } from '@rgz/core';

export function quarterPeriod(year: number, quarter: number, timeZone: string): ReportPeriod {
  if (!Number.isInteger(year) || ![1, 2, 3, 4].includes(quarter)) throw new RangeError(`no quarter ${year}-T${quarter}`);
  const first = (quarter - 1) * 3 + 1;
  const end = quarter === 4 ? { year: year + 1, month: 1 } : { year, month: first + 3 };
  return {
    kind: 'quarter',
    from: zonedMidnight(year, first, 1, timeZone),
    to: zonedMidnight(end.year, end.month, 1, timeZone),
    timeZone,
    label: `${year}-T${quarter}`,
  };
}

/** `2026-T3` (or `2026-Q3`) → the quarter. */
export function parseQuarter(label: string, timeZone: string): ReportPeriod {
  const m = /^(\d{4})-[TQ]([1-4])$/.exec(label);
  if (!m) throw new RangeError(`"${label}" is not a quarter such as 2026-T3`);
  return quarterPeriod(Number(m[1]), Number(m[2]), timeZone);
}

/** The quarter before the one containing `at` (the job on 10 October reports July–September). */
export function previousQuarter(at: Date, timeZone: string): ReportPeriod {
  const { year, month } = localDate(at, timeZone);
  const q = Math.floor((month - 1) / 3) + 1;
  return q === 1 ? quarterPeriod(year - 1, 4, timeZone) : quarterPeriod(year, q - 1, timeZone);
}
