/**
 * What billing's parts share: the plugin's handles, its metrics, task types, events and the audit helper that writes
 * inside a caller's transaction (the audit row commits or rolls back with the change it describes).
 */
import {
  defineEvent,
  type EventBus,
  type IncidentPriority,
  type IncidentSink,
  type Kv,
  type Kysely,
  type Logger,
  type Metrics,
  type PaymentProvider,
  type TaskQueue,
  type TaskType,
  type Transaction,
} from '@rgz/core';
import type { BillingConfig } from './config.js';
import type { BillingDatabase } from './schema.js';

export interface VerifyPayload {
  provider: string;
  transactionId: string;
}

/** An alert for finance / the NOC: logged, published as `billing.alert`, and opened as an incident on every sink. */
export interface BillingAlert {
  /** Stable id: the same problem alerts once (task dedupe) and sinks dedupe on it. */
  id: string;
  kind: 'amount_mismatch' | 'duplicate' | 'orphan' | 'status_mismatch' | 'reconciliation_threshold';
  priority: IncidentPriority;
  title: string;
  summary: string;
  /** Routing labels: provider, kind, day; never a subscriber or phone. */
  labels: Record<string, string>;
  at: string;
}

export interface PaymentCredited {
  paymentId: string;
  orderReference: string;
  provider: string;
  providerTransactionId: string;
  subscriberId: string;
  resellerId: string | null;
  planId: string;
  subscriptionId: string;
  amountFcfa: number;
}

export interface PaymentRefunded {
  paymentId: string;
  provider: string;
  subscriberId: string | null;
  resellerId: string | null;
  subscriptionId: string | null;
  amountFcfa: number;
}

/** Published after a payment is credited (plan activated, ledger posted). */
export const paymentCredited = defineEvent<PaymentCredited>('billing.payment.credited');
/** Published after a refund is booked. */
export const paymentRefunded = defineEvent<PaymentRefunded>('billing.payment.refunded');
/** Published for every alert (amount mismatch, duplicate, orphan, disagreement, reconciliation threshold). */
export const billingAlert = defineEvent<BillingAlert>('billing.alert');

export interface BillingMetrics {
  payments: ReturnType<Metrics['counter']>;
  webhooks: ReturnType<Metrics['counter']>;
  reconciliationMismatches: ReturnType<Metrics['counter']>;
  revenue: ReturnType<Metrics['counter']>;
  fees: ReturnType<Metrics['counter']>;
  refunds: ReturnType<Metrics['counter']>;
}

export function createBillingMetrics(m: Metrics): BillingMetrics {
  return {
    payments: m.counter({
      name: 'payments_total',
      help: 'Verified payment outcomes by provider instance and outcome (credited, amount_mismatch, orphan, duplicate, failed, pending, not_found, refunded, retry)',
      labelNames: ['provider', 'outcome'],
    }),
    webhooks: m.counter({
      name: 'payment_webhooks_total',
      help: 'Payment webhook deliveries by provider instance and outcome (stored, duplicate, ignored, rejected_unauthenticated, rejected_stale, rejected_malformed, unknown_provider)',
      labelNames: ['provider', 'outcome'],
    }),
    reconciliationMismatches: m.counter({
      name: 'reconciliation_mismatches_total',
      help: 'Reconciliation items that were not a match, by kind',
      labelNames: ['kind'],
    }),
    revenue: m.counter({ name: 'revenue_fcfa_total', help: 'Gross FCFA credited (ledger payment postings), by provider instance', labelNames: ['provider'] }),
    fees: m.counter({ name: 'provider_fees_fcfa_total', help: 'Provider fees booked in FCFA, by provider instance', labelNames: ['provider'] }),
    refunds: m.counter({ name: 'refunds_fcfa_total', help: 'Gross FCFA reversed by refunds, by provider instance', labelNames: ['provider'] }),
  };
}

export interface BillingContext {
  name: string;
  config: BillingConfig;
  db: Kysely<BillingDatabase>;
  kv: Kv;
  tasks: TaskQueue;
  events: EventBus;
  log: Logger;
  metrics: BillingMetrics;
  providers(): ReadonlyMap<string, PaymentProvider>;
  incidentSinks(): ReadonlyMap<string, IncidentSink>;
  tasksTypes: {
    verify: TaskType<VerifyPayload>;
    alert: TaskType<BillingAlert>;
    refundCheck: TaskType<{ paymentId: string }>;
  };
  /** Commission used when a provider reports no fee. */
  commissionPercent(providerId: string): number;
  /** The webhook URL of a provider instance. */
  webhookUrl(providerId: string): string;
}

type Db = Kysely<BillingDatabase> | Transaction<BillingDatabase>;

/** Enqueue an alert in the caller's transaction (outbox): it exists only if the flagging commits, and only once. */
export async function enqueueAlert(ctx: BillingContext, trx: Db, alert: Omit<BillingAlert, 'at'>): Promise<void> {
  await ctx.tasks.enqueue(ctx.tasksTypes.alert, { ...alert, at: new Date().toISOString() }, { trx, dedupeKey: `${ctx.name}.alert:${alert.id}` });
}
