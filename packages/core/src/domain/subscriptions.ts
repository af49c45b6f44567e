/**
 * A subscriber's plan purchases. Payments, vouchers and admin grants all activate a plan the same way (so the
 * RADIUS side has one thing to read), and activation is idempotent on (source, source_ref): a retried webhook
 * or a double-clicked voucher activates once.
 * Decision: a new purchase starts now and becomes the active plan (the latest-started unexpired one); an earlier
 * plan still running is superseded, not stacked.
 */
import type { Kysely, Transaction } from 'kysely';
import { RgzError } from '../errors/rgz-error.js';
import { defineEvent } from '../events/event-bus.js';
import { defineTask } from '../tasks/task-queue.js';
import type { CoreDatabase, Plan, Subscription } from './schema.js';

export interface SubscriptionActivated {
  subscriptionId: string;
  subscriberId: string;
  planId: string;
  resellerId: string | null;
  source: Subscription['source'];
  sourceRef: string;
}

/** Published after a plan is activated (RADIUS sends a CoA so the new rate/quota apply at once). */
export const subscriptionActivated = defineEvent<SubscriptionActivated>('subscription.activated');

export interface ActivePlan {
  subscription: Subscription;
  plan: Plan;
}

export async function findActivePlan(db: Kysely<CoreDatabase>, subscriberId: string, at: Date = new Date()): Promise<ActivePlan | null> {
  const row = await db
    .selectFrom('subscriptions as s')
    .innerJoin('plans as p', 'p.id', 's.plan_id')
    .selectAll('s')
    .select([
      'p.id as p_id',
      'p.reseller_id as p_reseller_id',
      'p.code as p_code',
      'p.name as p_name',
      'p.price_fcfa as p_price_fcfa',
      'p.quota_bytes as p_quota_bytes',
      'p.quota_period as p_quota_period',
      'p.validity_seconds as p_validity_seconds',
      'p.rate_down_kbps as p_rate_down_kbps',
      'p.rate_up_kbps as p_rate_up_kbps',
      'p.active as p_active',
      'p.created_at as p_created_at',
    ])
    .where('s.subscriber_id', '=', subscriberId)
    .where('s.status', '=', 'active')
    .where('s.starts_at', '<=', at)
    .where('s.expires_at', '>', at)
    .orderBy('s.starts_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  const {
    p_id,
    p_reseller_id,
    p_code,
    p_name,
    p_price_fcfa,
    p_quota_bytes,
    p_quota_period,
    p_validity_seconds,
    p_rate_down_kbps,
    p_rate_up_kbps,
    p_active,
    p_created_at,
    ...subscription
  } = row;
  return {
    subscription: subscription as Subscription,
    plan: {
      id: p_id,
      reseller_id: p_reseller_id,
      code: p_code,
      name: p_name,
      price_fcfa: p_price_fcfa,
      quota_bytes: p_quota_bytes,
      quota_period: p_quota_period,
      validity_seconds: p_validity_seconds,
      rate_down_kbps: p_rate_down_kbps,
      rate_up_kbps: p_rate_up_kbps,
      active: p_active,
      created_at: p_created_at,
    },
  };
}

export interface ActivateInput {
  subscriberId: string;
  planId: string;
  source: Subscription['source'];
  sourceRef: string;
  at?: Date;
}

/**
 * Activate a plan inside the caller's transaction (with the ledger entry that pays for it). Returns the
 * subscription and whether this call created it (false: it already existed for this source/ref).
 */
export async function activateSubscription(
  trx: Transaction<CoreDatabase> | Kysely<CoreDatabase>,
  input: ActivateInput,
): Promise<{ subscription: Subscription; created: boolean }> {
  const plan = await trx.selectFrom('plans').selectAll().where('id', '=', input.planId).executeTakeFirst();
  if (!plan) throw new RgzError('plan_not_found', `no plan ${input.planId}`, { status: 404 });
  const subscriber = await trx.selectFrom('subscribers').select(['id', 'reseller_id']).where('id', '=', input.subscriberId).executeTakeFirst();
  if (!subscriber) throw new RgzError('subscriber_not_found', `no subscriber ${input.subscriberId}`, { status: 404 });
  const startsAt = input.at ?? new Date();
  const inserted = await trx
    .insertInto('subscriptions')
    .values({
      subscriber_id: input.subscriberId,
      plan_id: plan.id,
      reseller_id: plan.reseller_id ?? subscriber.reseller_id,
      starts_at: startsAt,
      expires_at: new Date(startsAt.getTime() + plan.validity_seconds * 1000),
      source: input.source,
      source_ref: input.sourceRef,
    })
    .onConflict((oc) => oc.columns(['source', 'source_ref']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { subscription: inserted, created: true };
  const existing = await trx
    .selectFrom('subscriptions')
    .selectAll()
    .where('source', '=', input.source)
    .where('source_ref', '=', input.sourceRef)
    .executeTakeFirstOrThrow();
  return { subscription: existing, created: false };
}

export interface NasPolicyChange {
  subscriberId: string;
  /** Why: a plan was activated, refunded, granted, or an admin asked for a disconnect. */
  reason: 'plan_activated' | 'plan_ended' | 'admin_disconnect' | 'rate_change';
  /** The subscription that changed, when there is one. */
  subscriptionId?: string;
}

/**
 * Background task: bring the subscriber's live sessions in line with their plan (CoA-Request in the NAS
 * vendor's dialect; after NAKs/timeouts, a Disconnect-Request so the next login picks the plan up). Enqueued in
 * the same transaction as the change (outbox) by billing, vouchers and admin actions; handled by the RADIUS
 * plugin. Nothing happens when no plugin handles it (no live sessions to change).
 */
export const nasPolicyChange = defineTask<NasPolicyChange>('nas.policy-change');
