/**
 * Real SNMP agents on loopback for the tests: snmpsim (Debian `snmpsim`, `snmpsimd`) serving .snmprec files copied to
 * a temporary folder, Net-SNMP's `snmpd` (Debian `snmpd`) with a temporary config (v2c community, v3 user, overrides),
 * a UDP port that never answers and one that answers garbage. Each helper returns a `stop()`; tests skip with a message
 * when the Debian package is missing (`apt-get install snmpd snmp snmpsim`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import snmp from 'net-snmp';

export const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
export const HAS_SNMPSIM = has('snmpsimd');
export const HAS_SNMPD = has('snmpd');
export const NO_SNMPSIM = 'snmpsimd not installed (Debian: apt-get install snmpsim)';
export const NO_SNMPD = 'snmpd not installed (Debian: apt-get install snmpd)';

/** A UDP port nobody listens on right now (bound then released). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolve once `community`@port answers a Get of sysUpTime (v2c), or throw after `timeoutMs`. */
export async function waitForAgent(
  port: number,
  community: string,
  timeoutMs = 20_000,
  v3?: { user: string; authKey: string; privKey: string },
  proc?: ChildProcess,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null))
      throw new Error(`agent for 127.0.0.1:${port} exited (${proc.exitCode ?? proc.signalCode})`);
    const session = v3
      ? snmp.createV3Session(
          '127.0.0.1',
          {
            name: v3.user,
            level: snmp.SecurityLevel.authPriv as number,
            authProtocol: snmp.AuthProtocols.sha as string,
            authKey: v3.authKey,
            privProtocol: snmp.PrivProtocols.aes as string,
            privKey: v3.privKey,
          },
          { port, timeout: 300, retries: 0 },
        )
      : snmp.createSession('127.0.0.1', community, { port, version: snmp.Version2c, timeout: 300, retries: 0 });
    session.on('error', () => {});
    const ok = await new Promise<boolean>((resolve) =>
      session.get(['1.3.6.1.2.1.1.3.0'], (err) => {
        last = err;
        resolve(!err);
      }),
    );
    session.close();
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`agent on 127.0.0.1:${port} (community ${community}) did not answer in ${timeoutMs} ms: ${String(last)}`);
}

function stopper(proc: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

export interface Agent {
  port: number;
  stop(): Promise<void>;
}

/**
 * snmpsimd serving the given .snmprec files (community = file name without .snmprec, or the name given), copied to
 * a temporary data folder readable by the unprivileged user snmpsimd switches to.
 */
async function startSnmpsimOnce(
  files: Array<string | { path: string; community: string }>,
  options: { ports?: number } = {},
): Promise<Agent & { ports: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-snmpsim-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  mkdirSync(data);
  mkdirSync(cache);
  chmodSync(dir, 0o755);
  chmodSync(data, 0o755);
  chmodSync(cache, 0o777);
  const communities: string[] = [];
  for (const f of files) {
    const { path, community } = typeof f === 'string' ? { path: f, community: basename(f, '.snmprec') } : f;
    const target = join(data, `${community}.snmprec`);
    copyFileSync(path, target);
    chmodSync(target, 0o644);
    communities.push(community);
  }
  const ports: number[] = [];
  for (let i = 0; i < (options.ports ?? 1); i++) ports.push(await freeUdpPort());
  const port = ports[0] as number;
  const args = [`--data-dir=${data}`, `--cache-dir=${cache}`, ...ports.map((p) => `--agent-udpv4-endpoint=127.0.0.1:${p}`), '--logging-method=null'];
  if (process.getuid?.() === 0) args.push('--process-user=nobody', '--process-group=nogroup');
  const proc = spawn('snmpsimd', args, { stdio: 'ignore' });
  const stop = stopper(proc, dir);
  try {
    for (const p of ports) await waitForAgent(p, communities[0] as string, 20_000, undefined, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, ports, stop };
}

export interface SnmpdOptions {
  community?: string;
  v3?: { user: string; authKey: string; privKey: string };
  /** `override` lines: OID → [type, value] (snmpd types: integer, uinteger, octet_str, object_id, counter). */
  overrides?: Record<string, [string, string]>;
  /** Listen on several ports (one process, many simulated agents). */
  ports?: number;
}

/** Net-SNMP's snmpd in the foreground with a private config and persistent folder, on 127.0.0.1 only. */
async function startSnmpdOnce(options: SnmpdOptions = {}): Promise<Agent & { ports: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-snmpd-'));
  const community = options.community ?? 'public';
  const lines = [`rocommunity ${community} 127.0.0.1`, 'dontLogTCPWrappersConnects yes'];
  if (options.v3) {
    lines.push(`createUser ${options.v3.user} SHA "${options.v3.authKey}" AES "${options.v3.privKey}"`, `rouser ${options.v3.user} priv`);
  }
  for (const [oid, [type, value]] of Object.entries(options.overrides ?? {})) lines.push(`override .${oid} ${type} ${value}`);
  // Not snmpd.conf: snmpd rewrites $SNMP_PERSISTENT_DIR/snmpd.conf with its persistent state at start-up.
  writeFileSync(join(dir, 'agent.conf'), `${lines.join('\n')}\n`);
  const ports: number[] = [];
  for (let i = 0; i < (options.ports ?? 1); i++) ports.push(await freeUdpPort());
  const proc = spawn('snmpd', ['-f', '-Lf', '/dev/null', '-C', '-c', join(dir, 'agent.conf'), '-r', '-I', '-smux', ...ports.map((p) => `udp:127.0.0.1:${p}`)], {
    stdio: 'ignore',
    env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '', MIBDIRS: dir },
  });
  const stop = stopper(proc, dir);
  try {
    await waitForAgent(ports[0] as number, community, 15_000, undefined, proc);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port: ports[0] as number, ports, stop };
}

/** Another process may take a port between the check and the agent binding it: try again with fresh ports. */
async function retried<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts) throw err;
    }
  }
}

export const startSnmpsim = (files: Parameters<typeof startSnmpsimOnce>[0], options?: Parameters<typeof startSnmpsimOnce>[1]) =>
  retried(() => startSnmpsimOnce(files, options));
export const startSnmpd = (options?: SnmpdOptions) => retried(() => startSnmpdOnce(options));

/** A UDP port that receives and never answers: an unreachable CPE. */
export async function startSilentPort(): Promise<Agent & { received: () => number }> {
  const s: Socket = createSocket('udp4');
  let received = 0;
  s.on('message', () => received++);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, received: () => received, stop: () => new Promise<void>((r) => s.close(() => r())) };
}

/** A UDP port that answers every datagram with bytes that are not SNMP. */
export async function startGarbagePort(
  reply = Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0x7f, 0x02, 0x01, 0x01, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65]),
): Promise<Agent> {
  const s: Socket = createSocket('udp4');
  s.on('message', (_msg, rinfo) => s.send(reply, rinfo.port, rinfo.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, stop: () => new Promise<void>((r) => s.close(() => r())) };
}

/** Open sockets of this process, from /proc (to check that every SNMP session was closed); -1 off Linux. */
export function openSockets(): number {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return -1;
  }
}
