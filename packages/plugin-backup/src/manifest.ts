/**
 * Backup ids, object keys and the manifest stored beside each backup.
 *
 * Id: `rgz-<UTC time>-<8 hex>` (`rgz-20261125T030000Z-1a2b3c4d`), so ids sort by creation time and retention can date
 * a backup from its key alone. Keys: `db/<yyyy>/<mm>/<dd>/<id>.dump.age` (pg_dump custom format, age-encrypted) or
 * `<id>.pglite.tar.gz.age` (embedded database), and `<id>.manifest.json` (plain JSON, not secret: sizes, hashes, table
 * names and counts). The manifest is written last: a backup without one is incomplete.
 */
import { randomBytes } from 'node:crypto';
import type { BackupTarget } from '@rgz/core';
import { RgzError, z } from '@rgz/core';

export const ID_PATTERN = /^rgz-(\d{8}T\d{6}Z)-[0-9a-f]{8}$/;
const KEY_PATTERN = /^db\/\d{4}\/\d{2}\/\d{2}\/(rgz-\d{8}T\d{6}Z-[0-9a-f]{8})\.(dump\.age|pglite\.tar\.gz\.age|manifest\.json)$/;

export type BackupFormat = 'pg_dump-custom' | 'pglite-datadir-tar-gz';

export function newBackupId(at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `rgz-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function isBackupId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Creation time encoded in an id. */
export function idTime(id: string): Date {
  const m = ID_PATTERN.exec(id);
  if (!m)
    throw new RgzError('backup_id_invalid', `"${id}" is not a backup id (rgz-YYYYMMDDTHHMMSSZ-xxxxxxxx; \`rgz backup list\` shows them)`, { status: 400 });
  const s = m[1] as string;
  return new Date(Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15)));
}

function folderOf(id: string): string {
  const s = (ID_PATTERN.exec(id)?.[1] ?? '') as string;
  return `db/${s.slice(0, 4)}/${s.slice(4, 6)}/${s.slice(6, 8)}`;
}

export function dataKey(id: string, format: BackupFormat): string {
  return `${folderOf(id)}/${id}.${format === 'pg_dump-custom' ? 'dump.age' : 'pglite.tar.gz.age'}`;
}

export function manifestKey(id: string): string {
  return `${folderOf(id)}/${id}.manifest.json`;
}

/** Prefix under which one backup's objects live (to find them with `list`). */
export function backupPrefix(id: string): string {
  return `${folderOf(id)}/${id}.`;
}

/** Which backup (and which part of it) a key belongs to; null for objects this plugin did not write. */
export function parseKey(key: string): { id: string; createdAt: Date; part: 'data' | 'manifest' } | null {
  const m = KEY_PATTERN.exec(key);
  if (!m) return null;
  const id = m[1] as string;
  return { id, createdAt: idTime(id), part: m[2] === 'manifest.json' ? 'manifest' : 'data' };
}

const tableSchema = z.object({ schema: z.string(), name: z.string(), rows: z.number().int().min(0), checksum: z.string().nullable() });

export const manifestSchema = z.object({
  manifest_version: z.literal(1),
  id: z.string().regex(ID_PATTERN),
  created_at: z.string(),
  database_kind: z.enum(['postgres', 'embedded']),
  format: z.enum(['pg_dump-custom', 'pglite-datadir-tar-gz']),
  compression: z.string(),
  encryption: z.object({ scheme: z.literal('age-v1'), recipients: z.array(z.string()).min(1) }),
  object: z.object({ key: z.string(), size_bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  plaintext_size_bytes: z.number().int().min(0),
  database: z.object({ name: z.string(), server_version: z.string(), server_version_num: z.number().int() }),
  tool: z.string(),
  consistency: z.string(),
  checksum_algorithm: z.string(),
  tables: z.array(tableSchema),
  dump_duration_ms: z.number().int().min(0),
});

export type Manifest = z.infer<typeof manifestSchema>;

export function parseManifest(text: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RgzError('backup_manifest_invalid', `${where} is not JSON: ${(err as Error).message}`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success)
    throw new RgzError(
      'backup_manifest_invalid',
      `${where} is not a backup manifest: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

/** Read a backup's manifest from a target; null when the target has none. */
export async function readManifest(target: BackupTarget, id: string, signal?: AbortSignal): Promise<Manifest | null> {
  const key = manifestKey(id);
  const object = await target.get(key, signal ? { signal } : {});
  if (!object) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of object.body) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) {
      object.body.destroy();
      throw new RgzError('backup_manifest_invalid', `${target.id}:${key} is larger than 16 MiB`);
    }
    chunks.push(c as Buffer);
  }
  const manifest = parseManifest(Buffer.concat(chunks).toString('utf8'), `${target.id}:${key}`);
  if (manifest.id !== id) throw new RgzError('backup_manifest_invalid', `${target.id}:${key} describes backup ${manifest.id}, not ${id}`);
  return manifest;
}
