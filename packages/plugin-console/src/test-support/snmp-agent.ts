/**
 * An SNMP agent on loopback for the console tests: Debian's snmpsim (`snmpsimd`) serving this folder's synthetic
 * .snmprec polls, one community per file, so the SNMP plugin's real poll job stores real samples for a device.
 * Skipped by the caller when snmpsimd is missing (`apt-get install snmpsim`).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HAS_SNMPSIM = spawnSync('sh', ['-c', 'command -v snmpsimd && command -v snmpget']).status === 0;

export interface SnmpAgent {
  port: number;
  stop(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const answers = (port: number, community: string) =>
  new Promise<boolean>((resolve) =>
    execFile('snmpget', ['-v2c', '-c', community, '-t', '0.5', '-r', '0', `127.0.0.1:${port}`, '1.3.6.1.2.1.1.3.0'], (err) => resolve(!err)),
  );

/** snmpsimd serving `fixtures/<name>.snmprec` under community `<name>`, on a free UDP port of 127.0.0.1. */
export async function startSnmpAgent(names: string[]): Promise<SnmpAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-console-snmpsim-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  mkdirSync(data);
  mkdirSync(cache);
  // snmpsimd drops to an unprivileged user when run as root: it must still read the data and write its cache.
  chmodSync(dir, 0o755);
  chmodSync(data, 0o755);
  chmodSync(cache, 0o777);
  for (const name of names) {
    const target = join(data, `${name}.snmprec`);
    copyFileSync(fileURLToPath(new URL(`./fixtures/${name}.snmprec`, import.meta.url)), target);
    chmodSync(target, 0o644);
  }
  const port = await freeUdpPort();
  const args = [`--data-dir=${data}`, `--cache-dir=${cache}`, `--agent-udpv4-endpoint=127.0.0.1:${port}`, '--logging-method=null'];
  if (process.getuid?.() === 0) args.push('--process-user=nobody', '--process-group=nogroup');
  const proc = spawn('snmpsimd', args, { stdio: 'ignore' });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Bounded: snmpsimd indexes its data files before it answers (seconds on a loaded machine).
  const until = Date.now() + 30_000;
  while (!(await answers(port, names[0] as string))) {
    if (proc.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(`snmpsimd on 127.0.0.1:${port} did not answer in 30 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, stop };
}
