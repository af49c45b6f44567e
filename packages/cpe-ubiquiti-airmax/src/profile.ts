/**
 * Ubiquiti airMAX (airOS 6/8: LiteBeam, NanoStation, NanoBeam, PowerBeam, Rocket) through UBNT-AirMAX-MIB
 * (1.3.6.1.4.1.41112.1.4, LAST-UPDATED 2017-10-03). OIDs and units: README.md; sources: the MIB (snmptranslate),
 * LibreNMS's airos definitions and its recorded walks.
 *
 * Family distinction: airMAX answers UBNT-AirMAX-MIB; airFiber (AF-5/11/24: UBNT-AirFIBER-MIB …41112.1.3), airFiber
 * LTU (…41112.1.10) and AF60 (…41112.1.11) share sysObjectID 1.3.6.1.4.1.10002.1 or a net-snmp one but not this MIB,
 * so this profile scores them 0 (a separate airFiber profile would claim them; the generic IF-MIB one polls them
 * meanwhile). The model (LiteBeam 5AC Gen2, NanoStation M5, …) comes from IEEE802dot11-MIB
 * dot11manufacturerProductName, the firmware from dot11manufacturerProductVersion (`WA.ar934x.v8.7.4…` → `8.7.4…`).
 */
import type { CpePollPlan, CpePollResult, CpeProbe, CpeProfile, CpeSample, Oid, RadioStats, SnmpVarbind, StationStats } from '@rgz/core';
import { compactFields, IF_MIB_COLUMNS, parseIfMibInterfaces, StandardOid, Varbinds, varbindNumber, varbindText, withinRange } from '@rgz/core';

const A = '1.3.6.1.4.1.41112.1.4';

export const AirMaxOid = {
  /** ubntRadioTable, index ubntRadioIndex. */
  radioMode: `${A}.1.1.2`,
  radioFreq: `${A}.1.1.4`,
  radioTxPower: `${A}.1.1.6`,
  radioDistance: `${A}.1.1.7`,
  /** ubntWlStatTable, index ubntWlStatIndex. */
  wlSsid: `${A}.5.1.2`,
  wlApMac: `${A}.5.1.4`,
  wlSignal: `${A}.5.1.5`,
  wlCcq: `${A}.5.1.7`,
  wlNoiseFloor: `${A}.5.1.8`,
  wlTxRate: `${A}.5.1.9`,
  wlRxRate: `${A}.5.1.10`,
  wlChanWidth: `${A}.5.1.14`,
  wlStaCount: `${A}.5.1.15`,
  /** ubntAirMaxTable, index ifIndex-like radio index. */
  amQuality: `${A}.6.1.3`,
  amCapacity: `${A}.6.1.4`,
  amAirtime: `${A}.6.1.7`,
  /** ubntStaTable (AP side), index ubntWlStatIndex + 6 MAC sub-ids. */
  staName: `${A}.7.1.2`,
  staSignal: `${A}.7.1.3`,
  staNoiseFloor: `${A}.7.1.4`,
  staDistance: `${A}.7.1.5`,
  staCcq: `${A}.7.1.6`,
  staLastIp: `${A}.7.1.10`,
  staTxRate: `${A}.7.1.11`,
  staRxRate: `${A}.7.1.12`,
  staTxBytes: `${A}.7.1.13`,
  staRxBytes: `${A}.7.1.14`,
  staConnTime: `${A}.7.1.15`,
  /** ubntHostInfo scalars. */
  hostCpuLoad: `${A}.8.3.0`,
  hostTemperature: `${A}.8.4.0`,
  /** IEEE802dot11-MIB, index ifIndex. */
  dot11ProductName: '1.2.840.10036.3.1.2.1.3',
  dot11ProductVersion: '1.2.840.10036.3.1.2.1.4',
} as const;

/** sysObjectIDs airOS reports: net-snmp's Linux one, or Ubiquiti's own. */
const AIROS_OBJECT_IDS = ['1.3.6.1.4.1.10002.1', '1.3.6.1.4.1.41112'];

const RADIO_COLUMNS: Oid[] = [AirMaxOid.radioMode, AirMaxOid.radioFreq, AirMaxOid.radioTxPower, AirMaxOid.radioDistance];
const WL_COLUMNS: Oid[] = [
  AirMaxOid.wlSsid,
  AirMaxOid.wlApMac,
  AirMaxOid.wlSignal,
  AirMaxOid.wlCcq,
  AirMaxOid.wlNoiseFloor,
  AirMaxOid.wlTxRate,
  AirMaxOid.wlRxRate,
  AirMaxOid.wlChanWidth,
  AirMaxOid.wlStaCount,
];
const AIRMAX_COLUMNS: Oid[] = [AirMaxOid.amQuality, AirMaxOid.amCapacity, AirMaxOid.amAirtime];
const STA_COLUMNS: Oid[] = [
  AirMaxOid.staName,
  AirMaxOid.staSignal,
  AirMaxOid.staNoiseFloor,
  AirMaxOid.staDistance,
  AirMaxOid.staCcq,
  AirMaxOid.staLastIp,
  AirMaxOid.staTxRate,
  AirMaxOid.staRxRate,
  AirMaxOid.staTxBytes,
  AirMaxOid.staRxBytes,
  AirMaxOid.staConnTime,
];

export const airMaxPlan: CpePollPlan = {
  get: [StandardOid.sysUpTime, AirMaxOid.hostCpuLoad, AirMaxOid.hostTemperature],
  walk: [AirMaxOid.dot11ProductName, AirMaxOid.dot11ProductVersion, ...RADIO_COLUMNS, ...WL_COLUMNS, ...AIRMAX_COLUMNS, ...STA_COLUMNS, ...IF_MIB_COLUMNS],
  // airOS agents are slow on large bulks (LibreNMS turns bulk off for airos); small pages, many columns per request.
  maxRepetitions: 10,
};

/** First instances of the wireless status table: present on every airMAX radio, absent on airFiber. */
export const AIRMAX_PROBE_OIDS: readonly Oid[] = [`${AirMaxOid.wlSignal}.1`, `${AirMaxOid.radioFreq}.1`, AirMaxOid.hostCpuLoad];

const CHAN_WIDTHS = new Set([5, 10, 20, 30, 40, 50, 60, 80, 160]);

export interface AirMaxProfileOptions {
  /** Instance id (the point's key); default `ubnt-airmax`. */
  id?: string;
}

export function createAirMaxProfile(options: AirMaxProfileOptions = {}): CpeProfile {
  return {
    id: options.id ?? 'ubnt-airmax',
    provider: 'ubnt-airmax',
    probeOids: AIRMAX_PROBE_OIDS,
    plan: airMaxPlan,
    detect: detectAirMax,
    parse: parseAirMax,
  };
}

export function detectAirMax(probe: CpeProbe): number {
  const mibAnswers = probe.varbinds.some((vb) => vb.oid.startsWith(`${A}.`) && varbindNumber(vb) !== undefined);
  const airosId = AIROS_OBJECT_IDS.some((id) => probe.sysObjectID === id || probe.sysObjectID.startsWith(`${id}.`));
  if (mibAnswers) return airosId ? 100 : 90;
  // Declares itself airMAX but the MIB did not answer (SNMP view restricted?): still better than the generic profile.
  if (probe.sysObjectID.startsWith(`${A}`)) return 50;
  return 0;
}

/** `WA.ar934x.v8.7.4.45112.210415.1103` → `8.7.4.45112.210415.1103` (LibreNMS's "version"). */
export function firmwareOf(productVersion: string | undefined): string | undefined {
  if (!productVersion) return undefined;
  const m = /\.v(\d+\.\d+[^\s]*)$/.exec(productVersion);
  return m ? m[1] : productVersion;
}

/**
 * ubntHostTemperature is °C (0..255 in the MIB), but airOS 8.7.4–8.7.6 report it ×10^7 (LibreNMS applies a divisor of
 * 10^7 on those versions): divide when the firmware says so or the value cannot be degrees.
 */
export function temperatureOf(raw: number | undefined, firmware: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const scaled = (firmware && /^8\.7\.[4-6]\./.test(firmware)) || raw > 1000 ? raw / 1e7 : raw;
  return withinRange(scaled, -40, 150);
}

function firstRow(vb: Varbinds, column: Oid): { index: string; value: SnmpVarbind } | undefined {
  const [entry] = vb.column(column);
  return entry ? { index: entry[0], value: entry[1] } : undefined;
}

export function parseAirMax(result: CpePollResult): CpeSample {
  const vb = new Varbinds(result.varbinds);
  const ticks = vb.get(StandardOid.sysUpTime);
  const uptimeSeconds = ticks?.type === 'TimeTicks' ? ticks.value / 100 : undefined;
  const model = firstRow(vb, AirMaxOid.dot11ProductName);
  const version = firstRow(vb, AirMaxOid.dot11ProductVersion);
  const firmware = firmwareOf(varbindText(version?.value));
  const cpu = vb.num(AirMaxOid.hostCpuLoad);
  const interfaces = parseIfMibInterfaces(vb);

  // One radio per ubntWlStatTable row (airMAX CPEs have one); radio and airMAX tables share the radio index.
  const wlIndexes = new Set<string>();
  for (const col of [...WL_COLUMNS, ...RADIO_COLUMNS, ...AIRMAX_COLUMNS]) for (const k of vb.column(col).keys()) if (/^\d+$/.test(k)) wlIndexes.add(k);
  const stations = parseStations(vb);
  const radios: RadioStats[] = [...wlIndexes]
    .sort((a, b) => Number(a) - Number(b))
    .map((i) => {
      const at = (col: Oid) => vb.num(`${col}.${i}`);
      const mode = at(AirMaxOid.radioMode);
      const staCount = withinRange(at(AirMaxOid.wlStaCount), 0, 100_000);
      const role: RadioStats['role'] =
        mode === 1
          ? 'station'
          : mode !== undefined && mode >= 2 && mode <= 4
            ? 'ap'
            : stations.length > 0 || (staCount !== undefined && staCount > 1)
              ? 'ap'
              : 'unknown';
      // An AP without its own signal reading: the average of its stations' (the contract's "averaged over stations").
      const stationSignals = stations.map((s) => s.signalDbm).filter((v): v is number => v !== undefined);
      const signal =
        withinRange(at(AirMaxOid.wlSignal), -130, 0) ??
        (role === 'ap' && stationSignals.length ? Math.round((stationSignals.reduce((a, b) => a + b, 0) / stationSignals.length) * 10) / 10 : undefined);
      const noise = withinRange(at(AirMaxOid.wlNoiseFloor), -130, 0);
      const width = at(AirMaxOid.wlChanWidth);
      const airtime = at(AirMaxOid.amAirtime);
      // ath0 is the airOS wireless interface; with one radio it is that radio's ifIndex.
      const ath = wlIndexes.size === 1 ? interfaces.filter((itf) => itf.name === 'ath0') : [];
      return compactFields({
        ifIndex: ath.length === 1 ? ath[0]?.ifIndex : undefined,
        role,
        ssid: varbindText(vb.get(`${AirMaxOid.wlSsid}.${i}`)),
        frequencyMHz: withinRange(at(AirMaxOid.radioFreq), 1, 100_000),
        channelWidthMHz: width !== undefined && CHAN_WIDTHS.has(width) ? width : undefined,
        txPowerDbm: withinRange(at(AirMaxOid.radioTxPower), -40, 40),
        signalDbm: signal,
        noiseFloorDbm: noise,
        snrDb: signal !== undefined && noise !== undefined && signal > noise ? signal - noise : undefined,
        linkQualityPercent: withinRange(at(AirMaxOid.wlCcq), 0, 100) ?? withinRange(at(AirMaxOid.amQuality), 0, 100),
        capacityPercent: withinRange(at(AirMaxOid.amCapacity), 0, 100),
        // ubntAirMaxAirtime is per mille (699 = 69.9 %, as LibreNMS reads it).
        airtimePercent: airtime !== undefined ? withinRange(airtime / 10, 0, 100) : undefined,
        txRateBps: withinRange(at(AirMaxOid.wlTxRate), 0, 1e11),
        rxRateBps: withinRange(at(AirMaxOid.wlRxRate), 0, 1e11),
        stationCount: staCount,
      });
    });

  return compactFields({
    polledAt: result.polledAt,
    uptimeSeconds,
    model: varbindText(model?.value),
    firmware,
    // ubntHostCpuLoad is in hundredths of a percent (606 = 6.06 %; LibreNMS precision 100).
    cpuLoadPercent: cpu !== undefined ? withinRange(cpu / 100, 0, 100) : undefined,
    temperatureC: temperatureOf(vb.num(AirMaxOid.hostTemperature), firmware),
    radios,
    interfaces,
    stations,
  });
}

/** ubntStaTable rows: index `<wlStatIndex>.<6 MAC bytes>`. */
function parseStations(vb: Varbinds): StationStats[] {
  const macs = new Map<string, string>();
  for (const col of STA_COLUMNS) {
    for (const suffix of vb.column(col).keys()) {
      const parts = suffix.split('.');
      if (parts.length !== 7 || !parts.every((p) => /^\d+$/.test(p) && Number(p) <= 255)) continue;
      macs.set(
        suffix,
        parts
          .slice(1)
          .map((p) => Number(p).toString(16).padStart(2, '0'))
          .join(':'),
      );
    }
  }
  const out: StationStats[] = [];
  for (const [suffix, mac] of macs) {
    const at = (col: Oid) => vb.get(`${col}.${suffix}`);
    const num = (col: Oid) => varbindNumber(at(col));
    const bytes = (col: Oid) => {
      const v = at(col);
      return v?.type === 'Counter64' ? v.value : v?.type === 'Counter32' && v.value >= 0 ? BigInt(v.value) : undefined;
    };
    const ip = at(AirMaxOid.staLastIp);
    const signal = withinRange(num(AirMaxOid.staSignal), -130, 0);
    const noise = withinRange(num(AirMaxOid.staNoiseFloor), -130, 0);
    const tx = bytes(AirMaxOid.staTxBytes);
    const rx = bytes(AirMaxOid.staRxBytes);
    const conn = at(AirMaxOid.staConnTime);
    out.push(
      compactFields({
        mac,
        ip: ip?.type === 'IpAddress' && ip.value !== '0.0.0.0' ? ip.value : undefined,
        name: varbindText(at(AirMaxOid.staName)),
        signalDbm: signal,
        noiseFloorDbm: noise,
        snrDb: signal !== undefined && noise !== undefined && signal > noise ? signal - noise : undefined,
        linkQualityPercent: withinRange(num(AirMaxOid.staCcq), 0, 100),
        txRateBps: withinRange(num(AirMaxOid.staTxRate), 0, 1e11),
        rxRateBps: withinRange(num(AirMaxOid.staRxRate), 0, 1e11),
        txBytes: tx,
        rxBytes: rx,
        byteCounterBits:
          tx !== undefined || rx !== undefined
            ? at(AirMaxOid.staTxBytes)?.type === 'Counter64' || at(AirMaxOid.staRxBytes)?.type === 'Counter64'
              ? 64
              : 32
            : undefined,
        connectedSeconds: conn?.type === 'TimeTicks' ? conn.value / 100 : undefined,
        distanceMeters: withinRange(num(AirMaxOid.staDistance), 0, 1_000_000),
      }),
    );
  }
  return out;
}
