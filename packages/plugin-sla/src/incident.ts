/**
 * The incident task: every opened/resolved breach is logged and published as `sla.breach` once, then sent to every
 * loaded `IncidentSink` that accepts the event type (the incidents plugin contributes one). With no sink loaded, the
 * log line and the event are the alert. Sinks are idempotent on the event id, so a retry after a sink failure is safe.
 */
import { defineEvent, type EventBus, type IncidentEvent, type IncidentSink, IncidentSinkError, type TaskContext } from '@rgz/core';
import type { BreachPayload } from './engine.js';

/** Published once per opened or resolved SLA breach. */
export const slaBreach = defineEvent<BreachPayload>('sla.breach');

export async function deliverBreach(
  deps: { events: EventBus; sinks(): ReadonlyMap<string, IncidentSink> },
  p: BreachPayload,
  task: TaskContext,
): Promise<void> {
  if (task.attempt === 1) {
    const fields = { breach_id: p.breachId, kind: p.kind, target: p.targetId, site: p.siteName, priority: p.priority, summary: p.summary };
    if (p.type === 'opened') task.log.error(fields, p.title);
    else task.log.info(fields, `resolved: ${p.title}`);
    await deps.events.publish(slaBreach, p);
  }
  const sinks = [...deps.sinks().values()].filter((s) => s.accepts.includes(p.type));
  if (sinks.length === 0) {
    if (task.attempt === 1) task.log.warn({ breach_id: p.breachId }, 'no IncidentSink is loaded: the SLA breach is this log line and the sla.breach event');
    return;
  }
  const at = new Date(p.at);
  const incident = {
    id: `sla:${p.breachId}`,
    title: p.title,
    priority: p.priority,
    status: p.type === 'opened' ? ('open' as const) : ('resolved' as const),
    openedAt: new Date(p.openedAt),
    source: `sla.${p.kind}`,
    labels: {
      target: p.targetId,
      probe: p.probeKind,
      breach: p.kind,
      priority: p.priority,
      ...(p.siteName ? { site: p.siteName } : {}),
      ...(p.resellerId ? { reseller: p.resellerId } : {}),
      ...(p.periodKey ? { period: p.periodKey } : {}),
    },
    summary: p.summary,
  };
  const event: IncidentEvent =
    p.type === 'opened'
      ? { eventId: `sla:${p.breachId}:opened`, at, type: 'opened', incident }
      : { eventId: `sla:${p.breachId}:resolved`, at, type: 'resolved', incident };
  const retry: string[] = [];
  for (const sink of sinks) {
    try {
      await sink.notify(event, { signal: task.signal });
    } catch (err) {
      if (err instanceof IncidentSinkError && err.kind === 'permanent') {
        task.log.error({ err, sink: sink.id, breach_id: p.breachId }, 'incident sink refused the SLA breach');
        continue;
      }
      retry.push(`${sink.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (retry.length) throw new Error(`incident sinks failed, will retry: ${retry.join('; ')}`);
}
