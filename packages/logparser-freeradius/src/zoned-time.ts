/**
 * Wall-clock time in an IANA zone → UTC instant, with the platform's Intl data (no dependency). Used for the ctime
 * prefix of FreeRADIUS log files, which carries neither zone nor offset.
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

/** Offset of `timeZone` from UTC at instant `utcMs`, in milliseconds (east positive). */
function offsetMs(utcMs: number, timeZone: string): number {
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
  const first = offsetMs(guess, timeZone);
  const t = guess - first;
  const second = offsetMs(t, timeZone);
  return second === first ? t : guess - second;
}
