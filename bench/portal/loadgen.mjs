// Open-loop HTTP load for bench/portal-otp.mjs: requests start on a fixed schedule (`rate` per second) whatever the
// answers, over an undici Pool, so a slow server shows as latency instead of slowing the offered load down.
// Latency runs from the scheduled start (no coordinated omission); the generator reports how far it fell behind.
import { Pool } from 'undici';

/**
 * `bodies[i]` is the JSON body of request i (precomputed: the clock measures the server, not JSON.stringify).
 * Returns { sent, statuses, rps, p50Ms, p95Ms, p99Ms, maxMs, errors, maxLagMs }.
 */
export async function openLoop({ origin, path, rate, seconds, bodies, connections = 128, timeoutMs = 10_000 }) {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const count = Math.min(bodies.length, Math.round(rate * seconds));
  const latencies = new Float64Array(count);
  const statuses = {};
  let done = 0;
  let errors = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  const inflight = [];
  const fire = (i) => {
    const scheduled = t0 + (i * 1000) / rate;
    return pool
      .request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: bodies[i] })
      .then(async (res) => {
        await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => {
        latencies[done++] = performance.now() - scheduled;
      });
  };
  let next = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(count, Math.floor(((now - t0) * rate) / 1000) + 1);
      if (due - next > 1) maxLagMs = Math.max(maxLagMs, ((due - next) * 1000) / rate);
      while (next < due) inflight.push(fire(next++));
      if (next >= count) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  await Promise.all(inflight);
  await pool.close();
  const sorted = latencies.subarray(0, done).sort();
  const pct = (p) => (done ? sorted[Math.min(done - 1, Math.floor((p / 100) * done))] : Number.NaN);
  return {
    sent: count,
    statuses,
    errors,
    offeredRps: count / sendSeconds,
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    maxMs: done ? sorted[done - 1] : Number.NaN,
    maxLagMs,
  };
}
