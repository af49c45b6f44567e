/**
 * @rgz/plugin-inventory — the network inventory: sites (capacity for DBA) and devices (gateways, access points,
 * CPEs) with their SNMP credentials, vendor profile, reseller and subscriber. Managed by API (NOC: everything;
 * reseller: its own), CLI (`rgz inventory …`) and CSV import; read by other flows through core's `inventoryReader`.
 * Tables, columns, CSV format: README.md.
 */
import { CpeProfiles, definePlugin, inventoryReader, type Kysely } from '@rgz/core';
import { inventoryCommand } from './cli.js';
import { configSchema } from './config.js';
import { inventoryMigrations } from './migrations.js';
import { createInventoryReader } from './reader.js';
import { registerRoutes } from './routes.js';
import type { InventoryDatabase } from './schema.js';
import type { ServiceOptions } from './service.js';

export { configSchema, type InventoryConfig } from './config.js';
export { IMPORT_COLUMNS, type ImportError, type ImportResult, importDevices } from './import.js';
export { normaliseMac } from './model.js';
export type { InventoryDatabase, InventoryTables } from './schema.js';

export default definePlugin({
  name: 'inventory',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Network inventory: sites, access points and CPEs (address, vendor profile, SNMP credentials, reseller, subscriber)',
  config: configSchema,
  provides: [inventoryReader],

  setup(ctx) {
    const db = ctx.db as unknown as Kysely<InventoryDatabase>;
    ctx.migrations(inventoryMigrations);
    ctx.resellerOwned({ table: 'inventory_sites' });
    ctx.resellerOwned({ table: 'inventory_devices' });
    ctx.provide(inventoryReader, createInventoryReader(db));

    const options: ServiceOptions = ctx.config.checkProfiles ? { profiles: () => new Set(ctx.collect(CpeProfiles).keys()) } : {};
    registerRoutes(ctx.router(), { tags: [ctx.name], system: db, options, importMaxRows: ctx.config.importMaxRows });
    ctx.command(inventoryCommand(db, options));
  },
});
