/**
 * Inventory tables. Foreign keys only into core tables (resellers, subscribers) and inventory's own. A device is
 * unique by (address, port); a site name is unique per reseller (case-insensitive).
 */
import { type Kysely, type Migration, sql } from '@rgz/core';

export const inventoryMigrations: Record<string, Migration> = {
  inventory_0001_sites_and_devices: {
    async up(db: Kysely<any>) {
      await sql`create table inventory_sites (
        id uuid primary key default gen_random_uuid(),
        name text not null check (length(name) between 1 and 100),
        reseller_id uuid references resellers(id),
        location text,
        capacity_down_kbps integer check (capacity_down_kbps > 0),
        capacity_up_kbps integer check (capacity_up_kbps > 0),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index inventory_sites_name_uniq
        on inventory_sites (coalesce(reseller_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name))`.execute(db);

      await sql`create table inventory_devices (
        id uuid primary key default gen_random_uuid(),
        name text not null check (length(name) between 1 and 100),
        kind text not null check (kind in ('gateway','access_point','cpe')),
        site_id uuid references inventory_sites(id),
        address text not null check (length(address) between 1 and 253),
        port integer not null default 161 check (port between 1 and 65535),
        profile text not null default 'auto' check (profile ~ '^[a-z0-9][a-z0-9-]*$'),
        snmp_version text not null check (snmp_version in ('2c','3')),
        snmp_community text,
        snmp_user text,
        snmp_level text check (snmp_level in ('noAuthNoPriv','authNoPriv','authPriv')),
        snmp_auth_protocol text check (snmp_auth_protocol in ('md5','sha','sha224','sha256','sha384','sha512')),
        snmp_auth_key text,
        snmp_priv_protocol text check (snmp_priv_protocol in ('des','aes','aes256b','aes256r')),
        snmp_priv_key text,
        snmp_context text,
        reseller_id uuid references resellers(id),
        subscriber_id uuid references subscribers(id),
        mac_address text check (mac_address ~ '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$'),
        enabled boolean not null default true,
        notes text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint inventory_devices_endpoint_uniq unique (address, port),
        constraint inventory_devices_snmp_check check (
          (snmp_version = '2c' and snmp_community is not null and snmp_user is null)
          or (snmp_version = '3' and snmp_user is not null and snmp_level is not null and snmp_community is null
              and (snmp_level = 'noAuthNoPriv' or (snmp_auth_protocol is not null and snmp_auth_key is not null))
              and (snmp_level <> 'authPriv' or (snmp_priv_protocol is not null and snmp_priv_key is not null)))
        )
      )`.execute(db);
      await sql`create index inventory_devices_site_idx on inventory_devices (site_id)`.execute(db);
      await sql`create index inventory_devices_reseller_idx on inventory_devices (reseller_id)`.execute(db);
      await sql`create index inventory_devices_subscriber_idx on inventory_devices (subscriber_id)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop table if exists inventory_devices`.execute(db);
      await sql`drop table if exists inventory_sites`.execute(db);
    },
  },
};
