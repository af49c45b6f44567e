/**
 * @rgz/plugin-billing — flows 2 and 4 of the seed: plans bought through any `PaymentProvider`, webhooks stored raw
 * and verified against the provider's API before anything is credited, the double-entry ledger with the revenue
 * split, plan activation (with the NAS policy-change task in the same transaction), refunds, and the daily
 * reconciliation. Routes, config, tables, the rounding rule and the CSV format: README.md.
 */
import { ConfigError, definePlugin, defineTask, IncidentSinks, ledgerReader, ledgerWriter, PaymentProviders } from '@rgz/core';
import { deliverAlert } from './alerts.js';
import { configSchema } from './config.js';
import { registerConsoleRoutes } from './console-routes.js';
import { type BillingAlert, type BillingContext, createBillingMetrics, type VerifyPayload } from './context.js';
import { verifyTransaction } from './ingress.js';
import { createLedgerWriter } from './ledger.js';
import { createLedgerReader } from './ledger-reader.js';
import { billingMigrations } from './migrations.js';
import { dayBefore, runReconciliation } from './reconciliation.js';
import { checkPendingRefund } from './refunds.js';
import { registerRoutes } from './routes.js';

export { type BillingConfig, configSchema } from './config.js';
export { type BillingAlert, billingAlert, type PaymentCredited, type PaymentRefunded, paymentCredited, paymentRefunded } from './context.js';
export { accounts, paymentLines, postVoucherSale, resellerAccounts, unbalancedPostings, voucherSaleLines } from './ledger.js';
export { createLedgerReader } from './ledger-reader.js';
export { newOrderReference, ORDER_REFERENCE, REFERENCE_ALPHABET } from './orders.js';
export { dayBefore, MISMATCH_KINDS, parseTimestamp, type RunSummary } from './reconciliation.js';
export type { BillingDatabase, BillingTables } from './schema.js';
export { basisPoints, type Split, type SplitInput, splitPayment } from './split.js';

export default definePlugin({
  name: 'billing',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Plans on sale, orders, payment webhooks, the double-entry ledger with revenue split, plan activation and daily reconciliation',
  config: configSchema,
  provides: [ledgerReader, ledgerWriter],

  setup(ctx) {
    const db = ctx.db as unknown as BillingContext['db'];
    const bctx: BillingContext = {
      name: ctx.name,
      config: ctx.config,
      db,
      kv: ctx.kv,
      tasks: ctx.tasks,
      events: ctx.events,
      log: ctx.log,
      metrics: createBillingMetrics(ctx.metrics),
      providers: () => ctx.collect(PaymentProviders),
      incidentSinks: () => ctx.collect(IncidentSinks),
      tasksTypes: {
        verify: defineTask<VerifyPayload>(`${ctx.name}.verify-payment`),
        alert: defineTask<BillingAlert>(`${ctx.name}.alert`),
        refundCheck: defineTask<{ paymentId: string }>(`${ctx.name}.refund-check`),
      },
      commissionPercent: (providerId) => ctx.config.providers[providerId]?.commissionPercent ?? ctx.config.commissionPercent,
      webhookUrl: (providerId) => `${(ctx.config.publicUrl ?? ctx.server.publicUrl).replace(/\/+$/, '')}/hooks/payment/${providerId}`,
    };

    ctx.migrations(billingMigrations);
    ctx.provide(ledgerReader, createLedgerReader(db));
    // Other flows that take money (prepaid vouchers) post through this, in their own transaction.
    ctx.provide(ledgerWriter, createLedgerWriter(`/api/${ctx.name}/orders`));
    ctx.resellerOwned({ table: 'billing_orders' });
    ctx.resellerOwned({ table: 'billing_payments' });
    ctx.resellerOwned({ table: 'billing_postings' });
    ctx.resellerOwned({ table: 'billing_ledger_entries' });

    const v = ctx.config.verification;
    ctx.tasks.handle(bctx.tasksTypes.verify, (payload, task) => verifyTransaction(bctx, payload, task), {
      maxAttempts: v.maxAttempts,
      backoffSeconds: v.backoffSeconds,
      timeoutSeconds: v.timeoutSeconds,
    });
    ctx.tasks.handle(bctx.tasksTypes.alert, (alert, task) => deliverAlert(bctx, alert, task), { maxAttempts: 10, backoffSeconds: 30, timeoutSeconds: 30 });
    ctx.tasks.handle(bctx.tasksTypes.refundCheck, (p) => checkPendingRefund(bctx, p.paymentId), { maxAttempts: 20, backoffSeconds: 60, timeoutSeconds: 30 });

    const rc = ctx.config.reconciliation;
    ctx.schedule({
      id: 'reconcile',
      cron: rc.cron,
      timezone: rc.timezone,
      scope: 'global',
      missed: 'run-once',
      timeoutSeconds: rc.timeoutSeconds,
      description: 'Reconcile the previous UTC day’s payments with the providers (seed flow 4)',
      run: (job) => runReconciliation(bctx, dayBefore(job.scheduledFor), job.trigger, job.signal),
    });

    const api = ctx.router();
    registerRoutes(bctx, api, [ctx.router('/hooks/payment')]);
    registerConsoleRoutes(bctx, api, { timeZone: ctx.server.timezone, audit: (actor, entry) => ctx.audit(actor, entry) });

    ctx.onStart(() => {
      const all = ctx.collect(PaymentProviders);
      const def = ctx.config.defaultProvider;
      if (def && !all.has(def)) {
        throw new ConfigError(`plugins.${ctx.name}.config.defaultProvider`, `no payment provider "${def}"; loaded: ${[...all.keys()].join(', ') || 'none'}`);
      }
      for (const id of Object.keys(ctx.config.providers)) {
        if (!all.has(id)) ctx.log.warn({ provider: id }, `config providers.${id} names no loaded payment provider`);
      }
      if (all.size === 0) ctx.log.warn('no PaymentProvider plugin is loaded: orders cannot be paid');
    });
  },
});
