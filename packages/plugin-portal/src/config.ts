/** `plugins[].config` of the portal plugin. Every key is described in the README. */
import { z } from '@rgz/core';

export const configSchema = z.object({
  /**
   * Server secret (≥ 32 characters) from which the OTP hashing key and the key sealing codes on their way to the
   * SMS task are derived. Changing it invalidates the codes in flight (nothing else).
   */
  secret: z.string().min(32, 'at least 32 characters; generate one with `openssl rand -base64 48`'),
  otp: z
    .object({
      /** Life of a code and of `rgz:otp:{phone}` (the seed: 300 s). */
      ttlSeconds: z.coerce.number().int().min(1).max(3600).default(300),
      /** Wrong codes before the OTP is burned. */
      maxAttempts: z.coerce.number().int().min(1).max(20).default(5),
    })
    .prefault({}),
  rateLimit: z
    .object({
      /** One code per phone per this many seconds: `rgz:rate:{phone}` (the seed: 60 s). */
      resendSeconds: z.coerce.number().int().min(1).max(3600).default(60),
      /**
       * Distinct phone numbers one client IP may ask codes for per minute (`rgz:rate:ip:{ip}`). Behind a NAS that
       * NATs its clients, every client of that hotspot shares one IP: size this for the busiest hotspot.
       */
      perIpPerMinute: z.coerce.number().int().min(1).max(100_000).default(5),
      /** Codes sent to one phone per 24 h window (`rgz:rate:day:{phone}`). */
      perPhonePerDay: z.coerce.number().int().min(1).max(1000).default(5),
    })
    .prefault({}),
  /** Life of `rgz:session:{subscriber_id}`, the NAS login password (the seed: 86400 s). */
  sessionTtlSeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400),
  /** Life of the subscriber API token the portal page gets after login. */
  apiTokenTtlSeconds: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400),
  sms: z
    .object({
      /** SmsSender ids in the order to try them; empty: every contributed sender, in load order. */
      senders: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/)).default([]),
      /** Sender id for OTP messages (≤ 11 characters); absent: each sender's configured default. */
      senderId: z.string().min(1).max(11).optional(),
    })
    .prefault({}),
  /** Countries (ISO 3166 alpha-2) whose mobile numbers may log in; the spec's prefix allow-list. */
  countries: z
    .array(z.string().regex(/^[A-Z]{2}$/))
    .min(1)
    .default(['BJ']),
  /** CoovaChilli UAM login: `uamsecret` as set on the NAS (HS_UAMSECRET), and CHAP or PAP. */
  uam: z
    .object({
      secret: z.string().min(1).optional(),
      auth: z.enum(['chap', 'pap']).default('chap'),
    })
    .prefault({}),
  /** Name shown on the page and in the SMS. */
  brand: z.string().min(1).max(40).default('RGZ WiFi'),
});

export type PortalConfig = z.output<typeof configSchema>;
