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
  IF_MIB_COLUMNS,
  parseIfMibInterfaces,
  StandardOid,
  Varbinds,
} from '@rgz/core';

/** sysUpTime and sysDescr, then the IF-MIB columns core reads (columns, not whole tables: fewer GetBulk round trips). */
export const plan: CpePollPlan = { get: [StandardOid.sysUpTime, StandardOid.sysDescr], walk: [...IF_MIB_COLUMNS], maxRepetitions: 20 };

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

/**
 * Pure and total: unknown OIDs, NoSuch* entries and values of the wrong type are skipped, never thrown on. The
 * interfaces are read by core's `parseIfMibInterfaces`, as in the shipped profiles; read the vendor's own OIDs with
 * the same `Varbinds` (`num`, `str`, `column`).
 */
export function parse(result: CpePollResult): CpeSample {
  const vb = new Varbinds(result.varbinds);
  const ticks = vb.get(StandardOid.sysUpTime);
  const descr = vb.str(StandardOid.sysDescr);
  const uptimeSeconds = ticks?.type === 'TimeTicks' && ticks.value >= 0 ? ticks.value / 100 : undefined;
  return {
    polledAt: result.polledAt,
    ...(uptimeSeconds === undefined ? {} : { uptimeSeconds }),
    // The first line of sysDescr, bounded: "Linux cpe-demo 5.10.0 mips", "RouterOS RB912UAG-5HPnD".
    ...(descr ? { model: (descr.split(/\r?\n/)[0] ?? '').slice(0, 120) } : {}),
    radios: [],
    interfaces: parseIfMibInterfaces(vb),
    stations: [],
  };
}
