/**
 * Runs Debian's radclient (package freeradius-utils) as the NAS. `RADCLIENT` is undefined when it is not installed:
 * tests use `describe.skipIf(!RADCLIENT)` and print why.
 */

import { spawn, spawnSync } from 'node:child_process';

export const RADCLIENT = (() => {
  const found = spawnSync('sh', ['-c', 'command -v radclient'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
if (RADCLIENT === undefined) console.warn('radclient not installed (apt-get install -y freeradius-utils): radclient tests skipped');

export interface RadclientRun {
  code: number | null;
  out: string;
  /** The first reply radclient accepted: its code name, or undefined when it got no valid answer. */
  received: string | undefined;
  /** `Name = value` lines of that reply. */
  reply: Map<string, string[]>;
}

export function radclient(
  port: number,
  command: 'auth' | 'acct' | 'status',
  secret: string,
  input: string,
  options: { retries?: number; timeout?: number } = {},
): Promise<RadclientRun> {
  return new Promise((resolve, reject) => {
    const args = ['-x', '-r', String(options.retries ?? 1), '-t', String(options.timeout ?? 1), `127.0.0.1:${port}`, command, secret];
    const child = spawn(RADCLIENT as string, args);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const reply = new Map<string, string[]>();
      const m = /Received (\S+) Id/.exec(out);
      if (m) {
        for (const line of out.slice(m.index).split('\n').slice(1)) {
          const a = /^\s+([\w.:-]+) = (.*)$/.exec(line);
          if (!a) break;
          reply.set(a[1] as string, [...(reply.get(a[1] as string) ?? []), a[2] as string]);
        }
      }
      resolve({ code, out, received: m?.[1], reply });
    });
    child.stdin.end(`${input}\n`);
  });
}
