/** `plugins[].config` of the billing plugin. Every key is described in the README. */
import { z } from '@rgz/core';

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]*$/;

/** A percentage with at most two decimals (1.5, 33.33): the split works in hundredths of a percent, exactly. */
const percent = z.coerce
  .number()
  .min(0)
  .max(100)
  .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-9, 'at most two decimals (e.g. 1.5 or 33.33)');

export const configSchema = z.object({
  /** Provider instance id used when an order names none; absent: the only loaded provider (an error when several are). */
  defaultProvider: z.string().regex(PROVIDER_ID).optional(),
  /**
   * Provider commission in percent of the gross, used when the provider's API reports no fee for a transaction
   * (the seed: KKiaPay 1.5 %). Per provider instance under `providers.<id>.commissionPercent`.
   */
  commissionPercent: percent.default(1.5),
  providers: z.record(z.string().regex(PROVIDER_ID), z.object({ commissionPercent: percent.optional() })).default({}),
  /** Where the browser goes after paying on a hosted page / widget redirect (the portal page). */
  returnUrl: z.string().url().optional(),
  /** Where the browser goes when the payer gives up (providers that distinguish). */
  cancelUrl: z.string().url().optional(),
  /** Public base URL of this server for the webhook URL given to providers (default: the server's RGZ_PUBLIC_URL). */
  publicUrl: z.string().url().optional(),
  verification: z
    .object({
      /** Attempts of the verification task (provider down, transaction still pending) before it is parked. */
      maxAttempts: z.coerce.number().int().min(1).max(50).default(12),
      /** First retry delay; doubles each attempt (capped at one hour by core). */
      backoffSeconds: z.coerce.number().positive().max(3600).default(5),
      /** One attempt's time limit (the provider call plus the crediting transaction). */
      timeoutSeconds: z.coerce.number().int().min(1).max(600).default(30),
    })
    .prefault({}),
  /** Browser callbacks (`POST /orders/{ref}/callback`) accepted per order: each costs a provider call. */
  maxCallbacksPerOrder: z.coerce.number().int().min(1).max(100).default(5),
  reconciliation: z
    .object({
      /** Schedule (the seed: daily 00:15 UTC, for the previous UTC day). */
      cron: z.string().default('15 0 * * *'),
      timezone: z.string().default('UTC'),
      /** Provider verify calls in flight at once. */
      concurrency: z.coerce.number().int().min(1).max(256).default(16),
      /** Mismatched amount above this percentage of the day's revenue → P1 incident. */
      thresholdPercent: percent.default(1),
      /** Attempts per provider call before a candidate is reported `unverified`. */
      providerAttempts: z.coerce.number().int().min(1).max(10).default(3),
      /** Seconds the job may run. */
      timeoutSeconds: z.coerce.number().int().min(10).max(86_400).default(3600),
    })
    .prefault({}),
});

export type BillingConfig = z.output<typeof configSchema>;
