/**
 * CPE profile: how to poll one CPE/radio vendor family over SNMP (Ubiquiti airMAX, Cambium ePMP, MikroTik, …) and
 * turn its varbinds into one normalised sample (signal, noise, SNR, link quality, airtime, rates, interface counters,
 * stations). Core's poller owns sessions, concurrency, timeouts and counter deltas; a profile is pure: it says which
 * devices it recognises, which OIDs to fetch, and how to read them. Units are normalised here so dashboards and
 * alerts never know the vendor.
 */

import { point } from '../plugin/tokens.js';
import type { ExtensionIdentity } from './common.js';

/**
 * A numeric OID in dotted form without a leading dot (`1.3.6.1.2.1.1.3.0`). Everything in this contract uses this form.
 */
export type Oid = string;

/**
 * One variable binding as the poller hands it over, decoded once for every profile:
 * Counter64 as bigint (net-snmp gives a Buffer), OctetString as bytes (may be text, a MAC or binary), missing objects
 * as a `NoSuch*` entry with `value: null` (a multi-OID get still returns the other OIDs).
 */
export type SnmpVarbind =
  | { readonly oid: Oid; readonly type: 'Integer' | 'Counter32' | 'Gauge32' | 'TimeTicks'; readonly value: number }
  | { readonly oid: Oid; readonly type: 'Counter64'; readonly value: bigint }
  | { readonly oid: Oid; readonly type: 'OctetString' | 'Opaque'; readonly value: Uint8Array }
  /** `ObjectIdentifier`: dotted, no leading dot. `IpAddress`: dotted quad. */
  | { readonly oid: Oid; readonly type: 'ObjectIdentifier' | 'IpAddress'; readonly value: string }
  | {
      readonly oid: Oid;
      readonly type: 'Null' | 'NoSuchObject' | 'NoSuchInstance' | 'EndOfMibView';
      readonly value: null;
    };

export type SnmpValueType = SnmpVarbind['type'];

/** What the poller fetched for detection: sysObjectID.0, sysDescr.0 and the profile's `probeOids`. */
export interface CpeProbe {
  readonly sysObjectID: Oid;
  readonly sysDescr: string;
  /** Results of every registered profile's `probeOids` (one get), so a profile can test for its vendor MIB. */
  readonly varbinds: readonly SnmpVarbind[];
}

/** What to fetch each cycle. */
export interface CpePollPlan {
  /** Scalar instances fetched with one multi-OID get (`….0` or fully indexed). */
  readonly get: readonly Oid[];
  /** Subtree roots (tables or columns) fetched with GetBulk until the subtree ends. Prefer columns over whole tables. */
  readonly walk: readonly Oid[];
  /** GetBulk max-repetitions suited to this vendor's agent (airOS may be slow on big bulks); default 20. */
  readonly maxRepetitions?: number;
}

/** Everything fetched for one device in one cycle. */
export interface CpePollResult {
  /** Results of `plan.get` then of each `plan.walk`, in order; a walk contributes only OIDs under its root. */
  readonly varbinds: readonly SnmpVarbind[];
  /** When the poll started. */
  readonly polledAt: Date;
}

/** One radio (wireless interface) of the polled device. All fields optional: vendors expose different subsets. */
export interface RadioStats {
  /** ifIndex of the wireless interface, to join with `interfaces`. */
  readonly ifIndex?: number;
  /** `ap` serves stations; `station` is a client CPE; `ptp` is one end of a point-to-point link. */
  readonly role: 'ap' | 'station' | 'ptp' | 'unknown';
  readonly ssid?: string;
  readonly frequencyMHz?: number;
  readonly channelWidthMHz?: number;
  readonly txPowerDbm?: number;
  /** Received signal, dBm (airMAX Signal, ePMP DL RSSI, MikroTik Strength). On an AP: averaged over stations, if given. */
  readonly signalDbm?: number;
  /** Per receive chain, dBm. */
  readonly chainSignalDbm?: readonly number[];
  /** Noise floor, dBm. */
  readonly noiseFloorDbm?: number;
  /** Signal-to-noise ratio (or CINR where that is all the vendor gives), dB. */
  readonly snrDb?: number;
  /** Link quality 0–100 %: CCQ (airMAX, MikroTik) or the vendor's equivalent (airMAX Quality). */
  readonly linkQualityPercent?: number;
  /** airMAX capacity 0–100 %. */
  readonly capacityPercent?: number;
  /** Share of air time used, 0–100 %. */
  readonly airtimePercent?: number;
  /** Current PHY rates, bit/s, from this device's view (tx = sent by it). */
  readonly txRateBps?: number;
  readonly rxRateBps?: number;
  /** Stations associated (AP) — may be larger than `stations.length` if the table was cut. */
  readonly stationCount?: number;
}

/** One network interface, from IF-MIB (or a vendor table). */
export interface InterfaceStats {
  readonly ifIndex: number;
  /** ifName, else ifDescr. */
  readonly name?: string;
  readonly operStatus?: 'up' | 'down' | 'testing' | 'unknown' | 'dormant' | 'notPresent' | 'lowerLayerDown';
  /** Octet counters as read (not deltas). */
  readonly inOctets?: bigint;
  readonly outOctets?: bigint;
  /**
   * Width of the octet counters: 64 (ifHCIn/OutOctets) or 32 (ifIn/OutOctets fallback, e.g. airOS 8 without
   * ifXTable). The poller uses it to handle wraps; 32-bit counters wrap every 4 GiB.
   */
  readonly counterBits: 32 | 64;
  /** Counter32 values as read. */
  readonly inErrors?: number;
  readonly outErrors?: number;
  readonly inDiscards?: number;
  /** Nominal speed, bit/s (ifHighSpeed × 10^6, else ifSpeed); absent when the agent reports 0. */
  readonly speedBps?: number;
}

/** One associated station (seen on an AP) or the AP (seen on a station). */
export interface StationStats {
  /** Lower-case, colon-separated (`24:a4:3c:01:02:03`). */
  readonly mac: string;
  readonly ip?: string;
  readonly name?: string;
  /** Signal of this station as received by the polled device, dBm. */
  readonly signalDbm?: number;
  /** Signal as received at the far end, dBm, where reported (ePMP DL RSSI in the AP's table). */
  readonly remoteSignalDbm?: number;
  readonly noiseFloorDbm?: number;
  readonly snrDb?: number;
  readonly linkQualityPercent?: number;
  /** PHY rates, bit/s, from the polled device's view (tx = towards the station). */
  readonly txRateBps?: number;
  readonly rxRateBps?: number;
  /** Byte counters, from the polled device's view, as read. */
  readonly txBytes?: bigint;
  readonly rxBytes?: bigint;
  /** Width of `txBytes`/`rxBytes` (MikroTik registration table: 32). */
  readonly byteCounterBits?: 32 | 64;
  readonly connectedSeconds?: number;
  readonly distanceMeters?: number;
}

/** The normalised result of one poll. Missing values are absent, never 0 or NaN. */
export interface CpeSample {
  readonly polledAt: Date;
  /** sysUpTime in seconds (TimeTicks / 100). A decrease means the device rebooted: counters restarted. */
  readonly uptimeSeconds?: number;
  readonly model?: string;
  readonly firmware?: string;
  readonly cpuLoadPercent?: number;
  readonly temperatureC?: number;
  readonly radios: readonly RadioStats[];
  readonly interfaces: readonly InterfaceStats[];
  readonly stations: readonly StationStats[];
}

/** A vendor family's SNMP profile. `provider` names the family (`ubnt-airmax`, `cambium-epmp`, `mikrotik`). */
export interface CpeProfile extends ExtensionIdentity {
  /** Extra OIDs fetched once at detection (e.g. a vendor MIB scalar to tell airMAX from airFiber). May be empty. */
  readonly probeOids: readonly Oid[];

  /**
   * How well this profile fits the device: 0 = not this vendor; otherwise a score, the highest wins (a generic IF-MIB
   * profile returns 1, a vendor profile matching sysObjectID and its MIB 100). Pure.
   */
  detect(probe: CpeProbe): number;

  /** What to fetch each cycle. Includes the standard objects the profile reads (sysUpTime, IF-MIB columns). */
  readonly plan: CpePollPlan;

  /**
   * Read one cycle's varbinds. Pure and total: never throws, ignores OIDs it does not know, tolerates `NoSuch*`
   * entries and missing tables (returns what it could read), converts units (bit/s, dBm, %, seconds).
   */
  parse(result: CpePollResult): CpeSample;
}

/** Standard OIDs profiles commonly include in their plan (SNMPv2-MIB, IF-MIB). */
export const StandardOid = {
  sysDescr: '1.3.6.1.2.1.1.1.0',
  sysObjectID: '1.3.6.1.2.1.1.2.0',
  sysUpTime: '1.3.6.1.2.1.1.3.0',
  sysName: '1.3.6.1.2.1.1.5.0',
  ifDescr: '1.3.6.1.2.1.2.2.1.2',
  ifSpeed: '1.3.6.1.2.1.2.2.1.5',
  ifOperStatus: '1.3.6.1.2.1.2.2.1.8',
  ifInOctets: '1.3.6.1.2.1.2.2.1.10',
  ifInDiscards: '1.3.6.1.2.1.2.2.1.13',
  ifInErrors: '1.3.6.1.2.1.2.2.1.14',
  ifOutOctets: '1.3.6.1.2.1.2.2.1.16',
  ifOutErrors: '1.3.6.1.2.1.2.2.1.20',
  ifName: '1.3.6.1.2.1.31.1.1.1.1',
  ifHCInOctets: '1.3.6.1.2.1.31.1.1.1.6',
  ifHCOutOctets: '1.3.6.1.2.1.31.1.1.1.10',
  ifHighSpeed: '1.3.6.1.2.1.31.1.1.1.15',
} as const;

/** Extension point: CPE SNMP profiles, keyed by instance id. */
export const CpeProfiles = point<CpeProfile>('cpe-profile', (p) => p.id);
