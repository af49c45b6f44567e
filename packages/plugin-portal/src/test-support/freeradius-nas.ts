/**
 * Debian's FreeRADIUS (`/usr/sbin/freeradius`, package freeradius) as the NAS's Dynamic Authorization Server in tests:
 * a `coa` listener on a free UDP port of 127.0.0.1, run from a temporary raddb, that writes every CoA/Disconnect-Request
 * it accepted to a detail file and answers it. FreeRADIUS itself checks the Request Authenticator and the
 * Message-Authenticator and drops a packet whose check fails, so an answer proves both were right.
 *
 * Answers: Disconnect-Request → Disconnect-ACK; CoA-Request → CoA-ACK, except when Acct-Session-Id starts with
 * `nak-`: CoA-NAK with Error-Cause 401 (Unsupported-Attribute), what a NAS that does not know the plan's attributes does.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FREERADIUS = '/usr/sbin/freeradius';
export const hasFreeradius = existsSync(FREERADIUS);

/** One packet of the detail file: its type and its attributes as FreeRADIUS printed them (strings unquoted). */
export interface DetailEntry {
  packetType: string;
  attributes: Map<string, string>;
}

export interface FreeradiusNas {
  readonly port: number;
  readonly secret: string;
  /** Packets FreeRADIUS accepted (authenticators valid), oldest first. */
  received(): DetailEntry[];
  /** FreeRADIUS's debug output so far. */
  log(): string;
  close(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function raddb(dir: string, port: number, secret: string): string {
  return `prefix = /usr
localstatedir = /var
logdir = ${dir}/log
raddbdir = ${dir}
confdir = ${dir}
radacctdir = ${dir}/log
run_dir = ${dir}/run
db_dir = ${dir}
libdir = /usr/lib/freeradius
pidfile = ${dir}/run/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
  destination = stdout
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
client rgz {
  ipaddr = 127.0.0.1
  secret = "${secret}"
  require_message_authenticator = no
}
modules {
  always reject {
    rcode = reject
  }
  always ok {
    rcode = ok
  }
  detail received {
    filename = ${dir}/log/detail
    permissions = 0600
    header = "%t"
  }
}
listen {
  type = coa
  ipaddr = 127.0.0.1
  port = ${port}
  virtual_server = nas
}
# FreeRADIUS 3 runs Disconnect-Requests through recv-coa as well.
server nas {
  recv-coa {
    received
    if (&request:Packet-Type == CoA-Request && &Acct-Session-Id =~ /^nak-/) {
      update reply {
        &Error-Cause := Unsupported-Attribute
      }
      reject
    }
    ok
  }
  send-coa {
    ok
  }
}
`;
}

/** Parse FreeRADIUS's detail file: blank-line separated records of `\tName = value` lines after a time header. */
export function parseDetail(text: string): DetailEntry[] {
  const entries: DetailEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const attributes = new Map<string, string>();
    for (const line of block.split('\n')) {
      const m = /^\t([\w.-]+) = (.*)$/.exec(line);
      if (m) attributes.set(m[1] as string, (m[2] as string).replace(/^"(.*)"$/, '$1'));
    }
    const packetType = attributes.get('Packet-Type');
    if (packetType !== undefined) entries.push({ packetType, attributes });
  }
  return entries;
}

export async function startFreeradiusNas(options: { secret?: string; readyTimeoutMs?: number } = {}): Promise<FreeradiusNas> {
  const secret = options.secret ?? 'nas-coa-secret-0123456789';
  const dir = mkdtempSync(join(tmpdir(), 'rgz-freeradius-nas-'));
  for (const sub of ['log', 'run']) mkdirSync(join(dir, sub));
  symlinkSync('/usr/share/freeradius/dictionary', join(dir, 'dictionary'));
  const port = await freeUdpPort();
  writeFileSync(join(dir, 'radiusd.conf'), raddb(dir, port, secret));

  let out = '';
  // -X: one thread, debug to stdout (kept for the assertion messages); -f implied.
  const child: ChildProcess = spawn(FREERADIUS, ['-X', '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`freeradius not ready in time:\n${out}`)), options.readyTimeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to process requests')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`freeradius exited ${code}:\n${out}`));
    });
  });
  return {
    port,
    secret,
    received() {
      const file = join(dir, 'log', 'detail');
      return existsSync(file) ? parseDetail(readFileSync(file, 'utf8')) : [];
    },
    log: () => out,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
