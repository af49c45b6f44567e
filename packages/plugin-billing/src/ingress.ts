/**
 * Inbound payment news: provider webhooks and browser callbacks. Both are stored raw FIRST (a `billing_payment_events`
 * row, unique on provider + event id, so a redelivery is a no-op) together with the verification task, in one
 * transaction (outbox), then copied to KV `rgz:payment:{transaction_id}` for an hour (the seed's key). Nothing is
 * credited here: the verification task asks the provider's API before anything is booked.
 */
import { kvKeys, PaymentProviderError, type PaymentTransaction } from '@rgz/core';
import type { BillingContext, VerifyPayload } from './context.js';
import type { EventKind } from './schema.js';
import { settle } from './settlement.js';

export const PAYMENT_KV_TTL_SECONDS = 3600;

export interface InboundEvent {
  provider: string;
  eventId: string;
  kind: EventKind;
  transactionId: string;
  claimedReference?: string | null | undefined;
  claimedStatus?: string | null | undefined;
  claimedAmount?: number | null | undefined;
  rawBody: string;
}

/** Store an inbound event and its verification task; `duplicate` when this event was already stored. */
export async function storeEvent(ctx: BillingContext, ev: InboundEvent): Promise<'stored' | 'duplicate'> {
  const receivedAt = new Date();
  const stored = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('billing_payment_events')
      .values({
        provider: ev.provider,
        event_id: ev.eventId.slice(0, 256),
        kind: ev.kind,
        provider_transaction_id: ev.transactionId,
        claimed_reference: ev.claimedReference ?? null,
        claimed_status: ev.claimedStatus ?? null,
        claimed_amount_fcfa: ev.claimedAmount !== undefined && ev.claimedAmount !== null && Number.isSafeInteger(ev.claimedAmount) ? ev.claimedAmount : null,
        raw_body: ev.rawBody,
        received_at: receivedAt,
      })
      .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!row) return false;
    await ctx.tasks.enqueue(ctx.tasksTypes.verify, { provider: ev.provider, transactionId: ev.transactionId }, { trx });
    return true;
  });
  if (stored) {
    const value = JSON.stringify({ provider: ev.provider, event_id: ev.eventId, kind: ev.kind, received_at: receivedAt.toISOString(), body: ev.rawBody });
    try {
      await ctx.kv.set(kvKeys.payment(ev.transactionId), value, PAYMENT_KV_TTL_SECONDS);
    } catch (err) {
      // The database row is the record; the KV copy is a convenience.
      ctx.log.warn({ err, provider: ev.provider }, 'could not copy the payment event to KV');
    }
  }
  return stored ? 'stored' : 'duplicate';
}

/** Thrown to make the task queue retry later (with its backoff). */
class RetryLater extends Error {}

/**
 * The verification task: ask the provider for the transaction's authoritative state and settle it. Retryable provider
 * failures and still-pending transactions are retried with backoff; nothing is credited meanwhile.
 */
export async function verifyTransaction(
  ctx: BillingContext,
  payload: VerifyPayload,
  task: { attempt: number; signal: AbortSignal; log: BillingContext['log'] },
): Promise<void> {
  const provider = ctx.providers().get(payload.provider);
  if (!provider) throw new RetryLater(`payment provider "${payload.provider}" is not loaded`);
  let tx: PaymentTransaction | null;
  try {
    tx = await provider.getTransaction(payload.transactionId, { signal: task.signal });
  } catch (err) {
    if (err instanceof PaymentProviderError && err.kind === 'permanent') {
      ctx.metrics.payments.inc({ provider: payload.provider, outcome: 'verify_refused' });
      task.log.error(
        { err, provider: payload.provider, transaction_id: payload.transactionId },
        'the provider refused the verification call; left to reconciliation',
      );
      return;
    }
    ctx.metrics.payments.inc({ provider: payload.provider, outcome: 'retry' });
    throw err;
  }
  const events = await ctx.db
    .selectFrom('billing_payment_events')
    .select(['kind', 'claimed_reference', 'claimed_amount_fcfa', 'claimed_status'])
    .where('provider', '=', payload.provider)
    .where('provider_transaction_id', '=', payload.transactionId)
    .orderBy('id', 'desc')
    .execute();
  if (!tx) {
    // An authenticated webhook for a transaction the API does not know yet: give the provider a moment.
    if (events.some((e) => e.kind === 'webhook') && task.attempt < 3) throw new RetryLater('the provider does not know this transaction yet');
    ctx.metrics.payments.inc({ provider: payload.provider, outcome: 'not_found' });
    task.log.warn({ provider: payload.provider, transaction_id: payload.transactionId }, 'the provider does not know this transaction: nothing credited');
    return;
  }
  if (tx.providerRef !== payload.transactionId) {
    ctx.metrics.payments.inc({ provider: payload.provider, outcome: 'verify_refused' });
    task.log.error(
      { provider: payload.provider, asked: payload.transactionId, got: tx.providerRef },
      'the provider answered for another transaction: nothing credited',
    );
    return;
  }
  const claimed = events.find((e) => e.claimed_amount_fcfa !== null);
  if (claimed && tx.amount && claimed.claimed_amount_fcfa !== tx.amount.amountMinor) {
    task.log.warn(
      { provider: payload.provider, transaction_id: tx.providerRef, claimed: claimed.claimed_amount_fcfa, verified: tx.amount.amountMinor },
      'the event claims another amount than the provider API; the API is authoritative',
    );
  }
  const fallbackReference = events.find((e) => e.kind === 'webhook' && e.claimed_reference)?.claimed_reference ?? null;
  const outcome = await settle(ctx, payload.provider, tx, { fallbackReference, via: 'verification' });
  task.log.info({ provider: payload.provider, transaction_id: tx.providerRef, result: outcome.result, payment_id: outcome.paymentId }, 'payment verified');
  if (outcome.result === 'not_paid' && outcome.status === 'pending') throw new RetryLater('the transaction is still pending at the provider');
}
