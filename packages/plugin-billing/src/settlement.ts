/**
 * Settle one provider transaction against our books, in ONE database transaction: the payment row (unique on
 * provider + transaction id), and when the provider says it succeeded for the right amount on one of our orders:
 * the ledger posting, the plan activation (idempotent on source 'payment' + payment id), the NAS policy-change task
 * (outbox) and the audit entry. Anything else is recorded and, when money is at stake, flagged and alerted.
 *
 * Used by the verification task and by reconciliation, so both apply the same rules. Idempotent: settling the same
 * transaction again changes nothing. Concurrency: the order row is locked first, then the payment row, so two
 * settlements of one transaction (or two transactions of one order) run one after the other.
 *
 * Rules:
 *  - our reference comes from the provider's API (`tx.reference`); only when the provider does not echo it, from an
 *    authenticated webhook of that transaction (`fallbackReference`); never from a browser callback alone;
 *  - credited only when status = succeeded, currency XOF and amount ≥ the order's price (the gross booked is the
 *    amount charged); less → `amount_mismatch`, nothing credited, alert;
 *  - no order with that reference → `orphan`, nothing credited, alert;
 *  - the order already has a credited payment from another transaction → `duplicate`, nothing credited, alert;
 *  - a credited payment the provider now reports refunded/failed → flagged `needs_review`, alert (never reversed
 *    automatically: a refund is an explicit action).
 */
import {
  activateSubscription,
  type CoreDatabase,
  nasPolicyChange,
  type PaymentTransaction,
  subscriptionActivated,
  type Transaction,
  writeAudit,
} from '@rgz/core';
import { type BillingContext, enqueueAlert, paymentCredited } from './context.js';
import { paymentLines, post } from './ledger.js';
import type { PaymentStatus, PaymentUpdate } from './schema.js';
import { type Split, splitPayment } from './split.js';

export type SettleResult = 'credited' | 'already_credited' | 'amount_mismatch' | 'orphan' | 'duplicate' | 'not_paid' | 'provider_disagrees';

export interface SettleOutcome {
  result: SettleResult;
  paymentId: string;
  /** Status before this call; null when this call created the payment row. */
  previousStatus: PaymentStatus | null;
  status: PaymentStatus;
  orderReference: string | null;
  /** The amount we hold for this transaction (before this call), for reconciliation's comparison. */
  previousAmount: number | null;
  /** True when this call flagged the payment for review (and queued an alert). */
  flagged: boolean;
  subscriptionId?: string;
  split?: Split;
  /** For `provider_disagrees`: what differs between our books and the provider. */
  disagreement?: 'amount' | 'status';
  detail?: string;
}

export interface SettleOptions {
  /** Our reference from an authenticated webhook of this transaction, used only when the provider API does not echo one. */
  fallbackReference?: string | null;
  /** Who settles: the verification task or a reconciliation run (audit details). */
  via: 'verification' | 'reconciliation';
}

const FLAGGED_STATUSES: readonly PaymentStatus[] = ['amount_mismatch', 'duplicate'];

function validAmount(tx: PaymentTransaction): number | null {
  const a = tx.amount;
  return a && a.currency === 'XOF' && Number.isSafeInteger(a.amountMinor) && a.amountMinor >= 0 ? a.amountMinor : null;
}

export async function settle(ctx: BillingContext, providerId: string, tx: PaymentTransaction, options: SettleOptions): Promise<SettleOutcome> {
  const amount = validAmount(tx);
  const reference = tx.reference ?? options.fallbackReference ?? null;
  const after: Array<() => Promise<void>> = [];

  const outcome = await ctx.db.transaction().execute(async (trx): Promise<SettleOutcome> => {
    const order = reference ? await trx.selectFrom('billing_orders').selectAll().where('reference', '=', reference).forUpdate().executeTakeFirst() : undefined;
    const inserted = await trx
      .insertInto('billing_payments')
      .values({
        provider: providerId,
        provider_transaction_id: tx.providerRef,
        order_id: order?.id ?? null,
        reference,
        subscriber_id: order?.subscriber_id ?? null,
        reseller_id: order?.reseller_id ?? null,
        plan_id: order?.plan_id ?? null,
        status: 'pending',
        provider_status: tx.status,
        amount_fcfa: amount ?? 0,
        expected_fcfa: order?.amount_fcfa ?? null,
        fee_fcfa: null,
        performed_at: tx.performedAt ?? null,
        subscription_id: null,
        review: null,
        review_reason: null,
        raw: JSON.stringify(tx.raw ?? null),
      })
      .onConflict((oc) => oc.columns(['provider', 'provider_transaction_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    const payment = await trx
      .selectFrom('billing_payments')
      .selectAll()
      .where('provider', '=', providerId)
      .where('provider_transaction_id', '=', tx.providerRef)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const previousStatus: PaymentStatus | null = inserted ? null : payment.status;
    const base = {
      paymentId: payment.id,
      previousStatus,
      orderReference: order?.reference ?? payment.reference ?? null,
      previousAmount: inserted ? null : Number(payment.amount_fcfa),
    };
    const now = new Date();
    // Writes only what differs: settling an unchanged transaction again (a reconciliation re-run) writes nothing.
    const setPayment = async (values: PaymentUpdate) => {
      const all: PaymentUpdate = { provider_status: tx.status, ...values };
      const current = payment as unknown as Record<string, unknown>;
      if (Object.entries(all).every(([k, v]) => same(current[k], v))) return;
      await trx
        .updateTable('billing_payments')
        .set({ ...all, updated_at: now })
        .where('id', '=', payment.id)
        .execute();
    };
    const flag = async (
      status: PaymentStatus,
      kind: 'amount_mismatch' | 'duplicate' | 'orphan' | 'status_mismatch',
      reason: string,
      extra: PaymentUpdate = {},
    ) => {
      // Already flagged (or flagged and resolved by a person) for this: record the provider's view, alert nothing.
      const newly = payment.status !== status || payment.review === null;
      if (!newly) {
        await setPayment(extra);
        return false;
      }
      await setPayment({ status, review: 'needs_review', review_reason: reason, ...extra });
      await writeAudit(trx, null, {
        action: `billing.payment.${kind}`,
        targetType: 'billing_payment',
        targetId: payment.id,
        resellerId: order?.reseller_id ?? payment.reseller_id ?? null,
        details: { provider: providerId, transaction_id: tx.providerRef, reference, reason, via: options.via },
      });
      await enqueueAlert(ctx, trx, {
        id: `${kind}:${payment.id}`,
        kind,
        priority: 'P2',
        title: `Payment ${kind.replace('_', ' ')}: ${providerId} ${tx.providerRef}`,
        summary: reason,
        labels: { provider: providerId, kind },
      });
      return true;
    };

    // --- not (or no longer) paid at the provider -------------------------------------------------------------
    if (tx.status !== 'succeeded') {
      if (payment.status === 'credited') {
        if (tx.status === 'pending')
          return {
            ...base,
            result: 'provider_disagrees',
            status: 'credited',
            flagged: false,
            disagreement: 'status',
            detail: 'credited here, pending at the provider',
          };
        if (tx.status === 'refunded' || tx.status === 'partially_refunded') {
          // A refund we asked for and the provider settled: the refund-check task books it; not a disagreement to flag.
          const asked = await trx.selectFrom('billing_refunds').select('status').where('payment_id', '=', payment.id).executeTakeFirst();
          if (asked && asked.status !== 'failed') {
            return { ...base, result: 'provider_disagrees', status: 'credited', flagged: false, disagreement: 'status', detail: 'refund in progress' };
          }
        }
        const flagged = await flag('credited', 'status_mismatch', `credited here but the provider reports ${tx.status}`);
        return { ...base, result: 'provider_disagrees', status: 'credited', flagged, disagreement: 'status', detail: `provider reports ${tx.status}` };
      }
      if (payment.status === 'refunded') {
        await setPayment({});
        return { ...base, result: 'not_paid', status: 'refunded', flagged: false };
      }
      if (payment.status === 'pending' || payment.status === 'failed') {
        const status: PaymentStatus = tx.status === 'pending' ? 'pending' : 'failed';
        await setPayment({ status, amount_fcfa: amount ?? payment.amount_fcfa, performed_at: tx.performedAt ?? payment.performed_at });
        if (status === 'failed' && order && order.status === 'pending') {
          await trx.updateTable('billing_orders').set({ status: 'failed', updated_at: now }).where('id', '=', order.id).execute();
        }
        return { ...base, result: 'not_paid', status, flagged: false };
      }
      // orphan / amount_mismatch / duplicate rows stay as flagged; the provider's status is recorded.
      await setPayment({});
      return { ...base, result: 'not_paid', status: payment.status, flagged: false };
    }

    // --- succeeded at the provider ------------------------------------------------------------------------------
    if (payment.status === 'credited' || payment.status === 'refunded') {
      if (amount !== null && amount !== Number(payment.amount_fcfa)) {
        const flagged = await flag(payment.status, 'amount_mismatch', `booked ${payment.amount_fcfa} FCFA, the provider now reports ${amount} FCFA`);
        return {
          ...base,
          result: 'provider_disagrees',
          status: payment.status,
          flagged,
          disagreement: 'amount',
          detail: 'amount differs from the booked amount',
        };
      }
      if (payment.status === 'refunded') {
        const flagged = await flag('refunded', 'status_mismatch', 'refunded here but the provider reports it succeeded');
        return {
          ...base,
          result: 'provider_disagrees',
          status: 'refunded',
          flagged,
          disagreement: 'status',
          detail: 'refunded here, succeeded at the provider',
        };
      }
      return {
        ...base,
        result: 'already_credited',
        status: payment.status,
        flagged: false,
        ...(payment.subscription_id ? { subscriptionId: payment.subscription_id } : {}),
      };
    }
    if (FLAGGED_STATUSES.includes(payment.status)) {
      return { ...base, result: payment.status as 'amount_mismatch' | 'duplicate', status: payment.status, flagged: false };
    }

    if (!order) {
      const flagged = await flag('orphan', 'orphan', reference ? `no order with reference ${reference}` : 'the provider reports no reference of ours', {
        amount_fcfa: amount ?? 0,
        performed_at: tx.performedAt ?? null,
        reference,
      });
      return { ...base, result: 'orphan', status: 'orphan', flagged };
    }

    const link = {
      order_id: order.id,
      reference: order.reference,
      subscriber_id: order.subscriber_id,
      reseller_id: order.reseller_id,
      plan_id: order.plan_id,
      expected_fcfa: order.amount_fcfa,
      amount_fcfa: amount ?? 0,
      performed_at: tx.performedAt ?? null,
    };
    if (amount === null || amount < Number(order.amount_fcfa)) {
      const reason =
        amount === null
          ? `the provider reports ${tx.amount?.amountMinor} ${tx.amount?.currency}, not a whole XOF amount`
          : `charged ${amount} FCFA for an order of ${order.amount_fcfa} FCFA`;
      const flagged = await flag('amount_mismatch', 'amount_mismatch', reason, link);
      if (order.status === 'pending' || order.status === 'failed') {
        await trx.updateTable('billing_orders').set({ status: 'amount_mismatch', updated_at: now }).where('id', '=', order.id).execute();
      }
      return { ...base, result: 'amount_mismatch', status: 'amount_mismatch', flagged, orderReference: order.reference };
    }
    const other = await trx
      .selectFrom('billing_payments')
      .select(['id', 'provider_transaction_id'])
      .where('order_id', '=', order.id)
      .where('status', 'in', ['credited', 'refunded'])
      .where('id', '<>', payment.id)
      .executeTakeFirst();
    if (other) {
      const flagged = await flag('duplicate', 'duplicate', `order ${order.reference} was already paid by transaction ${other.provider_transaction_id}`, link);
      return { ...base, result: 'duplicate', status: 'duplicate', flagged, orderReference: order.reference };
    }

    // --- credit -----------------------------------------------------------------------------------------------
    const reseller = order.reseller_id
      ? await trx.selectFrom('resellers').select(['fee_percent', 'share_percent']).where('id', '=', order.reseller_id).executeTakeFirstOrThrow()
      : null;
    const reportedFee =
      tx.fees && tx.fees.currency === 'XOF' && Number.isSafeInteger(tx.fees.amountMinor) && tx.fees.amountMinor >= 0 ? tx.fees.amountMinor : undefined;
    const split = splitPayment({
      gross: amount,
      reportedFee,
      commissionPercent: ctx.commissionPercent(providerId),
      reseller: reseller ? { feePercent: String(reseller.fee_percent), sharePercent: String(reseller.share_percent) } : null,
    });
    const { subscription } = await activateSubscription(trx as unknown as Transaction<CoreDatabase>, {
      subscriberId: order.subscriber_id,
      planId: order.plan_id,
      source: 'payment',
      sourceRef: payment.id,
    });
    await setPayment({
      ...link,
      status: 'credited',
      fee_fcfa: split.providerFee.toString(),
      subscription_id: subscription.id,
      review: null,
      review_reason: null,
    });
    await post(trx, {
      kind: 'payment',
      paymentId: payment.id,
      provider: providerId,
      resellerId: order.reseller_id,
      memo: `payment ${providerId} ${tx.providerRef} for order ${order.reference}`,
      lines: paymentLines(providerId, order.reseller_id, split),
    });
    await trx
      .updateTable('billing_orders')
      .set({ status: 'paid', provider_transaction_id: tx.providerRef, updated_at: now })
      .where('id', '=', order.id)
      .execute();
    await ctx.tasks.enqueue(
      nasPolicyChange,
      { subscriberId: order.subscriber_id, reason: 'plan_activated', subscriptionId: subscription.id },
      { trx, dedupeKey: `nas.policy-change:payment:${payment.id}` },
    );
    await writeAudit(trx, null, {
      action: 'billing.payment.credited',
      targetType: 'billing_payment',
      targetId: payment.id,
      resellerId: order.reseller_id,
      details: {
        provider: providerId,
        transaction_id: tx.providerRef,
        order_reference: order.reference,
        plan_code: order.plan_code,
        subscription_id: subscription.id,
        via: options.via,
        gross_fcfa: split.gross.toString(),
        provider_fee_fcfa: split.providerFee.toString(),
        provider_fee_reported: split.feeReported,
        reseller_fee_fcfa: split.resellerFee.toString(),
        reseller_share_fcfa: split.resellerShare.toString(),
        rgz_share_fcfa: split.rgzShare.toString(),
      },
    });
    after.push(async () => {
      ctx.metrics.revenue.inc({ provider: providerId }, Number(split.gross));
      ctx.metrics.fees.inc({ provider: providerId }, Number(split.providerFee));
      await ctx.events.publish(paymentCredited, {
        paymentId: payment.id,
        orderReference: order.reference,
        provider: providerId,
        providerTransactionId: tx.providerRef,
        subscriberId: order.subscriber_id,
        resellerId: order.reseller_id,
        planId: order.plan_id,
        subscriptionId: subscription.id,
        amountFcfa: Number(split.gross),
      });
      await ctx.events.publish(subscriptionActivated, {
        subscriptionId: subscription.id,
        subscriberId: order.subscriber_id,
        planId: order.plan_id,
        resellerId: subscription.reseller_id,
        source: 'payment',
        sourceRef: payment.id,
      });
    });
    return { ...base, result: 'credited', status: 'credited', flagged: false, subscriptionId: subscription.id, split, orderReference: order.reference };
  });

  // A daily re-check of a payment already credited is not news.
  if (!(options.via === 'reconciliation' && outcome.result === 'already_credited'))
    ctx.metrics.payments.inc({ provider: providerId, outcome: outcomeLabel(outcome) });
  for (const fn of after) {
    try {
      await fn();
    } catch (err) {
      ctx.log.warn({ err }, 'post-commit notification failed (the payment is booked)');
    }
  }
  return outcome;
}

function same(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof Date || b instanceof Date) return new Date(a as string).getTime() === new Date(b as string).getTime();
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}

function outcomeLabel(o: SettleOutcome): string {
  if (o.result === 'not_paid') return o.status === 'pending' ? 'pending' : o.status === 'refunded' ? 'refunded' : 'failed';
  return o.result;
}

/**
 * Flag a payment for review without changing its status (e.g. credited here but unknown to the provider), with an
 * audit entry and an alert; false when it was already flagged.
 */
export async function flagPayment(ctx: BillingContext, paymentId: string, kind: 'status_mismatch' | 'amount_mismatch', reason: string): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const payment = await trx.selectFrom('billing_payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
    if (!payment || payment.review !== null) return false;
    await trx
      .updateTable('billing_payments')
      .set({ review: 'needs_review', review_reason: reason, updated_at: new Date() })
      .where('id', '=', paymentId)
      .execute();
    await writeAudit(trx, null, {
      action: `billing.payment.${kind}`,
      targetType: 'billing_payment',
      targetId: paymentId,
      resellerId: payment.reseller_id,
      details: { provider: payment.provider, transaction_id: payment.provider_transaction_id, reason, via: 'reconciliation' },
    });
    await enqueueAlert(ctx, trx, {
      id: `${kind}:${paymentId}`,
      kind,
      priority: 'P2',
      title: `Payment ${kind.replace('_', ' ')}: ${payment.provider} ${payment.provider_transaction_id}`,
      summary: reason,
      labels: { provider: payment.provider, kind },
    });
    return true;
  });
}
