/**
 * FreeRADIUS rlm_rest `body = json` in both directions (FreeRADIUS 3.2 `mods-available/rest`).
 * Request: the request list, `{"User-Name":{"type":"string","value":["alice"]}, …}`: values always in an array,
 * enumerated integers by name (`"Acct-Status-Type":{"type":"integer","value":["Interim-Update"]}`) unless
 * `raw_value = yes`, plain integers as JSON numbers, octets as `"0x…"` hex, dates as `"Nov 24 2026 23:34:42 UTC"`.
 * Reply: flat `"list:Attr"` keys, `"reply:Session-Timeout": 3600`, or `{"op":"+=","value":[…]}` for a repeated
 * attribute and `{"do_xlat":false,"value":…}` for a string FreeRADIUS must not expand.
 */

import type { AttributeInput, RadiusAttributeDef, RadiusDictionary, RadiusValue } from '../codec/index.js';
import type { RequestAttribute, RequestAttributes } from '../server/request.js';

/** The body is not an rlm_rest JSON attribute list. */
export class RestBodyError extends Error {
  readonly code = 'radius_rest_body_invalid';
}

const EMPTY = Buffer.alloc(0);
const HEX = /^0x((?:[0-9a-fA-F]{2})*)$/;

const invalid = (reason: string, raw: Buffer = EMPTY): RequestAttribute => ({ value: raw, raw, invalid: reason });

function integer(def: RadiusAttributeDef | undefined, dictionary: RadiusDictionary, v: unknown): RequestAttribute {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? { value: v, raw: EMPTY } : invalid(`not an unsigned integer: ${v}`);
  if (typeof v !== 'string') return invalid('not an integer');
  if (/^\d+$/.test(v)) return { value: Number(v), raw: EMPTY };
  const n = def ? dictionary.valueNumber(def, v) : undefined;
  return n === undefined ? invalid(`unknown value name ${JSON.stringify(v).slice(0, 64)}`) : { value: n, raw: EMPTY, valueName: v };
}

/** One JSON value as the codec would have decoded it from the wire. */
function convert(def: RadiusAttributeDef | undefined, jsonType: string | undefined, dictionary: RadiusDictionary, v: unknown): RequestAttribute {
  const type = def?.dataType ?? jsonType ?? (typeof v === 'number' ? 'integer' : 'string');
  switch (type) {
    case 'integer':
    case 'short':
    case 'byte':
    case 'signed':
      return integer(def, dictionary, v);
    case 'date': {
      if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return { value: Number(v), raw: EMPTY };
      const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
      return Number.isNaN(ms) ? invalid('not a date') : { value: Math.floor(ms / 1000), raw: EMPTY };
    }
    case 'integer64':
      try {
        return typeof v === 'number' || typeof v === 'string' ? { value: BigInt(v), raw: EMPTY } : invalid('not an integer');
      } catch {
        return invalid('not an integer');
      }
    case 'octets':
    case 'ifid':
    case 'tlv':
    case 'abinary': {
      if (typeof v !== 'string') return invalid('not a string');
      const hex = HEX.exec(v);
      const bytes = hex ? Buffer.from(hex[1] as string, 'hex') : Buffer.from(v, 'utf8');
      return { value: bytes, raw: bytes };
    }
    default: {
      // string and the address types, which the codec also returns as text.
      if (typeof v !== 'string') return typeof v === 'number' ? { value: String(v), raw: Buffer.from(String(v)) } : invalid('not a string');
      return { value: v, raw: Buffer.from(v, 'utf8') };
    }
  }
}

/**
 * The request attributes of an rlm_rest JSON body. Attribute names are FreeRADIUS's; the dialects' dictionaries use
 * the same names, so the codec's types apply. Unknown attributes are typed by their JSON `type`.
 */
export function restAttributes(body: unknown, dictionary: RadiusDictionary): RequestAttributes {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RestBodyError('the body must be a JSON object of attributes (rlm_rest body = json)');
  const attributes = new Map<string, RequestAttribute[]>();
  for (const [name, entry] of Object.entries(body as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object') continue;
    const { type, value } = entry as { type?: unknown; value?: unknown };
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    const def = dictionary.attribute(name);
    attributes.set(
      name,
      values.map((v) => convert(def, typeof type === 'string' ? type : undefined, dictionary, v)),
    );
  }
  const find = (name: string) => attributes.get(name)?.[0];
  return {
    find,
    get: (name) => find(name)?.value,
    has: (name) => attributes.has(name),
    chapChallenge() {
      // rlm_rest does not send the Request Authenticator; the shipped site copies it into CHAP-Challenge when the NAS
      // sent none (RFC 2865 §2.2), or posts it as Packet-Authentication-Vector.
      const challenge = find('CHAP-Challenge') ?? find('Packet-Authentication-Vector');
      return challenge !== undefined && challenge.invalid === undefined && challenge.raw.length > 0 ? challenge.raw : undefined;
    },
  };
}

type JsonValue = string | number;

function jsonValue(value: RadiusValue | Uint8Array | Date): JsonValue {
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  return `0x${Buffer.from(value).toString('hex')}`;
}

/**
 * Reply attributes as rlm_rest reads them, in `list` (`reply`). Attributes without a name are named from the
 * dictionary; those it does not know either (raw octets) are left out and returned in `skipped`.
 */
export function restReply(
  attributes: readonly AttributeInput[],
  dictionary: RadiusDictionary,
  list = 'reply',
): { body: Record<string, unknown>; skipped: number } {
  const grouped = new Map<string, JsonValue[]>();
  let skipped = 0;
  for (const a of attributes) {
    let name: string | undefined;
    let value: JsonValue;
    if ('raw' in a) {
      skipped++;
      continue;
    }
    if ('dataType' in a) {
      name = a.name ?? dictionary.attributeByType(a.type, a.vendorId ?? 0)?.name;
      value = jsonValue(a.value);
    } else {
      name = a.name;
      value = jsonValue(a.value);
    }
    if (name === undefined) {
      skipped++;
      continue;
    }
    const values = grouped.get(name) ?? [];
    values.push(value);
    grouped.set(name, values);
  }
  const body: Record<string, unknown> = {};
  for (const [name, values] of grouped) {
    // FreeRADIUS expands %{…} in reply strings unless told not to; our values are data, never templates.
    const literal = values.some((v) => typeof v === 'string' && v.includes('%'));
    if (values.length === 1 && !literal) body[`${list}:${name}`] = values[0];
    else body[`${list}:${name}`] = { ...(values.length > 1 ? { op: '+=' } : {}), ...(literal ? { do_xlat: false } : {}), value: values };
  }
  return { body, skipped };
}
