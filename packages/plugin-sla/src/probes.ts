/**
 * The three probes. Each returns a `ProbeResult` and never throws: a failure is a result.
 *
 * - **ICMP** runs the system `ping` (Debian iputils-ping): Node has no raw sockets, and `ping` is what the operators
 *   already trust; it is installed with the capability to open ICMP sockets, so RGZ needs no privilege. One probe =
 *   `ping -n -q -c COUNT -i INTERVAL -W TIMEOUT -w DEADLINE host` under `LC_ALL=C`; the summary lines are parsed
 *   (iputils and BusyBox formats). Up when at least one reply came and the loss is at most `maxLossPercent`.
 * - **HTTP** GET with a deadline (the whole response, body included); up on the expected status (default 2xx).
 * - **DNS** a recursive lookup through one resolver (`node:dns` Resolver with `setServers`, so the system resolver
 *   plays no part); up when the answer holds at least one record of the type.
 */
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';

export interface ProbeResult {
  success: boolean;
  /** Round trip (ICMP: average), request to last byte (HTTP), query to answer (DNS); null when nothing came back. */
  latencyMs: number | null;
  /** ICMP only: share of echo requests lost, 0..1. */
  loss: number | null;
  /** Why it failed, or what it saw (status code, answers). */
  detail: Record<string, unknown>;
  error: string | null;
}

export interface PingSummary {
  transmitted: number;
  received: number;
  lossPercent: number;
  avgMs: number | null;
}

/** Parse ping's summary (iputils: "3 packets transmitted, 3 received, 0% packet loss" + "rtt min/avg/max/mdev = …"; BusyBox: "… 3 packets received …" + "round-trip min/avg/max = …"). */
export function parsePingOutput(output: string): PingSummary | null {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+\d+ \w+)*, ([\d.]+)% packet loss/.exec(output);
  if (!counts) return null;
  const rtt = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = [\d.]+\/([\d.]+)\//.exec(output);
  return {
    transmitted: Number(counts[1]),
    received: Number(counts[2]),
    lossPercent: Number(counts[3]),
    avgMs: rtt ? Number(rtt[1]) : null,
  };
}

export interface PingOptions {
  count: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  maxLossPercent: number;
  command: readonly string[];
  signal?: AbortSignal;
}

export function icmpProbe(host: string, o: PingOptions): Promise<ProbeResult> {
  const deadline = Math.ceil(o.count * o.intervalSeconds + o.timeoutSeconds);
  const [cmd, ...prefix] = o.command as [string, ...string[]];
  const args = [...prefix, '-n', '-q', '-c', String(o.count), '-i', String(o.intervalSeconds), '-W', String(o.timeoutSeconds), '-w', String(deadline), host];
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    let settled = false;
    const done = (r: ProbeResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], ...(o.signal ? { signal: o.signal } : {}) });
    } catch (e) {
      done({ success: false, latencyMs: null, loss: null, detail: {}, error: `cannot run ${cmd}: ${(e as Error).message}` });
      return;
    }
    // Belt and braces: ping's own -w ends it, this ends a stuck one.
    const timer = setTimeout(() => child.kill('SIGKILL'), (deadline + 5) * 1000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      const hint = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ` (install iputils-ping: apt-get install iputils-ping)` : '';
      done({ success: false, latencyMs: null, loss: null, detail: {}, error: `cannot run ${cmd}: ${e.message}${hint}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const summary = parsePingOutput(out);
      if (!summary) {
        done({ success: false, latencyMs: null, loss: null, detail: { exit_code: code }, error: (err || out).trim().slice(0, 300) || `ping exited ${code}` });
        return;
      }
      const loss = summary.transmitted > 0 ? 1 - summary.received / summary.transmitted : 1;
      const success = summary.received > 0 && loss * 100 <= o.maxLossPercent + 1e-9;
      done({
        success,
        latencyMs: summary.avgMs,
        loss,
        detail: { transmitted: summary.transmitted, received: summary.received },
        error: success ? null : summary.received === 0 ? 'no echo reply' : `loss ${Math.round(loss * 100)} % above ${o.maxLossPercent} %`,
      });
    });
  });
}

export async function httpProbe(
  url: string,
  o: { timeoutMs: number; expectStatus?: readonly number[] | undefined; signal?: AbortSignal },
): Promise<ProbeResult> {
  const started = performance.now();
  const signals = [AbortSignal.timeout(o.timeoutMs), ...(o.signal ? [o.signal] : [])];
  try {
    const res = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow', headers: { 'user-agent': 'rgz-sla/0.1' } });
    await res.arrayBuffer();
    const latencyMs = performance.now() - started;
    const success = o.expectStatus ? o.expectStatus.includes(res.status) : res.status >= 200 && res.status < 300;
    return { success, latencyMs, loss: null, detail: { status: res.status }, error: success ? null : `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
    return {
      success: false,
      latencyMs: null,
      loss: null,
      detail: {},
      error: timeout ? `no answer within ${o.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message),
    };
  }
}

export async function dnsProbe(
  name: string,
  o: { server: string; type: 'A' | 'AAAA'; timeoutMs: number; tries: number; signal?: AbortSignal },
): Promise<ProbeResult> {
  const resolver = new Resolver({ timeout: o.timeoutMs, tries: o.tries });
  try {
    // `ip`, `ip:port`, `[v6]:port`, as setServers takes them.
    resolver.setServers([o.server]);
  } catch (e) {
    return { success: false, latencyMs: null, loss: null, detail: {}, error: `bad resolver address "${o.server}": ${(e as Error).message}` };
  }
  const onAbort = () => resolver.cancel();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    const answers = o.type === 'A' ? await resolver.resolve4(name) : await resolver.resolve6(name);
    const latencyMs = performance.now() - started;
    const success = answers.length > 0;
    return { success, latencyMs, loss: null, detail: { answers: answers.slice(0, 8) }, error: success ? null : 'empty answer' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      success: false,
      latencyMs: null,
      loss: null,
      detail: { code },
      error: code === 'ETIMEOUT' ? `no answer within ${o.timeoutMs} ms` : (code ?? (e as Error).message),
    };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
