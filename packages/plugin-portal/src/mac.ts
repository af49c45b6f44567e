/**
 * MAC addresses as NASes write them (CoovaChilli `AA-BB-CC-DD-EE-FF`, MikroTik `AA:BB:CC:DD:EE:FF`, Cisco
 * `aabb.ccdd.eeff`, bare `aabbccddeeff`) in the one form RGZ stores: lower-case, colon-separated.
 */

/** `aa:bb:cc:dd:ee:ff`, or null when `raw` is not a MAC address (including the all-zero and broadcast ones). */
export function normaliseMac(raw: string): string | null {
  const s = raw.trim();
  let hex: string;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) hex = s.replace(/\./g, '');
  else if (/^[0-9a-f]{12}$/i.test(s)) hex = s;
  else return null;
  hex = hex.toLowerCase();
  if (hex === '000000000000' || hex === 'ffffffffffff') return null;
  return hex.match(/../g)!.join(':');
}
