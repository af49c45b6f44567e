/**
 * Kysely types of the inventory tables (created by ./migrations.ts). Secrets (community, v3 keys) are stored as the
 * operator gave them: SNMP needs them in clear to poll, and the database is the trust boundary (see README).
 */
import type { CoreDatabase, InventoryDeviceKind, SnmpAuthProtocol, SnmpPrivProtocol, SnmpV3Level } from '@rgz/core';

/** Kysely's column type shape (structural, so no direct kysely dependency is needed). */
type ColumnType<S, I = S, U = S> = { readonly __select__: S; readonly __insert__: I; readonly __update__: U };
type Generated<S> = ColumnType<S, S | undefined, S>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SitesTable {
  id: Generated<string>;
  name: string;
  reseller_id: string | null;
  location: string | null;
  capacity_down_kbps: number | null;
  capacity_up_kbps: number | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface DevicesTable {
  id: Generated<string>;
  name: string;
  kind: InventoryDeviceKind;
  site_id: string | null;
  address: string;
  port: Generated<number>;
  profile: Generated<string>;
  snmp_version: '2c' | '3';
  snmp_community: string | null;
  snmp_user: string | null;
  snmp_level: SnmpV3Level | null;
  snmp_auth_protocol: SnmpAuthProtocol | null;
  snmp_auth_key: string | null;
  snmp_priv_protocol: SnmpPrivProtocol | null;
  snmp_priv_key: string | null;
  snmp_context: string | null;
  reseller_id: string | null;
  subscriber_id: string | null;
  mac_address: string | null;
  enabled: Generated<boolean>;
  notes: string | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface InventoryTables {
  inventory_sites: SitesTable;
  inventory_devices: DevicesTable;
}

export type InventoryDatabase = CoreDatabase & InventoryTables;
