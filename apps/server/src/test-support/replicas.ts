/**
 * Starts real `rgz start` processes (the CLI from source) for multi-replica tests and reads their port from
 * the JSON log line. Every process is killed when the test ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const RGZ_BIN = fileURLToPath(new URL('../bin/rgz.ts', import.meta.url));
export const TSX_LOADER = require.resolve('tsx/esm');

export interface Replica {
  proc: ChildProcess;
  port: number;
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
}

export function startReplica(configPath: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Replica> {
  const proc = spawn(process.execPath, ['--conditions=@rgz/source', '--import', TSX_LOADER, RGZ_BIN, 'start', '-c', configPath], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /RGZ listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), pid: proc.pid as number, output: () => out, exited });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code} before listening:\n${out}`));
    });
  });
}
