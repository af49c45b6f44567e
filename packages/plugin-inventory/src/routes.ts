/**
 * Inventory's HTTP surface under `/api/inventory`: sites and devices, for the NOC (everything) and resellers (their
 * own rows: `c.get('db')` is already scoped, and writes are checked to name the reseller itself).
 */
import { defineRoute, jsonContent as json, type Kysely, type PluginRouter, type Principal, problemContent as problem, z, UuidIdParam } from '@rgz/core';
import { IMPORT_COLUMNS, importDevices, importFailed } from './import.js';
import {
  DeviceInputSchema,
  DevicePatchSchema,
  type DeviceRow,
  DeviceViewSchema,
  deviceView,
  KINDS,
  SiteInputSchema,
  SitePatchSchema,
  type SiteRow,
  SiteViewSchema,
  siteView,
} from './model.js';
import type { InventoryDatabase } from './schema.js';
import {
  type Actor,
  createDevice,
  createSite,
  deleteDevice,
  deleteSite,
  getDevice,
  getSite,
  type ServiceOptions,
  updateDevice,
  updateSite,
} from './service.js';

const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });
const ACCESS = ['noc', 'reseller'] as const;

const boolQuery = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

const DeviceFilters = z.object({
  kind: z.enum(KINDS).optional(),
  site_id: z.string().uuid().optional(),
  reseller_id: z.string().uuid().optional().openapi({ description: 'NOC only; a reseller always sees its own' }),
  subscriber_id: z.string().uuid().optional(),
  enabled: boolQuery,
  q: z.string().max(100).optional().openapi({ description: 'Substring of name or address' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const ImportResultSchema = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    dry_run: z.boolean(),
    errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
  })
  .openapi('InventoryImportResult');

export interface RouteDeps {
  tags: string[];
  system: Kysely<InventoryDatabase>;
  options: ServiceOptions;
  importMaxRows: number;
}

export function registerRoutes(r: PluginRouter, deps: RouteDeps): void {
  const { tags, options } = deps;
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<InventoryDatabase>;
  const actorOf = (c: { get(k: 'principal'): Principal | null }): Actor => {
    const p = c.get('principal') as Principal;
    return { role: p.role === 'reseller' ? 'reseller' : 'noc', resellerId: p.resellerId };
  };

  // --- sites ------------------------------------------------------------------------------------------------
  r.add(
    defineRoute({
      method: 'get',
      path: '/sites',
      access: ACCESS,
      tags,
      summary: 'List sites (a reseller sees its own)',
      request: { query: z.object({ reseller_id: z.string().uuid().optional() }) },
      responses: { 200: json(z.object({ sites: z.array(SiteViewSchema) }), 'Sites by name') },
    }),
    async (c) => {
      const { reseller_id } = c.req.valid('query');
      let q = dbOf(c).selectFrom('inventory_sites').selectAll();
      if (reseller_id) q = q.where('reseller_id', '=', reseller_id);
      const rows = await q.orderBy('name').orderBy('id').execute();
      return c.json({ sites: rows.map((s) => siteView(s as SiteRow)) }, 200);
    },
  );
  r.add(
    defineRoute({
      method: 'post',
      path: '/sites',
      access: ACCESS,
      tags,
      summary: 'Create a site',
      request: body(SiteInputSchema),
      responses: { 201: json(SiteViewSchema, 'Created'), 400: problem('Invalid'), 409: problem('A site of this name exists') },
    }),
    async (c) => {
      const row = await createSite(dbOf(c), actorOf(c), c.req.valid('json'));
      return c.json(siteView(row), 201);
    },
  );
  r.add(
    defineRoute({
      method: 'get',
      path: '/sites/{id}',
      access: ACCESS,
      tags,
      summary: 'One site',
      request: { params: UuidIdParam },
      responses: { 200: json(SiteViewSchema, 'The site'), 404: problem('No such site') },
    }),
    async (c) => c.json(siteView(await getSite(dbOf(c), c.req.valid('param').id)), 200),
  );
  r.add(
    defineRoute({
      method: 'patch',
      path: '/sites/{id}',
      access: ACCESS,
      tags,
      summary: 'Change a site (name, location, capacity)',
      request: { params: UuidIdParam, ...body(SitePatchSchema) },
      responses: { 200: json(SiteViewSchema, 'Updated'), 404: problem('No such site'), 409: problem('Name taken') },
    }),
    async (c) => c.json(siteView(await updateSite(dbOf(c), actorOf(c), c.req.valid('param').id, c.req.valid('json'))), 200),
  );
  r.add(
    defineRoute({
      method: 'delete',
      path: '/sites/{id}',
      access: ACCESS,
      tags,
      summary: 'Delete a site that has no devices',
      request: { params: UuidIdParam },
      responses: { 204: { description: 'Deleted' }, 404: problem('No such site'), 409: problem('Devices still belong to it') },
    }),
    async (c) => {
      await deleteSite(dbOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  // --- devices ----------------------------------------------------------------------------------------------
  r.add(
    defineRoute({
      method: 'get',
      path: '/devices',
      access: ACCESS,
      tags,
      summary: 'List devices (gateways, access points, CPEs); secrets are never returned',
      request: { query: DeviceFilters },
      responses: { 200: json(z.object({ devices: z.array(DeviceViewSchema), total: z.number().int() }), 'Devices by name') },
    }),
    async (c) => {
      const f = c.req.valid('query');
      let q = dbOf(c).selectFrom('inventory_devices');
      if (f.kind) q = q.where('kind', '=', f.kind);
      if (f.site_id) q = q.where('site_id', '=', f.site_id);
      if (f.reseller_id) q = q.where('reseller_id', '=', f.reseller_id);
      if (f.subscriber_id) q = q.where('subscriber_id', '=', f.subscriber_id);
      if (f.enabled !== undefined) q = q.where('enabled', '=', f.enabled);
      if (f.q) {
        const like = `%${f.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
        q = q.where((eb) => eb.or([eb('name', 'ilike', like), eb('address', 'ilike', like)]));
      }
      const total = await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const rows = await q.selectAll().orderBy('name').orderBy('id').limit(f.limit).offset(f.offset).execute();
      return c.json({ devices: rows.map((d) => deviceView(d as DeviceRow)), total: Number(total.n) }, 200);
    },
  );
  r.add(
    defineRoute({
      method: 'post',
      path: '/devices',
      access: ACCESS,
      tags,
      summary: 'Register a device',
      request: body(DeviceInputSchema),
      responses: { 201: json(DeviceViewSchema, 'Created'), 400: problem('Invalid'), 409: problem('Address and port already registered') },
    }),
    async (c) => c.json(deviceView(await createDevice(dbOf(c), actorOf(c), c.req.valid('json'), options)), 201),
  );
  r.add(
    defineRoute({
      method: 'post',
      path: '/devices/import',
      access: ACCESS,
      tags,
      summary: 'Bulk import devices from CSV (all or nothing)',
      description: `Raw CSV body (\`text/csv\`), a header line then one device per line; \`,\` or \`;\` separated; lines starting with # are ignored. Columns:\n\n${Object.entries(
        IMPORT_COLUMNS,
      )
        .map(([k, v]) => `- \`${k}\`: ${v}`)
        .join(
          '\n',
        )}\n\nEvery row is checked before anything is written; any error answers 422 with the list (line, message) and imports nothing. \`upsert=true\` updates devices already registered at the same address and port; \`dry_run=true\` only checks.`,
      request: {
        query: z.object({ upsert: boolQuery, dry_run: boolQuery }),
        body: {
          required: true,
          content: { 'text/csv': { schema: z.string().openapi({ example: 'name,kind,address,site,community\ncpe-1,cpe,10.20.0.11,Akpakpa,public' }) } },
        },
      },
      responses: { 200: json(ImportResultSchema, 'Imported (or checked, with dry_run)'), 422: problem('Errors; nothing imported') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const result = await importDevices(dbOf(c), deps.system, actorOf(c), await c.req.text(), {
        ...options,
        upsert: q.upsert ?? false,
        dryRun: q.dry_run ?? false,
        maxRows: deps.importMaxRows,
      });
      if (result.errors.length) throw importFailed(result);
      return c.json(result, 200);
    },
  );
  r.add(
    defineRoute({
      method: 'get',
      path: '/devices/{id}',
      access: ACCESS,
      tags,
      summary: 'One device',
      request: { params: UuidIdParam },
      responses: { 200: json(DeviceViewSchema, 'The device'), 404: problem('No such device') },
    }),
    async (c) => c.json(deviceView(await getDevice(dbOf(c), c.req.valid('param').id)), 200),
  );
  r.add(
    defineRoute({
      method: 'patch',
      path: '/devices/{id}',
      access: ACCESS,
      tags,
      summary: 'Change a device (snmp replaces the credentials as a whole)',
      request: { params: UuidIdParam, ...body(DevicePatchSchema) },
      responses: { 200: json(DeviceViewSchema, 'Updated'), 400: problem('Invalid'), 404: problem('No such device'), 409: problem('Address taken') },
    }),
    async (c) => c.json(deviceView(await updateDevice(dbOf(c), actorOf(c), c.req.valid('param').id, c.req.valid('json'), options)), 200),
  );
  r.add(
    defineRoute({
      method: 'delete',
      path: '/devices/{id}',
      access: ACCESS,
      tags,
      summary: 'Remove a device from the inventory',
      request: { params: UuidIdParam },
      responses: { 204: { description: 'Deleted' }, 404: problem('No such device') },
    }),
    async (c) => {
      await deleteDevice(dbOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
}
