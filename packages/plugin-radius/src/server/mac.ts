/**
 * MAC addresses as NAS write them: `AA-BB-CC-DD-EE-FF` (CoovaChilli, RFC 3580 style), `30:39:26:86:CC:EA` (MikroTik),
 * `aabb.ccdd.eeff` (Cisco), `aabbccddeeff`. RGZ stores them lower-case and colon-separated, as subscriber_devices does.
 */

const SEPARATED = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
const DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;
const BARE = /^[0-9a-f]{12}$/i;

/** `aa:bb:cc:dd:ee:ff`, or undefined when `text` is not a MAC address in a common format. */
export function normalizeMac(text: string | undefined | null): string | undefined {
  if (!text) return undefined;
  const t = text.trim();
  let hex: string | undefined;
  const sep = SEPARATED.exec(t);
  if (sep) {
    // One separator style throughout (no "aa:bb-cc…").
    const separators = new Set(t.replace(/[0-9a-f]/gi, ''));
    if (separators.size !== 1) return undefined;
    hex = sep.slice(1).join('');
  } else if (DOTTED.test(t)) hex = t.replace(/\./g, '');
  else if (BARE.test(t)) hex = t;
  if (hex === undefined) return undefined;
  return hex.toLowerCase().match(/../g)!.join(':');
}
