// The peer for the webhook → CoA benchmark: the same KKiaPay webhook handled inline by bare hono + pg, with no
// framework around it — check the shared secret, store the event, verify the transaction with KKiaPay's status API,
// then in one transaction the same rows billing writes (payment, posting and ledger lines from billing's own
// splitPayment/paymentLines, subscription, order paid, audit entry), then the CoA-Request in the MikroTik dialect
// (RGZ's codec) to the session's NAS, and only then the HTTP answer. No task queue, no retries, no outbox, no
// idempotency beyond the unique keys: RGZ's figure divided by this one is the cost of doing it durably.
// Env: DATABASE_URL, KK_URL, KK_PUBLIC, KK_PRIVATE, KK_SECRET, WEBHOOK_SECRET, NAS_PORT, NAS_SECRET.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { serve } from '@hono/node-server';
import { createMikrotikVendor } from '@rgz/nas-mikrotik';
import { paymentLines, splitPayment } from '@rgz/plugin-billing';
import { Hono } from 'hono';
import pg from 'pg';
import { encode, PacketCode } from '../packages/plugin-radius/src/codec/index.ts';
import { buildDictionary } from '../packages/plugin-radius/src/server/dictionary.ts';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 });
const dictionary = buildDictionary([createMikrotikVendor()]);
const udp = createSocket('udp4');
await new Promise((resolve) => udp.bind(0, '127.0.0.1', resolve));

async function verify(transactionId) {
  const res = await fetch(`${env.KK_URL}/api/v1/transactions/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': env.KK_PUBLIC, 'x-private-key': env.KK_PRIVATE, 'x-secret-key': env.KK_SECRET },
    body: JSON.stringify({ transactionId }),
  });
  if (!res.ok) throw new Error(`status ${res.status}`);
  return res.json();
}

const app = new Hono();
app.post('/hooks/payment/kkiapay', async (c) => {
  if (c.req.header('x-kkiapay-secret') !== env.WEBHOOK_SECRET) return c.json({ code: 'unauthorized' }, 401);
  const raw = await c.req.text();
  const body = JSON.parse(raw);
  await pool.query(
    `insert into billing_payment_events (provider, event_id, kind, provider_transaction_id, claimed_reference, raw_body)
     values ('kkiapay', $1, 'webhook', $2, $3, $4) on conflict do nothing`,
    [`${body.transactionId}:${body.event}`, body.transactionId, body.stateData?.ref ?? null, raw],
  );
  const tx = await verify(body.transactionId);
  if (tx.status !== 'SUCCESS') return c.json({ ok: true });
  const client = await pool.connect();
  let session;
  try {
    await client.query('begin');
    const { rows: orders } = await client.query(
      `select o.id, o.subscriber_id, o.reseller_id, o.plan_id, o.amount_fcfa, p.validity_seconds, p.quota_bytes, p.rate_up_kbps, p.rate_down_kbps,
         r.fee_percent, r.share_percent
       from billing_orders o join plans p on p.id = o.plan_id left join resellers r on r.id = o.reseller_id
       where o.reference = $1 for update of o`,
      [tx.state.ref],
    );
    const order = orders[0];
    const split = splitPayment({
      gross: tx.amount,
      reportedFee: tx.fees,
      commissionPercent: 1.5,
      reseller: order.reseller_id ? { feePercent: order.fee_percent, sharePercent: order.share_percent } : null,
    });
    const { rows: sub } = await client.query(
      `insert into subscriptions (subscriber_id, plan_id, reseller_id, expires_at, source, source_ref)
       values ($1, $2, $3, now() + make_interval(secs => $4), 'payment', $5) returning id`,
      [order.subscriber_id, order.plan_id, order.reseller_id, order.validity_seconds, body.transactionId],
    );
    const { rows: pay } = await client.query(
      `insert into billing_payments (provider, provider_transaction_id, order_id, reference, subscriber_id, reseller_id, plan_id, status,
         provider_status, amount_fcfa, expected_fcfa, fee_fcfa, performed_at, subscription_id, raw)
       values ('kkiapay', $1, $2, $3, $4, $5, $6, 'credited', 'succeeded', $7, $8, $9, now(), $10, $11) returning id`,
      [
        body.transactionId,
        order.id,
        tx.state.ref,
        order.subscriber_id,
        order.reseller_id,
        order.plan_id,
        tx.amount,
        order.amount_fcfa,
        String(split.providerFee),
        sub[0].id,
        tx,
      ],
    );
    const { rows: posting } = await client.query(
      `insert into billing_postings (kind, payment_id, reseller_id, memo) values ('payment', $1, $2, 'kkiapay') returning id`,
      [pay[0].id, order.reseller_id],
    );
    const lines = paymentLines('kkiapay', order.reseller_id, split);
    const values = lines.map((_, i) => `($1, $${i * 3 + 4}, $2, 'kkiapay', $3, $${i * 3 + 5}, $${i * 3 + 6})`).join(', ');
    await client.query(
      `insert into billing_ledger_entries (posting_id, account, reseller_id, provider, payment_id, debit_fcfa, credit_fcfa) values ${values}`,
      [posting[0].id, order.reseller_id, pay[0].id, ...lines.flatMap((l) => [l.account, String(l.debit), String(l.credit)])],
    );
    await client.query(`update billing_orders set status = 'paid', provider_transaction_id = $2, updated_at = now() where id = $1`, [
      order.id,
      body.transactionId,
    ]);
    await client.query(
      `insert into audit_log (actor_role, action, target_type, target_id, reseller_id, details) values ('system', 'billing.payment.credited', 'payment', $1, $2, $3)`,
      [pay[0].id, order.reseller_id, { transaction_id: body.transactionId, amount_fcfa: tx.amount }],
    );
    const { rows: sessions } = await client.query(
      `select acct_session_id, user_name, framed_ip, bytes_in + bytes_out as used from radius_sessions where subscriber_id = $1 and session_stop is null`,
      [order.subscriber_id],
    );
    await client.query('commit');
    session = sessions[0] && { ...sessions[0], order };
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
  if (session) {
    const { order } = session;
    const attributes = [
      { name: 'User-Name', value: session.user_name },
      { name: 'Acct-Session-Id', value: session.acct_session_id },
      ...(session.framed_ip ? [{ name: 'Framed-IP-Address', value: session.framed_ip }] : []),
      ...(order.rate_down_kbps ? [{ name: 'Mikrotik-Rate-Limit', value: `${order.rate_up_kbps}k/${order.rate_down_kbps}k` }] : []),
      { name: 'Mikrotik-Total-Limit', value: Number((BigInt(order.quota_bytes) + BigInt(session.used)) % 2n ** 32n) },
      { name: 'Mikrotik-Total-Limit-Gigawords', value: Number((BigInt(order.quota_bytes) + BigInt(session.used)) / 2n ** 32n) },
      { name: 'Session-Timeout', value: Number(order.validity_seconds) },
      { name: 'Event-Timestamp', value: Math.floor(Date.now() / 1000) },
    ];
    udp.send(
      encode({ code: PacketCode.CoaRequest, identifier: randomInt(256), attributes }, env.NAS_SECRET, { dictionary }),
      Number(env.NAS_PORT),
      '127.0.0.1',
    );
  }
  return c.json({ ok: true });
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`PEER listening on port ${info.port}`));
