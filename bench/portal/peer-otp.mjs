// Peer of bench/portal-otp.mjs: bare hono on @hono/node-server doing what an OTP login must do at least, on the same
// PostgreSQL and Redis, with nothing else (no validation schemas, access control, metrics, audit or logging):
// request = per-IP set + per-phone counters + HMAC'd code in Redis (one MULTI) and the SMS job INSERTed in PostgreSQL;
// verify = read the code and its attempts (one round trip), consume it, upsert the subscriber, insert an API token,
// store the session in Redis. RGZ's figure divided by this one is the cost of the framework and of its extra checks.
// Env: DATABASE_URL, REDIS_URL, PREFIX (Redis key prefix). Prints "PEER listening on port N".
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import pg from 'pg';

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const redis = new Redis(process.env.REDIS_URL, { keyPrefix: process.env.PREFIX ?? '' });
const key = randomBytes(32);
await db.query(`create schema if not exists peer_otp;
  create table if not exists peer_otp.tasks (id bigserial primary key, payload jsonb not null, created_at timestamptz not null default now());
  create table if not exists peer_otp.subscribers (id uuid primary key default gen_random_uuid(), msisdn text not null unique, created_at timestamptz not null default now());
  create table if not exists peer_otp.tokens (id uuid primary key default gen_random_uuid(), subscriber_id uuid not null, token_hash text not null unique, expires_at timestamptz not null);`);

const hmac = (phone, code) => createHmac('sha256', key).update(`${phone}:${code}`).digest();
const phoneOf = (raw) => (typeof raw === 'string' && /^\+229\d{10}$/.test(raw) ? raw : null);

const app = new Hono();
app.post('/portal/otp/request', async (c) => {
  const body = await c.req.json();
  const phone = phoneOf(body.phone);
  if (!phone) return c.json({ code: 'invalid_phone' }, 400);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const id = randomBytes(9).toString('base64url');
  const [[, added], , [, sent], [, today]] = await redis
    .multi()
    .sadd('rgz:rate:ip:127.0.0.1', phone)
    .expire('rgz:rate:ip:127.0.0.1', 60, 'NX')
    .incr(`rgz:rate:${phone}`)
    .incr(`rgz:rate:day:${phone}`)
    .expire(`rgz:rate:${phone}`, 60, 'NX')
    .expire(`rgz:rate:day:${phone}`, 86_400, 'NX')
    .set(`rgz:otp:${phone}`, JSON.stringify({ id, hash: hmac(phone, code).toString('hex'), attempts: 0 }), 'EX', 300)
    .exec();
  if (sent > 1 || today > 1000 || added < 0) return c.json({ code: 'rate_limited_phone' }, 429);
  await db.query('insert into peer_otp.tasks (payload) values ($1)', [{ phone, otp_id: id, code }]);
  return c.json({ status: 'code_sent', expires_in: 300, phone }, 202);
});
app.post('/portal/otp/verify', async (c) => {
  const body = await c.req.json();
  const phone = phoneOf(body.phone);
  if (!phone || !/^\d{6}$/.test(body.code ?? '')) return c.json({ code: 'invalid_code' }, 400);
  const [[, raw], [, attempts]] = await redis.multi().get(`rgz:otp:${phone}`).get(`rgz:otp:attempts:${phone}`).exec();
  if (!raw) return c.json({ code: 'otp_expired' }, 400);
  const stored = Buffer.from(JSON.parse(raw).hash, 'hex');
  if (Number(attempts ?? 0) >= 5 || !timingSafeEqual(stored, hmac(phone, body.code))) return c.json({ code: 'otp_invalid' }, 400);
  if ((await redis.del(`rgz:otp:${phone}`, `rgz:otp:attempts:${phone}`)) === 0) return c.json({ code: 'otp_expired' }, 400);
  const sub = await db.query('insert into peer_otp.subscribers (msisdn) values ($1) on conflict (msisdn) do update set msisdn = excluded.msisdn returning id', [
    phone,
  ]);
  const token = randomBytes(32).toString('base64url');
  await db.query("insert into peer_otp.tokens (subscriber_id, token_hash, expires_at) values ($1, $2, now() + interval '1 day')", [
    sub.rows[0].id,
    createHash('sha256').update(token).digest('hex'),
  ]);
  const password = randomBytes(12).toString('base64url').slice(0, 16);
  await redis.set(`rgz:session:${sub.rows[0].id}`, JSON.stringify({ token: password, issued_at: new Date().toISOString() }), 'EX', 86_400);
  return c.json({ subscriber_id: sub.rows[0].id, api_token: token }, 200);
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`PEER listening on port ${info.port}`));
