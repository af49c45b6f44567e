/**
 * Cambium ePMP (1000/2000/3000, Force 180/200/300, ePTP) through CAMBIUM-PMP80211-MIB (1.3.6.1.4.1.17713.21,
 * LAST-UPDATED 2020-02-13). On a subscriber module (SM) the radio readings are scalars under cambiumRFStatus
 * (…21.1.2.n.0); on an AP each connected SM is a row of cambiumAPConnectedSTATable (…21.1.2.30.1, indexed by a row
 * number, not a MAC). The MIB has no noise-floor object: SNR comes from the radio (DL SNR on an SM, UL SNR per SM on
 * an AP). OIDs and units: README.md.
 */
import type { CpePollPlan, CpePollResult, CpeProbe, CpeProfile, CpeSample, Oid, RadioStats, StationStats } from '@rgz/core';
import { compactFields, IF_MIB_COLUMNS, macFromText, parseIfMibInterfaces, StandardOid, Varbinds, varbindNumber, varbindText, withinRange } from '@rgz/core';

const C = '1.3.6.1.4.1.17713.21';

export const EpmpOid = {
  /** cambiumGeneralStatus scalars. */
  ssid: `${C}.1.1.11.0`,
  firmware: `${C}.1.1.17.0`,
  subModeType: `${C}.1.1.33.0`,
  /** cambiumRFStatus scalars (SM side, some also on the AP). */
  frequency: `${C}.1.2.1.0`,
  bandwidth: `${C}.1.2.2.0`,
  dlRssi: `${C}.1.2.3.0`,
  txPower: `${C}.1.2.5.0`,
  connectedStations: `${C}.1.2.10.0`,
  dlSnr: `${C}.1.2.18.0`,
  connectedApMac: `${C}.1.2.19.0`,
  txCapacity: `${C}.1.2.21.0`,
  txQuality: `${C}.1.2.22.0`,
  rssiCh0: `${C}.1.2.24.0`,
  rssiCh1: `${C}.1.2.25.0`,
  /** sysCPUUsage, tenths of a percent (LibreNMS divides by 10). */
  cpuUsage: `${C}.2.1.64.0`,
  /** cambiumAPConnectedSTATable columns (AP side). */
  staMac: `${C}.1.2.30.1.1`,
  staUlRssi: `${C}.1.2.30.1.4`,
  staDlRssi: `${C}.1.2.30.1.5`,
  staUlSnr: `${C}.1.2.30.1.6`,
  staDlSnr: `${C}.1.2.30.1.7`,
  staIp: `${C}.1.2.30.1.10`,
  staHostName: `${C}.1.2.30.1.18`,
  staTxQuality: `${C}.1.2.30.1.20`,
  staSessionTime: `${C}.1.2.30.1.27`,
  staDlRateMbps: `${C}.1.2.30.1.28`,
} as const;

const STA_COLUMNS: Oid[] = [
  EpmpOid.staMac,
  EpmpOid.staUlRssi,
  EpmpOid.staDlRssi,
  EpmpOid.staUlSnr,
  EpmpOid.staDlSnr,
  EpmpOid.staIp,
  EpmpOid.staHostName,
  EpmpOid.staTxQuality,
  EpmpOid.staSessionTime,
  EpmpOid.staDlRateMbps,
];

export const epmpPlan: CpePollPlan = {
  get: [
    StandardOid.sysUpTime,
    EpmpOid.ssid,
    EpmpOid.firmware,
    EpmpOid.subModeType,
    EpmpOid.frequency,
    EpmpOid.bandwidth,
    EpmpOid.dlRssi,
    EpmpOid.txPower,
    EpmpOid.connectedStations,
    EpmpOid.dlSnr,
    EpmpOid.connectedApMac,
    EpmpOid.txCapacity,
    EpmpOid.txQuality,
    EpmpOid.rssiCh0,
    EpmpOid.rssiCh1,
    EpmpOid.cpuUsage,
  ],
  walk: [...STA_COLUMNS, ...IF_MIB_COLUMNS],
  maxRepetitions: 20,
};

export const EPMP_PROBE_OIDS: readonly Oid[] = [EpmpOid.firmware, EpmpOid.subModeType];

/** cambiumSubModeType: 1 TDD, 2 TDD PTP, 3 Standard WiFi, 4 ePTP Slave, 5 ePTP Master. */
const PTP_MODES = new Set([2, 4, 5]);
/** cambiumSTAConnectedRFBandwidth: 1 = 20 MHz, 2 = 40 MHz (the 2020 MIB names no other value). */
const BANDWIDTH: Record<number, number> = { 1: 20, 2: 40 };

export interface EpmpProfileOptions {
  id?: string;
}

export function createEpmpProfile(options: EpmpProfileOptions = {}): CpeProfile {
  return {
    id: options.id ?? 'cambium-epmp',
    provider: 'cambium-epmp',
    probeOids: EPMP_PROBE_OIDS,
    plan: epmpPlan,
    detect: detectEpmp,
    parse: parseEpmp,
  };
}

export function detectEpmp(probe: CpeProbe): number {
  if (probe.sysObjectID === C || probe.sysObjectID.startsWith(`${C}.`)) return 100;
  const answers = probe.varbinds.some((vb) => vb.oid.startsWith(`${C}.`) && (varbindNumber(vb) !== undefined || varbindText(vb) !== undefined));
  return answers ? 90 : 0;
}

/** `00:10:12`, `2d 03:04:05`, `2 days, 03:04:05`, `3600` → seconds; anything else `undefined`. */
export function sessionSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(?:(\d+)\s*(?:d|days?),?\s*)?(\d{1,2}):(\d{2}):(\d{2})$/i.exec(t);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

const avg = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : undefined);

export function parseEpmp(result: CpePollResult): CpeSample {
  const vb = new Varbinds(result.varbinds);
  const ticks = vb.get(StandardOid.sysUpTime);
  const stations = parseStations(vb);
  const subMode = vb.num(EpmpOid.subModeType);
  const apMacText = vb.str(EpmpOid.connectedApMac);
  const apMac = macFromText(apMacText);
  // An AP reports "Not Associated" as the connected AP's MAC (and 0 for the SM-only scalars).
  const role: RadioStats['role'] =
    subMode !== undefined && PTP_MODES.has(subMode) ? 'ptp' : apMac ? 'station' : stations.length > 0 || apMacText === 'Not Associated' ? 'ap' : 'unknown';
  const nonZero = (v: number | undefined) => (v === 0 ? undefined : v);
  const cpu = vb.num(EpmpOid.cpuUsage);

  const radioBase = {
    ssid: vb.str(EpmpOid.ssid),
    frequencyMHz: withinRange(vb.num(EpmpOid.frequency), 1, 100_000),
    channelWidthMHz: BANDWIDTH[vb.num(EpmpOid.bandwidth) ?? -1],
    txPowerDbm: withinRange(nonZero(vb.num(EpmpOid.txPower)), -40, 40),
    stationCount: withinRange(vb.num(EpmpOid.connectedStations), 0, 100_000),
  };
  let radio: RadioStats;
  if (role === 'ap') {
    // The AP's view: averages over its subscriber modules (UL readings are what the AP receives).
    radio = compactFields({
      ...radioBase,
      role,
      signalDbm: avg(stations.map((s) => s.signalDbm).filter((v): v is number => v !== undefined)),
      snrDb: avg(stations.map((s) => s.snrDb).filter((v): v is number => v !== undefined)),
      linkQualityPercent: avg(stations.map((s) => s.linkQualityPercent).filter((v): v is number => v !== undefined)),
      stationCount: radioBase.stationCount ?? stations.length,
    });
  } else {
    const chains = [vb.num(EpmpOid.rssiCh0), vb.num(EpmpOid.rssiCh1)].map((v) => withinRange(nonZero(v), -130, 0)).filter((v): v is number => v !== undefined);
    radio = compactFields({
      ...radioBase,
      role,
      signalDbm: withinRange(nonZero(vb.num(EpmpOid.dlRssi)), -130, 0),
      chainSignalDbm: chains.length ? chains : undefined,
      snrDb: withinRange(vb.num(EpmpOid.dlSnr), -20, 100),
      linkQualityPercent: withinRange(vb.num(EpmpOid.txQuality), 0, 100),
      capacityPercent: withinRange(vb.num(EpmpOid.txCapacity), 0, 100),
    });
  }
  const hasRadio = Object.keys(radio).some((k) => k !== 'role') || role !== 'unknown';

  return compactFields({
    polledAt: result.polledAt,
    uptimeSeconds: ticks?.type === 'TimeTicks' ? ticks.value / 100 : undefined,
    firmware: vb.str(EpmpOid.firmware),
    cpuLoadPercent: cpu !== undefined ? withinRange(cpu / 10, 0, 100) : undefined,
    radios: hasRadio ? [radio] : [],
    interfaces: parseIfMibInterfaces(vb),
    stations,
  });
}

function parseStations(vb: Varbinds): StationStats[] {
  const out: StationStats[] = [];
  for (const [row, macVb] of vb.column(EpmpOid.staMac)) {
    const mac = macFromText(varbindText(macVb));
    if (!mac || !/^\d+$/.test(row)) continue;
    const at = (col: Oid) => vb.get(`${col}.${row}`);
    const num = (col: Oid) => varbindNumber(at(col));
    const ip = at(EpmpOid.staIp);
    const rate = varbindText(at(EpmpOid.staDlRateMbps));
    const rateMbps = rate && /^\d+(?:\.\d+)?$/.test(rate) ? Number(rate) : undefined;
    out.push(
      compactFields({
        mac,
        ip: ip?.type === 'IpAddress' && ip.value !== '0.0.0.0' ? ip.value : undefined,
        name: varbindText(at(EpmpOid.staHostName)),
        signalDbm: withinRange(num(EpmpOid.staUlRssi), -130, -1),
        remoteSignalDbm: withinRange(num(EpmpOid.staDlRssi), -130, -1),
        snrDb: withinRange(num(EpmpOid.staUlSnr), -20, 100),
        linkQualityPercent: withinRange(num(EpmpOid.staTxQuality), 0, 100),
        txRateBps: rateMbps !== undefined ? rateMbps * 1_000_000 : undefined,
        connectedSeconds: sessionSeconds(varbindText(at(EpmpOid.staSessionTime))),
      }),
    );
  }
  return out;
}
