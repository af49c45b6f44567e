/**
 * @rgz/plugin-fedapay: the `payment-fedapay` plugin. Contributes one `PaymentProvider` (provider `fedapay`) per instance
 * to `PaymentProviders`: hosted-page checkout, HMAC-signed webhooks, transaction reads and a paged list for
 * reconciliation. Counts every API call in `payment_provider_requests_total` and times it in
 * `payment_provider_request_duration_seconds`. The wire-compatible test server is `@rgz/plugin-fedapay/test-server`.
 */

import { contributePaymentProvider, definePlugin, paymentCallMetrics, z } from '@rgz/core';
import { FedapayProvider } from './provider.js';

export {
  FEDAPAY_LIVE_API,
  FEDAPAY_SANDBOX_API,
  type FedapayCall,
  FedapayClient,
  type FedapayClientOptions,
  type FedapayCreateBody,
  FedapayError,
  type FedapayPageMeta,
  type FedapayTransactionBody,
  unwrapTransaction,
} from './client.js';
export { FEDAPAY_STATUS_MAP, FedapayProvider, type FedapayProviderOptions, parseSignatureHeader, REFERENCE_KEY, SIGNATURE_HEADER } from './provider.js';

/** `true`/`false`, also as the strings `${env:…}` interpolation produces. */
const flag = z.union([z.boolean(), z.stringbool()]);

/** `plugins[].config` of `payment-fedapay`. */
export const configSchema = z
  .object({
    /** Instance id: the key in `PaymentProviders` and in billing's `/hooks/payment/<id>`. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
      .default('fedapay'),
    /** Sandbox (`sandbox-api.fedapay.com`, sandbox keys) or live (`api.fedapay.com`). */
    sandbox: flag,
    /** Secret API key `sk_sandbox_…`/`sk_live_…` (secret: write `${env:FEDAPAY_SECRET_KEY}`). */
    secretKey: z.string().min(1, 'the FedaPay secret key is required (e.g. secretKey: ${env:FEDAPAY_SECRET_KEY})'),
    /** Signing secret of the webhook endpoint (`wh_…`), shown on the dashboard's Webhooks page. */
    webhookSecret: z.string().min(1, 'the FedaPay webhook signing secret is required (dashboard → Webhooks → your endpoint)'),
    /** API root override: a test server or a proxy. Default from `sandbox`. */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Largest accepted |now − t| of a webhook signature, in seconds (FedaPay's SDKs: 300). */
    toleranceSeconds: z.coerce.number().int().min(1).max(3_600).default(300),
    /** Smallest amount accepted by createCheckout, XOF (Benin via Hub2: 100). */
    minAmount: z.coerce.number().int().min(1).default(100),
    /** Largest amount accepted by createCheckout, XOF (Benin via Hub2: 3 000 000). */
    maxAmount: z.coerce.number().int().min(1).default(3_000_000),
    /** Page size asked of `GET /v1/transactions`. */
    listPageSize: z.coerce.number().int().min(1).max(1_000).default(100),
    /** Pages one listTransactions may read before failing (a guard against an endless list). */
    listMaxPages: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** Paging stops after a whole page created this many hours before the range (newest-first lists only). */
    listLookbackHours: z.coerce
      .number()
      .min(0)
      .max(24 * 90)
      .default(48),
    /** More hosts for the captive portal's walled garden (what the hosted page loads, from a HAR capture). */
    walledGardenExtraHosts: z.array(z.string().regex(/^[a-z0-9.-]+$/, 'a lower-case host name, no scheme or path')).default([]),
  })
  .refine((c) => c.minAmount <= c.maxAmount, { message: 'minAmount must not exceed maxAmount', path: ['minAmount'] });

export type FedapayConfig = z.output<typeof configSchema>;

export default definePlugin({
  name: 'payment-fedapay',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'FedaPay payments (hosted-page checkout, signed webhooks, transaction list for reconciliation)',
  config: configSchema,

  setup(ctx) {
    const { config } = ctx;
    const provider = new FedapayProvider({
      id: config.id,
      sandbox: config.sandbox,
      secretKey: config.secretKey,
      webhookSecret: config.webhookSecret,
      baseUrl: config.baseUrl,
      timeoutMs: config.timeoutMs,
      toleranceSeconds: config.toleranceSeconds,
      minAmount: config.minAmount,
      maxAmount: config.maxAmount,
      listPageSize: config.listPageSize,
      listMaxPages: config.listMaxPages,
      listLookbackHours: config.listLookbackHours,
      walledGardenExtraHosts: config.walledGardenExtraHosts,
      log: ctx.log,
      onCall: paymentCallMetrics(ctx.metrics, 'fedapay', config.id),
    });
    contributePaymentProvider(ctx, provider, { sandbox: config.sandbox, baseUrl: config.baseUrl });
  },
});
