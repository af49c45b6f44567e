/** A plan as the HTTP API shows it (`Plan` in the OpenAPI document): the catalogue route and the price routes. */
import { z } from '@hono/zod-openapi';
import type { Plan } from '../domain/schema.js';

export const PlanSchema = z
  .object({
    id: z.string().uuid(),
    reseller_id: z.string().uuid().nullable(),
    code: z.string(),
    name: z.string(),
    price_fcfa: z.number().int(),
    quota_bytes: z.number().nullable(),
    quota_period: z.enum(['day', 'month']).nullable(),
    validity_seconds: z.number().int(),
    rate_down_kbps: z.number().int().nullable(),
    rate_up_kbps: z.number().int().nullable(),
    active: z.boolean(),
  })
  .openapi('Plan');

/** Numbers as numbers whatever the driver returns for int8 (node-postgres is told to parse them; PGlite is not). */
export const planView = (p: Plan): z.infer<typeof PlanSchema> => ({
  id: p.id,
  reseller_id: p.reseller_id,
  code: p.code,
  name: p.name,
  price_fcfa: Number(p.price_fcfa),
  quota_bytes: p.quota_bytes === null ? null : Number(p.quota_bytes),
  quota_period: p.quota_period,
  validity_seconds: Number(p.validity_seconds),
  rate_down_kbps: p.rate_down_kbps,
  rate_up_kbps: p.rate_up_kbps,
  active: p.active,
});
