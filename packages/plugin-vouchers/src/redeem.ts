/**
 * Redemption: a logged-in subscriber types a code → the voucher's plan is activated exactly as a paid plan is.
 *
 * 1. One attempt at a time per subscriber (`rgz:voucher:lock:{subscriber}`, 30 s), so the failure counters below are
 *    checked and bumped without a race: a burst of parallel guesses cannot slip past them.
 * 2. Refused (429, `retry_after`) while a failure counter is at its limit: per subscriber (short window and day) and
 *    per client IP. Only failures that looked a code up count (unknown, expired, revoked, already used, another
 *    reseller's); a malformed entry is refused before any lookup and costs nothing.
 * 3. The code is normalised, hashed, and claimed with ONE conditional UPDATE … WHERE status = 'active' AND
 *    expires_at > now() AND reseller_id = <the subscriber's> RETURNING: of two concurrent redemptions only one row
 *    update wins; the other sees no row and reports the code used.
 * 4. In the same transaction: `activateSubscription` (source `voucher`, source_ref = voucher id, idempotent), the
 *    `nas.policy-change` task (outbox, handled by the RADIUS plugin: CoA), the ledger posting through core's
 *    `ledgerWriter` (billing), and the audit entry. After commit: `subscription.activated`.
 */
import {
  activateSubscription,
  type CoreDatabase,
  httpErrors,
  nasPolicyChange,
  type Principal,
  RgzError,
  sql,
  subscriptionActivated,
  type Transaction,
  type VoucherRedemption,
  writeAudit,
} from '@rgz/core';
import { serialOf } from './batches.js';
import { hashCode, normaliseCode } from './codes.js';
import type { VouchersContext } from './context.js';

export const voucherKeys = {
  lock: (subscriberId: string) => `rgz:voucher:lock:${subscriberId}`,
  failSubscriber: (subscriberId: string) => `rgz:voucher:fail:sub:${subscriberId}`,
  failDay: (subscriberId: string) => `rgz:voucher:fail:day:${subscriberId}`,
  failIp: (ip: string) => `rgz:voucher:fail:ip:${ip}`,
} as const;

type Outcome = 'unknown' | 'expired' | 'revoked' | 'used' | 'wrong_reseller';

const FAILURES: Record<Outcome, { status: number; code: string; message: string }> = {
  unknown: { status: 404, code: 'voucher_unknown', message: 'no voucher with this code' },
  expired: { status: 410, code: 'voucher_expired', message: 'this voucher has expired' },
  revoked: { status: 410, code: 'voucher_revoked', message: 'this voucher was withdrawn by its seller' },
  used: { status: 409, code: 'voucher_already_redeemed', message: 'this voucher was already used' },
  wrong_reseller: { status: 403, code: 'voucher_wrong_reseller', message: 'this voucher is sold for another network than yours' },
};

interface Limit {
  scope: 'subscriber' | 'subscriber_day' | 'ip';
  key: string;
  failures: number;
  windowSeconds: number;
}

function limitsFor(ctx: VouchersContext, subscriberId: string, clientIp: string): Limit[] {
  const rl = ctx.config.rateLimit;
  const limits: Limit[] = [
    { scope: 'subscriber', key: voucherKeys.failSubscriber(subscriberId), ...rl.perSubscriber },
    { scope: 'subscriber_day', key: voucherKeys.failDay(subscriberId), ...rl.perSubscriberPerDay },
  ];
  // In-process requests (tests) have no client address: no per-IP limit for them.
  if (clientIp) limits.push({ scope: 'ip', key: voucherKeys.failIp(clientIp), ...rl.perIp });
  return limits;
}

export async function redeem(
  ctx: VouchersContext,
  input: { subscriberId: string; code: string; clientIp: string; actor?: Principal | null },
): Promise<VoucherRedemption> {
  const lockKey = voucherKeys.lock(input.subscriberId);
  if (!(await ctx.kv.setIfAbsent(lockKey, '1', 30))) {
    ctx.metrics.redemptions.inc({ outcome: 'busy' });
    throw httpErrors.tooManyRequests('redemption_in_progress', 'a redemption of yours is already in progress', 2);
  }
  try {
    return await attempt(ctx, input);
  } finally {
    await ctx.kv.del(lockKey).catch(() => 0);
  }
}

async function attempt(
  ctx: VouchersContext,
  input: { subscriberId: string; code: string; clientIp: string; actor?: Principal | null },
): Promise<VoucherRedemption> {
  const limits = limitsFor(ctx, input.subscriberId, input.clientIp);
  for (const l of limits) {
    const n = Number((await ctx.kv.get(l.key)) ?? 0);
    if (n >= l.failures) {
      const ttl = await ctx.kv.ttl(l.key);
      ctx.metrics.redemptions.inc({ outcome: 'blocked' });
      ctx.metrics.blocks.inc({ scope: l.scope });
      throw httpErrors.tooManyRequests(
        'voucher_rate_limited',
        `too many wrong codes (${l.scope === 'ip' ? 'from this network' : 'for this account'}); try again later`,
        ttl > 0 ? ttl : l.windowSeconds,
      );
    }
  }

  const normalised = normaliseCode(input.code);
  if (!normalised.ok) {
    ctx.metrics.redemptions.inc({ outcome: 'invalid_format' });
    throw httpErrors.badRequest(
      'voucher_invalid_format',
      normalised.reason === 'excluded'
        ? 'voucher codes never contain 0, O, 1, I or L: check the ticket'
        : normalised.reason === 'length'
          ? 'a voucher code has 10 characters (letters and digits)'
          : 'a voucher code has only letters and digits',
      { reason: normalised.reason },
    );
  }
  const hash = hashCode(ctx.keys, normalised.code);

  const subscriber = await ctx.db
    .selectFrom('subscribers')
    .select(['id', 'reseller_id', 'status', 'subscriber_ref'])
    .where('id', '=', input.subscriberId)
    .executeTakeFirst();
  if (!subscriber) throw httpErrors.notFound('subscriber_not_found', 'the subscriber of this token no longer exists');
  if (subscriber.status !== 'active')
    throw new RgzError('subscriber_suspended', `account ${subscriber.subscriber_ref} is ${subscriber.status}`, { status: 403 });

  type Result = { ok: true; redemption: VoucherRedemption; resellerId: string; planId: string } | { ok: false; outcome: Outcome };
  const result = await ctx.db.transaction().execute(async (trx): Promise<Result> => {
    // A subscriber of no reseller (the operator's own) can redeem no reseller's voucher.
    const claimed = subscriber.reseller_id
      ? await trx
          .updateTable('vouchers_vouchers')
          .set({ status: 'redeemed', redeemed_at: sql`now()`, redeemed_by: subscriber.id })
          .where('code_hash', '=', hash)
          .where('status', '=', 'active')
          .where(sql<boolean>`expires_at > now()`)
          .where('reseller_id', '=', subscriber.reseller_id)
          .returning(['id', 'batch_id', 'serial', 'reseller_id'])
          .executeTakeFirst()
      : undefined;
    if (!claimed) {
      const v = await trx
        .selectFrom('vouchers_vouchers as v')
        .innerJoin('vouchers_batches as b', 'b.id', 'v.batch_id')
        .select([
          'v.id',
          'v.status',
          'v.reseller_id',
          'v.redeemed_by',
          'v.subscription_id',
          'v.serial',
          'b.number',
          'b.plan_code',
          sql<boolean>`v.expires_at <= now()`.as('past'),
        ])
        .where('v.code_hash', '=', hash)
        .executeTakeFirst();
      if (!v) return { ok: false, outcome: 'unknown' };
      if (v.status === 'redeemed' && v.redeemed_by === subscriber.id && v.subscription_id) {
        // The same subscriber again (a retried request after a lost answer): the plan it got, not an error.
        const s = await trx
          .selectFrom('subscriptions')
          .select(['id', 'starts_at', 'expires_at', 'plan_id'])
          .where('id', '=', v.subscription_id)
          .executeTakeFirstOrThrow();
        return {
          ok: true,
          resellerId: v.reseller_id,
          planId: s.plan_id,
          redemption: {
            status: 'already_redeemed',
            voucherId: v.id,
            serial: serialOf(v.number, v.serial),
            subscriptionId: s.id,
            planCode: v.plan_code,
            startsAt: new Date(s.starts_at),
            expiresAt: new Date(s.expires_at),
          },
        };
      }
      if (v.status === 'redeemed') return { ok: false, outcome: 'used' };
      if (v.status === 'revoked') return { ok: false, outcome: 'revoked' };
      if (v.past) return { ok: false, outcome: 'expired' };
      return { ok: false, outcome: 'wrong_reseller' };
    }

    const batch = await trx.selectFrom('vouchers_batches').selectAll().where('id', '=', claimed.batch_id).executeTakeFirstOrThrow();
    const { subscription } = await activateSubscription(trx as unknown as Transaction<CoreDatabase>, {
      subscriberId: subscriber.id,
      planId: batch.plan_id,
      source: 'voucher',
      sourceRef: claimed.id,
    });
    await trx.updateTable('vouchers_vouchers').set({ subscription_id: subscription.id }).where('id', '=', claimed.id).execute();
    await ctx.tasks.enqueue(
      nasPolicyChange,
      { subscriberId: subscriber.id, reason: 'plan_activated', subscriptionId: subscription.id },
      { trx, dedupeKey: `nas.policy-change:voucher:${claimed.id}` },
    );
    const serial = serialOf(batch.number, claimed.serial);
    const posting = await ctx.ledger.postVoucherSale(trx as unknown as Transaction<CoreDatabase>, {
      voucherId: claimed.id,
      batchId: batch.id,
      resellerId: claimed.reseller_id,
      amountFcfa: Number(batch.price_fcfa),
      planCode: batch.plan_code,
      serial,
    });
    await writeAudit(trx, input.actor ?? null, {
      action: 'vouchers.voucher.redeemed',
      targetType: 'vouchers_voucher',
      targetId: claimed.id,
      resellerId: claimed.reseller_id,
      details: {
        serial,
        batch_id: batch.id,
        subscriber_id: subscriber.id,
        subscription_id: subscription.id,
        plan_code: batch.plan_code,
        price_fcfa: Number(batch.price_fcfa),
        ledger_posting_id: posting?.postingId ?? null,
        rgz_share_fcfa: posting?.rgzShareFcfa ?? 0,
      },
    });
    return {
      ok: true,
      resellerId: claimed.reseller_id,
      planId: batch.plan_id,
      redemption: {
        status: 'redeemed',
        voucherId: claimed.id,
        serial,
        subscriptionId: subscription.id,
        planCode: batch.plan_code,
        startsAt: new Date(subscription.starts_at),
        expiresAt: new Date(subscription.expires_at),
      },
    };
  });

  if (result.ok) {
    ctx.metrics.redemptions.inc({ outcome: result.redemption.status });
    if (result.redemption.status === 'redeemed') {
      try {
        await ctx.events.publish(subscriptionActivated, {
          subscriptionId: result.redemption.subscriptionId,
          subscriberId: subscriber.id,
          planId: result.planId,
          resellerId: result.resellerId,
          source: 'voucher',
          sourceRef: result.redemption.voucherId,
        });
      } catch (err) {
        ctx.log.warn({ err }, 'could not publish subscription.activated (the voucher is redeemed)');
      }
    }
    return result.redemption;
  }

  ctx.metrics.redemptions.inc({ outcome: result.outcome });
  for (const l of limits) {
    const n = await ctx.kv.incr(l.key, l.windowSeconds);
    if (n === l.failures) {
      // The attempt that reaches a limit: audited once per window, not on every refused attempt after it.
      await writeAudit(ctx.db, input.actor ?? null, {
        action: 'vouchers.redeem.blocked',
        targetType: l.scope === 'ip' ? 'client_ip' : 'subscriber',
        targetId: l.scope === 'ip' ? input.clientIp : subscriber.id,
        resellerId: subscriber.reseller_id,
        details: { scope: l.scope, failures: n, window_seconds: l.windowSeconds, last_outcome: result.outcome },
      }).catch((err: unknown) => ctx.log.warn({ err }, 'could not audit a redemption block'));
    }
  }
  const f = FAILURES[result.outcome];
  throw new RgzError(f.code, f.message, { status: f.status });
}
