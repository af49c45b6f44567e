/** What the vouchers plugin's parts share: handles, keys, metrics and the audit helper that writes in a transaction. */
import type { EventBus, Kv, Kysely, LedgerWriter, Logger, Metrics, TaskQueue } from '@rgz/core';
import type { VoucherKeys } from './codes.js';
import type { VouchersConfig } from './config.js';
import type { VouchersDatabase } from './schema.js';

export interface VouchersMetrics {
  redemptions: ReturnType<Metrics['counter']>;
  blocks: ReturnType<Metrics['counter']>;
  issued: ReturnType<Metrics['counter']>;
}

export function createVouchersMetrics(m: Metrics): VouchersMetrics {
  return {
    redemptions: m.counter({
      name: 'voucher_redemptions_total',
      help: 'Voucher redemption attempts by outcome (redeemed, already_redeemed, unknown, expired, revoked, used, wrong_reseller, invalid_format, blocked, busy)',
      labelNames: ['outcome'],
    }),
    blocks: m.counter({
      name: 'voucher_redemption_blocks_total',
      help: 'Redemption attempts refused by a rate limit, by the limit that refused them (subscriber, subscriber_day, ip)',
      labelNames: ['scope'],
    }),
    issued: m.counter({ name: 'vouchers_issued_total', help: 'Voucher codes created (all batches)' }),
  };
}

export interface VouchersContext {
  name: string;
  config: VouchersConfig;
  keys: VoucherKeys;
  db: Kysely<VouchersDatabase>;
  kv: Kv;
  tasks: TaskQueue;
  events: EventBus;
  log: Logger;
  metrics: VouchersMetrics;
  ledger: LedgerWriter;
  timezone: string;
  /** The portal page printed on tickets (ends with `/`). */
  portalUrl: string;
}
