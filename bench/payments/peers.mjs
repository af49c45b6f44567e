// The outside world of the payments benchmarks, in its own process so it does not share the kernel's event loop:
// the KKiaPay test server (status API, webhook sender) and, for the webhook → CoA benchmark, a UDP NAS that checks
// each CoA-Request's authenticator with RGZ's codec, ACKs it and timestamps its arrival. Driven by IPC messages from
// bench/payments-*.mjs (started with `fork`, under tsx and the `@rgz/source` condition).
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { startKkiapayTestServer } from '@rgz/plugin-kkiapay/test-server';
import { decode, encodeResponse, PacketCode, standardDictionary, verifyRequestAuthenticator } from '../../packages/plugin-radius/src/codec/index.ts';

const NAS_SECRET = 'bench-nas-secret-0123456789';
const kk = await startKkiapayTestServer();

// acct session id → arrival time (performance.now() of this process) of its first CoA-Request.
const arrivals = new Map();
let badAuthenticators = 0;
const nas = createSocket('udp4');
nas.on('message', (msg, rinfo) => {
  const at = performance.now();
  let packet;
  try {
    packet = decode(msg, NAS_SECRET, { dictionary: standardDictionary, invalidAttributes: 'raw' });
  } catch {
    return;
  }
  if (packet.code !== PacketCode.CoaRequest) return;
  if (!verifyRequestAuthenticator(packet.raw, NAS_SECRET)) {
    badAuthenticators++;
    return;
  }
  const acct = packet.get('Acct-Session-Id');
  if (typeof acct === 'string' && !arrivals.has(acct)) arrivals.set(acct, at);
  nas.send(encodeResponse(packet, { code: PacketCode.CoaAck, attributes: [] }, NAS_SECRET, { dictionary: standardDictionary }), rinfo.port, rinfo.address);
});
await new Promise((resolve) => nas.bind(0, '127.0.0.1', resolve));

const handlers = {
  /** Transactions as the widget would have created them: [{transactionId, amount, reference?, status?, fees?, performedAt?}]. */
  seed({ transactions }) {
    kk.createTransactions(transactions.map((t) => ({ ...t, ...(t.performedAt ? { performedAt: new Date(t.performedAt) } : {}) })));
    return { size: kk.size() };
  },
  /** Deliver the webhooks all at once; answer when every CoA has arrived (or `timeoutMs`): per payment, ms from the webhook POST to its HTTP answer and to the CoA. */
  async fire({ url, secret, items, timeoutMs }) {
    const started = new Map();
    const answered = new Map();
    await Promise.all(
      items.map(async ({ transactionId, acct }) => {
        const t0 = performance.now();
        started.set(acct, t0);
        const deliveries = await kk.sendWebhook(url, transactionId, { secret, retryBaseMs: 100 });
        answered.set(acct, { ms: performance.now() - t0, delivered: deliveries.at(-1)?.delivered === true });
      }),
    );
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && items.some(({ acct }) => !arrivals.has(acct))) await new Promise((r) => setTimeout(r, 20));
    return {
      results: items.map(({ acct }) => ({
        acct,
        webhookMs: answered.get(acct)?.ms ?? null,
        delivered: answered.get(acct)?.delivered ?? false,
        coaMs: arrivals.has(acct) ? arrivals.get(acct) - started.get(acct) : null,
      })),
      badAuthenticators,
    };
  },
  requests() {
    return { status: kk.requestCount('status') };
  },
  async close() {
    await kk.close();
    await new Promise((resolve) => nas.close(resolve));
    setImmediate(() => process.exit(0));
    return {};
  },
};

process.on('message', async ({ id, type, ...args }) => {
  try {
    process.send({ id, ok: true, value: await handlers[type](args) });
  } catch (err) {
    process.send({ id, ok: false, error: err instanceof Error ? err.stack : String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({
  ready: true,
  kk: { url: kk.url, publicKey: kk.publicKey, privateKey: kk.privateKey, secretKey: kk.secretKey },
  nasPort: nas.address().port,
  nasSecret: NAS_SECRET,
});
