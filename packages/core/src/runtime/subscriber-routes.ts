/**
 * Core's routes about one subscriber and the background work started for one (the operator console's subscriber
 * page): the subscriber with its devices and plans bought, granting or extending a plan by hand with a reason
 * (audited, in the same transaction as the change and its NAS policy-change task), and polling a task.
 */

import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { type Kysely, sql } from 'kysely';
import { type Principal, writeAudit } from '../access/principals.js';
import { plansOnSale } from '../domain/plans.js';
import type { CoreDatabase } from '../domain/schema.js';
import { activateSubscription, findActivePlan, nasPolicyChange } from '../domain/subscriptions.js';
import { httpErrors } from '../errors/rgz-error.js';
import { defineRoute, jsonContent as json, type PluginRouter, problemContent as problem } from '../http/router.js';
import type { TaskQueue } from '../tasks/task-queue.js';

export interface SubscriberRouteDeps {
  /** Unscoped: core_tasks is machinery, not reseller-owned. */
  db: Kysely<CoreDatabase>;
  tasks: TaskQueue;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const SubscriptionView = z
  .object({
    id: z.string().uuid(),
    plan_id: z.string().uuid(),
    plan_code: z.string(),
    plan_name: z.string(),
    price_fcfa: z.number().int(),
    reseller_id: z.string().uuid().nullable(),
    starts_at: z.string(),
    expires_at: z.string(),
    source: z.enum(['payment', 'voucher', 'grant']),
    source_ref: z.string(),
    status: z.enum(['active', 'cancelled', 'refunded']),
    created_at: z.string(),
  })
  .openapi('SubscriptionView');

const SubscriberDetail = z
  .object({
    id: z.string().uuid(),
    subscriber_ref: z.string(),
    msisdn: z.string(),
    status: z.string(),
    reseller_id: z.string().uuid().nullable(),
    created_at: z.string(),
    devices: z.array(z.object({ id: z.string().uuid(), mac_address: z.string(), first_seen_at: z.string(), last_seen_at: z.string() })),
    active_subscription: SubscriptionView.nullable().openapi({ description: 'The plan in force now (the latest-started unexpired active one)' }),
    subscriptions: z.array(SubscriptionView).openapi({ description: 'Plans bought, granted or redeemed, newest first (at most 200)' }),
  })
  .openapi('SubscriberDetail');

const TaskView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['pending', 'running', 'done', 'dead']),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    run_at: z.string(),
    finished_at: z.string().nullable(),
    audit: z
      .array(z.object({ id: z.number().int(), at: z.string(), action: z.string(), details: z.record(z.string(), z.unknown()) }))
      .openapi({ description: 'Audit entries the task wrote about itself (e.g. radius.disconnect.ack per session), oldest first' }),
  })
  .openapi('TaskView');

/** A subscriber in the path: its uuid or its public reference (RGZ-…). */
const SubscriberParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9-]+$/, 'a subscriber id (uuid) or reference (RGZ-…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'RGZ-7K2Q9M' }),
});

const Reason = z.string().trim().min(3, 'say why, in at least 3 characters').max(500);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerSubscriberRoutes(router: PluginRouter, deps: SubscriberRouteDeps): void {
  const tags = ['core'];
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<CoreDatabase>;

  // Through the caller's scoped handle: a reseller gets a 404 for another reseller's subscriber, as for a missing one.
  const findSubscriber = async (db: Kysely<CoreDatabase>, ref: string) => {
    const row = await db
      .selectFrom('subscribers')
      .selectAll()
      .where(UUID.test(ref) ? 'id' : 'subscriber_ref', '=', UUID.test(ref) ? ref : ref.toUpperCase())
      .executeTakeFirst();
    if (!row) throw httpErrors.notFound('subscriber_not_found', `no subscriber "${ref}"`);
    return row;
  };

  const subscriptionsQuery = (db: Kysely<CoreDatabase>) =>
    db
      .selectFrom('subscriptions as s')
      .innerJoin('plans as p', 'p.id', 's.plan_id')
      .selectAll('s')
      .select(['p.code as plan_code', 'p.name as plan_name', 'p.price_fcfa']);
  type SubscriptionRow = Awaited<ReturnType<ReturnType<typeof subscriptionsQuery>['execute']>>[number];
  const subscriptionView = (s: SubscriptionRow): z.infer<typeof SubscriptionView> => ({
    id: s.id,
    plan_id: s.plan_id,
    plan_code: s.plan_code,
    plan_name: s.plan_name,
    price_fcfa: Number(s.price_fcfa),
    reseller_id: s.reseller_id,
    starts_at: iso(s.starts_at) as string,
    expires_at: iso(s.expires_at) as string,
    source: s.source,
    source_ref: s.source_ref,
    status: s.status,
    created_at: iso(s.created_at) as string,
  });

  const detail = async (db: Kysely<CoreDatabase>, ref: string): Promise<z.infer<typeof SubscriberDetail>> => {
    const sub = await findSubscriber(db, ref);
    const devices = await db
      .selectFrom('subscriber_devices')
      .select(['id', 'mac_address', 'first_seen_at', 'last_seen_at'])
      .where('subscriber_id', '=', sub.id)
      .orderBy('last_seen_at', 'desc')
      .execute();
    const subscriptions = await subscriptionsQuery(db).where('s.subscriber_id', '=', sub.id).orderBy('s.starts_at', 'desc').limit(200).execute();
    const active = await findActivePlan(db, sub.id);
    const activeRow = active ? subscriptions.find((s) => s.id === active.subscription.id) : undefined;
    return {
      id: sub.id,
      subscriber_ref: sub.subscriber_ref,
      msisdn: sub.msisdn,
      status: sub.status,
      reseller_id: sub.reseller_id,
      created_at: iso(sub.created_at) as string,
      devices: devices.map((d) => ({
        id: d.id,
        mac_address: d.mac_address,
        first_seen_at: iso(d.first_seen_at) as string,
        last_seen_at: iso(d.last_seen_at) as string,
      })),
      active_subscription: activeRow ? subscriptionView(activeRow) : null,
      subscriptions: subscriptions.map(subscriptionView),
    };
  };

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/subscribers/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary: 'One subscriber (by id or reference) with its devices and every plan it bought, redeemed or was granted',
      request: { params: SubscriberParam },
      responses: { 200: json(SubscriberDetail, 'Subscriber'), 404: problem('No such subscriber (or not yours)') },
    }),
    async (c) => c.json(await detail(dbOf(c), c.req.valid('param').id), 200),
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/api/core/subscribers/{id}/grants',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Grant a plan by hand (no payment), with the reason in the audit log; it becomes the active plan and the NAS is told (nas.policy-change task)',
      request: {
        params: SubscriberParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                plan_code: z
                  .string()
                  .regex(/^[A-Z0-9_-]{1,40}$/, 'a plan code such as DAY10MB')
                  .openapi({ example: 'DAY10MB' }),
                reason: Reason.openapi({ example: 'Compensation: outage on 2026-11-24' }),
              }),
            },
          },
        },
      },
      responses: {
        201: json(z.object({ subscription: SubscriptionView, task_id: z.string().nullable() }), 'Granted; poll GET /api/core/tasks/{task_id}'),
        404: problem('No such subscriber (or not yours)'),
        422: problem('No plan with this code on sale to this subscriber'),
      },
    }),
    async (c) => {
      const db = dbOf(c);
      const principal = c.get('principal') as Principal;
      const { plan_code, reason } = c.req.valid('json');
      const sub = await findSubscriber(db, c.req.valid('param').id);
      // The plans on sale to this subscriber: its reseller's override of a code wins over the default catalogue.
      const plan = (await plansOnSale(db, sub.reseller_id)).find((p) => p.code === plan_code);
      if (!plan) throw httpErrors.unprocessable('plan_not_found', `no active plan "${plan_code}" on sale to subscriber ${sub.subscriber_ref}`);
      const grantRef = `grant:${randomUUID()}`;
      const out = await db.transaction().execute(async (trx) => {
        const { subscription } = await activateSubscription(trx, { subscriberId: sub.id, planId: plan.id, source: 'grant', sourceRef: grantRef });
        const taskId = await deps.tasks.enqueue(
          nasPolicyChange,
          { subscriberId: sub.id, reason: 'plan_activated', subscriptionId: subscription.id },
          { trx, dedupeKey: `policy:${subscription.id}:granted` },
        );
        await writeAudit(trx, principal, {
          action: 'subscription.grant',
          targetType: 'subscriber',
          targetId: sub.id,
          resellerId: sub.reseller_id,
          details: { subscription_id: subscription.id, plan_code: plan.code, reason, expires_at: iso(subscription.expires_at) },
        });
        return { subscriptionId: subscription.id, taskId };
      });
      const row = await subscriptionsQuery(db).where('s.id', '=', out.subscriptionId).executeTakeFirstOrThrow();
      return c.json({ subscription: subscriptionView(row), task_id: out.taskId }, 201);
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/api/core/subscribers/{id}/extend',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Extend the plan in force by a number of days, with the reason in the audit log',
      request: {
        params: SubscriberParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                days: z.number().int().min(1).max(366),
                reason: Reason,
              }),
            },
          },
        },
      },
      responses: {
        200: json(z.object({ subscription: SubscriptionView, task_id: z.string().nullable() }), 'Extended'),
        404: problem('No such subscriber (or not yours)'),
        409: problem('No plan in force to extend (grant one instead)'),
      },
    }),
    async (c) => {
      const db = dbOf(c);
      const principal = c.get('principal') as Principal;
      const { days, reason } = c.req.valid('json');
      const sub = await findSubscriber(db, c.req.valid('param').id);
      const out = await db.transaction().execute(async (trx) => {
        const active = await findActivePlan(trx, sub.id);
        if (!active) throw httpErrors.conflict('no_active_plan', `subscriber ${sub.subscriber_ref} has no plan in force; grant one instead`);
        // Row lock: two extensions at once add up instead of one overwriting the other.
        const locked = await trx
          .selectFrom('subscriptions')
          .select(['id', 'expires_at'])
          .where('id', '=', active.subscription.id)
          .forUpdate()
          .executeTakeFirstOrThrow();
        const expiresAt = new Date(new Date(locked.expires_at).getTime() + days * 86_400_000);
        await trx.updateTable('subscriptions').set({ expires_at: expiresAt }).where('id', '=', locked.id).execute();
        const taskId = await deps.tasks.enqueue(nasPolicyChange, { subscriberId: sub.id, reason: 'plan_activated', subscriptionId: locked.id }, { trx });
        await writeAudit(trx, principal, {
          action: 'subscription.extend',
          targetType: 'subscriber',
          targetId: sub.id,
          resellerId: sub.reseller_id,
          details: { subscription_id: locked.id, days, reason, expires_at_before: iso(locked.expires_at), expires_at: expiresAt.toISOString() },
        });
        return { subscriptionId: locked.id, taskId };
      });
      const row = await subscriptionsQuery(db).where('s.id', '=', out.subscriptionId).executeTakeFirstOrThrow();
      return c.json({ subscription: subscriptionView(row), task_id: out.taskId }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/api/core/tasks/{id}',
      access: ['noc', 'reseller'],
      tags,
      summary:
        'A background task started by an action (disconnect, plan grant): pending, running, done or dead. A reseller sees the tasks about its own subscribers',
      request: { params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'a task id') }) },
      responses: { 200: json(TaskView, 'Task'), 404: problem('No such task (or not about your subscribers)') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal') as Principal;
      // core_tasks is not reseller-owned (it is machinery): read it unscoped, then check the subscriber by hand.
      const row = await deps.db.selectFrom('core_tasks').selectAll().where('id', '=', id).executeTakeFirst();
      const notFound = httpErrors.notFound('task_not_found', `no task ${id}`);
      if (!row) throw notFound;
      if (principal.role === 'reseller') {
        const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { subscriberId?: unknown } | null;
        const subscriberId = typeof payload?.subscriberId === 'string' && UUID.test(payload.subscriberId) ? payload.subscriberId : null;
        if (!subscriberId) throw notFound;
        const mine = await dbOf(c).selectFrom('subscribers').select('id').where('id', '=', subscriberId).executeTakeFirst();
        if (!mine) throw notFound;
      }
      // Handlers record their outcome in the audit log with the task id (the CoA/Disconnect result per session).
      const audit = await dbOf(c)
        .selectFrom('audit_log')
        .select(['id', 'at', 'action', 'details'])
        .where(sql<string>`details->>'task_id'`, '=', String(row.id))
        .orderBy('id')
        .limit(200)
        .execute();
      return c.json(
        {
          id: String(row.id),
          name: row.name,
          status: row.status,
          attempts: Number(row.attempts),
          max_attempts: Number(row.max_attempts),
          last_error: row.last_error,
          created_at: iso(row.created_at) as string,
          run_at: iso(row.run_at) as string,
          finished_at: iso(row.finished_at),
          audit: audit.map((e) => ({
            id: Number(e.id),
            at: iso(e.at) as string,
            action: e.action,
            details: (typeof e.details === 'string' ? JSON.parse(e.details) : e.details) as Record<string, unknown>,
          })),
        },
        200,
      );
    },
  );
}
