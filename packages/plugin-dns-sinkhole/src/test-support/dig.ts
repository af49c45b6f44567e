/**
 * Runs the real `dig` (Debian bind9-dnsutils) against a loopback DNS server and reads its output: status, flags and
 * the answer section. Tests skip with a message when dig is not installed.
 */
import { execFile, execFileSync } from 'node:child_process';

export const DIG_AVAILABLE = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const DIG_MISSING = 'dig not installed: apt-get install bind9-dnsutils';

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  /** NOERROR, NXDOMAIN, REFUSED, SERVFAIL…, or `TIMEOUT` when no answer came. */
  status: string;
  /** Header flags: qr, rd, ra, tc, aa… */
  flags: string[];
  answers: DigRecord[];
  raw: string;
}

export interface DigOptions {
  port: number;
  server?: string;
  /** Source address (`dig -b`), to act as another client on loopback. */
  source?: string;
  /** Extra dig options (`+tcp`, `+noedns`, `+ignore`). */
  options?: string[];
}

export function dig(name: string, type: string, options: DigOptions): Promise<DigResult> {
  const args = [`@${options.server ?? '127.0.0.1'}`, '-p', String(options.port), name, type, '+tries=1', '+time=2', '+nocookie', ...(options.options ?? [])];
  if (options.source) args.push('-b', options.source);
  return new Promise((resolve, reject) => {
    execFile('dig', args, { timeout: 10_000 }, (err, stdout) => {
      // dig exits 9 when no server answered: report it as a status, not an error.
      if (err && !/connection timed out|no servers could be reached/i.test(stdout)) {
        reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stdout}`));
        return;
      }
      resolve(parseDig(stdout));
    });
  });
}

export function parseDig(out: string): DigResult {
  const header = /->>HEADER<<- opcode: \w+, status: (\w+), id: \d+/.exec(out);
  const flagLine = /;; flags: ([a-z ]+);/.exec(out);
  const answers: DigRecord[] = [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out);
  for (const line of section?.[1]?.split('\n') ?? []) {
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.+)$/.exec(line.trim());
    if (m) answers.push({ name: m[1] as string, ttl: Number(m[2]), type: m[3] as string, data: (m[4] as string).trim() });
  }
  return { status: header?.[1] ?? 'TIMEOUT', flags: flagLine?.[1]?.trim().split(/\s+/) ?? [], answers, raw: out };
}
