/**
 * {{PACKAGE}}: a cash `PaymentProvider` contributed to `PaymentProviders`, and the route an agent uses to record
 * that a payer paid (or never came): `POST /api/<name>/payments/{providerRef}`.
 */
import { contributePaymentProvider, definePlugin, defineRoute, httpErrors, PaymentProviderError, PaymentProviders, z } from '@rgz/core';
import { CashPaymentProvider, Till } from './provider.js';

export { CashPaymentProvider, type CashPaymentProviderOptions, type CashTransaction, SIGNATURE_HEADER, Till } from './provider.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `PaymentProviders`, and the `<id>` of its webhook URL `/hooks/payment/<id>`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Shared secret of the till application's webhooks (HMAC-SHA256 of the body); write it `${env:…}`. */
  secret: z.string().min(16, 'at least 16 characters (openssl rand -hex 32)'),
  /** Largest amount accepted, in francs CFA. */
  maxAmountMinor: z.coerce.number().int().positive().default(500_000),
});

export type Config = z.output<typeof configSchema>;

const Transaction = z.object({
  providerRef: z.string(),
  reference: z.string(),
  status: z.string(),
  amount: z.number().int(),
  performedAt: z.string().nullable(),
});

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [PaymentProviders],

  setup(ctx) {
    const { config } = ctx;
    // Per instance, never module-level: the same package may be loaded twice with two configs.
    const till = new Till();
    const provider = new CashPaymentProvider({ id: config.id, secret: config.secret, maxAmountMinor: config.maxAmountMinor, till });
    // As the shipped providers: contribute it, log what the walled garden needs once started, close it on stop.
    contributePaymentProvider(ctx, provider, { sandbox: false, baseUrl: undefined });

    ctx.router().add(
      defineRoute({
        method: 'post',
        path: '/payments/{providerRef}',
        access: ['noc', 'reseller'],
        tags: [ctx.name],
        summary: 'Record that the payer paid this cash payment (succeeded) or never came (failed)',
        request: {
          params: z.object({ providerRef: z.string().min(1).max(64) }),
          body: { content: { 'application/json': { schema: z.object({ outcome: z.enum(['succeeded', 'failed']) }) } } },
        },
        responses: {
          200: { description: 'The payment as recorded', content: { 'application/json': { schema: Transaction } } },
        },
      }),
      async (c) => {
        const { providerRef } = c.req.valid('param');
        const { outcome } = c.req.valid('json');
        let tx: ReturnType<Till['record']>;
        try {
          tx = till.record(providerRef, outcome);
        } catch (error) {
          if (error instanceof PaymentProviderError && error.reason === 'not_found') throw httpErrors.notFound('payment_not_found', error.message);
          if (error instanceof PaymentProviderError) throw httpErrors.conflict('payment_not_pending', error.message);
          throw error;
        }
        await ctx.audit(c.get('principal'), { action: `${ctx.name}.cash_recorded`, targetType: 'payment', targetId: providerRef, details: { outcome } });
        return c.json(
          {
            providerRef: tx.providerRef,
            reference: tx.reference,
            status: tx.status,
            amount: tx.amountMinor,
            performedAt: tx.performedAt?.toISOString() ?? null,
          },
          200,
        );
      },
    );
  },
});
