/**
 * The alert task: every alert is logged (error level) and published as `billing.alert` once, then opened as an
 * incident on every loaded `IncidentSink` that accepts `opened` events. With no sink loaded the log line and the event
 * are the alert. Sinks are idempotent on the event id, so a retry after a sink failure is safe.
 */
import { type IncidentEvent, IncidentSinkError, type TaskContext } from '@rgz/core';
import { type BillingAlert, type BillingContext, billingAlert } from './context.js';

export async function deliverAlert(ctx: BillingContext, alert: BillingAlert, task: TaskContext): Promise<void> {
  if (task.attempt === 1) {
    task.log.error({ alert_id: alert.id, kind: alert.kind, priority: alert.priority, labels: alert.labels, summary: alert.summary }, alert.title);
    await ctx.events.publish(billingAlert, alert);
  }
  const sinks = [...ctx.incidentSinks().values()].filter((s) => s.accepts.includes('opened'));
  if (sinks.length === 0) {
    if (task.attempt === 1) task.log.warn({ alert_id: alert.id }, 'no IncidentSink is loaded: the alert is this log line and the billing.alert event');
    return;
  }
  const at = new Date(alert.at);
  const event: IncidentEvent = {
    eventId: `billing:${alert.id}:opened`,
    at,
    type: 'opened',
    incident: {
      id: `billing:${alert.id}`,
      title: alert.title,
      priority: alert.priority,
      status: 'open',
      openedAt: at,
      source: `billing.${alert.kind}`,
      labels: { ...alert.labels, priority: alert.priority },
      summary: alert.summary,
    },
  };
  const retry: string[] = [];
  for (const sink of sinks) {
    try {
      await sink.notify(event, { signal: task.signal });
    } catch (err) {
      if (err instanceof IncidentSinkError && err.kind === 'permanent') {
        task.log.error({ err, sink: sink.id, alert_id: alert.id }, 'incident sink refused the alert');
        continue;
      }
      retry.push(`${sink.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (retry.length) throw new Error(`incident sinks failed, will retry: ${retry.join('; ')}`);
}
