/**
 * Bulk import of devices from CSV (API `POST /api/inventory/devices/import`, CLI `rgz inventory import FILE`).
 * All or nothing: every row is resolved and validated first and nothing is written if any row is wrong; the answer
 * lists every error with its line. The columns are documented in README.md and in `IMPORT_COLUMNS` below.
 */
import { CsvError, httpErrors, type Kysely, parseCsvRows } from '@rgz/core';
import { type DeviceInput, DeviceInputSchema, snmpColumns } from './model.js';
import type { InventoryDatabase } from './schema.js';
import type { Actor, Db, ServiceOptions } from './service.js';

/** Column → meaning. Header names are case-insensitive; order is free; only `kind`, `address` and credentials are required. */
export const IMPORT_COLUMNS: Record<string, string> = {
  name: 'display name (default: the address)',
  kind: 'gateway | access_point | cpe (required)',
  address: 'IPv4/IPv6 address or host name of the SNMP agent (required)',
  port: 'SNMP UDP port (default 161)',
  site: "site name (case-insensitive) or site id; with several resellers' sites of that name, add the reseller column",
  profile: 'CPE profile id (ubnt-airmax, cambium-epmp, if-mib, …) or auto (default)',
  snmp_version: '2c or 3 (default: 2c when community is set, 3 when v3_user is set)',
  community: 'SNMPv2c community',
  v3_user: 'SNMPv3 user name',
  v3_level: 'noAuthNoPriv | authNoPriv | authPriv (default authPriv)',
  v3_auth_protocol: 'md5 | sha | sha224 | sha256 | sha384 | sha512',
  v3_auth_key: 'authentication passphrase (8+ characters)',
  v3_priv_protocol: 'des | aes | aes256b | aes256r',
  v3_priv_key: 'privacy passphrase (8+ characters)',
  v3_context: 'SNMPv3 context name',
  reseller: "reseller slug or id (NOC only; default: the site's reseller)",
  subscriber: 'subscriber reference (RGZ-…) or id',
  mac: 'radio MAC address (any common notation)',
  enabled: 'true/false, yes/no, 1/0 (default true)',
  notes: 'free text',
};

export interface ImportError {
  line: number;
  message: string;
}

export interface ImportResult {
  created: number;
  updated: number;
  dry_run: boolean;
  errors: ImportError[];
}

export interface ImportOptions extends ServiceOptions {
  upsert?: boolean;
  dryRun?: boolean;
  maxRows?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BOOL: Record<string, boolean> = { true: true, yes: true, '1': true, oui: true, false: false, no: false, '0': false, non: false };

/**
 * `db` is what the actor may see (reseller-scoped over HTTP); `system` is unscoped and only used to tell "this
 * address is already registered elsewhere" apart from a free one.
 */
export async function importDevices(db: Db, system: Db, actor: Actor, text: string, options: ImportOptions = {}): Promise<ImportResult> {
  const errors: ImportError[] = [];
  let rows: ReturnType<typeof parseCsvRows>;
  try {
    rows = parseCsvRows(text, { comments: true });
  } catch (err) {
    if (err instanceof CsvError) return { created: 0, updated: 0, dry_run: !!options.dryRun, errors: [{ line: err.line, message: err.message }] };
    throw err;
  }
  const [header, ...data] = rows;
  if (!header) return { created: 0, updated: 0, dry_run: !!options.dryRun, errors: [{ line: 1, message: 'empty file: a header line is required' }] };
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => !(c in IMPORT_COLUMNS));
  if (unknown.length)
    errors.push({ line: header.line, message: `unknown column(s): ${unknown.join(', ')}; allowed: ${Object.keys(IMPORT_COLUMNS).join(', ')}` });
  for (const required of ['kind', 'address']) if (!columns.includes(required)) errors.push({ line: header.line, message: `column "${required}" is required` });
  if (!columns.includes('community') && !columns.includes('v3_user'))
    errors.push({ line: header.line, message: 'a "community" or "v3_user" column is required' });
  const max = options.maxRows ?? 20_000;
  if (data.length > max) errors.push({ line: header.line, message: `${data.length} rows; at most ${max} per import` });
  if (errors.length) return { created: 0, updated: 0, dry_run: !!options.dryRun, errors };

  const records = data.map((r) => {
    const rec: Record<string, string> = {};
    columns.forEach((c, i) => {
      const v = (r.cells[i] ?? '').trim();
      if (v !== '') rec[c] = v;
    });
    if (r.cells.length > columns.length && r.cells.slice(columns.length).some((c) => c.trim() !== '')) {
      errors.push({ line: r.line, message: `${r.cells.length} cells for ${columns.length} columns` });
    }
    return { line: r.line, rec };
  });

  // Everything the rows may refer to, as the actor sees it: one query each.
  const sites = await db.selectFrom('inventory_sites').select(['id', 'name', 'reseller_id']).execute();
  const resellers = await db.selectFrom('resellers').select(['id', 'slug']).execute();
  const subscriberKeys = [...new Set(records.map((r) => r.rec.subscriber).filter((v): v is string => !!v))];
  const subscribers = subscriberKeys.length
    ? await db
        .selectFrom('subscribers')
        .select(['id', 'subscriber_ref', 'reseller_id'])
        .where((eb) =>
          eb.or([
            eb('subscriber_ref', 'in', subscriberKeys),
            ...(subscriberKeys.some((k) => UUID.test(k))
              ? [
                  eb(
                    'id',
                    'in',
                    subscriberKeys.filter((k) => UUID.test(k)),
                  ),
                ]
              : []),
          ]),
        )
        .execute()
    : [];

  const inputs: Array<{ line: number; input: DeviceInput; resellerId: string | null; siteId: string | null; subscriberId: string | null }> = [];
  for (const { line, rec } of records) {
    const fail = (message: string) => errors.push({ line, message });
    const before = errors.length;

    let resellerId: string | null | undefined;
    if (rec.reseller) {
      const r = resellers.find((x) => x.id === rec.reseller || x.slug === rec.reseller);
      if (!r) fail(`reseller "${rec.reseller}" not found`);
      else if (actor.role === 'reseller' && r.id !== actor.resellerId) fail('a reseller can only import its own devices');
      else resellerId = r.id;
    }
    if (actor.role === 'reseller') resellerId = actor.resellerId;

    let siteId: string | null = null;
    let siteReseller: string | null = null;
    if (rec.site) {
      const matches = UUID.test(rec.site)
        ? sites.filter((s) => s.id === rec.site)
        : sites.filter(
            (s) => s.name.toLowerCase() === rec.site?.toLowerCase() && (resellerId === undefined || s.reseller_id === resellerId || s.reseller_id === null),
          );
      const chosen = matches.length > 1 && resellerId !== undefined ? matches.filter((s) => s.reseller_id === resellerId) : matches;
      if (chosen.length === 0) fail(`site "${rec.site}" not found`);
      else if (chosen.length > 1) fail(`site name "${rec.site}" is ambiguous (several resellers); add the reseller column or use the site id`);
      else {
        siteId = (chosen[0] as { id: string }).id;
        siteReseller = (chosen[0] as { reseller_id: string | null }).reseller_id;
      }
    }
    const effectiveReseller = resellerId === undefined ? siteReseller : resellerId;
    if (siteReseller && effectiveReseller !== siteReseller) fail("the device's reseller differs from its site's reseller");

    let subscriberId: string | null = null;
    if (rec.subscriber) {
      const s = subscribers.find((x) => x.id === rec.subscriber || x.subscriber_ref === rec.subscriber);
      if (!s) fail(`subscriber "${rec.subscriber}" not found`);
      else if (s.reseller_id && effectiveReseller && s.reseller_id !== effectiveReseller) fail('the subscriber belongs to another reseller than the device');
      else subscriberId = s.id;
    }

    let enabled: boolean | undefined;
    if (rec.enabled !== undefined) {
      enabled = BOOL[rec.enabled.toLowerCase()];
      if (enabled === undefined) fail(`enabled "${rec.enabled}" is not true/false`);
    }
    let port: number | undefined;
    if (rec.port !== undefined) {
      port = /^\d+$/.test(rec.port) ? Number(rec.port) : Number.NaN;
      if (Number.isNaN(port)) fail(`port "${rec.port}" is not a number`);
    }
    const version = rec.snmp_version ?? (rec.v3_user ? '3' : '2c');
    const snmp =
      version === '3'
        ? {
            version: '3' as const,
            user: rec.v3_user ?? '',
            level: (rec.v3_level ?? 'authPriv') as 'authPriv',
            ...(rec.v3_auth_protocol ? { auth_protocol: rec.v3_auth_protocol.toLowerCase() as 'sha' } : {}),
            ...(rec.v3_auth_key ? { auth_key: rec.v3_auth_key } : {}),
            ...(rec.v3_priv_protocol ? { priv_protocol: rec.v3_priv_protocol.toLowerCase() as 'aes' } : {}),
            ...(rec.v3_priv_key ? { priv_key: rec.v3_priv_key } : {}),
            ...(rec.v3_context ? { context: rec.v3_context } : {}),
          }
        : { version: version as '2c', community: rec.community ?? '' };
    const candidate = {
      ...(rec.name ? { name: rec.name } : {}),
      kind: rec.kind?.toLowerCase(),
      address: rec.address,
      ...(port !== undefined ? { port } : {}),
      ...(rec.profile ? { profile: rec.profile.toLowerCase() } : {}),
      snmp,
      ...(rec.mac ? { mac_address: rec.mac } : {}),
      ...(enabled !== undefined ? { enabled } : {}),
      ...(rec.notes ? { notes: rec.notes } : {}),
    };
    const parsed = DeviceInputSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) fail(`${columnOf(issue.path.map(String))}: ${issue.message}`);
      continue;
    }
    const profile = parsed.data.profile;
    if (profile && profile !== 'auto') {
      const known = options.profiles?.();
      if (known && known.size > 0 && !known.has(profile)) fail(`profile "${profile}" is not loaded; use auto or one of: ${[...known].sort().join(', ')}`);
    }
    if (errors.length === before) inputs.push({ line, input: parsed.data, resellerId: effectiveReseller ?? null, siteId, subscriberId });
  }

  // Duplicates inside the file, then against the inventory (unscoped: an address owned by another reseller is taken).
  const seen = new Map<string, number>();
  for (const { line, input } of inputs) {
    const key = `${input.address.toLowerCase()}:${input.port ?? 161}`;
    const first = seen.get(key);
    if (first !== undefined) errors.push({ line, message: `${key} is already on line ${first}` });
    else seen.set(key, line);
  }
  const addresses = [...new Set(inputs.map((i) => i.input.address))];
  const existing = new Map<string, { id: string; reseller_id: string | null }>();
  for (let i = 0; i < addresses.length; i += 1000) {
    const chunk = addresses.slice(i, i + 1000);
    const found = await system.selectFrom('inventory_devices').select(['id', 'address', 'port', 'reseller_id']).where('address', 'in', chunk).execute();
    for (const f of found) existing.set(`${f.address.toLowerCase()}:${f.port}`, f);
  }
  const toCreate: typeof inputs = [];
  const toUpdate: Array<(typeof inputs)[number] & { id: string }> = [];
  for (const item of inputs) {
    const key = `${item.input.address.toLowerCase()}:${item.input.port ?? 161}`;
    const found = existing.get(key);
    if (!found) toCreate.push(item);
    else if (actor.role === 'reseller' && found.reseller_id !== actor.resellerId)
      errors.push({ line: item.line, message: `${key} is already registered (not yours)` });
    else if (!options.upsert) errors.push({ line: item.line, message: `${key} is already in the inventory; import with upsert to update it` });
    else toUpdate.push({ ...item, id: found.id });
  }
  errors.sort((a, b) => a.line - b.line);
  if (errors.length || options.dryRun)
    return { created: errors.length ? 0 : toCreate.length, updated: errors.length ? 0 : toUpdate.length, dry_run: !!options.dryRun, errors };

  const values = (item: (typeof inputs)[number]) => ({
    name: item.input.name ?? item.input.address,
    kind: item.input.kind,
    address: item.input.address,
    port: item.input.port ?? 161,
    profile: item.input.profile ?? 'auto',
    ...snmpColumns(item.input.snmp),
    site_id: item.siteId,
    reseller_id: item.resellerId,
    subscriber_id: item.subscriberId,
    mac_address: item.input.mac_address ?? null,
    enabled: item.input.enabled ?? true,
    notes: item.input.notes ?? null,
  });
  await (db as Kysely<InventoryDatabase>).transaction().execute(async (trx) => {
    for (let i = 0; i < toCreate.length; i += 500) {
      await trx
        .insertInto('inventory_devices')
        .values(toCreate.slice(i, i + 500).map(values))
        .execute();
    }
    for (const item of toUpdate) {
      await trx
        .updateTable('inventory_devices')
        .set({ ...values(item), updated_at: new Date() })
        .where('id', '=', item.id)
        .execute();
    }
  });
  return { created: toCreate.length, updated: toUpdate.length, dry_run: false, errors: [] };
}

function columnOf(path: string[]): string {
  const [first, second] = path;
  if (first === 'snmp') {
    const map: Record<string, string> = {
      community: 'community',
      user: 'v3_user',
      level: 'v3_level',
      auth_protocol: 'v3_auth_protocol',
      auth_key: 'v3_auth_key',
      priv_protocol: 'v3_priv_protocol',
      priv_key: 'v3_priv_key',
      context: 'v3_context',
      version: 'snmp_version',
    };
    return map[second ?? 'version'] ?? 'snmp';
  }
  if (first === 'mac_address') return 'mac';
  return first ?? 'row';
}

/** For callers that want an HTTP error rather than a result. */
export function importFailed(result: ImportResult) {
  return httpErrors.unprocessable('import_invalid', `${result.errors.length} error(s); nothing was imported`, { errors: result.errors });
}
