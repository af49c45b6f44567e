/**
 * Reading a poll's varbinds, total and typed: every accessor returns `undefined` for a missing OID, a `NoSuch*`
 * entry or a value of the wrong type, never throws. (The same small helper lives in each CPE profile package and in
 * plugin-snmp, since plugins do not import each other; it is a candidate for @rgz/core.)
 */
import type { Oid, SnmpVarbind } from '@rgz/core';

export class Varbinds {
  private readonly byOid = new Map<Oid, SnmpVarbind>();

  constructor(varbinds: readonly SnmpVarbind[]) {
    for (const vb of varbinds) if (!this.byOid.has(vb.oid)) this.byOid.set(vb.oid, vb);
  }

  get(oid: Oid): SnmpVarbind | undefined {
    return this.byOid.get(oid);
  }

  /** Integer, Counter32, Gauge32, TimeTicks, or a Counter64 that fits a double exactly. */
  num(oid: Oid): number | undefined {
    return numberOf(this.byOid.get(oid));
  }

  /** An OctetString decoded as UTF-8 (trailing NULs and blanks trimmed); empty strings are `undefined`. */
  str(oid: Oid): string | undefined {
    return stringOf(this.byOid.get(oid));
  }

  /** A number written as text (ePMP's DisplayString distances and rates), or a plain number. */
  numeric(oid: Oid): number | undefined {
    const vb = this.byOid.get(oid);
    const n = numberOf(vb);
    if (n !== undefined) return n;
    const s = stringOf(vb);
    if (s === undefined || !/^-?\d+(?:\.\d+)?$/.test(s)) return undefined;
    return Number(s);
  }

  /** Every row of a column: index suffix (after `column.`) → varbind, in OID order. */
  column(column: Oid): Map<string, SnmpVarbind> {
    const prefix = `${column}.`;
    const out = new Map<string, SnmpVarbind>();
    for (const [oid, vb] of this.byOid) {
      if (oid.startsWith(prefix) && !isError(vb)) out.set(oid.slice(prefix.length), vb);
    }
    return out;
  }
}

export function isError(vb: SnmpVarbind | undefined): boolean {
  return !vb || vb.type === 'NoSuchObject' || vb.type === 'NoSuchInstance' || vb.type === 'EndOfMibView' || vb.type === 'Null';
}

export function numberOf(vb: SnmpVarbind | undefined): number | undefined {
  if (!vb) return undefined;
  switch (vb.type) {
    case 'Integer':
    case 'Counter32':
    case 'Gauge32':
    case 'TimeTicks':
      return Number.isFinite(vb.value) ? vb.value : undefined;
    case 'Counter64':
      return vb.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(vb.value) : undefined;
    default:
      return undefined;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function stringOf(vb: SnmpVarbind | undefined): string | undefined {
  if (vb?.type !== 'OctetString') return undefined;
  const s = decoder
    .decode(vb.value)
    .replace(/[\0\s]+$/u, '')
    .trim();
  return s === '' ? undefined : s;
}

/** Six bytes as `aa:bb:cc:dd:ee:ff`, or a textual MAC in any common notation; `undefined` otherwise. */
export function macOf(vb: SnmpVarbind | undefined): string | undefined {
  if (vb?.type !== 'OctetString') return undefined;
  if (vb.value.length === 6) return [...vb.value].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return macFromText(stringOf(vb));
}

export function macFromText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const hex = text.toLowerCase().replace(/[:.\-\s]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? (hex.match(/../g) as string[]).join(':') : undefined;
}

/** A value only when it lies in [lo, hi]: agents that report 0 or 65535 for "unknown" do not become readings. */
export function within(value: number | undefined, lo: number, hi: number): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= lo && value <= hi ? value : undefined;
}

/** Drop `undefined` fields, so a sample only carries what the device said. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
