/**
 * Helpers for the tests of deploy/: where the files are, the Debian binaries (promtool, amtool, prometheus,
 * prometheus-alertmanager), child processes with bounded waits, and a small PromQL metric-name extractor.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (deploy/ lives there). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const PROMETHEUS_DIR = join(DEPLOY, 'prometheus');
export const RULES_FILE = join(PROMETHEUS_DIR, 'rules', 'rgz.rules.yml');
export const RULES_TEST_FILE = join(PROMETHEUS_DIR, 'rules', 'rgz.rules.test.yml');
export const PROMETHEUS_CONFIG = join(PROMETHEUS_DIR, 'prometheus.yml');
export const ALERTMANAGER_CONFIG = join(DEPLOY, 'alertmanager', 'alertmanager.yml');
export const GRAFANA_DIR = join(DEPLOY, 'grafana');

/** Absolute path of an executable on PATH, or undefined. */
export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, bin);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export const BINARIES = {
  promtool: which('promtool'),
  amtool: which('amtool'),
  prometheus: which('prometheus'),
  alertmanager: which('prometheus-alertmanager') ?? which('alertmanager'),
};

export const MISSING_TOOLS_MESSAGE =
  'promtool/amtool/prometheus/prometheus-alertmanager not found: apt-get install prometheus prometheus-alertmanager (Debian) to run these tests';

export function run(bin: string, args: string[], cwd = ROOT): { status: number | null; out: string } {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  readonly process: ChildProcess;
  /** The last lines it printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Start a long-running binary and wait (bounded) until `readyUrl` answers 200. */
export async function startDaemon(bin: string, args: string[], readyUrl: string, timeoutMs = 30_000): Promise<Daemon> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const daemon: Daemon = {
    process: child,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`${bin} exited with ${exited} before it was ready:\n${log}`);
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return daemon;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`${bin} not ready at ${readyUrl} within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'Inf',
  'NaN',
  'e',
]);

/** Metric names a PromQL expression reads (labels, strings, ranges, functions and keywords removed). */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const before = s[(m.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 0.5s
    if (
      s
        .slice((m.index ?? 0) + word.length)
        .trimStart()
        .startsWith('(')
    )
      continue; // a function
    if (KEYWORDS.has(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** Every `expr:` of a Prometheus rules file (single-line or `|` block), without a YAML library. */
export function ruleExpressions(file: string): Array<{ alert: string; expr: string; for?: string; severity?: string }> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const rules: Array<{ alert: string; expr: string; for?: string; severity?: string }> = [];
  let current: { alert: string; expr: string; for?: string; severity?: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const alert = /^\s*- alert:\s*(\S+)/.exec(line);
    if (alert) {
      current = { alert: alert[1] as string, expr: '' };
      rules.push(current);
      continue;
    }
    if (!current) continue;
    const expr = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (expr) {
      if ((expr[2] as string).trim() === '|') {
        const indent = (expr[1] as string).length;
        const body: string[] = [];
        while (i + 1 < lines.length && (/^\s*$/.test(lines[i + 1] as string) || (/^(\s*)/.exec(lines[i + 1] as string)?.[1]?.length ?? 0) > indent))
          body.push((lines[++i] as string).trim());
        current.expr = body.join(' ').trim();
      } else current.expr = (expr[2] as string).trim();
      continue;
    }
    const f = /^\s*for:\s*(\S+)/.exec(line);
    if (f) current.for = f[1] as string;
    const sev = /^\s*severity:\s*(\S+)/.exec(line);
    if (sev) current.severity = sev[1] as string;
  }
  return rules;
}
