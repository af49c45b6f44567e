/**
 * The inventory's vocabulary: zod schemas of what the API, the CLI and the CSV import accept (one schema, three
 * doors), the views the API returns (secrets never leave the server), and the mapping from rows to the
 * `InventoryDevice`/`InventorySite` values of core's `InventoryReader`.
 */
import type { InventoryDevice, InventorySite, SnmpCredentials } from '@rgz/core';
import { z } from '@rgz/core';
import type { DevicesTable, SitesTable } from './schema.js';

type Row<T> = { [K in keyof T]: T[K] extends { readonly __select__: infer S } ? S : T[K] };
export type SiteRow = Row<SitesTable>;
export type DeviceRow = Row<DevicesTable>;

export const KINDS = ['gateway', 'access_point', 'cpe'] as const;
export const V3_LEVELS = ['noAuthNoPriv', 'authNoPriv', 'authPriv'] as const;
export const AUTH_PROTOCOLS = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
export const PRIV_PROTOCOLS = ['des', 'aes', 'aes256b', 'aes256r'] as const;

export const PROFILE_ID = /^[a-z0-9][a-z0-9-]*$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, `AABBCCDDEEFF` → `aa:bb:cc:dd:ee:ff`; anything else unchanged (and rejected). */
export function normaliseMac(value: string): string {
  const v = value.trim().toLowerCase();
  const hex = v.replace(/[:.\-\s]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? (hex.match(/../g) as string[]).join(':') : v;
}

/** IPv4, IPv6 or a DNS name; no scheme, no port. */
const ADDRESS =
  /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:.]*|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/;

export const SnmpV2cSchema = z.object({
  version: z.literal('2c'),
  community: z.string().min(1).max(128).openapi({ description: 'Stored as given; never returned by the API' }),
});

/** RFC 3414 passphrases are at least 8 characters (net-snmp refuses shorter ones). */
export const SnmpV3Schema = z
  .object({
    version: z.literal('3'),
    user: z.string().min(1).max(32),
    level: z.enum(V3_LEVELS),
    auth_protocol: z.enum(AUTH_PROTOCOLS).optional(),
    auth_key: z.string().min(8).max(256).optional().openapi({ description: 'Passphrase; stored as given, never returned' }),
    priv_protocol: z.enum(PRIV_PROTOCOLS).optional(),
    priv_key: z.string().min(8).max(256).optional().openapi({ description: 'Passphrase; stored as given, never returned' }),
    context: z.string().max(64).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.level !== 'noAuthNoPriv' && (!v.auth_protocol || !v.auth_key)) {
      ctx.addIssue({ code: 'custom', path: ['auth_key'], message: `level ${v.level} needs auth_protocol and auth_key` });
    }
    if (v.level === 'authPriv' && (!v.priv_protocol || !v.priv_key)) {
      ctx.addIssue({ code: 'custom', path: ['priv_key'], message: 'level authPriv needs priv_protocol and priv_key' });
    }
  });

export const SnmpInputSchema = z.discriminatedUnion('version', [SnmpV2cSchema, SnmpV3Schema]).openapi('InventorySnmpCredentials');
export type SnmpInput = z.infer<typeof SnmpInputSchema>;

const uuid = () => z.string().uuid();

export const SiteInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    reseller_id: uuid().nullable().optional().openapi({ description: 'NOC only; a reseller creates sites for itself' }),
    location: z.string().max(500).nullable().optional(),
    capacity_down_kbps: z.number().int().positive().nullable().optional().openapi({ description: 'Backhaul capacity shared by the site, kbit/s (DBA)' }),
    capacity_up_kbps: z.number().int().positive().nullable().optional(),
  })
  .openapi('InventorySiteInput');
export type SiteInput = z.infer<typeof SiteInputSchema>;

export const SitePatchSchema = SiteInputSchema.partial().openapi('InventorySitePatch');
export type SitePatch = z.infer<typeof SitePatchSchema>;

export const DeviceInputSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional().openapi({ description: 'Defaults to the address' }),
    kind: z.enum(KINDS),
    site_id: uuid().nullable().optional(),
    address: z.string().trim().min(1).max(253).regex(ADDRESS, 'an IPv4/IPv6 address or a host name'),
    port: z.number().int().min(1).max(65535).optional().openapi({ description: 'SNMP agent UDP port (default 161)' }),
    profile: z
      .string()
      .regex(PROFILE_ID)
      .optional()
      .openapi({ description: "CpeProfile id (e.g. ubnt-airmax, cambium-epmp, if-mib) or 'auto' (default): detect from sysObjectID/sysDescr" }),
    snmp: SnmpInputSchema,
    reseller_id: uuid().nullable().optional().openapi({ description: "NOC only; defaults to the site's reseller" }),
    subscriber_id: uuid().nullable().optional(),
    mac_address: z.string().transform(normaliseMac).pipe(z.string().regex(MAC, 'a MAC address')).nullable().optional(),
    enabled: z.boolean().optional(),
    notes: z.string().max(1000).nullable().optional(),
  })
  .openapi('InventoryDeviceInput');
export type DeviceInput = z.infer<typeof DeviceInputSchema>;

export const DevicePatchSchema = DeviceInputSchema.partial().openapi('InventoryDevicePatch');
export type DevicePatch = z.infer<typeof DevicePatchSchema>;

export const SiteViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    reseller_id: z.string().nullable(),
    location: z.string().nullable(),
    capacity_down_kbps: z.number().int().nullable(),
    capacity_up_kbps: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('InventorySite');
export type SiteView = z.infer<typeof SiteViewSchema>;

export const SnmpViewSchema = z
  .object({
    version: z.enum(['2c', '3']),
    user: z.string().optional(),
    level: z.enum(V3_LEVELS).optional(),
    auth_protocol: z.enum(AUTH_PROTOCOLS).optional(),
    priv_protocol: z.enum(PRIV_PROTOCOLS).optional(),
    context: z.string().optional(),
    secrets_set: z.boolean().openapi({ description: 'Community or v3 keys are stored (they are never returned)' }),
  })
  .openapi('InventorySnmpView');

export const DeviceViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(KINDS),
    site_id: z.string().nullable(),
    address: z.string(),
    port: z.number().int(),
    profile: z.string(),
    snmp: SnmpViewSchema,
    reseller_id: z.string().nullable(),
    subscriber_id: z.string().nullable(),
    mac_address: z.string().nullable(),
    enabled: z.boolean(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('InventoryDevice');
export type DeviceView = z.infer<typeof DeviceViewSchema>;

const iso = (d: Date | string) => new Date(d).toISOString();

export function siteView(r: SiteRow): SiteView {
  return {
    id: r.id,
    name: r.name,
    reseller_id: r.reseller_id,
    location: r.location,
    capacity_down_kbps: r.capacity_down_kbps,
    capacity_up_kbps: r.capacity_up_kbps,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

export function deviceView(r: DeviceRow): DeviceView {
  const snmp: DeviceView['snmp'] =
    r.snmp_version === '2c'
      ? { version: '2c', secrets_set: !!r.snmp_community }
      : {
          version: '3',
          user: r.snmp_user ?? '',
          ...(r.snmp_level ? { level: r.snmp_level } : {}),
          ...(r.snmp_auth_protocol ? { auth_protocol: r.snmp_auth_protocol } : {}),
          ...(r.snmp_priv_protocol ? { priv_protocol: r.snmp_priv_protocol } : {}),
          ...(r.snmp_context ? { context: r.snmp_context } : {}),
          secrets_set: !!(r.snmp_auth_key || r.snmp_priv_key),
        };
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    site_id: r.site_id,
    address: r.address,
    port: r.port,
    profile: r.profile,
    snmp,
    reseller_id: r.reseller_id,
    subscriber_id: r.subscriber_id,
    mac_address: r.mac_address,
    enabled: r.enabled,
    notes: r.notes,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

export function toInventorySite(r: SiteRow): InventorySite {
  return {
    id: r.id,
    name: r.name,
    resellerId: r.reseller_id,
    location: r.location,
    capacityDownKbps: r.capacity_down_kbps,
    capacityUpKbps: r.capacity_up_kbps,
  };
}

export function toCredentials(r: DeviceRow): SnmpCredentials {
  if (r.snmp_version === '2c') return { version: '2c', community: r.snmp_community ?? '' };
  return {
    version: '3',
    user: r.snmp_user ?? '',
    level: r.snmp_level ?? 'noAuthNoPriv',
    ...(r.snmp_auth_protocol ? { authProtocol: r.snmp_auth_protocol } : {}),
    ...(r.snmp_auth_key ? { authKey: r.snmp_auth_key } : {}),
    ...(r.snmp_priv_protocol ? { privProtocol: r.snmp_priv_protocol } : {}),
    ...(r.snmp_priv_key ? { privKey: r.snmp_priv_key } : {}),
    ...(r.snmp_context ? { context: r.snmp_context } : {}),
  };
}

export function toInventoryDevice(r: DeviceRow): InventoryDevice {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    siteId: r.site_id,
    address: r.address,
    port: r.port,
    profile: r.profile,
    snmp: toCredentials(r),
    resellerId: r.reseller_id,
    subscriberId: r.subscriber_id,
    macAddress: r.mac_address,
    enabled: r.enabled,
  };
}

/** The snmp_* columns for given credentials (the others null, as the table's check constraint wants). */
export function snmpColumns(s: SnmpInput) {
  return s.version === '2c'
    ? {
        snmp_version: '2c' as const,
        snmp_community: s.community,
        snmp_user: null,
        snmp_level: null,
        snmp_auth_protocol: null,
        snmp_auth_key: null,
        snmp_priv_protocol: null,
        snmp_priv_key: null,
        snmp_context: null,
      }
    : {
        snmp_version: '3' as const,
        snmp_community: null,
        snmp_user: s.user,
        snmp_level: s.level,
        snmp_auth_protocol: s.level === 'noAuthNoPriv' ? null : (s.auth_protocol ?? null),
        snmp_auth_key: s.level === 'noAuthNoPriv' ? null : (s.auth_key ?? null),
        snmp_priv_protocol: s.level === 'authPriv' ? (s.priv_protocol ?? null) : null,
        snmp_priv_key: s.level === 'authPriv' ? (s.priv_key ?? null) : null,
        snmp_context: s.context ?? null,
      };
}
