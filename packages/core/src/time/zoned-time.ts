/**
 * Wall-clock time in an IANA zone ↔ UTC instants, with the platform's Intl data (no dependency). Daily quotas,
 * report periods and log timestamps without an offset all need it, on hot paths (one RADIUS auth asks several
 * times), so the formatter for each zone is built once: constructing an Intl.DateTimeFormat costs far more than
 * formatting with it.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at `at`, in milliseconds (local = UTC + offset; east positive). */
export function zoneOffsetMs(at: Date | number, timeZone: string): number {
  const utcMs = typeof at === 'number' ? at : at.getTime();
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** True when `timeZone` is a zone name this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** UTC milliseconds of the wall-clock time `y-mo-d h:mi:s` (month 0-based) in `timeZone`. */
export function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): number {
  const guess = Date.UTC(y, mo, d, h, mi, s);
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return guess;
  const first = zoneOffsetMs(guess, timeZone);
  const t = guess - first;
  const second = zoneOffsetMs(t, timeZone);
  return second === first ? t : guess - second;
}

/** Local midnight starting the day that contains `at` (offset `days` days later), as a UTC instant. */
export function localMidnight(at: Date, timeZone: string, days = 0): Date {
  const offset = zoneOffsetMs(at, timeZone);
  const local = new Date(at.getTime() + offset);
  const midnightLocal = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + days);
  // Re-read the offset at the target instant (a DST change between `at` and it).
  const guess = new Date(midnightLocal - offset);
  return new Date(midnightLocal - zoneOffsetMs(guess, timeZone));
}

/** The instant of local midnight starting `year-month-day` (month 1–12) in `timeZone`: report and invoice periods. */
export function zonedMidnight(year: number, month: number, day: number, timeZone: string): Date {
  return new Date(zonedToUtc(year, month - 1, day, 0, 0, 0, timeZone));
}

/** Calendar year, month (1–12) and day of an instant in `timeZone`. */
export function localDate(at: Date, timeZone: string): { year: number; month: number; day: number } {
  const local = new Date(at.getTime() + zoneOffsetMs(at, timeZone));
  return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
}
