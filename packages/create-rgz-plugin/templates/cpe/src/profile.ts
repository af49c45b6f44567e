/**
 * A `CpeProfile` that reads only the standard MIBs every SNMP agent has: sysUpTime and sysDescr (SNMPv2-MIB) and the
 * IF-MIB interface table: names, status, speed, octet counters (64-bit from ifXTable when the agent has it, else the
 * 32-bit ifTable ones), errors and discards. It claims any agent with a low score (1), so a vendor profile that
 * recognises the device wins; given an enterprise OID it claims only that vendor's devices, with score 50.
 * Add the vendor's own OIDs (signal, noise, stations) to `plan` and read them in `parse` to make it a vendor profile.
 */
import {
  type CpePollPlan,
  type CpePollResult,
  type CpeProbe,
  type CpeProfile,
  type CpeSample,
  type InterfaceStats,
  type SnmpVarbind,
  StandardOid,
} from '@rgz/core';

/** The IF-MIB columns walked each cycle (columns, not whole tables: fewer GetBulk round trips). */
export const IF_COLUMNS = [
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
] as const;

export const plan: CpePollPlan = { get: [StandardOid.sysUpTime, StandardOid.sysDescr], walk: [...IF_COLUMNS], maxRepetitions: 20 };

/** ifOperStatus values (IF-MIB). */
const OPER_STATUS = ['up', 'down', 'testing', 'unknown', 'dormant', 'notPresent', 'lowerLayerDown'] as const;
const UINT32_MAX = 2 ** 32 - 1;

export interface IfMibProfileOptions {
  /** Instance id: the key in `CpeProfiles`. */
  readonly id: string;
  /** Enterprise OID prefix (`1.3.6.1.4.1.<PEN>`): claim only devices whose sysObjectID is under it. */
  readonly enterprise?: string;
}

export function createIfMibProfile(options: IfMibProfileOptions): CpeProfile {
  const { enterprise } = options;
  return {
    id: options.id,
    provider: 'if-mib',
    probeOids: [],
    plan,
    detect(probe: CpeProbe): number {
      if (enterprise !== undefined) return probe.sysObjectID === enterprise || probe.sysObjectID.startsWith(`${enterprise}.`) ? 50 : 0;
      return probe.sysObjectID !== '' || probe.sysDescr !== '' ? 1 : 0;
    },
    parse,
  };
}

/** Pure and total: unknown OIDs, NoSuch* entries and values of the wrong type are skipped, never thrown on. */
export function parse(result: CpePollResult): CpeSample {
  const byOid = new Map(result.varbinds.map((vb) => [vb.oid, vb]));
  const ticks = byOid.get(StandardOid.sysUpTime);
  const descr = text(byOid.get(StandardOid.sysDescr));
  const uptimeSeconds = ticks?.type === 'TimeTicks' && ticks.value >= 0 ? ticks.value / 100 : undefined;
  return {
    polledAt: result.polledAt,
    ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
    // The first line of sysDescr, bounded: "Linux cpe-demo 5.10.0 mips", "RouterOS RB912UAG-5HPnD".
    ...(descr ? { model: (descr.split(/\r?\n/)[0] ?? '').slice(0, 120) } : {}),
    radios: [],
    interfaces: interfaces(result.varbinds),
    stations: [],
  };
}

function interfaces(varbinds: readonly SnmpVarbind[]): InterfaceStats[] {
  const rows = new Map<number, Map<string, SnmpVarbind>>();
  for (const vb of varbinds) {
    const column = IF_COLUMNS.find((root) => vb.oid.startsWith(`${root}.`));
    if (column === undefined) continue;
    const index = Number(vb.oid.slice(column.length + 1));
    if (!Number.isSafeInteger(index) || index <= 0) continue;
    const row = rows.get(index) ?? new Map<string, SnmpVarbind>();
    row.set(column, vb);
    rows.set(index, row);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([ifIndex, row]) => {
      const hcIn = counter64(row.get(StandardOid.ifHCInOctets));
      const hcOut = counter64(row.get(StandardOid.ifHCOutOctets));
      const wide = hcIn !== undefined || hcOut !== undefined;
      const inOctets = wide ? hcIn : counter32(row.get(StandardOid.ifInOctets));
      const outOctets = wide ? hcOut : counter32(row.get(StandardOid.ifOutOctets));
      const status = int(row.get(StandardOid.ifOperStatus));
      const operStatus = status === undefined ? undefined : OPER_STATUS[status - 1];
      const name = text(row.get(StandardOid.ifName)) || text(row.get(StandardOid.ifDescr));
      const highSpeed = gauge(row.get(StandardOid.ifHighSpeed));
      const speed = gauge(row.get(StandardOid.ifSpeed));
      const speedBps = highSpeed ? highSpeed * 1_000_000 : speed || undefined;
      const inErrors = count(row.get(StandardOid.ifInErrors));
      const outErrors = count(row.get(StandardOid.ifOutErrors));
      const inDiscards = count(row.get(StandardOid.ifInDiscards));
      return {
        ifIndex,
        counterBits: wide ? 64 : 32,
        ...(name ? { name } : {}),
        ...(operStatus === undefined ? {} : { operStatus }),
        ...(inOctets === undefined ? {} : { inOctets }),
        ...(outOctets === undefined ? {} : { outOctets }),
        ...(inErrors === undefined ? {} : { inErrors }),
        ...(outErrors === undefined ? {} : { outErrors }),
        ...(inDiscards === undefined ? {} : { inDiscards }),
        ...(speedBps === undefined ? {} : { speedBps }),
      } satisfies InterfaceStats;
    });
}

/** OctetString as text, control characters (but tabs and line ends) removed; undefined for any other type. */
function text(vb: SnmpVarbind | undefined): string | undefined {
  if (vb?.type !== 'OctetString') return undefined;
  const printable = (c: string) => {
    const code = c.codePointAt(0) ?? 0;
    return (code >= 0x20 && code !== 0x7f) || c === '\t' || c === '\n' || c === '\r';
  };
  return [...new TextDecoder().decode(vb.value)].filter(printable).join('').trim();
}

function int(vb: SnmpVarbind | undefined): number | undefined {
  return vb?.type === 'Integer' && Number.isSafeInteger(vb.value) ? vb.value : undefined;
}

function gauge(vb: SnmpVarbind | undefined): number | undefined {
  return vb?.type === 'Gauge32' && Number.isInteger(vb.value) && vb.value >= 0 && vb.value <= UINT32_MAX ? vb.value : undefined;
}

function count(vb: SnmpVarbind | undefined): number | undefined {
  return vb?.type === 'Counter32' && Number.isInteger(vb.value) && vb.value >= 0 && vb.value <= UINT32_MAX ? vb.value : undefined;
}

function counter32(vb: SnmpVarbind | undefined): bigint | undefined {
  const value = count(vb);
  return value === undefined ? undefined : BigInt(value);
}

function counter64(vb: SnmpVarbind | undefined): bigint | undefined {
  return vb?.type === 'Counter64' && vb.value >= 0n && vb.value < 2n ** 64n ? vb.value : undefined;
}
