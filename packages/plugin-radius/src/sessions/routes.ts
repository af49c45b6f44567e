/**
 * `GET /api/radius/sessions`, `GET /api/radius/sessions/summary`, `POST /api/radius/sessions/{id}/disconnect`: the
 * accounting sessions over HTTP for the operator console (who is online, bytes, NAS, times) and the admin
 * disconnect. Reads go through the caller's scoped handle (radius_sessions is reseller-owned through its subscriber,
 * so a reseller sees its own subscribers' sessions and never a session without a subscriber).
 */

import {
  defineRoute,
  httpErrors,
  type Kysely,
  nasPolicyChange,
  type PluginRouter,
  type Principal,
  problemContent as problem,
  type TaskQueue,
  z,
} from '@rgz/core';
import type { RadiusDatabase } from '../schema.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const sessionOut = z
  .object({
    id: z.string(),
    subscriber_id: z.string().nullable(),
    subscriber_ref: z.string().nullable(),
    nas_id: z.string(),
    nas_identifier: z.string().nullable(),
    nas_ip_address: z.string().nullable(),
    mac_address: z.string().nullable(),
    framed_ip: z.string().nullable(),
    upload_bytes: z.number().openapi({ description: 'Acct-Input: bytes from the subscriber' }),
    download_bytes: z.number().openapi({ description: 'Acct-Output: bytes to the subscriber' }),
    session_time: z.number().int().openapi({ description: 'Seconds, as the NAS last reported' }),
    session_start: z.string(),
    session_stop: z.string().nullable().openapi({ description: 'null: still open' }),
    last_update: z.string(),
    last_status: z.string(),
    terminate_cause: z.string().nullable(),
  })
  .openapi('RadiusSession');

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export interface SessionRoutesDeps {
  tasks: TaskQueue;
  audit(
    actor: Principal | null,
    entry: { action: string; targetType: string; targetId: string; resellerId: string | null; details: Record<string, unknown> },
  ): Promise<void>;
}

export function registerSessionRoutes(router: PluginRouter, deps: SessionRoutesDeps): void {
  const tags = ['radius'];
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<RadiusDatabase>;

  const select = (db: Kysely<RadiusDatabase>) =>
    db
      .selectFrom('radius_sessions as rs')
      .leftJoin('subscribers as sub', 'sub.id', 'rs.subscriber_id')
      .select([
        'rs.id',
        'rs.subscriber_id',
        'sub.subscriber_ref',
        'rs.nas_id',
        'rs.nas_identifier',
        'rs.nas_ip_address',
        'rs.mac_address',
        'rs.framed_ip',
        'rs.bytes_in',
        'rs.bytes_out',
        'rs.session_time',
        'rs.session_start',
        'rs.session_stop',
        'rs.last_update',
        'rs.last_status',
        'rs.terminate_cause',
      ]);
  type Row = Awaited<ReturnType<ReturnType<typeof select>['execute']>>[number];
  const out = (r: Row): z.infer<typeof sessionOut> => ({
    id: String(r.id),
    subscriber_id: r.subscriber_id,
    subscriber_ref: r.subscriber_ref ?? null,
    nas_id: r.nas_id,
    nas_identifier: r.nas_identifier,
    nas_ip_address: r.nas_ip_address,
    mac_address: r.mac_address,
    framed_ip: r.framed_ip,
    upload_bytes: Number(r.bytes_in),
    download_bytes: Number(r.bytes_out),
    session_time: Number(r.session_time),
    session_start: iso(r.session_start) as string,
    session_stop: iso(r.session_stop),
    last_update: iso(r.last_update) as string,
    last_status: r.last_status,
    terminate_cause: r.terminate_cause,
  });

  router.add(
    defineRoute({
      method: 'get',
      path: '/sessions',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Accounting sessions, newest first (a reseller sees its own subscribers’); page with `before` = the previous page’s `next`',
      request: {
        query: z.object({
          subscriber_id: z.uuid().optional(),
          open: flag.optional().openapi({ description: 'true: only open sessions (online now); false: only closed ones' }),
          nas_id: z.string().min(1).max(300).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(sessionOut), next: z.string().nullable() }), 'Sessions') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let query = select(dbOf(c)).orderBy('rs.id', 'desc').limit(q.limit);
      if (q.subscriber_id) query = query.where('rs.subscriber_id', '=', q.subscriber_id);
      if (q.open !== undefined) query = query.where('rs.session_stop', q.open ? 'is' : 'is not', null);
      if (q.nas_id) query = query.where('rs.nas_id', '=', q.nas_id);
      if (q.before) query = query.where('rs.id', '<', q.before);
      const rows = await query.execute();
      const last = rows.at(-1);
      return c.json({ items: rows.map(out), next: rows.length === q.limit && last ? String(last.id) : null }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/sessions/summary',
      access: ['noc', 'reseller'],
      tags,
      summary: 'Who is online now: open sessions and distinct subscribers, in total and per NAS (a reseller counts its own)',
      responses: {
        200: json(
          z.object({
            online_subscribers: z.number().int(),
            open_sessions: z.number().int(),
            by_nas: z.array(
              z.object({ nas_id: z.string(), nas_identifier: z.string().nullable(), online_subscribers: z.number().int(), open_sessions: z.number().int() }),
            ),
          }),
          'Summary',
        ),
      },
    }),
    async (c) => {
      const rows = await dbOf(c)
        .selectFrom('radius_sessions as rs')
        .select((eb) => [
          'rs.nas_id',
          eb.fn.max('rs.nas_identifier').as('nas_identifier'),
          eb.fn.countAll<string>().as('open_sessions'),
          eb.fn.count<string>('rs.subscriber_id').distinct().as('online_subscribers'),
        ])
        .where('rs.session_stop', 'is', null)
        .groupBy('rs.nas_id')
        .orderBy('rs.nas_id')
        .execute();
      const total = await dbOf(c)
        .selectFrom('radius_sessions as rs')
        .select((eb) => [eb.fn.countAll<string>().as('open_sessions'), eb.fn.count<string>('rs.subscriber_id').distinct().as('online_subscribers')])
        .where('rs.session_stop', 'is', null)
        .executeTakeFirstOrThrow();
      return c.json(
        {
          online_subscribers: Number(total.online_subscribers),
          open_sessions: Number(total.open_sessions),
          by_nas: rows.map((r) => ({
            nas_id: r.nas_id,
            nas_identifier: r.nas_identifier ?? null,
            online_subscribers: Number(r.online_subscribers),
            open_sessions: Number(r.open_sessions),
          })),
        },
        200,
      );
    },
  );

  router.add(
    defineRoute({
      method: 'post',
      path: '/sessions/{id}/disconnect',
      access: ['noc', 'reseller'],
      tags,
      summary:
        'Disconnect now: a Disconnect-Request to the NAS for every open session of this session’s subscriber (the nas.policy-change task); poll GET /api/core/tasks/{task_id}',
      request: {
        params: z.object({ id: z.string().regex(/^\d{1,18}$/, 'a session id') }),
        body: { required: false, content: { 'application/json': { schema: z.object({ reason: z.string().trim().max(500).optional() }) } } },
      },
      responses: {
        202: json(z.object({ task_id: z.string(), subscriber_id: z.string() }), 'Disconnect queued'),
        404: problem('No such session (or not one of your subscribers’)'),
        409: problem('The session is closed already, or has no known subscriber'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      let reason: string | undefined;
      if (c.req.header('content-type')?.includes('application/json')) {
        const parsed = z.object({ reason: z.string().trim().max(500).optional() }).safeParse(await c.req.json().catch(() => ({})));
        if (!parsed.success) throw httpErrors.badRequest('validation_failed', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        reason = parsed.data.reason;
      }
      const db = dbOf(c);
      const session = await select(db).where('rs.id', '=', Number(id)).executeTakeFirst();
      if (!session) throw httpErrors.notFound('session_not_found', `no session ${id}`);
      if (session.session_stop !== null) throw httpErrors.conflict('session_closed', `session ${id} ended at ${iso(session.session_stop)}`);
      if (!session.subscriber_id) throw httpErrors.conflict('session_without_subscriber', `session ${id} has no known subscriber to disconnect`);
      const subscriberId = session.subscriber_id;
      const sub = await db.selectFrom('subscribers').select('reseller_id').where('id', '=', subscriberId).executeTakeFirstOrThrow();
      const taskId = (await deps.tasks.enqueue(nasPolicyChange, { subscriberId, reason: 'admin_disconnect' })) as string;
      await deps.audit(c.get('principal'), {
        action: 'radius.session.disconnect',
        targetType: 'subscriber',
        targetId: subscriberId,
        resellerId: sub.reseller_id,
        details: { session_id: id, task_id: taskId, nas_id: session.nas_id, ...(reason ? { reason } : {}) },
      });
      return c.json({ task_id: taskId, subscriber_id: subscriberId }, 202);
    },
  );
}
