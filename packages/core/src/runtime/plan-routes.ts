/**
 * A reseller's prices (the console's "Plans and prices per reseller" screen): the default catalogue, the reseller's
 * overrides and what is on sale, and setting or withdrawing an override. A reseller manages its own overrides (the
 * scoped handle refuses any other row; the default catalogue is never writable by one); the NOC manages all. Every
 * change is audited in the same transaction.
 */
import { z } from '@hono/zod-openapi';
import type { Kysely } from 'kysely';
import { type Principal, writeAudit } from '../access/principals.js';
import { plansOnSale } from '../domain/plans.js';
import type { CoreDatabase, Plan } from '../domain/schema.js';
import { httpErrors } from '../errors/rgz-error.js';
import { defineRoute, jsonContent as json, type PluginRouter, problemContent as problem, UuidIdParam } from '../http/router.js';
import { PlanSchema, planView } from './plan-view.js';

const CodeParams = UuidIdParam.extend({
  code: z
    .string()
    .regex(/^[A-Z0-9_-]{1,40}$/, 'a plan code such as DAY10MB')
    .openapi({ param: { name: 'code', in: 'path' }, example: 'DAY10MB' }),
});

export function registerPlanRoutes(router: PluginRouter): void {
  const tags = ['core'];
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<CoreDatabase>;

  // Through the scoped handle: a reseller reaches itself only, another reseller's id is a 404.
  const reseller = async (db: Kysely<CoreDatabase>, id: string) => {
    const row = await db.selectFrom('resellers').select(['id', 'slug']).where('id', '=', id).executeTakeFirst();
    if (!row) throw httpErrors.notFound('reseller_not_found', `no reseller ${id}`);
    return row;
  };

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/resellers/{id}/plans',
      access: ['noc', 'reseller'],
      tags,
      summary: 'A reseller’s prices: the default catalogue, its overrides (active or withdrawn) and what its subscribers are offered',
      request: { params: UuidIdParam },
      responses: {
        200: json(z.object({ defaults: z.array(PlanSchema), overrides: z.array(PlanSchema), on_sale: z.array(PlanSchema) }), 'Plans'),
        404: problem('No such reseller (or not you)'),
      },
    }),
    async (c) => {
      const db = dbOf(c);
      const { id } = c.req.valid('param');
      await reseller(db, id);
      const defaults = await db.selectFrom('plans').selectAll().where('reseller_id', 'is', null).orderBy('price_fcfa').orderBy('code').execute();
      const overrides = await db.selectFrom('plans').selectAll().where('reseller_id', '=', id).orderBy('price_fcfa').orderBy('code').execute();
      return c.json({ defaults: defaults.map(planView), overrides: overrides.map(planView), on_sale: (await plansOnSale(db, id)).map(planView) }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'put',
      path: '/api/core/resellers/{id}/plans/{code}',
      access: ['noc', 'reseller'],
      tags,
      summary:
        'Set this reseller’s own price (and optionally name, quota, rates) for a plan code of the default catalogue; keys left out keep the default’s values',
      request: {
        params: CodeParams,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                price_fcfa: z.number().int().min(0).max(10_000_000),
                name: z.string().trim().min(1).max(100).optional(),
                quota_bytes: z.number().int().positive().nullable().optional(),
                quota_period: z.enum(['day', 'month']).nullable().optional(),
                validity_seconds: z
                  .number()
                  .int()
                  .min(3600)
                  .max(366 * 86_400)
                  .optional(),
                rate_down_kbps: z.number().int().positive().nullable().optional(),
                rate_up_kbps: z.number().int().positive().nullable().optional(),
              }),
            },
          },
        },
      },
      responses: {
        200: json(PlanSchema, 'The override, on sale'),
        404: problem('No such reseller (or not you)'),
        422: problem('No plan with this code in the default catalogue'),
      },
    }),
    async (c) => {
      const db = dbOf(c);
      const { id, code } = c.req.valid('param');
      const body = c.req.valid('json');
      await reseller(db, id);
      const base = await db.selectFrom('plans').selectAll().where('reseller_id', 'is', null).where('code', '=', code).executeTakeFirst();
      if (!base) throw httpErrors.unprocessable('plan_not_found', `no plan "${code}" in the default catalogue: an override replaces a default plan`);
      const values = {
        name: body.name ?? base.name,
        price_fcfa: body.price_fcfa,
        quota_bytes: body.quota_bytes === undefined ? base.quota_bytes : body.quota_bytes,
        quota_period: body.quota_period === undefined ? base.quota_period : body.quota_period,
        validity_seconds: body.validity_seconds ?? base.validity_seconds,
        rate_down_kbps: body.rate_down_kbps === undefined ? base.rate_down_kbps : body.rate_down_kbps,
        rate_up_kbps: body.rate_up_kbps === undefined ? base.rate_up_kbps : body.rate_up_kbps,
        active: true,
      };
      const principal = c.get('principal') as Principal;
      const out = await db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('plans').selectAll().where('reseller_id', '=', id).where('code', '=', code).forUpdate().executeTakeFirst();
        // Subscriptions reference plan rows: an existing override is updated in place, never replaced.
        const row = before
          ? await trx.updateTable('plans').set(values).where('id', '=', before.id).returningAll().executeTakeFirstOrThrow()
          : await trx
              .insertInto('plans')
              .values({ ...values, reseller_id: id, code })
              .returningAll()
              .executeTakeFirstOrThrow();
        await writeAudit(trx, principal, {
          action: 'plan.price.set',
          targetType: 'plan',
          targetId: row.id,
          resellerId: id,
          details: { code, price_fcfa: values.price_fcfa, price_before: before ? Number(before.price_fcfa) : Number(base.price_fcfa), name: values.name },
        });
        return row;
      });
      return c.json(planView(out), 200);
    },
  );

  router.add(
    defineRoute({
      method: 'delete',
      path: '/api/core/resellers/{id}/plans/{code}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Withdraw this reseller’s override: its subscribers are offered the default plan again (the row is kept, inactive, for past purchases)',
      request: { params: CodeParams },
      responses: { 200: json(PlanSchema, 'The withdrawn override'), 404: problem('No such reseller or no active override for this code') },
    }),
    async (c) => {
      const db = dbOf(c);
      const { id, code } = c.req.valid('param');
      await reseller(db, id);
      const principal = c.get('principal') as Principal;
      const out = await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('plans')
          .set({ active: false })
          .where('reseller_id', '=', id)
          .where('code', '=', code)
          .where('active', '=', true)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw httpErrors.notFound('override_not_found', `reseller ${id} has no active price of its own for "${code}"`);
        await writeAudit(trx, principal, {
          action: 'plan.price.withdraw',
          targetType: 'plan',
          targetId: row.id,
          resellerId: id,
          details: { code, price_fcfa: Number(row.price_fcfa) },
        });
        return row;
      });
      return c.json(planView(out), 200);
    },
  );
}
