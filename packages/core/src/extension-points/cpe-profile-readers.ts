/**
 * Reading a poll's varbinds for CPE profiles, total and typed (every accessor returns `undefined` for a missing OID, a
 * `NoSuch*` entry or a value of the wrong type, never throws), and the IF-MIB interface table every profile reads
 * alike. Pure functions over `SnmpVarbind`: no SNMP library here, the poller decodes the wire.
 */

import { type InterfaceStats, type Oid, type SnmpVarbind, StandardOid } from './cpe-profile.js';

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
    return varbindNumber(this.byOid.get(oid));
  }

  /** An OctetString decoded as UTF-8 (trailing NULs and blanks trimmed); empty strings are `undefined`. */
  str(oid: Oid): string | undefined {
    return varbindText(this.byOid.get(oid));
  }

  /** A number written as text (ePMP's DisplayString distances and rates), or a plain number. */
  numeric(oid: Oid): number | undefined {
    const vb = this.byOid.get(oid);
    const n = varbindNumber(vb);
    if (n !== undefined) return n;
    const s = varbindText(vb);
    if (s === undefined || !/^-?\d+(?:\.\d+)?$/.test(s)) return undefined;
    return Number(s);
  }

  /**
   * The OIDs in plain string order, each with its position in the poll, built on the first `column` call: the OIDs
   * under one prefix are then a contiguous run found by binary search, where scanning every varbind per column (a
   * profile reads 30–40 columns per poll) was the largest allocator of a poll.
   */
  private sorted: { oid: Oid; pos: number }[] | undefined;

  /** Every row of a column: index suffix (after `column.`) → varbind, in the order the poll returned them (OID order). */
  column(column: Oid): Map<string, SnmpVarbind> {
    const prefix = `${column}.`;
    if (this.sorted === undefined) {
      let pos = 0;
      this.sorted = [...this.byOid.keys()].map((oid) => ({ oid, pos: pos++ })).sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
    }
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as { oid: Oid }).oid < prefix) lo = mid + 1;
      else hi = mid;
    }
    const hits: { oid: Oid; pos: number }[] = [];
    for (let i = lo; i < sorted.length && (sorted[i] as { oid: Oid }).oid.startsWith(prefix); i++) hits.push(sorted[i] as { oid: Oid; pos: number });
    hits.sort((a, b) => a.pos - b.pos);
    const out = new Map<string, SnmpVarbind>();
    for (const { oid } of hits) {
      const vb = this.byOid.get(oid);
      if (!isVarbindError(vb)) out.set(oid.slice(prefix.length), vb as SnmpVarbind);
    }
    return out;
  }
}

/** No value: absent, `NoSuch*`, `EndOfMibView` or `Null`. */
export function isVarbindError(vb: SnmpVarbind | undefined): boolean {
  return !vb || vb.type === 'NoSuchObject' || vb.type === 'NoSuchInstance' || vb.type === 'EndOfMibView' || vb.type === 'Null';
}

/** Integer, Counter32, Gauge32, TimeTicks, or a Counter64 that fits a double exactly. */
export function varbindNumber(vb: SnmpVarbind | undefined): number | undefined {
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

/** An OctetString decoded as UTF-8 (trailing NULs and blanks trimmed); empty strings are `undefined`. */
export function varbindText(vb: SnmpVarbind | undefined): string | undefined {
  if (vb?.type !== 'OctetString') return undefined;
  const s = decoder
    .decode(vb.value)
    .replace(/[\0\s]+$/u, '')
    .trim();
  return s === '' ? undefined : s;
}

/** Six bytes as `aa:bb:cc:dd:ee:ff`, or a textual MAC in any common notation; `undefined` otherwise. */
export function varbindMac(vb: SnmpVarbind | undefined): string | undefined {
  if (vb?.type !== 'OctetString') return undefined;
  if (vb.value.length === 6) return [...vb.value].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return macFromText(varbindText(vb));
}

/** A textual MAC in any common notation (`AA-BB-…`, `aabb.ccdd.eeff`) as `aa:bb:cc:dd:ee:ff`. */
export function macFromText(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const hex = text.toLowerCase().replace(/[:.\-\s]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? (hex.match(/../g) as string[]).join(':') : undefined;
}

/** A value only when it lies in [lo, hi]: agents that report 0 or 65535 for "unknown" do not become readings. */
export function withinRange(value: number | undefined, lo: number, hi: number): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= lo && value <= hi ? value : undefined;
}

/** Drop `undefined` fields, so a sample only carries what the device said. */
export function compactFields<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * IF-MIB (RFC 2863): ifTable, and ifXTable when the agent has it. Octet counters are Counter64 (`ifHCIn/OutOctets`,
 * `counterBits: 64`) when present for an interface, else the Counter32 `ifIn/OutOctets` (`counterBits: 32`, e.g.
 * airOS 8 without ifXTable); the poller turns them into rates and handles 32-bit wraps.
 */
/** Columns a profile walks to fill `interfaces` (walk roots of its plan). */
export const IF_MIB_COLUMNS: readonly Oid[] = [
  StandardOid.ifDescr,
  StandardOid.ifSpeed,
  StandardOid.ifOperStatus,
  StandardOid.ifInOctets,
  StandardOid.ifInDiscards,
  StandardOid.ifInErrors,
  StandardOid.ifOutOctets,
  StandardOid.ifOutErrors,
  StandardOid.ifName,
  StandardOid.ifHCInOctets,
  StandardOid.ifHCOutOctets,
  StandardOid.ifHighSpeed,
];

const OPER: Record<number, InterfaceStats['operStatus']> = {
  1: 'up',
  2: 'down',
  3: 'testing',
  4: 'unknown',
  5: 'dormant',
  6: 'notPresent',
  7: 'lowerLayerDown',
};

const MAX32 = 2 ** 32 - 1;

export function parseIfMibInterfaces(vb: Varbinds): InterfaceStats[] {
  const columns = IF_MIB_COLUMNS.map((c) => vb.column(c));
  const [descr, speed, oper, in32, inDiscards, inErrors, out32, outErrors, name, in64, out64, highSpeed] = columns;
  const indexes = new Set<number>();
  for (const col of columns) {
    for (const suffix of col.keys()) {
      if (/^[1-9]\d{0,9}$/.test(suffix) && Number(suffix) <= 2 ** 31 - 1) indexes.add(Number(suffix));
    }
  }
  const out: InterfaceStats[] = [];
  for (const ifIndex of [...indexes].sort((a, b) => a - b)) {
    const k = String(ifIndex);
    const hcIn = in64?.get(k);
    const hcOut = out64?.get(k);
    const has64 = hcIn?.type === 'Counter64' || hcOut?.type === 'Counter64';
    const octets = (v: SnmpVarbind | undefined, bits: 32 | 64): bigint | undefined => {
      if (bits === 64) return v?.type === 'Counter64' ? v.value : undefined;
      return v?.type === 'Counter32' && Number.isInteger(v.value) && v.value >= 0 && v.value <= MAX32 ? BigInt(v.value) : undefined;
    };
    const bits: 32 | 64 = has64 ? 64 : 32;
    const counter32 = (m: Map<string, SnmpVarbind> | undefined) => {
      const v = m?.get(k);
      return v?.type === 'Counter32' && v.value >= 0 && v.value <= MAX32 ? v.value : undefined;
    };
    const text = (m: Map<string, SnmpVarbind> | undefined) => {
      const v = m?.get(k);
      if (v?.type !== 'OctetString') return undefined;
      const s = new TextDecoder().decode(v.value).replace(/\0+$/, '').trim();
      return s === '' ? undefined : s;
    };
    const hs = varbindNumber(highSpeed?.get(k));
    const sp = varbindNumber(speed?.get(k));
    // ifHighSpeed is Mbit/s; some agents (Cambium ePMP) put bit/s in it: no CPE port runs above 400 Gbit/s.
    const speedBps = hs !== undefined && hs > 0 ? (hs > 400_000 ? hs : hs * 1_000_000) : sp !== undefined && sp > 0 && sp < MAX32 ? sp : undefined;
    const status = varbindNumber(oper?.get(k));
    out.push(
      compactFields({
        ifIndex,
        name: text(name) ?? text(descr),
        operStatus: status !== undefined ? OPER[status] : undefined,
        inOctets: octets(has64 ? hcIn : in32?.get(k), bits),
        outOctets: octets(has64 ? hcOut : out32?.get(k), bits),
        counterBits: bits,
        inErrors: counter32(inErrors),
        outErrors: counter32(outErrors),
        inDiscards: counter32(inDiscards),
        speedBps,
      }),
    );
  }
  return out;
}
