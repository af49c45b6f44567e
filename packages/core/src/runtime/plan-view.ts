/**
 * Plans as the HTTP API shows them: `PlanOffer`, what a subscriber is offered (portal, checkout orders), and `Plan`,
 * the catalogue row with its id, owner and state (core's catalogue and price routes). One mapping from the stored row,
 * so every route agrees on names and on numbers being numbers.
 */
import { z } from '@hono/zod-openapi';
import type { Plan } from '../domain/schema.js';

export const PlanOfferSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    price_fcfa: z.number().int(),
    quota_bytes: z.number().nullable(),
    quota_period: z.enum(['day', 'month']).nullable(),
    validity_seconds: z.number().int(),
    rate_down_kbps: z.number().int().nullable(),
    rate_up_kbps: z.number().int().nullable(),
  })
  .openapi('PlanOffer');
export type PlanOffer = z.infer<typeof PlanOfferSchema>;

export const PlanSchema = PlanOfferSchema.extend({
  id: z.string().uuid(),
  reseller_id: z.string().uuid().nullable(),
  active: z.boolean(),
}).openapi('Plan');

/** Numbers as numbers whatever the driver returns for int8 (node-postgres is told to parse them; PGlite is not). */
export const planOffer = (p: Pick<Plan, keyof PlanOffer>): PlanOffer => ({
  code: p.code,
  name: p.name,
  price_fcfa: Number(p.price_fcfa),
  quota_bytes: p.quota_bytes === null ? null : Number(p.quota_bytes),
  quota_period: p.quota_period,
  validity_seconds: Number(p.validity_seconds),
  rate_down_kbps: p.rate_down_kbps,
  rate_up_kbps: p.rate_up_kbps,
});

export const planView = (p: Plan): z.infer<typeof PlanSchema> => ({ id: p.id, reseller_id: p.reseller_id, ...planOffer(p), active: p.active });
