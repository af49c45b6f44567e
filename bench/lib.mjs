// Shared helpers for benchmarks: start processes, wait for ports, run wrk and parse its figures, read RSS.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Benches that import the TypeScript sources re-run themselves under tsx with the `@rgz/source` export condition, as
 * `npm run dev` does (no build needed). Call first: in the outer process it exits with the re-run's status.
 */
export function runOnTypeScriptSources() {
  if (process.env.RGZ_BENCH_TSX) return;
  const r = spawnSync(process.execPath, ['--conditions=@rgz/source', '--import', 'tsx', ...process.argv.slice(1)], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: 'inherit',
    env: { ...process.env, RGZ_BENCH_TSX: '1' },
  });
  process.exit(r.status ?? 1);
}

export function ensureDebian(pkg, bin) {
  if (spawnSync('which', [bin]).status === 0) return;
  console.error(`[bench] installing ${pkg} (Debian)`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`cannot install ${pkg}`);
}

export function startProcess(cmd, args, { env = {}, readyPattern, timeoutMs = 60_000 } = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (c) => {
      out += c.toString();
      const m = readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        // From here on, drain output without keeping it: a loaded server logs every request.
        proc.stdout.removeListener('data', onData);
        proc.stderr.removeListener('data', onData);
        proc.stdout.resume();
        proc.stderr.resume();
        resolve({ proc, match: m, output: () => out });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}:\n${out}`));
    });
  });
}

export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/** Runs wrk and returns { rps, p50Ms, p99Ms, errors }. */
export function wrk(url, { connections = 50, threads = 1, seconds = 10, headers = {} } = {}) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const r = spawnSync('wrk', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const out = r.stdout;
  const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1], m[2]) : Number.NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50Ms: pct(50), p99Ms: pct(99), errors, raw: out };
}

export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
