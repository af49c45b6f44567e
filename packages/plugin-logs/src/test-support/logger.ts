/**
 * util-linux `logger` as a real syslog sender (RFC 3164 / RFC 5424, UDP / TCP, octet counting). Installed from Debian
 * `bsdutils` (present on every Debian); tests skip with a message when it is missing.
 */
import { spawnSync } from 'node:child_process';

export const hasLogger = spawnSync('logger', ['--version'], { encoding: 'utf8' }).status === 0;

export interface LoggerOptions {
  port: number;
  transport: 'udp' | 'tcp';
  format: 'rfc3164' | 'rfc5424';
  tag?: string;
  octetCount?: boolean;
  /** `logger --size`: the largest message logger itself will send. */
  size?: number;
  /** Bytes on stdin, one message per line (instead of `message`). */
  stdin?: Buffer | string;
  priority?: string;
  sdId?: string;
  sdParams?: string[];
  msgId?: string;
}

export function sendWithLogger(message: string | undefined, o: LoggerOptions): void {
  const args = ['--server', '127.0.0.1', '--port', String(o.port), o.transport === 'udp' ? '--udp' : '--tcp', `--${o.format}`];
  if (o.tag) args.push('-t', o.tag);
  if (o.octetCount) args.push('--octet-count');
  if (o.size) args.push('--size', String(o.size));
  if (o.priority) args.push('-p', o.priority);
  if (o.sdId) args.push('--sd-id', o.sdId);
  for (const p of o.sdParams ?? []) args.push('--sd-param', p);
  if (o.msgId) args.push('--msgid', o.msgId);
  if (message !== undefined) args.push(message);
  const r = spawnSync('logger', args, { input: o.stdin ?? undefined, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`logger ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}
