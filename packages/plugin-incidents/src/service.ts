/**
 * The incidents domain: open / update / resolve incidents from alerts and from other plugins (IncidentSink), the
 * timeline, the notification outbox (rows + tasks in the same transaction), escalation, and the NOC actions.
 * Every state change and the work it triggers commit together, so a crash never leaves an incident without its
 * notifications, and a retried task or redelivered alert never does the work twice.
 */
import {
  httpErrors,
  type IncidentEvent,
  type IncidentEventType,
  type IncidentPriority,
  type IncidentSink,
  IncidentSinkError,
  type IncidentSnapshot,
  type Kysely,
  type Logger,
  type Notification,
  type NotificationChannel,
  NotificationError,
  type NotificationRecipient,
  RgzError,
  sql,
  type TaskContext,
  type TaskQueue,
  type TaskType,
  type Transaction,
} from '@rgz/core';
import { type AlertmanagerAlert, type AlertmanagerPayload, isZeroTime } from './alertmanager.js';
import { type IncidentsConfig, type Policy, priorityFor, type Target } from './config.js';
import type { IncidentsMetrics } from './metrics.js';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';
export type TimelineKind = 'opened' | 'escalated' | 'acknowledged' | 'resolved' | 'commented' | 'notified' | 'notification_failed' | 'priority_changed';
export type NotificationReason = 'opened' | 'escalated' | 'resolved';

export interface IncidentRow {
  id: string;
  number: number;
  dedup_key: string;
  source: 'alertmanager' | 'sink';
  title: string;
  summary: string | null;
  description: string | null;
  priority: IncidentPriority;
  status: IncidentStatus;
  alertname: string | null;
  severity: string | null;
  fingerprint: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generator_url: string | null;
  external_id: string | null;
  alert_starts_at: Date | null;
  opened_at: Date;
  last_seen_at: Date;
  occurrences: number;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  escalation_level: number;
  escalation_count: number;
  next_escalation_at: Date | null;
  updated_at: Date;
}

export interface TimelineRow {
  id: number;
  incident_id: string;
  at: Date;
  kind: TimelineKind;
  actor: string;
  priority: IncidentPriority;
  event_id: string | null;
  detail: Record<string, unknown>;
}

export interface NotificationRow {
  id: number;
  incident_id: string;
  reason: NotificationReason;
  step: number;
  level: number;
  channel: string;
  recipient: string;
  status: 'pending' | 'sent' | 'failed' | 'ambiguous' | 'skipped';
  attempts: number;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface AlertOutcome {
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  action: 'opened' | 'updated' | 'resolved' | 'ignored';
  incidentId?: string;
  number?: number;
  priority?: IncidentPriority;
}

export interface NotifyTask {
  notificationId: number;
}
export interface ForwardTask {
  sink: string;
  timelineId: number;
}

export interface ServiceDeps {
  db: Kysely<any>;
  config: IncidentsConfig;
  log: Logger;
  tasks: TaskQueue;
  metrics: IncidentsMetrics;
  notifyTask: TaskType<NotifyTask>;
  forwardTask: TaskType<ForwardTask>;
  channels: () => ReadonlyMap<string, NotificationChannel>;
  sinks: () => ReadonlyMap<string, IncidentSink>;
}

type Db = Kysely<any> | Transaction<any>;

const LIFECYCLE: readonly TimelineKind[] = ['opened', 'escalated', 'acknowledged', 'resolved'];
const SEVERITY_OF: Record<IncidentPriority, Notification['severity']> = { P0: 'critical', P1: 'critical', P2: 'warning' };
const RANK: Record<IncidentPriority, number> = { P0: 0, P1: 1, P2: 2 };

/** `+229…` → phone, `a@b` → e-mail, `#room` → chat, `''` → the channel's default endpoint. */
export function toRecipient(to: string): NotificationRecipient {
  if (to === '') return { kind: 'default' };
  if (to.startsWith('+')) return { kind: 'phone', phone: to };
  if (to.startsWith('#')) return { kind: 'chat', room: to };
  return { kind: 'email', address: to };
}

/** Every (channel, recipient) pair of a list of targets, in order, without repeats. */
export function expandTargets(targets: readonly Target[]): Array<{ channel: string; recipient: string }> {
  const out: Array<{ channel: string; recipient: string }> = [];
  const seen = new Set<string>();
  for (const t of targets) {
    for (const r of t.to.length ? t.to : ['']) {
      const key = `${t.channel}|${r}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ channel: t.channel, recipient: r });
    }
  }
  return out;
}

export class IncidentService {
  /** Pages sent directly while the database was unreachable, by alert fingerprint (this replica only). */
  private readonly degradedPages = new Map<string, { at: number; sent: Set<string> }>();

  constructor(private readonly deps: ServiceDeps) {}

  private get db(): Kysely<any> {
    return this.deps.db;
  }

  policy(priority: IncidentPriority): Policy {
    return this.deps.config.policies[priority];
  }

  // --- Alertmanager ---------------------------------------------------------------------------------------------

  /** Apply one webhook payload, alert by alert (each in its own transaction: a redelivery is harmless). */
  async receive(payload: AlertmanagerPayload): Promise<AlertOutcome[]> {
    const out: AlertOutcome[] = [];
    for (const alert of payload.alerts) {
      out.push(alert.status === 'firing' ? await this.alertFiring(alert, payload) : await this.alertResolved(alert));
    }
    return out;
  }

  private async alertFiring(alert: AlertmanagerAlert, payload: AlertmanagerPayload): Promise<AlertOutcome> {
    const key = `am:${alert.fingerprint}`;
    const alertname = alert.labels.alertname ?? 'unknown';
    const base = { fingerprint: alert.fingerprint, alertname, status: 'firing' as const };
    const startsAt = new Date(alert.startsAt);
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.db.transaction().execute(async (trx): Promise<AlertOutcome | null> => {
        const existing = await this.activeByKey(trx, key, true);
        if (existing) {
          const row = await one<IncidentRow>(
            trx,
            sql`update incidents_incidents set last_seen_at = now(), occurrences = occurrences + 1, annotations = ${JSON.stringify(alert.annotations)}::jsonb,
                  generator_url = coalesce(nullif(${alert.generatorURL}, ''), generator_url), updated_at = now()
                where id = ${existing.id} returning *`,
          );
          return { ...base, action: 'updated', incidentId: row.id, number: row.number, priority: row.priority };
        }
        // The same firing episode, already resolved here (a late redelivery, or resolved by hand): do not reopen.
        const stale =
          await sql`select 1 from incidents_incidents where dedup_key = ${key} and status = 'resolved' and alert_starts_at = ${startsAt} limit 1`.execute(trx);
        if (stale.rows.length) return { ...base, action: 'ignored' };
        const priority = priorityFor(alert.labels, this.deps.config);
        const summary = alert.annotations.summary ?? payload.commonAnnotations.summary ?? null;
        const title = `${alertname}${summary ? ` — ${summary}` : ''}`.slice(0, 300);
        const inserted = await sql<IncidentRow>`
          insert into incidents_incidents (dedup_key, source, title, summary, description, priority, alertname, severity, fingerprint, labels, annotations,
            generator_url, alert_starts_at, opened_at, last_seen_at)
          values (${key}, 'alertmanager', ${title}, ${summary}, ${alert.annotations.description ?? null}, ${priority}, ${alertname}, ${alert.labels.severity ?? null},
            ${alert.fingerprint}, ${JSON.stringify(alert.labels)}::jsonb, ${JSON.stringify(alert.annotations)}::jsonb, ${alert.generatorURL || null}, ${startsAt}, now(), now())
          on conflict (dedup_key) where status <> 'resolved' do nothing
          returning *`.execute(trx);
        const incident = inserted.rows[0];
        if (!incident) return null; // opened concurrently by another replica: take the update path
        await this.opened(trx, incident, 'alertmanager', {
          fingerprint: alert.fingerprint,
          labels: alert.labels,
          startsAt: alert.startsAt,
          groupKey: payload.groupKey,
          receiver: payload.receiver,
        });
        return { ...base, action: 'opened', incidentId: incident.id, number: incident.number, priority };
      });
      if (result) return result;
    }
    throw new RgzError('incident_conflict', `could not open or update the incident of alert ${alert.fingerprint}`);
  }

  private async alertResolved(alert: AlertmanagerAlert): Promise<AlertOutcome> {
    const alertname = alert.labels.alertname ?? 'unknown';
    const base = { fingerprint: alert.fingerprint, alertname, status: 'resolved' as const };
    const at = isZeroTime(alert.endsAt) ? new Date() : new Date(alert.endsAt);
    return this.db.transaction().execute(async (trx) => {
      const incident = await this.activeByKey(trx, `am:${alert.fingerprint}`, true);
      if (!incident) return { ...base, action: 'ignored' as const };
      const resolved = await this.resolveRow(trx, incident, 'alertmanager', at, { endsAt: alert.endsAt });
      return { ...base, action: 'resolved' as const, incidentId: resolved.id, number: resolved.number, priority: resolved.priority };
    });
  }

  // --- Lifecycle steps (inside a transaction) --------------------------------------------------------------------

  /** After the insert: timeline, opening notifications, first escalation deadline. */
  private async opened(trx: Transaction<any>, incident: IncidentRow, actor: string, detail: Record<string, unknown>, eventId?: string): Promise<void> {
    this.deps.metrics.opened.inc({ priority: incident.priority });
    await this.addTimeline(trx, incident, 'opened', actor, detail, eventId);
    const policy = this.policy(incident.priority);
    const first = policy.escalation[0];
    if (first) {
      await sql`update incidents_incidents set next_escalation_at = now() + make_interval(secs => ${first.after / 1000}) where id = ${incident.id}`.execute(
        trx,
      );
    }
    await this.enqueueNotifications(trx, incident, 'opened', 0, 0, policy.notify);
    this.deps.log.warn({ incident: incident.number, incident_id: incident.id, priority: incident.priority, title: incident.title }, 'incident opened');
  }

  private async resolveRow(
    trx: Transaction<any>,
    incident: IncidentRow,
    by: string,
    at: Date,
    detail: Record<string, unknown>,
    eventId?: string,
  ): Promise<IncidentRow> {
    const row = await one<IncidentRow>(
      trx,
      sql`update incidents_incidents set status = 'resolved', resolved_at = ${at}, resolved_by = ${by}, next_escalation_at = null, updated_at = now()
          where id = ${incident.id} returning *`,
    );
    await this.addTimeline(trx, row, 'resolved', by, detail, eventId);
    const policy = this.policy(row.priority);
    if (policy.notifyResolved) {
      const paged = [...policy.notify, ...policy.escalation.slice(0, row.escalation_level).flatMap((l) => l.notify)];
      await this.enqueueNotifications(trx, row, 'resolved', 0, row.escalation_level, paged);
    }
    this.deps.log.info({ incident: row.number, incident_id: row.id, by }, 'incident resolved');
    return row;
  }

  private async ackRow(trx: Transaction<any>, incident: IncidentRow, by: string, detail: Record<string, unknown>, eventId?: string): Promise<IncidentRow> {
    const row = await one<IncidentRow>(
      trx,
      sql`update incidents_incidents set status = 'acknowledged', acknowledged_at = now(), acknowledged_by = ${by}, next_escalation_at = null, updated_at = now()
          where id = ${incident.id} returning *`,
    );
    await this.addTimeline(trx, row, 'acknowledged', by, detail, eventId);
    this.deps.log.info({ incident: row.number, incident_id: row.id, by }, 'incident acknowledged');
    return row;
  }

  /** Append to the timeline; lifecycle steps of our own incidents are also forwarded to the other IncidentSinks. */
  private async addTimeline(
    trx: Db,
    incident: IncidentRow,
    kind: TimelineKind,
    actor: string,
    detail: Record<string, unknown>,
    eventId?: string,
  ): Promise<TimelineRow> {
    const row = await one<TimelineRow>(
      trx,
      sql`insert into incidents_timeline (incident_id, kind, actor, priority, event_id, detail)
          values (${incident.id}, ${kind}, ${actor}, ${incident.priority}, ${eventId ?? null}, ${JSON.stringify(detail)}::jsonb) returning *`,
    );
    // Incidents opened through our sink were fanned out by their caller already (billing notifies every sink).
    if (LIFECYCLE.includes(kind) && incident.source !== 'sink') {
      for (const sink of this.deps.sinks().values()) {
        if (sink.id === this.deps.config.sinkId || !sink.accepts.includes(kind as IncidentEventType)) continue;
        await this.deps.tasks.enqueue(
          this.deps.forwardTask,
          { sink: sink.id, timelineId: row.id },
          { trx, dedupeKey: `incidents.forward:${sink.id}:${row.id}` },
        );
      }
    }
    return row;
  }

  /** One notification row per (channel, recipient) and one task each; a pair already recorded for this step is skipped. */
  private async enqueueNotifications(
    trx: Transaction<any>,
    incident: IncidentRow,
    reason: NotificationReason,
    step: number,
    level: number,
    targets: readonly Target[],
  ): Promise<void> {
    const degraded = reason === 'opened' && incident.fingerprint ? this.degradedPages.get(incident.fingerprint) : undefined;
    for (const { channel, recipient } of expandTargets(targets)) {
      const alreadySent = degraded?.sent.has(`${channel}|${recipient}`) ?? false;
      const inserted = await sql<{ id: number }>`
        insert into incidents_notifications (incident_id, reason, step, level, channel, recipient, status, attempts, sent_at)
        values (${incident.id}, ${reason}, ${step}, ${level}, ${channel}, ${recipient}, ${alreadySent ? 'sent' : 'pending'}, ${alreadySent ? 1 : 0}, ${alreadySent ? new Date() : null})
        on conflict do nothing returning id`.execute(trx);
      const id = inserted.rows[0]?.id;
      if (id === undefined) continue;
      if (alreadySent) {
        await this.addTimeline(trx, incident, 'notified', 'system', { channel, recipient, reason, level, degraded: true });
        continue;
      }
      await this.deps.tasks.enqueue(this.deps.notifyTask, { notificationId: id }, { trx, dedupeKey: `incidents.notify:${id}` });
    }
    if (degraded && incident.fingerprint) this.degradedPages.delete(incident.fingerprint);
  }

  private async activeByKey(db: Db, key: string, lock: boolean): Promise<IncidentRow | undefined> {
    const rows = lock
      ? await sql<IncidentRow>`select * from incidents_incidents where dedup_key = ${key} and status <> 'resolved' for update`.execute(db)
      : await sql<IncidentRow>`select * from incidents_incidents where dedup_key = ${key} and status <> 'resolved'`.execute(db);
    return rows.rows[0];
  }

  // --- NOC actions -----------------------------------------------------------------------------------------------

  /** By uuid, or by number (`12` or `#12`, as in the SMS). */
  async find(ref: string, db: Db = this.db, lock = false): Promise<IncidentRow | undefined> {
    const number = /^#?(\d{1,15})$/.exec(ref)?.[1];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
    if (!number && !uuid) return undefined;
    const where = number ? sql`number = ${Number(number)}` : sql`id = ${ref}`;
    const rows = await sql<IncidentRow>`select * from incidents_incidents where ${where} ${lock ? sql`for update` : sql``}`.execute(db);
    return rows.rows[0];
  }

  private async mustFind(trx: Transaction<any>, ref: string): Promise<IncidentRow> {
    const row = await this.find(ref, trx, true);
    if (!row) throw httpErrors.notFound('incident_not_found', `no incident "${ref}"`);
    return row;
  }

  /** Acknowledge: stops the escalation. A second acknowledgement changes nothing. */
  async acknowledge(ref: string, by: string, comment?: string): Promise<{ incident: IncidentRow; changed: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const incident = await this.mustFind(trx, ref);
      if (incident.status === 'acknowledged') return { incident, changed: false };
      if (incident.status === 'resolved') throw httpErrors.conflict('incident_resolved', `incident #${incident.number} is already resolved`);
      const row = await this.ackRow(trx, incident, by, comment ? { comment } : {});
      return { incident: row, changed: true };
    });
  }

  /** Resolve by hand. Resolving a resolved incident changes nothing. */
  async resolve(ref: string, by: string, comment?: string): Promise<{ incident: IncidentRow; changed: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const incident = await this.mustFind(trx, ref);
      if (incident.status === 'resolved') return { incident, changed: false };
      const row = await this.resolveRow(trx, incident, by, new Date(), comment ? { comment } : {});
      return { incident: row, changed: true };
    });
  }

  async comment(ref: string, by: string, text: string): Promise<TimelineRow> {
    return this.db.transaction().execute(async (trx) => {
      const incident = await this.mustFind(trx, ref);
      return this.addTimeline(trx, incident, 'commented', by, { text });
    });
  }

  async list(filter: { status?: IncidentStatus | 'active'; priority?: IncidentPriority; before?: number; limit: number }): Promise<IncidentRow[]> {
    const conditions = [sql`true`];
    if (filter.status === 'active') conditions.push(sql`status <> 'resolved'`);
    else if (filter.status) conditions.push(sql`status = ${filter.status}`);
    if (filter.priority) conditions.push(sql`priority = ${filter.priority}`);
    if (filter.before !== undefined) conditions.push(sql`number < ${filter.before}`);
    const rows =
      await sql<IncidentRow>`select * from incidents_incidents where ${sql.join(conditions, sql` and `)} order by number desc limit ${filter.limit}`.execute(
        this.db,
      );
    return rows.rows;
  }

  async timeline(incidentId: string): Promise<TimelineRow[]> {
    return (await sql<TimelineRow>`select * from incidents_timeline where incident_id = ${incidentId} order by id`.execute(this.db)).rows;
  }

  async notifications(incidentId: string): Promise<NotificationRow[]> {
    return (await sql<NotificationRow>`select * from incidents_notifications where incident_id = ${incidentId} order by id`.execute(this.db)).rows;
  }

  async openCounts(): Promise<Record<IncidentPriority, number>> {
    const rows = await sql<{ priority: IncidentPriority; n: number }>`
      select priority, count(*)::int as n from incidents_incidents where status <> 'resolved' group by priority`.execute(this.db);
    const out: Record<IncidentPriority, number> = { P0: 0, P1: 0, P2: 0 };
    for (const r of rows.rows) out[r.priority] = r.n;
    return out;
  }

  // --- Escalation ------------------------------------------------------------------------------------------------

  /** Escalate every open incident whose deadline passed (the scheduled job; locks rows, so replicas never overlap). */
  async escalateDue(limit = 100): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const due = await sql<IncidentRow>`
        select * from incidents_incidents where status = 'open' and next_escalation_at <= now()
        order by next_escalation_at limit ${limit} for update skip locked`.execute(trx);
      let escalated = 0;
      for (const incident of due.rows) if (await this.escalate(trx, incident)) escalated++;
      return escalated;
    });
  }

  private async escalate(trx: Transaction<any>, incident: IncidentRow): Promise<boolean> {
    const policy = this.policy(incident.priority);
    const levels = policy.escalation;
    const nextLevel = incident.escalation_level + 1;
    let level: number;
    let repeat = false;
    if (nextLevel <= levels.length) level = nextLevel;
    else if (policy.repeatEvery !== undefined && levels.length > 0) {
      level = levels.length;
      repeat = true;
    } else {
      await sql`update incidents_incidents set next_escalation_at = null where id = ${incident.id}`.execute(trx);
      return false;
    }
    const targets = (levels[level - 1] as Policy['escalation'][number]).notify;
    const followUp = levels[level]?.after ?? policy.repeatEvery;
    const row = await one<IncidentRow>(
      trx,
      sql`update incidents_incidents set escalation_level = ${level}, escalation_count = escalation_count + 1, updated_at = now(),
            next_escalation_at = ${followUp === undefined ? null : sql`now() + make_interval(secs => ${followUp / 1000})`}
          where id = ${incident.id} returning *`,
    );
    const notified = expandTargets(targets).map((t) => (t.recipient ? `${t.channel}:${t.recipient}` : t.channel));
    await this.addTimeline(trx, row, 'escalated', 'system', {
      level,
      repeat,
      notified,
      unacknowledgedFor: Math.round((Date.now() - row.opened_at.getTime()) / 1000),
    });
    await this.enqueueNotifications(trx, row, 'escalated', row.escalation_count, level, targets);
    this.deps.metrics.escalations.inc({ priority: row.priority });
    this.deps.log.warn({ incident: row.number, incident_id: row.id, level, repeat }, 'incident escalated: not acknowledged');
    return true;
  }

  // --- Notifications (task handler) ------------------------------------------------------------------------------

  async deliver(task: NotifyTask, ctx: TaskContext): Promise<void> {
    const found = await sql<NotificationRow & { incident: IncidentRow }>`
      select n.*, to_jsonb(i.*) as incident from incidents_notifications n join incidents_incidents i on i.id = n.incident_id where n.id = ${task.notificationId}`.execute(
      this.db,
    );
    const row = found.rows[0];
    if (row?.status !== 'pending') return;
    const incident = reviveIncident(row.incident);
    const count = (outcome: string) => this.deps.metrics.notifications.inc({ channel: row.channel, outcome });
    if (row.reason === 'escalated' && incident.status !== 'open') {
      await this.finishNotification(row, incident, 'skipped', `incident ${incident.status} before this escalation was sent`);
      count('skipped');
      return;
    }
    const channel = this.deps.channels().get(row.channel);
    if (!channel) {
      await this.finishNotification(row, incident, 'failed', `no notification channel "${row.channel}" is loaded`);
      count('failed');
      return;
    }
    const notification = compose(incident, row);
    try {
      const result = await channel.send(notification, { signal: ctx.signal });
      await this.db.transaction().execute(async (trx) => {
        await sql`update incidents_notifications set status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = null,
                    provider_message_id = ${result.providerMessageId ?? null} where id = ${row.id}`.execute(trx);
        await this.addTimeline(trx, incident, 'notified', 'system', {
          channel: row.channel,
          recipient: row.recipient,
          reason: row.reason,
          level: row.level,
          attempt: ctx.attempt,
        });
      });
      count('sent');
    } catch (err) {
      const kind = err instanceof NotificationError ? err.kind : 'retryable';
      const message = err instanceof Error ? err.message : String(err);
      const last = ctx.attempt >= this.deps.config.notifications.maxAttempts;
      if (kind === 'retryable' && !last) {
        await sql`update incidents_notifications set attempts = attempts + 1, last_error = ${message.slice(0, 1000)} where id = ${row.id}`.execute(this.db);
        count('retry');
        throw err;
      }
      // Permanent, out of attempts, or ambiguous (the message may have gone: resending could page twice).
      const status = kind === 'ambiguous' ? 'ambiguous' : 'failed';
      await this.finishNotification(row, incident, status, message, ctx.attempt);
      count(status);
      ctx.log.error({ err, channel: row.channel, incident: incident.number }, 'incident notification not delivered');
    }
  }

  private async finishNotification(
    row: NotificationRow,
    incident: IncidentRow,
    status: 'failed' | 'ambiguous' | 'skipped',
    why: string,
    attempt?: number,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await sql`update incidents_notifications set status = ${status}, attempts = attempts + ${attempt === undefined ? 0 : 1}, last_error = ${why.slice(0, 1000)}
                where id = ${row.id}`.execute(trx);
      if (status !== 'skipped') {
        await this.addTimeline(trx, incident, 'notification_failed', 'system', {
          channel: row.channel,
          recipient: row.recipient,
          reason: row.reason,
          level: row.level,
          status,
          error: why.slice(0, 300),
        });
      }
    });
  }

  // --- Forwarding to other IncidentSinks (task handler) ------------------------------------------------------------

  async forward(task: ForwardTask, ctx: TaskContext): Promise<void> {
    const sink = this.deps.sinks().get(task.sink);
    if (!sink) return;
    const found = await sql<TimelineRow & { incident: IncidentRow }>`
      select t.*, to_jsonb(i.*) as incident from incidents_timeline t join incidents_incidents i on i.id = t.incident_id where t.id = ${task.timelineId}`.execute(
      this.db,
    );
    const row = found.rows[0];
    if (!row) return;
    const incident = reviveIncident(row.incident);
    const snapshot: IncidentSnapshot = {
      ...toSnapshot(incident),
      priority: row.priority,
      status:
        row.kind === 'resolved'
          ? 'resolved'
          : row.kind === 'acknowledged'
            ? 'acknowledged'
            : incident.status === 'resolved' && row.kind !== 'opened'
              ? 'resolved'
              : 'open',
    };
    const common = { eventId: `${this.deps.config.sinkId}:${row.id}`, at: new Date(row.at), incident: snapshot };
    const d = row.detail as { level?: number; notified?: string[] };
    const event: IncidentEvent =
      row.kind === 'escalated'
        ? { ...common, type: 'escalated', level: d.level ?? 1, notified: d.notified ?? [] }
        : row.kind === 'acknowledged'
          ? { ...common, type: 'acknowledged', by: row.actor }
          : row.kind === 'resolved'
            ? { ...common, type: 'resolved', ...(row.actor === 'alertmanager' ? {} : { by: row.actor }) }
            : { ...common, type: 'opened' };
    try {
      await sink.notify(event, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof IncidentSinkError && err.kind === 'permanent') {
        ctx.log.error({ err, sink: sink.id, incident: incident.number }, 'incident sink refused the event');
        return;
      }
      throw err;
    }
  }

  // --- IncidentSink: incidents opened and updated by other plugins -------------------------------------------------

  async applySinkEvent(event: IncidentEvent): Promise<void> {
    if (event.eventId.startsWith(`${this.deps.config.sinkId}:`)) return; // our own forward, come back
    await this.db.transaction().execute(async (trx) => {
      const seen = await sql`select 1 from incidents_timeline where event_id = ${event.eventId}`.execute(trx);
      if (seen.rows.length) return;
      const snap = event.incident;
      const key = `sink:${snap.id}`;
      const actor = `sink:${snap.source}`;
      let incident = await this.activeByKey(trx, key, true);
      const via = { via: 'sink', source: snap.source, externalId: snap.id };
      if (!incident) {
        if (event.type !== 'opened') {
          // A step for an incident we never saw (or already closed): record it as its own incident only if it is live.
          if (event.type === 'resolved') return;
        }
        const inserted = await sql<IncidentRow>`
          insert into incidents_incidents (dedup_key, source, title, summary, priority, alertname, labels, external_id, opened_at, last_seen_at)
          values (${key}, 'sink', ${snap.title.slice(0, 300)}, ${snap.summary ?? null}, ${snap.priority}, ${snap.source}, ${JSON.stringify(snap.labels)}::jsonb,
            ${snap.id}, ${snap.openedAt}, now())
          on conflict (dedup_key) where status <> 'resolved' do nothing returning *`.execute(trx);
        const row = inserted.rows[0];
        if (!row) throw new IncidentSinkError('retryable', `incident ${snap.id} is being opened concurrently; retry`);
        await this.opened(trx, row, actor, { ...via, labels: snap.labels }, event.type === 'opened' ? event.eventId : undefined);
        if (event.type === 'opened') return;
        incident = row;
      }
      switch (event.type) {
        case 'opened':
          await sql`update incidents_incidents set last_seen_at = now(), occurrences = occurrences + 1 where id = ${incident.id}`.execute(trx);
          return;
        case 'escalated': {
          let row = incident;
          if (RANK[snap.priority] < RANK[incident.priority]) {
            row = await one<IncidentRow>(
              trx,
              sql`update incidents_incidents set priority = ${snap.priority}, updated_at = now() where id = ${incident.id} returning *`,
            );
          }
          await this.addTimeline(
            trx,
            row,
            'escalated',
            actor,
            { ...via, level: event.level, notified: event.notified, from: incident.priority },
            event.eventId,
          );
          return;
        }
        case 'acknowledged':
          if (incident.status === 'acknowledged') {
            await this.addTimeline(trx, incident, 'acknowledged', event.by, { ...via, again: true }, event.eventId);
            return;
          }
          await this.ackRow(trx, incident, event.by, via, event.eventId);
          return;
        case 'resolved':
          await this.resolveRow(trx, incident, event.by ?? actor, event.at, via, event.eventId);
          return;
      }
    });
  }

  // --- Database unreachable: page directly ---------------------------------------------------------------------------

  /**
   * The database is unreachable (the webhook could not record anything): send the opening notifications of the
   * degraded priorities straight from this process, once per alert per cooldown. Bounded by `timeoutMs`.
   */
  async pageWithoutDatabase(payload: AlertmanagerPayload, timeoutMs: number): Promise<number> {
    const { degraded } = this.deps.config;
    let sent = 0;
    const deadline = AbortSignal.timeout(timeoutMs);
    for (const alert of payload.alerts) {
      if (alert.status !== 'firing') continue;
      const priority = priorityFor(alert.labels, this.deps.config);
      if (!degraded.priorities.includes(priority)) continue;
      const previous = this.degradedPages.get(alert.fingerprint);
      if (previous && Date.now() - previous.at < degraded.cooldown) continue;
      const record = { at: Date.now(), sent: new Set<string>() };
      this.degradedPages.set(alert.fingerprint, record);
      const alertname = alert.labels.alertname ?? 'unknown';
      const summary = alert.annotations.summary ?? null;
      const pseudo: IncidentRow = {
        id: '',
        number: 0,
        dedup_key: `am:${alert.fingerprint}`,
        source: 'alertmanager',
        title: `${alertname}${summary ? ` — ${summary}` : ''}`,
        summary,
        description: alert.annotations.description ?? null,
        priority,
        status: 'open',
        alertname,
        severity: alert.labels.severity ?? null,
        fingerprint: alert.fingerprint,
        labels: alert.labels,
        annotations: alert.annotations,
        generator_url: alert.generatorURL || null,
        external_id: null,
        alert_starts_at: new Date(alert.startsAt),
        opened_at: new Date(alert.startsAt),
        last_seen_at: new Date(),
        occurrences: 1,
        acknowledged_at: null,
        acknowledged_by: null,
        resolved_at: null,
        resolved_by: null,
        escalation_level: 0,
        escalation_count: 0,
        next_escalation_at: null,
        updated_at: new Date(),
      };
      for (const { channel: channelId, recipient } of expandTargets(this.policy(priority).notify)) {
        const channel = this.deps.channels().get(channelId);
        if (!channel || deadline.aborted) continue;
        const fake: NotificationRow = {
          id: 0,
          incident_id: '',
          reason: 'opened',
          step: 0,
          level: 0,
          channel: channelId,
          recipient,
          status: 'pending',
          attempts: 0,
          last_error: null,
          provider_message_id: null,
          created_at: new Date(),
          sent_at: null,
        };
        try {
          await channel.send({ ...compose(pseudo, fake), correlationId: `degraded-${alert.fingerprint}-${channelId}-${recipient}` }, { signal: deadline });
          record.sent.add(`${channelId}|${recipient}`);
          this.deps.metrics.notifications.inc({ channel: channelId, outcome: 'sent' });
          sent++;
        } catch (err) {
          this.deps.metrics.notifications.inc({
            channel: channelId,
            outcome: err instanceof NotificationError && err.kind === 'ambiguous' ? 'ambiguous' : 'failed',
          });
          this.deps.log.error({ err, channel: channelId, fingerprint: alert.fingerprint }, 'direct page failed while the database is unreachable');
        }
      }
      this.deps.log.error(
        { fingerprint: alert.fingerprint, alertname, priority, sent: record.sent.size },
        'database unreachable: paged directly, the incident will be recorded when Alertmanager retries',
      );
    }
    return sent;
  }
}

// --- Helpers ---------------------------------------------------------------------------------------------------------

async function one<T>(db: Db, query: { execute(db: Db): Promise<{ rows: T[] }> }): Promise<T> {
  const rows = (await query.execute(db)).rows;
  if (!rows[0]) throw new RgzError('incident_missing', 'expected a row');
  return rows[0];
}

/** `to_jsonb` turns timestamps into strings: bring back the Dates. */
function reviveIncident(raw: IncidentRow): IncidentRow {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    ...raw,
    alert_starts_at: date(raw.alert_starts_at),
    opened_at: date(raw.opened_at) as Date,
    last_seen_at: date(raw.last_seen_at) as Date,
    acknowledged_at: date(raw.acknowledged_at),
    resolved_at: date(raw.resolved_at),
    next_escalation_at: date(raw.next_escalation_at),
    updated_at: date(raw.updated_at) as Date,
  };
}

export function toSnapshot(incident: IncidentRow): IncidentSnapshot {
  return {
    id: incident.id,
    title: incident.title,
    priority: incident.priority,
    status: incident.status,
    openedAt: incident.opened_at,
    source: incident.alertname ?? incident.source,
    labels: incident.labels,
    ...(incident.summary ? { summary: incident.summary } : {}),
  };
}

function minutesSince(date: Date): number {
  return Math.max(0, Math.round((Date.now() - date.getTime()) / 60_000));
}

/** The message for one notification row. French: the NOC reads it on a phone. */
export function compose(incident: IncidentRow, row: NotificationRow): Notification {
  // Number 0: paged while the database was unreachable, before the incident could be recorded.
  const recorded = incident.number > 0;
  const tag = recorded ? `[${incident.priority}] #${incident.number}` : `[${incident.priority}]`;
  const where = incident.labels.instance ? ` (${incident.labels.instance})` : '';
  const links = incident.generator_url ? [{ label: 'Graphe Prometheus', url: incident.generator_url }] : [];
  const ref = recorded ? `Incident #${incident.number} — ${incident.id}` : 'Incident pas encore enregistré : la base de données de RGZ est injoignable.';
  const ack = recorded ? `\nAcquitter : POST /api/incidents/${incident.number}/acknowledge` : '';
  const correlationId = `inc-${incident.number}-n${row.id}`;
  const recipient = toRecipient(row.recipient);
  if (row.reason === 'resolved') {
    return {
      recipient,
      subject: `${tag} RÉSOLU — ${incident.alertname ?? incident.title}`,
      text: `Résolu${incident.resolved_by ? ` par ${incident.resolved_by}` : ''} après ${minutesSince(incident.opened_at)} min : ${incident.title}${where}.\n${ref}`,
      severity: 'info',
      links,
      correlationId,
    };
  }
  const body = [incident.description, `${incident.summary ?? incident.title}${where}`].filter((s): s is string => !!s);
  if (row.reason === 'escalated') {
    return {
      recipient,
      subject: `${tag} ESCALADE niveau ${row.level} — ${incident.title}`,
      text: `Non acquitté depuis ${minutesSince(incident.opened_at)} min.\n${body.join('\n')}${ack}\n${ref}`,
      severity: SEVERITY_OF[incident.priority],
      links,
      correlationId,
    };
  }
  return {
    recipient,
    subject: `${tag} ${incident.title}`,
    text: `${body.join('\n')}${ack}\n${ref}`,
    severity: SEVERITY_OF[incident.priority],
    links,
    correlationId,
  };
}
