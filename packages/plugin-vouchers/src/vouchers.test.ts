/**
 * Vouchers in the real kernel with billing's ledger, on both backends: batch creation (codes once, hashes only),
 * redemption (activation, NAS task, ledger to the franc), every refusal (unknown, expired, revoked, used, another
 * reseller's, malformed), brute force (blocked per subscriber and per IP, counted, audited), reseller isolation, the CSV
 * export, revocation and the PDF's limited life.
 */
import { randomUUID } from 'node:crypto';
import { sql, voucherRedeemer } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys, hashCode } from './codes.js';
import {
  auth,
  batchLedger,
  createBatch,
  createReseller,
  createSubscriber,
  type Harness,
  jsonInit,
  metricValue,
  redeemHttp,
  SECRET,
  startHarness,
} from './test-support/harness.js';

describe.each(BACKENDS)('vouchers on %s storage', (backend) => {
  let h: Harness;
  let a: { id: string; token: string; slug: string };
  let b: { id: string; token: string; slug: string };

  beforeAll(async () => {
    h = await startHarness(backend, { config: { maxBatchSize: 200, rateLimit: { perIp: { failures: 8 } } } });
    a = await createReseller(h, { fee: 5, share: 50 });
    b = await createReseller(h, { fee: 10, share: 40 });
  }, 120_000);
  afterAll(async () => {
    await h?.server.close();
  });

  const problem = async (res: Response) => ({ status: res.status, ...((await res.json()) as { code: string; retry_after?: number }) });

  describe('batches', () => {
    it('a reseller creates a batch: codes shown once, short and unambiguous; only their HMAC is stored; audited', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 12, label: 'Marché Dantokpa' });
      expect(created.batch).toMatchObject({ count: 12, price_fcfa: 1000, reseller_id: a.id, status: 'active', counts: { active: 12, redeemed: 0 } });
      expect(created.codes).toHaveLength(12);
      expect(new Set(created.codes.map((c) => c.code)).size).toBe(12);
      for (const [i, c] of created.codes.entries()) {
        expect(c.code).toMatch(/^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/);
        expect(c.serial).toBe(`${created.batch.label}-${String(i + 1).padStart(4, '0')}`);
      }
      // Nothing in the database holds a clear code: every text column of the vouchers tables, and the audit log.
      const dump = JSON.stringify(
        await sql`select v.*, b.*, (select json_agg(a) from audit_log a) as audit from vouchers_vouchers v join vouchers_batches b on b.id = v.batch_id
                  where b.id = ${created.batch.id}`.execute(h.db),
      );
      for (const c of created.codes) {
        expect(dump).not.toContain(c.code.replace('-', ''));
        expect(dump).not.toContain(c.code);
      }
      const keys = deriveKeys(SECRET);
      const hashes = await h.db.selectFrom('vouchers_vouchers').select('code_hash').where('batch_id', '=', created.batch.id).orderBy('serial').execute();
      expect(hashes.map((r) => r.code_hash)).toEqual(created.codes.map((c) => hashCode(keys, c.code.replace('-', ''))));
      const audit = await h.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'vouchers.batch.created')
        .where('target_id', '=', created.batch.id)
        .execute();
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor_role: 'reseller', reseller_id: a.id });
    });

    it('the NOC creates a batch for a reseller at its own price; refusals name the problem', async () => {
      const created = await createBatch(h, h.server.nocToken, { reseller_id: b.id, plan_code: 'DAY100MB', count: 3, price_fcfa: 4500 });
      expect(created.batch).toMatchObject({ reseller_id: b.id, price_fcfa: 4500, plan: { code: 'DAY100MB', name: '100 Mo / jour' } });
      const post = (token: string, body: Record<string, unknown>) => h.request('/api/vouchers/batches', jsonInit('POST', token, body));
      expect(await problem(await post(h.server.nocToken, { plan_code: 'DAY10MB', count: 1 }))).toMatchObject({ status: 400, code: 'reseller_required' });
      expect(await problem(await post(a.token, { plan_code: 'NOPE', count: 1 }))).toMatchObject({ status: 404, code: 'plan_not_found' });
      expect(await problem(await post(a.token, { plan_code: 'DAY10MB', count: 201 }))).toMatchObject({ status: 400, code: 'batch_too_large' });
      expect(await problem(await post(a.token, { plan_code: 'DAY10MB', count: 5001 }))).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(await problem(await post(a.token, { plan_code: 'DAY10MB', count: 1, expires_at: '2020-01-01T00:00:00Z' }))).toMatchObject({
        status: 400,
        code: 'expiry_in_past',
      });
      expect((await post(a.token, { reseller_id: b.id, plan_code: 'DAY10MB', count: 1 })).status).toBe(403);
      const sub = await createSubscriber(h, a.id);
      expect((await post(sub.token, { plan_code: 'DAY10MB', count: 1 })).status).toBe(403);
    });

    it('reseller isolation: another reseller lists, reads, exports, downloads and revokes nothing of it', async () => {
      const mine = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 2 });
      const listB = (await (await h.request('/api/vouchers/batches', { headers: auth(b.token) })).json()) as {
        items: Array<{ reseller_id: string; id: string }>;
      };
      expect(listB.items.length).toBeGreaterThan(0);
      expect(listB.items.every((x) => x.reseller_id === b.id)).toBe(true);
      const id = mine.batch.id;
      for (const [method, path] of [
        ['GET', `/api/vouchers/batches/${id}`],
        ['GET', `/api/vouchers/batches/${id}/vouchers.csv`],
        ['GET', `/api/vouchers/batches/${id}/pdf`],
        ['POST', `/api/vouchers/batches/${id}/revoke`],
      ] as const) {
        const res = await h.request(path, jsonInit(method, b.token, method === 'POST' ? {} : undefined));
        expect(res.status, `${method} ${path}`).toBe(404);
      }
      expect((await h.request(`/api/vouchers/batches/${id}`, { headers: auth(a.token) })).status).toBe(200);
      const listNoc = (await (await h.request(`/api/vouchers/batches?reseller_id=${a.id}`, { headers: auth(h.server.nocToken) })).json()) as {
        items: Array<{ id: string }>;
      };
      expect(listNoc.items.map((x) => x.id)).toContain(id);
      // The revoke attempt changed nothing.
      expect((await h.db.selectFrom('vouchers_vouchers').select('status').where('batch_id', '=', id).execute()).map((r) => r.status)).toEqual([
        'active',
        'active',
      ]);
      // The reseller's own token cannot reach the rows through the database scope either.
      const stranger = await h.request('/api/vouchers/batches?limit=500', { headers: auth(b.token) });
      expect(((await stranger.json()) as { items: Array<{ id: string }> }).items.map((x) => x.id)).not.toContain(id);
    });
  });

  describe('redemption', () => {
    it('activates the plan as a payment does (subscription, NAS task, ledger, audit) and books the sale to the franc', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 10 });
      const subs = await Promise.all([1, 2, 3].map(() => createSubscriber(h, a.id)));
      for (const [i, s] of subs.entries()) {
        const typed = i === 0 ? (created.codes[i] as { code: string }).code : (created.codes[i] as { code: string }).code.toLowerCase().replace('-', ' ');
        const res = await redeemHttp(h, s.token, typed);
        expect(res.status, await res.clone().text()).toBe(200);
        const out = (await res.json()) as { status: string; serial: string; plan_code: string; subscription: { id: string; expires_at: string } };
        expect(out).toMatchObject({ status: 'redeemed', serial: created.codes[i]?.serial, plan_code: 'DAY10MB' });
        const sub = await h.db.selectFrom('subscriptions').selectAll().where('id', '=', out.subscription.id).executeTakeFirstOrThrow();
        const voucher = await h.db
          .selectFrom('vouchers_vouchers')
          .selectAll()
          .where('batch_id', '=', created.batch.id)
          .where('serial', '=', i + 1)
          .executeTakeFirstOrThrow();
        expect(sub).toMatchObject({ subscriber_id: s.id, source: 'voucher', source_ref: voucher.id, reseller_id: a.id, status: 'active' });
        expect(voucher).toMatchObject({ status: 'redeemed', redeemed_by: s.id, subscription_id: sub.id });
      }
      const tasks = await h.db.selectFrom('core_tasks').select(['payload', 'dedupe_key']).where('name', '=', 'nas.policy-change').execute();
      for (const s of subs) {
        expect(tasks.some((t) => (typeof t.payload === 'string' ? JSON.parse(t.payload) : t.payload).subscriberId === s.id)).toBe(true);
      }
      // 3 × 1000 FCFA, reseller fee 5 %, share 50 %: per voucher R = 50, N = 950 → reseller 475, RGZ 475.
      expect(await batchLedger(h, created.batch.id)).toEqual({
        [`payable:reseller:${a.id}`]: 3000,
        [`reseller_fee:${a.id}`]: -150,
        [`revenue:reseller:${a.id}`]: -1425,
        'revenue:rgz': -1425,
      });
      const postings = await sql<{ n: string }>`select count(*)::text as n from billing_postings p join vouchers_vouchers v on v.id = p.voucher_id
        where v.batch_id = ${created.batch.id} and p.kind = 'voucher_sale' and p.payment_id is null and p.reseller_id = ${a.id}`.execute(h.db);
      expect(postings.rows[0]?.n).toBe('3');
      const batch = (await (await h.request(`/api/vouchers/batches/${created.batch.id}`, { headers: auth(a.token) })).json()) as {
        counts: Record<string, number>;
        redeemed_fcfa: number;
      };
      expect(batch).toMatchObject({ counts: { active: 7, redeemed: 3, revoked: 0, expired: 0 }, redeemed_fcfa: 3000 });
      const audits = await h.db
        .selectFrom('audit_log')
        .select('details')
        .where('action', '=', 'vouchers.voucher.redeemed')
        .where('reseller_id', '=', a.id)
        .execute();
      expect(audits.length).toBeGreaterThanOrEqual(3);
      expect(await metricValue(h, 'voucher_redemptions_total', { outcome: 'redeemed' })).toBeGreaterThanOrEqual(3);
    });

    it("an odd price splits as a payment does: the odd franc to RGZ; the reseller's balance is what it owes RGZ", async () => {
      const r = await createReseller(h, { fee: 5, share: 50 });
      const created = await createBatch(h, r.token, { plan_code: 'DAY10MB', count: 2, price_fcfa: 999 });
      for (const c of created.codes) expect((await redeemHttp(h, (await createSubscriber(h, r.id)).token, c.code)).status).toBe(200);
      // G = 999, R = half-up(49.95) = 50, N = 949 → reseller floor(474.5) = 474, RGZ 475; twice.
      expect(await batchLedger(h, created.batch.id)).toEqual({
        [`payable:reseller:${r.id}`]: 1998,
        [`reseller_fee:${r.id}`]: -100,
        [`revenue:reseller:${r.id}`]: -948,
        'revenue:rgz': -950,
      });
      const balance = (await (await h.request(`/api/billing/resellers/${r.id}/balance`, { headers: auth(r.token) })).json()) as { balance_fcfa: number };
      expect(balance.balance_fcfa).toBe(-950);
      const unbalanced = await sql`select posting_id from billing_ledger_entries group by posting_id having sum(debit_fcfa) <> sum(credit_fcfa)`.execute(h.db);
      expect(unbalanced.rows).toEqual([]);
    });

    it('refuses unknown, expired, revoked, already used, malformed and other resellers’ codes; a retry by the redeemer is not an error', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 4 });
      const [c1, c2, c3, c4] = created.codes.map((c) => c.code) as [string, string, string, string];
      const fresh = async () => (await createSubscriber(h, a.id)).token;

      expect(await problem(await redeemHttp(h, await fresh(), 'ZZZZZ-ZZZZZ'))).toMatchObject({ status: 404, code: 'voucher_unknown' });
      expect(await problem(await redeemHttp(h, await fresh(), 'K7M2Q-9XR4O'))).toMatchObject({ status: 400, code: 'voucher_invalid_format' });
      expect(await problem(await redeemHttp(h, await fresh(), 'K7M2Q'))).toMatchObject({ status: 400, code: 'voucher_invalid_format' });

      await h.db
        .updateTable('vouchers_vouchers')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('batch_id', '=', created.batch.id)
        .where('serial', '=', 1)
        .execute();
      expect(await problem(await redeemHttp(h, await fresh(), c1))).toMatchObject({ status: 410, code: 'voucher_expired' });

      const first = await fresh();
      expect((await redeemHttp(h, first, c2)).status).toBe(200);
      expect(await problem(await redeemHttp(h, await fresh(), c2))).toMatchObject({ status: 409, code: 'voucher_already_redeemed' });
      const again = await redeemHttp(h, first, c2);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { status: string }).status).toBe('already_redeemed');

      const other = await createSubscriber(h, b.id);
      expect(await problem(await redeemHttp(h, other.token, c4))).toMatchObject({ status: 403, code: 'voucher_wrong_reseller' });
      const nobody = await createSubscriber(h, null);
      expect(await problem(await redeemHttp(h, nobody.token, c4))).toMatchObject({ status: 403, code: 'voucher_wrong_reseller' });

      const rev = await h.request(`/api/vouchers/batches/${created.batch.id}/revoke`, jsonInit('POST', a.token, { reason: 'stolen at the kiosk' }));
      expect(rev.status).toBe(200);
      // c1 (expired, unredeemed), c3 and c4 are withdrawn; c2 stays redeemed.
      expect((await rev.json()) as { revoked: number; batch: { counts: Record<string, number> } }).toMatchObject({
        revoked: 3,
        batch: { status: 'revoked', counts: { redeemed: 1, revoked: 3, active: 0 } },
      });
      expect(await problem(await redeemHttp(h, await fresh(), c3))).toMatchObject({ status: 410, code: 'voucher_revoked' });
      // Revoking again is harmless.
      const rev2 = await h.request(`/api/vouchers/batches/${created.batch.id}/revoke`, jsonInit('POST', a.token, {}));
      expect(((await rev2.json()) as { revoked: number }).revoked).toBe(0);
      // One posting only: for c2.
      expect(await batchLedger(h, created.batch.id)).toMatchObject({ [`payable:reseller:${a.id}`]: 1000 });
      const audit = await h.db
        .selectFrom('audit_log')
        .select('details')
        .where('action', '=', 'vouchers.batch.revoked')
        .where('target_id', '=', created.batch.id)
        .execute();
      expect(audit).toHaveLength(2);
      // A redeemed voucher cannot be put back or reassigned, even by SQL.
      await expect(
        h.db.updateTable('vouchers_vouchers').set({ status: 'active' }).where('batch_id', '=', created.batch.id).where('serial', '=', 2).execute(),
      ).rejects.toThrow(/cannot change/);
    });

    it('brute force: 5 wrong codes block the subscriber (429 with retry_after), even with a valid code; blocked attempts are counted and audited', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 1 });
      const s = await createSubscriber(h, a.id);
      const blockedBefore = await metricValue(h, 'voucher_redemptions_total', { outcome: 'blocked' });
      const unknownBefore = await metricValue(h, 'voucher_redemptions_total', { outcome: 'unknown' });
      for (let i = 0; i < 5; i++) expect((await redeemHttp(h, s.token, `ZZZZZ-ZZZZ${'23456'[i]}`)).status).toBe(404);
      const blocked = await redeemHttp(h, s.token, (created.codes[0] as { code: string }).code);
      expect(blocked.status).toBe(429);
      const body = (await blocked.json()) as { code: string; retry_after: number };
      expect(body.code).toBe('voucher_rate_limited');
      expect(body.retry_after).toBeGreaterThan(0);
      expect(body.retry_after).toBeLessThanOrEqual(900);
      expect(Number(blocked.headers.get('retry-after'))).toBe(body.retry_after);
      expect((await redeemHttp(h, s.token, 'ZZZZZ-ZZZZ7')).status).toBe(429);
      expect(await metricValue(h, 'voucher_redemptions_total', { outcome: 'unknown' })).toBe(unknownBefore + 5);
      expect(await metricValue(h, 'voucher_redemptions_total', { outcome: 'blocked' })).toBe(blockedBefore + 2);
      expect(await metricValue(h, 'voucher_redemption_blocks_total', { scope: 'subscriber' })).toBeGreaterThanOrEqual(2);
      const audit = await h.db
        .selectFrom('audit_log')
        .select('details')
        .where('action', '=', 'vouchers.redeem.blocked')
        .where('target_id', '=', s.id)
        .execute();
      expect(audit).toHaveLength(1);
      // The valid code was not consumed while blocked; another subscriber can still use it.
      expect((await redeemHttp(h, (await createSubscriber(h, a.id)).token, (created.codes[0] as { code: string }).code)).status).toBe(200);
      // Malformed input costs nothing: a fresh subscriber's typos do not block it.
      const t = await createSubscriber(h, a.id);
      for (let i = 0; i < 8; i++) expect((await redeemHttp(h, t.token, 'OOPS')).status).toBe(400);
      expect((await redeemHttp(h, t.token, 'ZZZZZ-ZZZZZ')).status).toBe(404);
    });

    it('brute force from one network: the per-IP limit blocks every subscriber behind that address', async () => {
      const redeemer = h.server.get(voucherRedeemer);
      const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`;
      const subs = await Promise.all(Array.from({ length: 4 }, () => createSubscriber(h, a.id)));
      let refused = 0;
      for (let i = 0; i < 8; i++) {
        await expect(
          redeemer.redeem({ subscriberId: (subs[i % 4] as { id: string }).id, code: `ZZZZZ-ZZZ${'23456789'[i]}2`, clientIp: ip }),
        ).rejects.toMatchObject({
          code: 'voucher_unknown',
        });
      }
      for (const s of subs) {
        await redeemer.redeem({ subscriberId: s.id, code: 'ZZZZZ-ZZZZ9', clientIp: ip }).catch((e: { code: string; fields?: { retry_after?: number } }) => {
          expect(e.code).toBe('voucher_rate_limited');
          expect(e.fields?.retry_after).toBeGreaterThan(0);
          refused++;
        });
      }
      expect(refused).toBe(4);
      expect(await metricValue(h, 'voucher_redemption_blocks_total', { scope: 'ip' })).toBeGreaterThanOrEqual(4);
      // Another network is not affected.
      await expect(redeemer.redeem({ subscriberId: (subs[0] as { id: string }).id, code: 'ZZZZZ-ZZZZ9', clientIp: '203.0.113.9' })).rejects.toMatchObject({
        code: 'voucher_unknown',
      });
      expect(
        await h.db.selectFrom('audit_log').select('id').where('action', '=', 'vouchers.redeem.blocked').where('target_id', '=', ip).execute(),
      ).toHaveLength(1);
    });

    it('a second request of the same subscriber while one is in flight is refused, not queued', async () => {
      const s = await createSubscriber(h, a.id);
      await h.server.kernel.kv.set(`rgz:voucher:lock:${s.id}`, '1', 30);
      expect(await problem(await redeemHttp(h, s.token, 'ZZZZZ-ZZZZZ'))).toMatchObject({ status: 429, code: 'redemption_in_progress' });
      await h.server.kernel.kv.del(`rgz:voucher:lock:${s.id}`);
      expect((await redeemHttp(h, s.token, 'ZZZZZ-ZZZZZ')).status).toBe(404);
    });

    it('only subscribers redeem', async () => {
      expect((await h.request('/api/vouchers/redeem', jsonInit('POST', a.token, { code: 'ZZZZZ-ZZZZZ' }))).status).toBe(403);
      expect((await h.request('/api/vouchers/redeem', jsonInit('POST', null, { code: 'ZZZZZ-ZZZZZ' }))).status).toBe(401);
    });
  });

  describe('exports and the PDF', () => {
    it('the CSV lists serials and states, never a code; audited', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 3 });
      const s = await createSubscriber(h, a.id);
      expect((await redeemHttp(h, s.token, (created.codes[1] as { code: string }).code)).status).toBe(200);
      await h.db
        .updateTable('vouchers_vouchers')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('batch_id', '=', created.batch.id)
        .where('serial', '=', 3)
        .execute();
      const res = await h.request(`/api/vouchers/batches/${created.batch.id}/vouchers.csv`, { headers: auth(a.token) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const csv = await res.text();
      const ref = (await h.db.selectFrom('subscribers').select('subscriber_ref').where('id', '=', s.id).executeTakeFirstOrThrow()).subscriber_ref;
      const lines = csv
        .trim()
        .split('\r\n')
        .map((l) => l.split(','));
      expect(lines[0]).toEqual(['serial', 'status', 'expires_at', 'redeemed_at', 'subscriber_ref']);
      expect(lines.slice(1).map((l) => [l[0], l[1], l[4]])).toEqual([
        [created.codes[0]?.serial, 'active', ''],
        [created.codes[1]?.serial, 'redeemed', ref],
        [created.codes[2]?.serial, 'expired', ''],
      ]);
      for (const c of created.codes) {
        expect(csv).not.toContain(c.code);
        expect(csv).not.toContain(c.code.replace('-', ''));
      }
      expect(
        await h.db.selectFrom('audit_log').select('id').where('action', '=', 'vouchers.batch.exported').where('target_id', '=', created.batch.id).execute(),
      ).toHaveLength(1);
    });

    it('the PDF is downloadable until its time is over (then 410, and the purge job deletes it); revoking drops it', async () => {
      const created = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 1 });
      const get = () => h.request(created.pdf.url, { headers: auth(a.token) });
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      const row = await h.db
        .selectFrom('vouchers_batch_pdfs')
        .select(['downloads', 'sealed'])
        .where('batch_id', '=', created.batch.id)
        .executeTakeFirstOrThrow();
      expect(row.downloads).toBe(2);
      // Sealed at rest: not a PDF, and no code inside.
      expect(Buffer.from(row.sealed).subarray(0, 5).toString()).not.toBe('%PDF-');
      await h.db
        .updateTable('vouchers_batch_pdfs')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('batch_id', '=', created.batch.id)
        .execute();
      expect(await problem(await get())).toMatchObject({ status: 410, code: 'pdf_gone' });
      const job = await h.server.kernel.scheduler.trigger('vouchers.purge-pdfs');
      expect(job).toMatchObject({ ran: true, status: 'succeeded' });
      expect(await h.db.selectFrom('vouchers_batch_pdfs').select('batch_id').where('batch_id', '=', created.batch.id).executeTakeFirst()).toBeUndefined();

      const other = await createBatch(h, a.token, { plan_code: 'DAY10MB', count: 1 });
      await h.request(`/api/vouchers/batches/${other.batch.id}/revoke`, jsonInit('POST', a.token, {}));
      expect((await h.request(other.pdf.url, { headers: auth(a.token) })).status).toBe(410);
      expect(
        await h.db
          .selectFrom('audit_log')
          .select('id')
          .where('action', '=', 'vouchers.batch.pdf_downloaded')
          .where('target_id', '=', created.batch.id)
          .execute(),
      ).toHaveLength(2);
      expect((await h.request(`/api/vouchers/batches/${randomUUID()}/pdf`, { headers: auth(a.token) })).status).toBe(404);
    });
  });
});
