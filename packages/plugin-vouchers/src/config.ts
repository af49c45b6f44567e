/** `plugins[].config` of the vouchers plugin. Every key is described in the README. */
import { z } from '@rgz/core';

const window = (failures: number, windowSeconds: number) =>
  z
    .object({
      /** Failed redemptions allowed in the window; the next attempt is refused (429) until the window ends. */
      failures: z.coerce.number().int().min(1).max(100_000).default(failures),
      windowSeconds: z.coerce
        .number()
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(windowSeconds),
    })
    .prefault({});

export const configSchema = z.object({
  /**
   * Server secret (≥ 32 characters). The key codes are hashed with (HMAC-SHA256) and the key the ticket sheet is sealed
   * with at rest (AES-256-GCM) are derived from it. Changing it makes every unredeemed code unusable.
   */
  secret: z.string().min(32, 'at least 32 characters; generate one with `openssl rand -base64 48`'),
  /** The portal page printed on tickets and opened by their QR code (default `<RGZ_PUBLIC_URL>/portal/`). */
  portalUrl: z.string().url().optional(),
  /** Name printed at the top of each ticket. */
  brand: z.string().min(1).max(30).default('RGZ WiFi'),
  /** Codes per batch (at most 5 000). */
  maxBatchSize: z.coerce.number().int().min(1).max(5000).default(5000),
  /** Expiry of a batch created without one, in days. */
  defaultValidityDays: z.coerce.number().int().min(1).max(3650).default(180),
  /** Furthest expiry a batch may have, in days. */
  maxValidityDays: z.coerce.number().int().min(1).max(3650).default(730),
  pdf: z
    .object({
      /** How long the sealed ticket sheet stays downloadable after creation. */
      ttlSeconds: z.coerce
        .number()
        .int()
        .min(60)
        .max(30 * 86_400)
        .default(86_400),
    })
    .prefault({}),
  rateLimit: z
    .object({
      /** Failed redemptions per subscriber per short window (`rgz:voucher:fail:sub:{id}`). */
      perSubscriber: window(5, 900),
      /** Failed redemptions per subscriber per day (`rgz:voucher:fail:day:{id}`): what bounds online guessing. */
      perSubscriberPerDay: window(20, 86_400),
      /**
       * Failed redemptions per client IP per window (`rgz:voucher:fail:ip:{ip}`). Behind a NAS that NATs its clients,
       * a hotspot shares one IP: size it for the busiest hotspot.
       */
      perIp: window(30, 900),
    })
    .prefault({}),
});

export type VouchersConfig = z.output<typeof configSchema>;
