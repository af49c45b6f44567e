/**
 * HTTP: the Alertmanager receiver (`POST /hooks/alertmanager`, bearer token) and the NOC API under
 * `/api/<name>` (list, get with timeline, acknowledge, comment, resolve; NOC tokens only).
 */
import { type AuditInput, defineRoute, httpErrors, type IncidentPriority, type Logger, type PluginRouter, type Principal, RgzError, z } from '@rgz/core';
import { bearerMatches, payloadSchema } from './alertmanager.js';
import { type IncidentsConfig, PRIORITIES } from './config.js';
import type { IncidentsMetrics } from './metrics.js';
import type { IncidentRow, IncidentService, NotificationRow, TimelineRow } from './service.js';

export interface RouteDeps {
  name: string;
  config: IncidentsConfig;
  service: IncidentService;
  metrics: IncidentsMetrics;
  log: Logger;
  audit(actor: Principal | null, entry: AuditInput): Promise<void>;
}

const Priority = z.enum(PRIORITIES);
const Status = z.enum(['open', 'acknowledged', 'resolved']);

const Incident = z
  .object({
    id: z.uuid(),
    number: z.number().int().openapi({ description: 'Short reference used in SMS and e-mails (#12)' }),
    title: z.string(),
    summary: z.string().nullable(),
    description: z.string().nullable(),
    priority: Priority,
    status: Status,
    source: z.enum(['alertmanager', 'sink']),
    alertname: z.string().nullable(),
    severity: z.string().nullable(),
    fingerprint: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()),
    generatorUrl: z.string().nullable(),
    externalId: z.string().nullable(),
    openedAt: z.string(),
    lastSeenAt: z.string(),
    occurrences: z.number().int(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    escalationLevel: z.number().int(),
    nextEscalationAt: z.string().nullable(),
  })
  .openapi('Incident');

const TimelineEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    kind: z.string(),
    actor: z.string(),
    priority: Priority,
    eventId: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('IncidentTimelineEntry');

const NotificationEntry = z
  .object({
    id: z.number().int(),
    reason: z.enum(['opened', 'escalated', 'resolved']),
    level: z.number().int(),
    channel: z.string(),
    recipient: z.string(),
    status: z.enum(['pending', 'sent', 'failed', 'ambiguous', 'skipped']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    sentAt: z.string().nullable(),
  })
  .openapi('IncidentNotification');

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function incidentJson(r: IncidentRow): z.infer<typeof Incident> {
  return {
    id: r.id,
    number: Number(r.number),
    title: r.title,
    summary: r.summary,
    description: r.description,
    priority: r.priority,
    status: r.status,
    source: r.source,
    alertname: r.alertname,
    severity: r.severity,
    fingerprint: r.fingerprint,
    labels: r.labels,
    annotations: r.annotations,
    generatorUrl: r.generator_url,
    externalId: r.external_id,
    openedAt: iso(r.opened_at) as string,
    lastSeenAt: iso(r.last_seen_at) as string,
    occurrences: r.occurrences,
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    escalationLevel: r.escalation_level,
    nextEscalationAt: iso(r.next_escalation_at),
  };
}

const timelineJson = (t: TimelineRow): z.infer<typeof TimelineEntry> => ({
  id: Number(t.id),
  at: iso(t.at) as string,
  kind: t.kind,
  actor: t.actor,
  priority: t.priority,
  eventId: t.event_id,
  detail: t.detail,
});

const notificationJson = (n: NotificationRow): z.infer<typeof NotificationEntry> => ({
  id: Number(n.id),
  reason: n.reason,
  level: n.level,
  channel: n.channel,
  recipient: n.recipient,
  status: n.status,
  attempts: n.attempts,
  lastError: n.last_error,
  createdAt: iso(n.created_at) as string,
  sentAt: iso(n.sent_at),
});

const Ref = z.object({ id: z.string().min(1).max(64).openapi({ description: 'Incident uuid, or its number (12 or #12)', example: '12' }) });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const ActionBody = z.object({ comment: z.string().trim().min(1).max(2000).optional() });
const optionalBody = { content: { 'application/json': { schema: ActionBody } }, required: false };

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

/** `POST /hooks/alertmanager`. */
export function registerWebhook(router: PluginRouter, deps: RouteDeps): void {
  const { service, metrics, config } = deps;
  router.raw(
    {
      method: 'post',
      path: '/alertmanager',
      access: 'public',
      summary: 'Alertmanager webhook receiver (payload version 4, Authorization: Bearer <webhookToken>): opens, updates and resolves incidents',
      tags: [deps.name],
    },
    async (c) => {
      if (!bearerMatches(c.req.header('authorization'), config.webhookToken)) {
        metrics.webhooks.inc({ outcome: 'unauthenticated' });
        c.header('www-authenticate', 'Bearer realm="rgz-alertmanager"');
        throw httpErrors.unauthorized('Alertmanager must send Authorization: Bearer <the incidents plugin webhookToken> (http_config.authorization)');
      }
      const text = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        metrics.webhooks.inc({ outcome: 'malformed' });
        throw httpErrors.badRequest('alertmanager_payload_malformed', 'The body is not JSON');
      }
      const parsed = payloadSchema.safeParse(body);
      if (!parsed.success) {
        metrics.webhooks.inc({ outcome: 'malformed' });
        const issues = parsed.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message, code: i.code }));
        throw httpErrors.badRequest('alertmanager_payload_invalid', `Invalid Alertmanager payload: ${issues[0]?.path}: ${issues[0]?.message}`, { issues });
      }
      const payload = parsed.data;
      try {
        const incidents = await withTimeout(service.receive(payload), config.degraded.storageTimeout);
        metrics.webhooks.inc({ outcome: 'accepted' });
        return c.json({ received: payload.alerts.length, truncated: payload.truncatedAlerts, incidents }, 200);
      } catch (err) {
        if (err instanceof RgzError && err.status < 500) throw err;
        metrics.webhooks.inc({ outcome: 'unavailable' });
        deps.log.error({ err, alerts: payload.alerts.length, group_key: payload.groupKey }, 'alert not recorded: storage unavailable');
        await service.pageWithoutDatabase(payload, 15_000).catch((e: unknown) => deps.log.error({ err: e }, 'direct paging failed'));
        throw httpErrors.unavailable(
          'incidents_unavailable',
          'Incidents cannot be recorded now (database unreachable); the page went out directly and Alertmanager will retry',
        );
      }
    },
  );
}

/** The NOC API. */
export function registerApi(router: PluginRouter, deps: RouteDeps): void {
  const { service } = deps;
  const tags = [deps.name];
  const actor = (p: Principal | null) => p?.name ?? 'unknown';
  const get = async (ref: string) => {
    const row = await service.find(ref);
    if (!row) throw httpErrors.notFound('incident_not_found', `no incident "${ref}"`);
    return row;
  };

  router.add(
    defineRoute({
      method: 'get',
      path: '/',
      access: ['noc'],
      tags,
      summary: 'Incidents, newest first, filtered by status (active = open or acknowledged) and priority',
      request: {
        query: z.object({
          status: z.enum(['open', 'acknowledged', 'resolved', 'active']).optional(),
          priority: Priority.optional(),
          before: z.coerce.number().int().positive().optional().openapi({ description: 'Only incidents numbered below this (the previous page’s `next`)' }),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(Incident), next: z.number().int().nullable() }), 'Incidents') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await service.list({
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.priority ? { priority: q.priority as IncidentPriority } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      const last = rows.at(-1);
      return c.json({ items: rows.map(incidentJson), next: rows.length === q.limit && last ? Number(last.number) : null }, 200);
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/{id}',
      access: ['noc'],
      tags,
      summary: 'One incident with its timeline and notifications',
      request: { params: Ref },
      responses: {
        200: json(z.object({ incident: Incident, timeline: z.array(TimelineEntry), notifications: z.array(NotificationEntry) }), 'The incident'),
        404: { description: 'No such incident' },
      },
    }),
    async (c) => {
      const row = await get(c.req.valid('param').id);
      const [timeline, notifications] = await Promise.all([service.timeline(row.id), service.notifications(row.id)]);
      return c.json({ incident: incidentJson(row), timeline: timeline.map(timelineJson), notifications: notifications.map(notificationJson) }, 200);
    },
  );

  const action = (
    path: string,
    summary: string,
    run: (ref: string, by: string, comment?: string) => Promise<{ incident: IncidentRow; changed: boolean }>,
    verb: string,
  ) =>
    router.add(
      defineRoute({
        method: 'post',
        path,
        access: ['noc'],
        tags,
        summary,
        request: { params: Ref, body: optionalBody },
        responses: {
          200: json(z.object({ incident: Incident, changed: z.boolean() }), 'The incident after the action (changed: false when it was already in that state)'),
          404: { description: 'No such incident' },
          409: { description: 'Not possible in the incident’s state' },
        },
      }),
      async (c) => {
        const principal = c.get('principal');
        const body = ((c.req.valid as (t: 'json') => unknown)('json') ?? {}) as z.infer<typeof ActionBody>;
        const result = await run(c.req.valid('param').id, actor(principal), body.comment);
        if (result.changed) {
          await deps.audit(principal, {
            action: `incident.${verb}`,
            targetType: 'incident',
            targetId: result.incident.id,
            details: { number: Number(result.incident.number), ...(body.comment ? { comment: body.comment } : {}) },
          });
        }
        return c.json({ incident: incidentJson(result.incident), changed: result.changed }, 200);
      },
    );

  action(
    '/{id}/acknowledge',
    'Acknowledge: stops the escalation (acknowledging again changes nothing)',
    (ref, by, comment) => service.acknowledge(ref, by, comment),
    'acknowledge',
  );
  action('/{id}/resolve', 'Resolve by hand (resolving again changes nothing)', (ref, by, comment) => service.resolve(ref, by, comment), 'resolve');

  router.add(
    defineRoute({
      method: 'post',
      path: '/{id}/comments',
      access: ['noc'],
      tags,
      summary: 'Add a comment to the timeline',
      request: { params: Ref, body: { content: { 'application/json': { schema: z.object({ text: z.string().trim().min(1).max(2000) }) } }, required: true } },
      responses: { 201: json(TimelineEntry, 'The timeline entry'), 404: { description: 'No such incident' } },
    }),
    async (c) => {
      const entry = await service.comment(c.req.valid('param').id, actor(c.get('principal')), c.req.valid('json').text);
      return c.json(timelineJson(entry), 201);
    },
  );
}
