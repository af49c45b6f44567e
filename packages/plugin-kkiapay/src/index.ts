/**
 * @rgz/plugin-kkiapay: the `payment-kkiapay` plugin. Contributes one `PaymentProvider` (provider `kkiapay`) per instance
 * to `PaymentProviders`: widget checkout, `x-kkiapay-secret` webhooks, verify, full refunds. Counts every API call in
 * `payment_provider_requests_total` and times it in `payment_provider_request_duration_seconds`.
 * The wire-compatible test server is `@rgz/plugin-kkiapay/test-server`.
 */

import { contributePaymentProvider, definePlugin, paymentCallMetrics, z } from '@rgz/core';
import { KkiapayProvider } from './provider.js';

export {
  KKIAPAY_ERROR_CODES,
  KKIAPAY_LIVE_API,
  KKIAPAY_SANDBOX_API,
  KKIAPAY_WIDGET_SCRIPT,
  KkiapayClient,
  type KkiapayClientOptions,
  KkiapayError,
  type KkiapayRevertBody,
  type KkiapayTransactionBody,
} from './client.js';
export { KKIAPAY_STATUS_MAP, KkiapayProvider, type KkiapayProviderOptions, referenceFrom, WEBHOOK_SECRET_HEADER } from './provider.js';

/** `true`/`false`, also as the strings `${env:…}` interpolation produces (z.coerce.boolean would read "false" as true). */
const flag = z.union([z.boolean(), z.stringbool()]);

/** `plugins[].config` of `payment-kkiapay`. */
export const configSchema = z.object({
  /** Instance id: the key in `PaymentProviders` and in billing's `/hooks/payment/<id>`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('kkiapay'),
  /** Sandbox (keys from the dashboard's sandbox mode, `api-sandbox.kkiapay.me`, widget `sandbox: true`) or live. */
  sandbox: flag,
  /** Public key (= API key; also given to the widget, so not a secret). */
  publicKey: z.string().min(1, 'the KKiaPay public key is required (dashboard → Developers → API keys)'),
  /** Private key (secret: write `${env:KKIAPAY_PRIVATE_KEY}`). */
  privateKey: z.string().min(1, 'the KKiaPay private key is required (e.g. privateKey: ${env:KKIAPAY_PRIVATE_KEY})'),
  /** API secret key, sent as `x-secret-key` (secret). */
  secret: z.string().min(1, 'the KKiaPay secret key is required (e.g. secret: ${env:KKIAPAY_SECRET})'),
  /**
   * The webhook "hash secret" you define on the dashboard's Webhook tab; KKiaPay sends it back in `x-kkiapay-secret`.
   * Distinct from `secret`. Anyone who knows it can post fake events, so make it long and random.
   */
  webhookSecret: z
    .string()
    .min(16, 'the webhook secret must be at least 16 characters: set a long random value on the KKiaPay dashboard (Webhook tab) and here'),
  /** API root override: a test server or a proxy. Default from `sandbox`. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Deadline of one API request, in ms. */
  timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** More hosts for the captive portal's walled garden (3-D Secure, fonts seen in a HAR of a sandbox payment). */
  walledGardenExtraHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/, 'a lower-case host name, no scheme or path')).default([]),
});

export type KkiapayConfig = z.output<typeof configSchema>;

export default definePlugin({
  name: 'payment-kkiapay',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'KKiaPay mobile-money payments (widget checkout, webhook, verify, full refunds)',
  config: configSchema,

  setup(ctx) {
    const { config } = ctx;
    const provider = new KkiapayProvider({
      id: config.id,
      sandbox: config.sandbox,
      publicKey: config.publicKey,
      privateKey: config.privateKey,
      secret: config.secret,
      webhookSecret: config.webhookSecret,
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      walledGardenExtraHosts: config.walledGardenExtraHosts,
      log: ctx.log,
      onCall: paymentCallMetrics(ctx.metrics, 'kkiapay', config.id),
    });
    contributePaymentProvider(ctx, provider, { sandbox: config.sandbox, baseUrl: config.baseUrl });
  },
});
