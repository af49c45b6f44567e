/**
 * Refunds (full only: KKiaPay allows nothing else, and a plan is not half-sold). The provider is asked first; once it
 * confirms, one transaction books the reversal (the payment posting mirrored line by line: new rows, nothing
 * updated), marks the payment and the subscription `refunded`, queues the NAS policy change (`plan_ended`) and audits.
 * A `billing_refunds` row per payment makes a repeated request safe: a retry after an unknown outcome first asks
 * the provider whether the transaction is already refunded.
 */
import { httpErrors, nasPolicyChange, PaymentProviderError, type Principal, type RefundResult, RgzError, writeAudit } from '@rgz/core';
import { type BillingContext, paymentRefunded } from './context.js';
import { reversePayment } from './ledger.js';

export interface RefundOutcome {
  status: 'succeeded' | 'pending';
  paymentId: string;
  refundReference: string;
  amountFcfa: number | null;
}

export async function refundPayment(ctx: BillingContext, paymentId: string, actor: Principal | null, reason?: string): Promise<RefundOutcome> {
  const payment = await ctx.db.selectFrom('billing_payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!payment) throw httpErrors.notFound('payment_not_found', `no payment ${paymentId}`);
  if (payment.status !== 'credited' && payment.status !== 'refunded') {
    throw httpErrors.conflict('payment_not_refundable', `payment ${paymentId} is ${payment.status}; only a credited payment can be refunded`);
  }
  const provider = ctx.providers().get(payment.provider);
  if (!provider) throw httpErrors.unavailable('provider_not_loaded', `payment provider "${payment.provider}" is not loaded`);
  if (!provider.refund || provider.capabilities.refunds === 'none') {
    throw httpErrors.conflict('refund_unsupported', `payment provider "${payment.provider}" does not support refunds`);
  }
  const inserted = await ctx.db
    .insertInto('billing_refunds')
    .values({
      payment_id: payment.id,
      refund_reference: `rf_${payment.id.replaceAll('-', '')}`,
      status: 'requested',
      reason: reason ?? null,
      requested_by: actor?.tokenId ?? null,
      amount_fcfa: null,
      provider_refund_ref: null,
      error: null,
    })
    .onConflict((oc) => oc.column('payment_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  const refund = await ctx.db.selectFrom('billing_refunds').selectAll().where('payment_id', '=', payment.id).executeTakeFirstOrThrow();
  const done = (amount: number | null): RefundOutcome => ({ status: 'succeeded', paymentId, refundReference: refund.refund_reference, amountFcfa: amount });

  if (payment.status === 'refunded' || refund.status === 'succeeded') {
    await bookRefund(ctx, paymentId, actor, { amountFcfa: refund.amount_fcfa, providerRefundRef: refund.provider_refund_ref });
    return done(refund.amount_fcfa === null ? null : Number(refund.amount_fcfa));
  }

  // A previous attempt may have reached the provider: ask before sending again (KKiaPay has no idempotency key).
  if (!inserted) {
    const tx = await provider.getTransaction(payment.provider_transaction_id).catch(() => null);
    if (tx && (tx.status === 'refunded' || tx.status === 'partially_refunded')) {
      const amount = tx.refunded?.amountMinor ?? null;
      await bookRefund(ctx, paymentId, actor, { amountFcfa: amount, providerRefundRef: refund.provider_refund_ref });
      return done(amount);
    }
  }

  let result: RefundResult;
  try {
    result = await provider.refund({ providerRef: payment.provider_transaction_id, refundReference: refund.refund_reference, ...(reason ? { reason } : {}) });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PaymentProviderError && err.kind === 'permanent') {
      await ctx.db
        .updateTable('billing_refunds')
        .set({ status: 'failed', error: message.slice(0, 1000), updated_at: new Date() })
        .where('id', '=', refund.id)
        .execute();
      throw httpErrors.conflict('refund_refused', `the provider refused the refund: ${message}`, {
        provider_reason: err.reason,
        ...(err.providerCode ? { provider_code: err.providerCode } : {}),
      });
    }
    await ctx.db
      .updateTable('billing_refunds')
      .set({ status: 'requested', error: message.slice(0, 1000), updated_at: new Date() })
      .where('id', '=', refund.id)
      .execute();
    if (err instanceof PaymentProviderError && err.kind === 'ambiguous') {
      throw new RgzError('refund_outcome_unknown', `no answer from the provider; asking again is safe (it checks first): ${message}`, { status: 502 });
    }
    throw httpErrors.unavailable('provider_unavailable', `the provider could not be reached; try again: ${message}`);
  }
  if (result.status === 'pending') {
    await ctx.db
      .updateTable('billing_refunds')
      .set({
        status: 'pending',
        amount_fcfa: result.amount.amountMinor,
        provider_refund_ref: result.providerRefundRef ?? null,
        error: null,
        updated_at: new Date(),
      })
      .where('id', '=', refund.id)
      .execute();
    await ctx.tasks.enqueue(ctx.tasksTypes.refundCheck, { paymentId }, { dedupeKey: `${ctx.name}.refund-check:${paymentId}` });
    return { status: 'pending', paymentId, refundReference: refund.refund_reference, amountFcfa: result.amount.amountMinor };
  }
  await bookRefund(ctx, paymentId, actor, { amountFcfa: result.amount.amountMinor, providerRefundRef: result.providerRefundRef ?? null });
  return done(result.amount.amountMinor);
}

/** Book a refund the provider confirmed. Idempotent: a refunded payment is left alone. */
export async function bookRefund(
  ctx: BillingContext,
  paymentId: string,
  actor: Principal | null,
  confirmed: { amountFcfa: number | null; providerRefundRef: string | null },
): Promise<boolean> {
  let booked: { provider: string; subscriberId: string | null; resellerId: string | null; subscriptionId: string | null; gross: number } | null = null;
  await ctx.db.transaction().execute(async (trx) => {
    const payment = await trx.selectFrom('billing_payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
    if (payment.status === 'refunded') return;
    if (payment.status !== 'credited') throw httpErrors.conflict('payment_not_refundable', `payment ${paymentId} is ${payment.status}`);
    const now = new Date();
    await reversePayment(trx, paymentId, `refund of payment ${payment.provider} ${payment.provider_transaction_id}`);
    await trx.updateTable('billing_payments').set({ status: 'refunded', updated_at: now }).where('id', '=', paymentId).execute();
    await trx
      .updateTable('billing_refunds')
      .set({ status: 'succeeded', amount_fcfa: confirmed.amountFcfa, provider_refund_ref: confirmed.providerRefundRef, error: null, updated_at: now })
      .where('payment_id', '=', paymentId)
      .execute();
    if (payment.order_id) await trx.updateTable('billing_orders').set({ status: 'refunded', updated_at: now }).where('id', '=', payment.order_id).execute();
    if (payment.subscription_id) {
      await trx.updateTable('subscriptions').set({ status: 'refunded' }).where('id', '=', payment.subscription_id).execute();
    }
    if (payment.subscriber_id) {
      await ctx.tasks.enqueue(
        nasPolicyChange,
        { subscriberId: payment.subscriber_id, reason: 'plan_ended', ...(payment.subscription_id ? { subscriptionId: payment.subscription_id } : {}) },
        { trx, dedupeKey: `nas.policy-change:refund:${paymentId}` },
      );
    }
    await writeAudit(trx, actor, {
      action: 'billing.payment.refunded',
      targetType: 'billing_payment',
      targetId: paymentId,
      resellerId: payment.reseller_id,
      details: {
        provider: payment.provider,
        transaction_id: payment.provider_transaction_id,
        gross_fcfa: String(payment.amount_fcfa),
        refunded_to_payer_fcfa: confirmed.amountFcfa,
        subscription_id: payment.subscription_id,
      },
    });
    booked = {
      provider: payment.provider,
      subscriberId: payment.subscriber_id,
      resellerId: payment.reseller_id,
      subscriptionId: payment.subscription_id,
      gross: Number(payment.amount_fcfa),
    };
  });
  if (!booked) return false;
  const b = booked as { provider: string; subscriberId: string | null; resellerId: string | null; subscriptionId: string | null; gross: number };
  ctx.metrics.refunds.inc({ provider: b.provider }, b.gross);
  ctx.metrics.payments.inc({ provider: b.provider, outcome: 'refunded' });
  await ctx.events
    .publish(paymentRefunded, {
      paymentId,
      provider: b.provider,
      subscriberId: b.subscriberId,
      resellerId: b.resellerId,
      subscriptionId: b.subscriptionId,
      amountFcfa: b.gross,
    })
    .catch((err) => ctx.log.warn({ err }, 'could not publish billing.payment.refunded'));
  return true;
}

/** Task: poll a provider-side pending refund until it settles, then book it. */
export async function checkPendingRefund(ctx: BillingContext, paymentId: string): Promise<void> {
  const payment = await ctx.db.selectFrom('billing_payments').selectAll().where('id', '=', paymentId).executeTakeFirst();
  if (!payment || payment.status === 'refunded') return;
  const provider = ctx.providers().get(payment.provider);
  if (!provider) throw new Error(`payment provider "${payment.provider}" is not loaded`);
  const tx = await provider.getTransaction(payment.provider_transaction_id);
  if (tx && (tx.status === 'refunded' || tx.status === 'partially_refunded')) {
    const refund = await ctx.db.selectFrom('billing_refunds').selectAll().where('payment_id', '=', paymentId).executeTakeFirst();
    await bookRefund(ctx, paymentId, null, {
      amountFcfa: tx.refunded?.amountMinor ?? (refund?.amount_fcfa === undefined || refund?.amount_fcfa === null ? null : Number(refund.amount_fcfa)),
      providerRefundRef: refund?.provider_refund_ref ?? null,
    });
    return;
  }
  throw new Error(`refund still pending at the provider (status ${tx?.status ?? 'unknown'})`);
}
