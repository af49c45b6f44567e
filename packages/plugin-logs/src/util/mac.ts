/** MAC addresses normalised as the parsers and RGZ's RADIUS plugin store them: `aa:bb:cc:dd:ee:ff`. */

const SEPARATED = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$/;
const DOTTED = /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/;

export function normalizeMac(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!SEPARATED.test(v) && !DOTTED.test(v)) return undefined;
  const hex = v.replace(/[:.-]/g, '').toLowerCase();
  return hex.match(/../g)?.join(':');
}
