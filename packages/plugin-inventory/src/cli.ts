/**
 * `rgz inventory …`: list, add and import devices (and sites) from the shell, as the system (no reseller scope).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type CliCommand, RgzError, z } from '@rgz/core';
import { importDevices } from './import.js';
import { DeviceInputSchema, type DeviceRow, SiteInputSchema, type SiteRow } from './model.js';
import { createDevice, createSite, type Db, type ServiceOptions, SYSTEM } from './service.js';

export const USAGE = `Usage: rgz inventory <subcommand> [options]

Subcommands:
  list [--kind K] [--site NAME] [--json]         Devices (secrets hidden)
  sites [--json]                                  Sites
  add --kind K --address A [options]              Register one device
      [--name N] [--port 161] [--site NAME|ID] [--profile auto] [--reseller SLUG|ID] [--subscriber REF|ID]
      [--mac M] [--disabled] [--community C]
      [--v3-user U --v3-level authPriv --v3-auth-protocol sha --v3-auth-key K --v3-priv-protocol aes --v3-priv-key K]
  add-site --name N [--reseller SLUG|ID] [--location L] [--capacity-down KBPS] [--capacity-up KBPS]
  import FILE [--upsert] [--dry-run]              Bulk import a CSV file (columns: see the plugin README)`;

const OPTIONS = {
  kind: { type: 'string' },
  site: { type: 'string' },
  json: { type: 'boolean' },
  address: { type: 'string' },
  name: { type: 'string' },
  port: { type: 'string' },
  profile: { type: 'string' },
  reseller: { type: 'string' },
  subscriber: { type: 'string' },
  mac: { type: 'string' },
  disabled: { type: 'boolean' },
  community: { type: 'string' },
  'v3-user': { type: 'string' },
  'v3-level': { type: 'string' },
  'v3-auth-protocol': { type: 'string' },
  'v3-auth-key': { type: 'string' },
  'v3-priv-protocol': { type: 'string' },
  'v3-priv-key': { type: 'string' },
  'v3-context': { type: 'string' },
  location: { type: 'string' },
  'capacity-down': { type: 'string' },
  'capacity-up': { type: 'string' },
  upsert: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function inventoryCommand(db: Db, options: ServiceOptions & { importMaxRows?: number }): CliCommand {
  return {
    name: 'inventory',
    summary: 'List, add and import network devices and sites',
    usage: USAGE,
    async run(argv, io) {
      let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
      try {
        parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
      } catch (err) {
        io.err(`${(err as Error).message}\n\n${USAGE}`);
        return 2;
      }
      const { values: v, positionals } = parsed;
      const [sub, file] = positionals;
      try {
        switch (sub) {
          case 'list':
            return await list(db, v, io);
          case 'sites': {
            const sites = (await db.selectFrom('inventory_sites').selectAll().orderBy('name').execute()) as SiteRow[];
            if (v.json) io.out(JSON.stringify(sites));
            else
              for (const s of sites) io.out(`${s.id}  ${s.name}${s.capacity_down_kbps ? `  ${s.capacity_down_kbps}/${s.capacity_up_kbps ?? '?'} kbit/s` : ''}`);
            return 0;
          }
          case 'add':
            return await add(db, v, io, options);
          case 'add-site': {
            const resellerId = v.reseller ? await resolveReseller(db, v.reseller) : null;
            const input = SiteInputSchema.parse({
              name: v.name,
              reseller_id: resellerId,
              location: v.location ?? null,
              capacity_down_kbps: v['capacity-down'] ? Number(v['capacity-down']) : null,
              capacity_up_kbps: v['capacity-up'] ? Number(v['capacity-up']) : null,
            });
            const site = await createSite(db, SYSTEM, input);
            io.out(site.id);
            return 0;
          }
          case 'import': {
            if (!file) {
              io.err(`import needs a FILE\n\n${USAGE}`);
              return 2;
            }
            const text = await readFile(file, 'utf8');
            const result = await importDevices(db, db, SYSTEM, text, {
              ...options,
              upsert: !!v.upsert,
              dryRun: !!v['dry-run'],
              maxRows: Number.MAX_SAFE_INTEGER,
            });
            for (const e of result.errors) io.err(`${file}:${e.line}: ${e.message}`);
            if (result.errors.length) {
              io.err(`${result.errors.length} error(s); nothing imported`);
              return 1;
            }
            io.out(`${result.dry_run ? 'would create' : 'created'} ${result.created}, ${result.dry_run ? 'would update' : 'updated'} ${result.updated}`);
            return 0;
          }
          default:
            io.err(USAGE);
            return 2;
        }
      } catch (err) {
        if (err instanceof z.ZodError) {
          io.err(err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'));
          return 2;
        }
        if (err instanceof RgzError && err.status < 500) {
          io.err(`${err.code}: ${err.message}`);
          return 1;
        }
        throw err;
      }
    },
  };
}

type Values = Record<string, string | boolean | undefined>;

async function list(db: Db, v: Values, io: { out(line: string): void }): Promise<number> {
  let q = db.selectFrom('inventory_devices as d').leftJoin('inventory_sites as s', 's.id', 'd.site_id').selectAll('d').select('s.name as site_name');
  if (typeof v.kind === 'string') q = q.where('d.kind', '=', v.kind as 'cpe');
  if (typeof v.site === 'string')
    q = UUID.test(v.site) ? q.where('d.site_id', '=', v.site) : q.where((eb) => eb(eb.fn('lower', ['s.name']), '=', (v.site as string).toLowerCase()));
  const rows = (await q.orderBy('d.name').execute()) as Array<DeviceRow & { site_name: string | null }>;
  if (v.json) {
    io.out(JSON.stringify(rows.map(({ snmp_community, snmp_auth_key, snmp_priv_key, ...rest }) => rest)));
    return 0;
  }
  for (const d of rows) {
    io.out(
      [
        d.id,
        d.kind.padEnd(12),
        `${d.address}:${d.port}`.padEnd(22),
        d.name.padEnd(20),
        (d.site_name ?? '-').padEnd(16),
        d.profile,
        `v${d.snmp_version}`,
        d.enabled ? '' : 'disabled',
      ]
        .join('  ')
        .trimEnd(),
    );
  }
  io.out(`${rows.length} device(s)`);
  return 0;
}

async function resolveReseller(db: Db, key: string): Promise<string> {
  const r = await db
    .selectFrom('resellers')
    .select('id')
    .where((eb) => (UUID.test(key) ? eb.or([eb('id', '=', key), eb('slug', '=', key)]) : eb('slug', '=', key)))
    .executeTakeFirst();
  if (!r) throw new RgzError('reseller_not_found', `no reseller "${key}"`, { status: 400 });
  return r.id;
}

async function add(db: Db, v: Values, io: { out(line: string): void }, options: ServiceOptions): Promise<number> {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  let siteId: string | undefined;
  const site = str('site');
  if (site) {
    const found = await db
      .selectFrom('inventory_sites')
      .select('id')
      .where((eb) => (UUID.test(site) ? eb('id', '=', site) : eb(eb.fn('lower', ['name']), '=', site.toLowerCase())))
      .execute();
    if (found.length !== 1)
      throw new RgzError(found.length ? 'site_ambiguous' : 'site_not_found', `site "${site}" ${found.length ? 'is ambiguous; use its id' : 'not found'}`, {
        status: 400,
      });
    siteId = (found[0] as { id: string }).id;
  }
  let subscriberId: string | undefined;
  const subscriber = str('subscriber');
  if (subscriber) {
    const s = await db
      .selectFrom('subscribers')
      .select('id')
      .where((eb) => (UUID.test(subscriber) ? eb('id', '=', subscriber) : eb('subscriber_ref', '=', subscriber)))
      .executeTakeFirst();
    if (!s) throw new RgzError('subscriber_not_found', `no subscriber "${subscriber}"`, { status: 400 });
    subscriberId = s.id;
  }
  const v3 = str('v3-user');
  const input = DeviceInputSchema.parse({
    kind: str('kind'),
    address: str('address'),
    ...(str('name') ? { name: str('name') } : {}),
    ...(str('port') ? { port: Number(str('port')) } : {}),
    ...(str('profile') ? { profile: str('profile') } : {}),
    ...(siteId ? { site_id: siteId } : {}),
    ...(str('reseller') ? { reseller_id: await resolveReseller(db, str('reseller') as string) } : {}),
    ...(subscriberId ? { subscriber_id: subscriberId } : {}),
    ...(str('mac') ? { mac_address: str('mac') } : {}),
    enabled: !v.disabled,
    snmp: v3
      ? {
          version: '3',
          user: v3,
          level: str('v3-level') ?? 'authPriv',
          ...(str('v3-auth-protocol') ? { auth_protocol: str('v3-auth-protocol') } : {}),
          ...(str('v3-auth-key') ? { auth_key: str('v3-auth-key') } : {}),
          ...(str('v3-priv-protocol') ? { priv_protocol: str('v3-priv-protocol') } : {}),
          ...(str('v3-priv-key') ? { priv_key: str('v3-priv-key') } : {}),
          ...(str('v3-context') ? { context: str('v3-context') } : {}),
        }
      : { version: '2c', community: str('community') ?? '' },
  });
  const row = await createDevice(db, SYSTEM, input, options);
  io.out(row.id);
  return 0;
}
