/** core's `InventoryReader`, over the inventory tables (unscoped: its callers are jobs and trusted flows). */
import type { InventoryDevice, InventoryDeviceFilter, InventoryReader, InventorySite } from '@rgz/core';
import { type DeviceRow, type SiteRow, toInventoryDevice, toInventorySite } from './model.js';
import type { Db } from './service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createInventoryReader(db: Db): InventoryReader {
  return {
    async listDevices(filter: InventoryDeviceFilter = {}): Promise<InventoryDevice[]> {
      let q = db.selectFrom('inventory_devices').selectAll();
      if (filter.enabled !== undefined) q = q.where('enabled', '=', filter.enabled);
      if (filter.kinds) {
        if (filter.kinds.length === 0) return [];
        q = q.where('kind', 'in', [...filter.kinds]);
      }
      if (filter.siteId) q = q.where('site_id', '=', filter.siteId);
      if (filter.resellerId) q = q.where('reseller_id', '=', filter.resellerId);
      if (filter.subscriberId) q = q.where('subscriber_id', '=', filter.subscriberId);
      if (filter.ids) {
        const ids = filter.ids.filter((id) => UUID.test(id));
        if (ids.length === 0) return [];
        q = q.where('id', 'in', ids);
      }
      const rows = await q.orderBy('id').execute();
      return rows.map((r) => toInventoryDevice(r as DeviceRow));
    },
    async listSites(filter: { resellerId?: string } = {}): Promise<InventorySite[]> {
      let q = db.selectFrom('inventory_sites').selectAll();
      if (filter.resellerId) q = q.where('reseller_id', '=', filter.resellerId);
      const rows = await q.orderBy('name').orderBy('id').execute();
      return rows.map((r) => toInventorySite(r as SiteRow));
    },
    async getSite(id: string): Promise<InventorySite | null> {
      if (!UUID.test(id)) return null;
      const row = await db.selectFrom('inventory_sites').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toInventorySite(row as SiteRow) : null;
    },
    async getDevice(id: string): Promise<InventoryDevice | null> {
      if (!UUID.test(id)) return null;
      const row = await db.selectFrom('inventory_devices').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toInventoryDevice(row as DeviceRow) : null;
    },
  };
}
