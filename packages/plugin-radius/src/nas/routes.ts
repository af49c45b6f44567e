/**
 * `GET/POST /api/radius/nas`, `GET/PATCH /api/radius/nas/{id}`: the NAS registry over HTTP. NOC manages; a reseller
 * reads its own NAS (table rows through the reseller-scoped handle; config NAS filtered by hand). Secrets are write-only:
 * no response ever contains one. NAS from config are listed (`source: "config"`) but changed only in the config file.
 */

import { isIP } from 'node:net';
import { defineRoute, httpErrors, type Kysely, type NasVendor, type PluginRouter, type Principal, z } from '@rgz/core';
import type { RadiusDatabase, RadiusNasTable } from '../schema.js';
import { canonicalAddress, type NasEntry, type NasRegistry } from './registry.js';

const nasOut = z
  .object({
    id: z.string(),
    identifier: z.string(),
    address: z.string(),
    vendor: z.string(),
    reseller_id: z.string().nullable(),
    coa_port: z.number().int(),
    require_message_authenticator: z.boolean(),
    coa_message_authenticator: z.boolean(),
    enabled: z.boolean(),
    source: z.enum(['db', 'config']),
    /** False when no loaded plugin provides this vendor dialect (Accepts then carry standard attributes only). */
    vendor_loaded: z.boolean(),
  })
  .openapi('RadiusNas');

const ipAddress = z.string().refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address');
const vendorId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/);

const nasCreate = z
  .object({
    identifier: z.string().min(1).max(253),
    address: ipAddress,
    /** ≥ 16 octets (RFC 2865 §3 recommends it); stored in clear because RADIUS needs it, never returned. */
    secret: z.string().min(16, 'at least 16 characters (RFC 2865 §3)').max(128),
    vendor: vendorId,
    reseller_id: z.uuid().nullable().default(null),
    coa_port: z.number().int().min(1).max(65_535).default(3799),
    require_message_authenticator: z.boolean().default(true),
    coa_message_authenticator: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .openapi('RadiusNasCreate');

const nasPatch = z
  .object({
    identifier: z.string().min(1).max(253),
    address: ipAddress,
    secret: z.string().min(16, 'at least 16 characters (RFC 2865 §3)').max(128),
    vendor: vendorId,
    reseller_id: z.uuid().nullable(),
    coa_port: z.number().int().min(1).max(65_535),
    require_message_authenticator: z.boolean(),
    coa_message_authenticator: z.boolean(),
    enabled: z.boolean(),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change')
  .openapi('RadiusNasPatch');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description });

type Row = Pick<RadiusNasTable, 'identifier' | 'address' | 'vendor' | 'reseller_id'> & {
  id: string;
  coa_port: number;
  require_message_authenticator: boolean;
  coa_message_authenticator: boolean;
  enabled: boolean;
};

export interface NasRoutesDeps {
  db: Kysely<RadiusDatabase>;
  registry: NasRegistry;
  vendors(): ReadonlyMap<string, NasVendor>;
  changed(): Promise<void>;
  audit(
    actor: Principal | null,
    entry: { action: string; targetType: string; targetId: string; resellerId: string | null; details: Record<string, unknown> },
  ): Promise<void>;
}

export function registerNasRoutes(router: PluginRouter, deps: NasRoutesDeps): void {
  const out = (r: Row, source: 'db' | 'config'): z.infer<typeof nasOut> => ({
    id: r.id,
    identifier: r.identifier,
    address: r.address,
    vendor: r.vendor,
    reseller_id: r.reseller_id,
    coa_port: r.coa_port,
    require_message_authenticator: r.require_message_authenticator,
    coa_message_authenticator: r.coa_message_authenticator,
    enabled: r.enabled,
    source,
    vendor_loaded: deps.vendors().has(r.vendor),
  });
  const fromEntry = (e: NasEntry): Row => ({
    id: e.id,
    identifier: e.identifier,
    address: e.address,
    vendor: e.vendor,
    reseller_id: e.resellerId,
    coa_port: e.coaPort,
    require_message_authenticator: e.requireMessageAuthenticator,
    coa_message_authenticator: e.coaMessageAuthenticator,
    enabled: e.enabled,
  });
  const columns = [
    'id',
    'identifier',
    'address',
    'vendor',
    'reseller_id',
    'coa_port',
    'require_message_authenticator',
    'coa_message_authenticator',
    'enabled',
  ] as const;

  const checkVendor = (vendor: string | undefined) => {
    if (vendor !== undefined && !deps.vendors().has(vendor)) {
      throw httpErrors.unprocessable('unknown_vendor', `no NAS dialect "${vendor}" is loaded; known: ${[...deps.vendors().keys()].join(', ') || 'none'}`);
    }
  };
  const checkConfigClash = (identifier: string | undefined, address: string | undefined) => {
    for (const c of deps.registry.configNas) {
      if (identifier !== undefined && c.identifier === identifier)
        throw httpErrors.conflict('nas_exists', `NAS-Identifier "${identifier}" is a NAS from config`);
      if (address !== undefined && c.address === canonicalAddress(address)) throw httpErrors.conflict('nas_exists', `address ${address} is a NAS from config`);
    }
  };
  const unique = (err: unknown) => {
    if ((err as { code?: string }).code === '23505') return httpErrors.conflict('nas_exists', 'a NAS with this identifier or address already exists');
    if ((err as { code?: string }).code === '23503') return httpErrors.unprocessable('reseller_not_found', 'reseller_id names no reseller');
    return err;
  };

  router.add(
    defineRoute({
      method: 'get',
      path: '/nas',
      access: ['noc', 'reseller'],
      summary: 'List NAS (a reseller sees its own)',
      tags: ['radius'],
      responses: { 200: json(z.object({ items: z.array(nasOut) }), 'NAS from the table and from config') },
    }),
    async (c) => {
      const db = c.get('db') as unknown as Kysely<RadiusDatabase>;
      const principal = c.get('principal');
      const rows = await db.selectFrom('radius_nas').select(columns).orderBy('identifier').execute();
      const config = deps.registry.configNas.filter((e) => principal?.role !== 'reseller' || e.resellerId === principal.resellerId);
      return c.json({ items: [...config.map((e) => out(fromEntry(e), 'config')), ...rows.map((r) => out(r, 'db'))] }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/nas/{id}',
      access: ['noc', 'reseller'],
      summary: 'One NAS',
      tags: ['radius'],
      request: { params: z.object({ id: z.string().min(1).max(300) }) },
      responses: { 200: json(nasOut, 'The NAS'), 404: problem('No such NAS (or not yours)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const config = deps.registry.configNas.find((e) => e.id === id);
      if (config && (principal?.role !== 'reseller' || config.resellerId === principal.resellerId)) return c.json(out(fromEntry(config), 'config'), 200);
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw httpErrors.notFound('nas_not_found', `no NAS ${id}`);
      const db = c.get('db') as unknown as Kysely<RadiusDatabase>;
      const row = await db.selectFrom('radius_nas').select(columns).where('id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('nas_not_found', `no NAS ${id}`);
      return c.json(out(row, 'db'), 200);
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/nas',
      access: ['noc'],
      summary: 'Register a NAS (RADIUS client)',
      tags: ['radius'],
      request: { body: { content: { 'application/json': { schema: nasCreate } }, required: true } },
      responses: { 201: json(nasOut, 'Created'), 409: problem('Identifier or address taken'), 422: problem('Unknown vendor or reseller') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      checkVendor(body.vendor);
      checkConfigClash(body.identifier, body.address);
      const row = await deps.db
        .insertInto('radius_nas')
        .values({ ...body, address: canonicalAddress(body.address) })
        .returning(columns)
        .executeTakeFirstOrThrow()
        .catch((err) => {
          throw unique(err);
        });
      await deps.changed();
      await deps.audit(c.get('principal'), {
        action: 'radius.nas.create',
        targetType: 'radius_nas',
        targetId: row.id,
        resellerId: row.reseller_id,
        details: { identifier: row.identifier, address: row.address, vendor: row.vendor, require_message_authenticator: row.require_message_authenticator },
      });
      return c.json(out(row, 'db'), 201);
    },
  );

  router.add(
    defineRoute({
      method: 'patch',
      path: '/nas/{id}',
      access: ['noc'],
      summary: 'Change a NAS (secret, vendor, flags, …)',
      tags: ['radius'],
      request: {
        params: z.object({ id: z.string().min(1).max(300) }),
        body: { content: { 'application/json': { schema: nasPatch } }, required: true },
      },
      responses: {
        200: json(nasOut, 'Updated'),
        404: problem('No such NAS'),
        409: problem('Identifier or address taken, or a config NAS'),
        422: problem('Unknown vendor'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const patch = c.req.valid('json');
      if (deps.registry.configNas.some((e) => e.id === id))
        throw httpErrors.conflict('nas_from_config', 'this NAS comes from the config file; change it there');
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw httpErrors.notFound('nas_not_found', `no NAS ${id}`);
      checkVendor(patch.vendor);
      checkConfigClash(patch.identifier, patch.address);
      const row = await deps.db
        .updateTable('radius_nas')
        .set({ ...patch, ...(patch.address !== undefined ? { address: canonicalAddress(patch.address) } : {}), updated_at: new Date() })
        .where('id', '=', id)
        .returning(columns)
        .executeTakeFirst()
        .catch((err) => {
          throw unique(err);
        });
      if (!row) throw httpErrors.notFound('nas_not_found', `no NAS ${id}`);
      await deps.changed();
      const { secret, ...visible } = patch;
      await deps.audit(c.get('principal'), {
        action: 'radius.nas.update',
        targetType: 'radius_nas',
        targetId: row.id,
        resellerId: row.reseller_id,
        details: { ...visible, ...(secret !== undefined ? { secret_changed: true } : {}) },
      });
      return c.json(out(row, 'db'), 200);
    },
  );
}
