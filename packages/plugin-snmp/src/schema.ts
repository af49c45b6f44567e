/** Kysely types of the SNMP tables (created by ./storage.ts). */
import type { CoreDatabase } from '@rgz/core';

type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;
/** numeric(20,0): read as a string (exact), written from a string or bigint. */
type Counter = ColumnType<string | null, string | bigint | null, string | bigint | null>;
type Int8 = ColumnType<number | null, number | bigint | null, number | bigint | null>;

export interface SamplesTable {
  device_id: string;
  polled_at: Timestamp;
  site_id: string | null;
  reseller_id: string | null;
  kind: string;
  profile: string | null;
  result: string;
  error: string | null;
  duration_ms: number;
  uptime_seconds: number | null;
  signal_dbm: number | null;
  noise_dbm: number | null;
  snr_db: number | null;
  ccq_percent: number | null;
  capacity_percent: number | null;
  airtime_percent: number | null;
  tx_rate_bps: number | null;
  rx_rate_bps: number | null;
  station_count: number | null;
  if_index: number | null;
  rx_bps: number | null;
  tx_bps: number | null;
  cpu_percent: number | null;
  temperature_c: number | null;
  counter_reset: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface InterfaceSamplesTable {
  device_id: string;
  polled_at: Timestamp;
  if_index: number;
  reseller_id: string | null;
  name: string | null;
  oper_status: string | null;
  counter_bits: number;
  in_octets: Counter;
  out_octets: Counter;
  in_bps: number | null;
  out_bps: number | null;
  in_errors: Int8;
  out_errors: Int8;
  in_discards: Int8;
  speed_bps: Int8;
}

export interface DeviceStateTable {
  device_id: string;
  reseller_id: string | null;
  site_id: string | null;
  kind: string | null;
  profile: string | null;
  detected_profile: string | null;
  detected_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  result: string;
  error: string | null;
  polled_at: Timestamp;
  last_ok_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  consecutive_failures: number;
  uptime_seconds: number | null;
  rx_bps: number | null;
  tx_bps: number | null;
  counters: Json;
  sample: ColumnType<unknown, string | null, string | null>;
}

export interface StorageTable {
  key: string;
  value: string;
}

export interface SnmpTables {
  snmp_samples: SamplesTable;
  snmp_interface_samples: InterfaceSamplesTable;
  snmp_device_state: DeviceStateTable;
  snmp_storage: StorageTable;
}

export type SnmpDatabase = CoreDatabase & SnmpTables;
