/**
 * pg_dump and pg_restore: the binaries matching the server's major version, connection settings without the
 * password on the command line, and child processes whose failure is reported with their own words.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { RgzError } from '@rgz/core';

export type PgToolName = 'pg_dump' | 'pg_restore';

export interface PgTool {
  name: PgToolName;
  path: string;
  /** `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` */
  version: string;
  major: number;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First `name` on PATH, or undefined. */
async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

/** `pg_dump --version` of a binary. */
export async function toolVersion(path: string): Promise<{ version: string; major: number }> {
  const { code, stdout, stderr } = await run(path, ['--version'], {});
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout);
  if (code !== 0 || !m) throw new RgzError('backup_pg_tool_broken', `${path} --version failed: ${(stderr || stdout).trim() || `exit ${code}`}`);
  return { version: stdout.trim(), major: Number(m[1]) };
}

/**
 * The `name` binary for a server of major version `major`: in `binDir` when configured (nowhere else), else
 * /usr/lib/postgresql/<major>/bin (Debian's layout, several majors side by side), else PATH. A binary of another
 * major is refused: pg_dump must not be older than the server, and pg_restore of another major may not read or
 * replay the archive faithfully.
 */
export async function findPgTool(name: PgToolName, major: number, binDir?: string): Promise<PgTool> {
  const debian = `/usr/lib/postgresql/${major}/bin/${name}`;
  const candidates = binDir ? [join(binDir, name)] : [debian];
  let path: string | undefined;
  for (const c of candidates) if (await executable(c)) path = c;
  if (!path && !binDir) path = await onPath(name);
  if (!path) {
    throw new RgzError(
      'backup_pg_tool_missing',
      `${name} not found (looked in ${binDir ? join(binDir, name) : `${debian} and PATH`}); install the PostgreSQL ${major} client (Debian: apt-get install postgresql-client-${major}) or set database.binDir`,
    );
  }
  const v = await toolVersion(path);
  if (v.major !== major) {
    throw new RgzError(
      'backup_pg_tool_mismatch',
      `${path} is PostgreSQL ${v.major} but the server is PostgreSQL ${major}; install postgresql-client-${major} (it goes to /usr/lib/postgresql/${major}/bin) or set database.binDir to a folder holding ${name} ${major}`,
    );
  }
  return { name, path, version: v.version, major };
}

/** A postgres URL split into a password-free `--dbname` URL and the environment libpq reads the password from. */
export function connectionArgs(url: string): { dbname: string; env: Record<string, string> } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RgzError('backup_url_invalid', 'the database URL is not a valid postgres:// URL');
  }
  const env: Record<string, string> = {};
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env };
}

/** The same URL with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** `url` with the password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Keep the last `max` characters of a child's stderr (error messages come last). */
export function tail(max = 8192): { push(chunk: Buffer | string): void; text(): string } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString();
      if (buf.length > max * 2) buf = buf.slice(-max);
    },
    text: () => buf.slice(-max).trim(),
  };
}

export interface Spawned {
  child: ChildProcess;
  /** Exit code (or a signal name), with the stderr tail. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Start a tool with `env` added; killed (SIGTERM) when `signal` aborts. */
export function start(path: string, args: string[], options: { env?: Record<string, string>; signal?: AbortSignal; stdin?: 'pipe' | 'ignore' }): Spawned {
  const child = spawn(path, args, {
    env: { ...process.env, ...options.env, PGAPPNAME: 'rgz-backup' },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const err = tail();
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const onAbort = () => child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    let settled = false;
    child.once('error', (e) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code: -1, signal: null, stderr: e.message });
    });
    child.once('close', (code, sig) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal: sig, stderr: err.text() });
    });
  });
  return { child, done };
}

/** Run to completion, collecting stdout (small outputs only). */
export async function run(
  path: string,
  args: string[],
  options: { env?: Record<string, string>; signal?: AbortSignal },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = start(path, args, options);
  let stdout = '';
  s.child.stdout?.on('data', (c: Buffer) => {
    if (stdout.length < 1 << 20) stdout += c.toString();
  });
  const r = await s.done;
  return { code: r.code, stdout, stderr: r.stderr };
}
