/** `15m`, `2h`, `7d`, `30s`, `1w` → milliseconds; ISO dates → Date. For `--since` / `since=`. */

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d{1,9})\s*([smhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * (UNITS[m[2] as string] as number) : undefined;
}

/** A relative duration (`1h` = one hour ago) or an absolute ISO 8601 time; undefined when neither. */
export function parseTimeArg(text: string, now = Date.now()): Date | undefined {
  const ms = parseDurationMs(text);
  if (ms !== undefined) return new Date(now - ms);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const d = new Date(text.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}
