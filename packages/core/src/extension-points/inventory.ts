/**
 * Network inventory, read side: the sites (a tower, a rooftop: where access points and their capacity live) and the
 * devices (gateways, access points, CPEs) with what it takes to poll them over SNMP. The inventory plugin owns the
 * tables and provides `inventoryReader`; the flows that need the network (SNMP polling, DBA, SLA probes) read it
 * through `ctx.lookup(inventoryReader)` or `deps`, never by importing the inventory plugin.
 * Reads are unscoped (jobs act as the system); HTTP routes scope by reseller themselves.
 */

import { token } from '../plugin/tokens.js';

export type InventoryDeviceKind = 'gateway' | 'access_point' | 'cpe';

/** SNMPv3 security level (RFC 3414). */
export type SnmpV3Level = 'noAuthNoPriv' | 'authNoPriv' | 'authPriv';
export type SnmpAuthProtocol = 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
/** `des` needs `--openssl-legacy-provider` on Node ≥ 17. `aes` is AES-128-CFB (RFC 3826). */
export type SnmpPrivProtocol = 'des' | 'aes' | 'aes256b' | 'aes256r';

/** How to reach a device's agent. Secrets are as the operator gave them (the inventory stores them as given). */
export type SnmpCredentials =
  | { readonly version: '2c'; readonly community: string }
  | {
      readonly version: '3';
      readonly user: string;
      readonly level: SnmpV3Level;
      /** Required from `authNoPriv` up. */
      readonly authProtocol?: SnmpAuthProtocol;
      readonly authKey?: string;
      /** Required for `authPriv`. */
      readonly privProtocol?: SnmpPrivProtocol;
      readonly privKey?: string;
      /** SNMPv3 context name; empty when absent. */
      readonly context?: string;
    };

export interface InventorySite {
  readonly id: string;
  readonly name: string;
  readonly resellerId: string | null;
  /** Free text (address, landmark) or coordinates as the operator wrote them. */
  readonly location: string | null;
  /** Backhaul capacity shared by the site's subscribers, kbit/s (DBA divides it); null when unknown. */
  readonly capacityDownKbps: number | null;
  readonly capacityUpKbps: number | null;
}

export interface InventoryDevice {
  readonly id: string;
  readonly name: string;
  readonly kind: InventoryDeviceKind;
  readonly siteId: string | null;
  /** IP address (v4 or v6) or host name of the SNMP agent. */
  readonly address: string;
  /** UDP port of the agent (161 unless the operator said otherwise). */
  readonly port: number;
  /** `CpeProfile` id to poll it with, or `auto` to detect from sysObjectID/sysDescr. */
  readonly profile: string;
  readonly snmp: SnmpCredentials;
  readonly resellerId: string | null;
  /** The subscriber this CPE serves, when known. */
  readonly subscriberId: string | null;
  /** Lower-case, colon-separated radio MAC, when known (joins with an AP's station table). */
  readonly macAddress: string | null;
  readonly enabled: boolean;
}

export interface InventoryDeviceFilter {
  /** Only enabled (true) or disabled (false) devices; both when absent. */
  readonly enabled?: boolean;
  readonly kinds?: readonly InventoryDeviceKind[];
  readonly siteId?: string;
  readonly resellerId?: string;
  readonly subscriberId?: string;
  readonly ids?: readonly string[];
}

export interface InventoryReader {
  /** Devices matching every given criterion, ordered by id. */
  listDevices(filter?: InventoryDeviceFilter): Promise<InventoryDevice[]>;
  /** Sites, optionally those of one reseller, ordered by name. */
  listSites(filter?: { readonly resellerId?: string }): Promise<InventorySite[]>;
  getSite(id: string): Promise<InventorySite | null>;
  getDevice(id: string): Promise<InventoryDevice | null>;
}

/** Provided by `@rgz/plugin-inventory`. */
export const inventoryReader = token<InventoryReader>('core.inventory-reader');
