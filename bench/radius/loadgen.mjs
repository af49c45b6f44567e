// RADIUS load generator of bench/radius-auth.mjs, run in a worker thread: sends precomputed datagrams (built with RGZ's
// codec before the clock starts, so the generator does no cryptography while it measures) over many UDP sockets and
// matches answers by (socket, Identifier). Closed loop (`concurrency` requests outstanding) or open loop (a fixed
// `rate` per second whatever the answers). Latency = answer time − send time; a request unanswered after `timeoutMs`
// is lost. The worker runs plain JavaScript: no TypeScript loader, no codec in the hot loop.
import { createSocket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';

const { host, port, sockets: socketCount, mode, concurrency, rate, seconds, timeoutMs, packets, offsets, from, to } = workerData;
const bytes = new Uint8Array(packets);
const offs = new Int32Array(offsets);
const slots = socketCount * 256;
const sentAt = new Float64Array(slots); // 0 = free
const latencies = new Float64Array(to - from);
const codes = new Uint32Array(256);
let answered = 0;
let lost = 0;
let late = 0;
let next = from;
let outstanding = 0;
let stopAt = 0;
let sending = true;
/** Closed loop: called when every packet was sent and answered before the time was up. */
let drained = () => {};

const sockets = [];
for (let s = 0; s < socketCount; s++) {
  const sock = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  await new Promise((resolve) => sock.connect(port, host, resolve));
  sock.on('message', (msg) => {
    const slot = s * 256 + msg[1];
    const t = sentAt[slot];
    if (t === 0) {
      late++;
      return;
    }
    latencies[answered++] = performance.now() - t;
    codes[msg[0]]++;
    sentAt[slot] = 0;
    outstanding--;
    if (mode === 'closed' && sending) sendOne();
    if (!sending && outstanding === 0) drained();
  });
  sock.on('error', () => {});
  sockets.push(sock);
}

/** Sends packet `next` (its Identifier is baked in: packet j goes out on socket j % socketCount). */
function sendOne() {
  if (next >= to) {
    sending = false;
    return;
  }
  const j = next++;
  const s = j % socketCount;
  const buf = bytes.subarray(offs[j], offs[j + 1]);
  const slot = s * 256 + buf[1];
  if (sentAt[slot] !== 0) {
    // The slot's previous request is still unanswered: it is lost (its answer would be ambiguous now).
    lost++;
    outstanding--;
  }
  sentAt[slot] = performance.now();
  outstanding++;
  sockets[s].send(buf);
}

/** Declares requests older than the timeout lost; in closed loop, replaces them to keep `concurrency` outstanding. */
function sweep() {
  const limit = performance.now() - timeoutMs;
  for (let i = 0; i < slots; i++) {
    if (sentAt[i] !== 0 && sentAt[i] < limit) {
      sentAt[i] = 0;
      lost++;
      outstanding--;
      if (mode === 'closed' && sending) sendOne();
    }
  }
}

const t0 = performance.now();
stopAt = t0 + seconds * 1000;
const sweeper = setInterval(sweep, 100);
let maxLagMs = 0;
if (mode === 'closed') {
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    drained = () => {
      clearTimeout(timer);
      resolve();
    };
    for (let i = 0; i < concurrency && sending; i++) sendOne();
  });
  sending = false;
} else {
  // Open loop: every millisecond tick, send what the schedule says is due by now.
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= stopAt || next >= to) {
        sending = false;
        resolve();
        return;
      }
      const due = from + Math.floor(((now - t0) * rate) / 1000);
      if (due > next) maxLagMs = Math.max(maxLagMs, ((due - next) * 1000) / rate);
      while (next < due && next < to) sendOne();
      setTimeout(tick, 1);
    };
    tick();
  });
}
const sendSeconds = (performance.now() - t0) / 1000;
const sent = next - from;
// Stragglers: wait for the last answers up to the timeout.
const until = performance.now() + timeoutMs;
while (outstanding > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
clearInterval(sweeper);
for (let i = 0; i < slots; i++) if (sentAt[i] !== 0) lost++;
for (const s of sockets) s.close();

const sorted = latencies.subarray(0, answered).sort();
const pct = (p) => (answered ? sorted[Math.min(answered - 1, Math.floor((p / 100) * answered))] : Number.NaN);
parentPort.postMessage({
  mode,
  sent,
  answered,
  lost,
  late,
  exhausted: next >= to,
  seconds: sendSeconds,
  rps: answered / sendSeconds,
  offeredRps: sent / sendSeconds,
  p50Ms: pct(50),
  p99Ms: pct(99),
  maxMs: answered ? sorted[answered - 1] : Number.NaN,
  maxLagMs,
  codes: Object.fromEntries([...codes.entries()].filter(([, n]) => n > 0)),
});
