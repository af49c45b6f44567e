/** Calendar quarters in a time zone, as core's `ReportPeriod`: `[from, to)` at local midnight, labelled `2026-T3`. */
import type { ReportPeriod } from '@rgz/core';

function wallClock(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

/** The instant of local midnight starting `year-month-day` in `timeZone`. */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  const target = Date.UTC(year, month - 1, day);
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const next = target - (wallClock(new Date(guess), timeZone) - guess);
    if (next === guess) break;
    guess = next;
  }
  return new Date(guess);
}

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
  const d = new Date(wallClock(at, timeZone));
  const q = Math.floor(d.getUTCMonth() / 3) + 1;
  return q === 1 ? quarterPeriod(d.getUTCFullYear() - 1, 4, timeZone) : quarterPeriod(d.getUTCFullYear(), q - 1, timeZone);
}
