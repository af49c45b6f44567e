/**
 * @rgz/plugin-vouchers — prepaid vouchers that resellers print and sell for cash: batches of short unguessable codes
 * (stored as HMACs), an A4 sheet of cut-out tickets with QR codes, redemption on the portal page and by API (the plan
 * activated exactly as a paid one, once even under concurrent attempts, rate-limited), and the sale booked in billing's
 * ledger at redemption through core's `ledgerWriter`. Routes, config, entropy and the money decision: README.md.
 */
import { definePlugin, ledgerWriter, voucherRedeemer } from '@rgz/core';
import { purgeExpiredPdfs } from './batches.js';
import { deriveKeys } from './codes.js';
import { configSchema } from './config.js';
import { createVouchersMetrics, type VouchersContext } from './context.js';
import { vouchersMigrations } from './migrations.js';
import { redeem } from './redeem.js';
import { registerRoutes } from './routes.js';
import type { VouchersDatabase } from './schema.js';

export { batchLabel, serialOf } from './batches.js';
export { CODE_ALPHABET, CODE_ENTROPY_BITS, CODE_LENGTH, CODE_SPACE, formatCode, normaliseCode } from './codes.js';
export { configSchema, type VouchersConfig } from './config.js';
export { buildTicketSheet, formatFcfa, qrTarget, TICKETS_PER_PAGE, type TicketSheetInput } from './pdf-render.js';
export { voucherKeys } from './redeem.js';
export type { VouchersDatabase, VouchersTables } from './schema.js';

export default definePlugin({
  name: 'vouchers',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Prepaid vouchers: batches of short unguessable codes printed as PDF tickets, redeemed on the portal, booked in the ledger',
  config: configSchema,
  deps: { ledger: ledgerWriter },
  provides: [voucherRedeemer],

  setup(ctx, deps) {
    const vctx: VouchersContext = {
      name: ctx.name,
      config: ctx.config,
      keys: deriveKeys(ctx.config.secret),
      db: ctx.db as unknown as VouchersContext['db'],
      kv: ctx.kv,
      tasks: ctx.tasks,
      events: ctx.events,
      log: ctx.log,
      metrics: createVouchersMetrics(ctx.metrics),
      ledger: deps.ledger,
      timezone: ctx.server.timezone,
      portalUrl: (ctx.config.portalUrl ?? `${ctx.server.publicUrl.replace(/\/+$/, '')}/portal/`).replace(/\/?$/, '/'),
    };

    ctx.migrations(vouchersMigrations);
    ctx.resellerOwned({ table: 'vouchers_batches' });
    ctx.resellerOwned({ table: 'vouchers_vouchers' });
    ctx.resellerOwned({ table: 'vouchers_batch_pdfs' });

    ctx.provide(voucherRedeemer, {
      redeemPath: `/api/${ctx.name}/redeem`,
      redeem: (input) => redeem(vctx, input),
    });

    registerRoutes(vctx, ctx.router());

    ctx.schedule({
      id: 'purge-pdfs',
      cron: '7 * * * *',
      scope: 'global',
      timeoutSeconds: 120,
      description: 'Delete the sealed ticket sheets whose download time is over',
      run: async () => ({ deleted: await purgeExpiredPdfs(vctx.db) }),
    });
  },
});

export type { VouchersContext };
export type VouchersDb = VouchersDatabase;
