/**
 * Inventory writes, shared by the API, the CLI and the CSV import. The database handle may be reseller-scoped (HTTP)
 * or not (CLI, system); the checks that scoping cannot express are here: a device's site, reseller and subscriber
 * must agree, a reseller only ever names its own site and subscribers, a profile must be one that is loaded.
 */
import { httpErrors, type Kysely, RgzError } from '@rgz/core';
import { type DeviceInput, type DevicePatch, type DeviceRow, type SiteInput, type SitePatch, type SiteRow, snmpColumns } from './model.js';
import type { InventoryDatabase } from './schema.js';

export type Db = Kysely<InventoryDatabase>;

/** Who is writing: the NOC (or the system: CLI, jobs) may name any reseller; a reseller only itself. */
export interface Actor {
  role: 'noc' | 'reseller' | 'system';
  resellerId: string | null;
}

export const SYSTEM: Actor = { role: 'system', resellerId: null };

export interface ServiceOptions {
  /** Ids of the loaded CpeProfiles; when non-empty, a device's profile must be one of them (or `auto`). */
  profiles?: () => ReadonlySet<string>;
}

/** PostgreSQL error code of a failed query (pg and PGlite both expose `code`). */
export function pgCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function mapDbError(err: unknown, what: string): never {
  const code = pgCode(err);
  if (code === '23505')
    throw httpErrors.conflict(`${what}_exists`, `${what === 'site' ? 'a site with this name' : 'a device with this address and port'} already exists`);
  if (code === '23503') throw httpErrors.badRequest('reference_not_found', `a referenced reseller, subscriber or site does not exist`);
  if (code === '23514') throw httpErrors.badRequest('invalid_values', `the values break a rule of ${what}s: ${(err as Error).message}`);
  throw err;
}

function ownReseller(actor: Actor, requested: string | null | undefined): string | null | undefined {
  if (actor.role !== 'reseller') return requested;
  if (requested !== undefined && requested !== null && requested !== actor.resellerId)
    throw httpErrors.forbidden('a reseller can only use its own reseller_id');
  return actor.resellerId;
}

export async function createSite(db: Db, actor: Actor, input: SiteInput): Promise<SiteRow> {
  const resellerId = ownReseller(actor, input.reseller_id) ?? null;
  try {
    return (await db
      .insertInto('inventory_sites')
      .values({
        name: input.name,
        reseller_id: resellerId,
        location: input.location ?? null,
        capacity_down_kbps: input.capacity_down_kbps ?? null,
        capacity_up_kbps: input.capacity_up_kbps ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()) as SiteRow;
  } catch (err) {
    mapDbError(err, 'site');
  }
}

export async function getSite(db: Db, id: string): Promise<SiteRow> {
  const row = await db.selectFrom('inventory_sites').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw httpErrors.notFound('site_not_found', `no site ${id}`);
  return row as SiteRow;
}

export async function updateSite(db: Db, actor: Actor, id: string, patch: SitePatch): Promise<SiteRow> {
  await getSite(db, id);
  const set: Record<string, unknown> = { updated_at: new Date() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.location !== undefined) set.location = patch.location;
  if (patch.capacity_down_kbps !== undefined) set.capacity_down_kbps = patch.capacity_down_kbps;
  if (patch.capacity_up_kbps !== undefined) set.capacity_up_kbps = patch.capacity_up_kbps;
  if (patch.reseller_id !== undefined) set.reseller_id = ownReseller(actor, patch.reseller_id);
  try {
    return (await db.updateTable('inventory_sites').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow()) as SiteRow;
  } catch (err) {
    mapDbError(err, 'site');
  }
}

export async function deleteSite(db: Db, id: string): Promise<void> {
  await getSite(db, id);
  const used = await db.selectFrom('inventory_devices').select('id').where('site_id', '=', id).limit(1).executeTakeFirst();
  if (used) throw httpErrors.conflict('site_in_use', 'devices still belong to this site; move or delete them first');
  await db.deleteFrom('inventory_sites').where('id', '=', id).execute();
}

export async function getDevice(db: Db, id: string): Promise<DeviceRow> {
  const row = await db.selectFrom('inventory_devices').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw httpErrors.notFound('device_not_found', `no device ${id}`);
  return row as DeviceRow;
}

function checkProfile(options: ServiceOptions, profile: string | undefined): void {
  if (profile === undefined || profile === 'auto') return;
  const known = options.profiles?.();
  if (known && known.size > 0 && !known.has(profile)) {
    throw httpErrors.badRequest('profile_unknown', `no CPE profile "${profile}" is loaded; use auto or one of: ${[...known].sort().join(', ')}`);
  }
}

/** Resolve and check site, reseller and subscriber of a device as `actor` sees them. */
async function placement(
  db: Db,
  actor: Actor,
  want: { site_id: string | null; reseller_id: string | null | undefined; subscriber_id: string | null },
): Promise<{ site_id: string | null; reseller_id: string | null; subscriber_id: string | null }> {
  let site: { reseller_id: string | null } | undefined;
  if (want.site_id) {
    site = await db.selectFrom('inventory_sites').select(['reseller_id']).where('id', '=', want.site_id).executeTakeFirst();
    if (!site) throw httpErrors.badRequest('site_not_found', `no site ${want.site_id}`);
  }
  const requested = ownReseller(actor, want.reseller_id);
  const resellerId = requested === undefined ? (site?.reseller_id ?? null) : requested;
  if (site?.reseller_id && resellerId !== site.reseller_id) {
    throw httpErrors.badRequest('reseller_mismatch', "the device's reseller differs from its site's reseller");
  }
  if (want.subscriber_id) {
    const sub = await db.selectFrom('subscribers').select(['reseller_id']).where('id', '=', want.subscriber_id).executeTakeFirst();
    if (!sub) throw httpErrors.badRequest('subscriber_not_found', `no subscriber ${want.subscriber_id}`);
    if (sub.reseller_id && resellerId && sub.reseller_id !== resellerId) {
      throw httpErrors.badRequest('reseller_mismatch', 'the subscriber belongs to another reseller than the device');
    }
  }
  return { site_id: want.site_id, reseller_id: resellerId, subscriber_id: want.subscriber_id };
}

export async function createDevice(db: Db, actor: Actor, input: DeviceInput, options: ServiceOptions = {}): Promise<DeviceRow> {
  checkProfile(options, input.profile);
  const where = await placement(db, actor, { site_id: input.site_id ?? null, reseller_id: input.reseller_id, subscriber_id: input.subscriber_id ?? null });
  try {
    return (await db
      .insertInto('inventory_devices')
      .values({
        name: input.name ?? input.address,
        kind: input.kind,
        address: input.address,
        port: input.port ?? 161,
        profile: input.profile ?? 'auto',
        ...snmpColumns(input.snmp),
        ...where,
        mac_address: input.mac_address ?? null,
        enabled: input.enabled ?? true,
        notes: input.notes ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()) as DeviceRow;
  } catch (err) {
    mapDbError(err, 'device');
  }
}

export async function updateDevice(db: Db, actor: Actor, id: string, patch: DevicePatch, options: ServiceOptions = {}): Promise<DeviceRow> {
  const current = await getDevice(db, id);
  checkProfile(options, patch.profile);
  const set: Record<string, unknown> = { updated_at: new Date() };
  for (const key of ['name', 'kind', 'address', 'port', 'profile', 'mac_address', 'enabled', 'notes'] as const) {
    if (patch[key] !== undefined) set[key] = patch[key];
  }
  if (patch.snmp) Object.assign(set, snmpColumns(patch.snmp));
  if (patch.site_id !== undefined || patch.reseller_id !== undefined || patch.subscriber_id !== undefined) {
    const where = await placement(db, actor, {
      site_id: patch.site_id === undefined ? current.site_id : patch.site_id,
      reseller_id: patch.reseller_id === undefined ? (patch.site_id !== undefined ? undefined : current.reseller_id) : patch.reseller_id,
      subscriber_id: patch.subscriber_id === undefined ? current.subscriber_id : patch.subscriber_id,
    });
    Object.assign(set, where);
  }
  try {
    return (await db.updateTable('inventory_devices').set(set).where('id', '=', id).returningAll().executeTakeFirstOrThrow()) as DeviceRow;
  } catch (err) {
    if (err instanceof RgzError) throw err;
    mapDbError(err, 'device');
  }
}

export async function deleteDevice(db: Db, id: string): Promise<void> {
  await getDevice(db, id);
  await db.deleteFrom('inventory_devices').where('id', '=', id).execute();
}
