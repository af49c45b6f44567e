/**
 * Debian's FreeRADIUS 3.2 as a test peer in front of RGZ: a private copy of /etc/freeradius/3.0 with the shipped
 * packages/plugin-radius/freeradius/ files installed as the README says, listening on 127.0.0.1 high ports, run in the
 * foreground (`-X`) under `timeout` so no daemon outlives the test. `FREERADIUS` is undefined when the server or
 * rlm_rest is not installed: tests use `describe.skipIf(!FREERADIUS)` and print why.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARY = '/usr/sbin/freeradius';
const RLM_REST = '/usr/lib/freeradius/rlm_rest.so';
const SYSTEM_RADDB = '/etc/freeradius/3.0';

/** The shipped configuration (what an operator copies). */
export const SHIPPED = fileURLToPath(new URL('../../freeradius/', import.meta.url));

export const FREERADIUS = existsSync(BINARY) && existsSync(RLM_REST) && existsSync(SYSTEM_RADDB) ? BINARY : undefined;
if (FREERADIUS === undefined)
  console.warn('freeradius or rlm_rest not installed (apt-get install -y freeradius freeradius-rest): FreeRADIUS-in-front tests skipped');

export interface FreeRadiusPeer {
  readonly authPort: number;
  readonly acctPort: number;
  readonly dir: string;
  /** Everything FreeRADIUS printed so far (debug output), for assertion messages. */
  output(): string;
  close(): Promise<void>;
}

export interface FreeRadiusOptions {
  /** RGZ's base URL, e.g. http://127.0.0.1:PORT. */
  rgzUrl: string;
  token: string;
  clients: readonly { name: string; address: string; secret: string }[];
  /** Seconds the daemon may live at most (default 600). */
  lifetimeSeconds?: number;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A raddb directory: the system one, minus EAP and the stock sites, plus the shipped RGZ files. */
export function buildRaddb(dir: string, options: { authPort: number; acctPort: number; clients: FreeRadiusOptions['clients'] }): void {
  cpSync(SYSTEM_RADDB, dir, { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });
  const conf = join(dir, 'radiusd.conf');
  writeFileSync(
    conf,
    readFileSync(conf, 'utf8')
      .replace(/^raddbdir = .*$/m, `raddbdir = ${dir}`)
      .replace(/^logdir = .*$/m, `logdir = ${dir}/log`)
      .replace(/^run_dir = .*$/m, `run_dir = ${dir}/run`)
      .replace(/^(\s*)(user|group) = freerad/gm, '$1#$2 = freerad'),
  );
  rmSync(join(dir, 'mods-enabled', 'eap'), { force: true });
  for (const site of ['default', 'inner-tunnel']) rmSync(join(dir, 'sites-enabled', site), { force: true });

  // What the README tells an operator to do.
  for (const file of ['mods-available/rgz_rest', 'policy.d/rgz', 'sites-available/rgz', 'dictionary.rgz']) cpSync(join(SHIPPED, file), join(dir, file));
  symlinkSync('../mods-available/rgz_rest', join(dir, 'mods-enabled', 'rgz_rest'));
  symlinkSync('../sites-available/rgz', join(dir, 'sites-enabled', 'rgz'));
  appendFileSync(join(dir, 'dictionary'), '\n$INCLUDE dictionary.rgz\n');

  // Test-only: loopback and high ports instead of *:1812/1813.
  const site = join(dir, 'sites-available', 'rgz');
  writeFileSync(
    site,
    readFileSync(site, 'utf8')
      .replace(/ipaddr = \*/g, 'ipaddr = 127.0.0.1')
      .replace('port = 1812', `port = ${options.authPort}`)
      .replace('port = 1813', `port = ${options.acctPort}`),
  );
  writeFileSync(
    join(dir, 'clients.conf'),
    options.clients.map((c) => `client ${c.name} {\n\tipaddr = ${c.address}\n\tsecret = ${c.secret}\n\trequire_message_authenticator = no\n}\n`).join('\n'),
  );
}

export async function startFreeRadius(options: FreeRadiusOptions): Promise<FreeRadiusPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-freeradius-'));
  const authPort = await freeUdpPort();
  const acctPort = await freeUdpPort();
  buildRaddb(dir, { authPort, acctPort, clients: options.clients });
  const env = { ...process.env, RGZ_URL: options.rgzUrl, RGZ_REST_TOKEN: options.token };

  const check = spawnSync(FREERADIUS as string, ['-XC', '-d', dir], { env, encoding: 'utf8', timeout: 60_000 });
  if (check.status !== 0) throw new Error(`freeradius -XC rejected the configuration:\n${(check.stdout + check.stderr).slice(-4000)}`);

  let out = '';
  const child: ChildProcess = spawn('timeout', ['-s', 'TERM', String(options.lifetimeSeconds ?? 600), FREERADIUS as string, '-X', '-d', dir], { env });
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = Date.now() + 60_000;
  while (!out.includes('Ready to process requests')) {
    if (child.exitCode !== null || Date.now() > ready) {
      child.kill('SIGTERM');
      throw new Error(`freeradius did not start:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    authPort,
    acctPort,
    dir,
    output: () => out,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
