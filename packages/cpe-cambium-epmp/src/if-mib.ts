/**
 * IF-MIB (RFC 2863) reading shared by every profile: ifTable, and ifXTable when the agent has it. Octet counters are
 * Counter64 (`ifHCIn/OutOctets`, `counterBits: 64`) when present for an interface, else the Counter32 `ifIn/OutOctets`
 * (`counterBits: 32`, e.g. airOS 8 without ifXTable); the poller turns them into rates and handles 32-bit wraps.
 * (Kept identical in each CPE profile package and in plugin-snmp; a candidate for @rgz/core.)
 */
import { type InterfaceStats, type Oid, type SnmpVarbind, StandardOid } from '@rgz/core';
import { compact, numberOf, type Varbinds } from './varbinds.js';

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

export function parseInterfaces(vb: Varbinds): InterfaceStats[] {
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
    const hs = numberOf(highSpeed?.get(k));
    const sp = numberOf(speed?.get(k));
    // ifHighSpeed is Mbit/s; some agents (Cambium ePMP) put bit/s in it: no CPE port runs above 400 Gbit/s.
    const speedBps = hs !== undefined && hs > 0 ? (hs > 400_000 ? hs : hs * 1_000_000) : sp !== undefined && sp > 0 && sp < MAX32 ? sp : undefined;
    const status = numberOf(oper?.get(k));
    out.push(
      compact({
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
