/**
 * The generic profile, `if-mib`: any SNMP agent (gateways, switches, MikroTik, airFiber, a Linux box) through the
 * standard MIBs only: IF-MIB interfaces (Counter64 from ifXTable when present, 32-bit ifTable counters otherwise:
 * the poller handles their wrap), errors and discards, oper status, speed; sysUpTime; sysDescr (as `model`); CPU as the
 * mean of HOST-RESOURCES-MIB hrProcessorLoad. It scores 1, so any vendor profile that recognises a device wins.
 */
import type { CpePollPlan, CpePollResult, CpeProbe, CpeProfile, CpeSample } from '@rgz/core';
import { compactFields, IF_MIB_COLUMNS, parseIfMibInterfaces, StandardOid, Varbinds, varbindNumber, withinRange } from '@rgz/core';

/** HOST-RESOURCES-MIB hrProcessorLoad (% over the last minute), one row per CPU. */
export const HR_PROCESSOR_LOAD = '1.3.6.1.2.1.25.3.3.1.2';

export const genericPlan: CpePollPlan = {
  get: [StandardOid.sysUpTime, StandardOid.sysDescr],
  walk: [...IF_MIB_COLUMNS, HR_PROCESSOR_LOAD],
  maxRepetitions: 20,
};

export function createGenericProfile(options: { id?: string } = {}): CpeProfile {
  return {
    id: options.id ?? 'if-mib',
    provider: 'if-mib',
    probeOids: [],
    plan: genericPlan,
    detect: (probe: CpeProbe) => (probe.sysObjectID !== '' || probe.sysDescr !== '' ? 1 : 0),
    parse: parseGeneric,
  };
}

export function parseGeneric(result: CpePollResult): CpeSample {
  const vb = new Varbinds(result.varbinds);
  const ticks = vb.get(StandardOid.sysUpTime);
  const loads = [...vb.column(HR_PROCESSOR_LOAD).values()].map((v) => withinRange(varbindNumber(v), 0, 100)).filter((v): v is number => v !== undefined);
  const descr = vb.str(StandardOid.sysDescr);
  return compactFields({
    polledAt: result.polledAt,
    uptimeSeconds: ticks?.type === 'TimeTicks' ? ticks.value / 100 : undefined,
    // sysDescr's first line, bounded: "RouterOS RBLHGR", "Linux gw-01 5.10.0 …".
    model: descr ? (descr.split(/\r?\n/)[0] as string).slice(0, 120) : undefined,
    cpuLoadPercent: loads.length ? Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 100) / 100 : undefined,
    radios: [],
    interfaces: parseIfMibInterfaces(vb),
    stations: [],
  });
}
