/**
 * The plugin's metrics. Labels are bounded: priority (3 values), channel (config ids), outcome (a few words).
 * `incidents_open` is read from the database at scrape time, so every replica reports the same value (use max()).
 */
import type { IncidentPriority, Metrics } from '@rgz/core';
import { PRIORITIES } from './config.js';

export function createIncidentsMetrics(metrics: Metrics, openCounts: () => Promise<Record<IncidentPriority, number>>) {
  metrics.gauge({
    name: 'incidents_open',
    help: 'Incidents not yet resolved (open or acknowledged), by priority; read from the database at scrape time',
    labelNames: ['priority'],
    async collect() {
      try {
        const counts = await withTimeout(openCounts(), 1000);
        for (const p of PRIORITIES) this.set({ priority: p }, counts[p]);
      } catch {
        /* database unreachable: keep the last values (pg_up and DatabaseDown tell the story) */
      }
    },
  });
  return {
    opened: metrics.counter({ name: 'incidents_opened_total', help: 'Incidents opened, by priority', labelNames: ['priority'] }),
    notifications: metrics.counter({
      name: 'incident_notifications_total',
      help: 'Incident notification attempts by channel and outcome (sent, retry, failed, ambiguous, skipped)',
      labelNames: ['channel', 'outcome'],
    }),
    escalations: metrics.counter({
      name: 'incident_escalations_total',
      help: 'Escalations of unacknowledged incidents, by priority',
      labelNames: ['priority'],
    }),
    webhooks: metrics.counter({
      name: 'incidents_alertmanager_webhooks_total',
      help: 'Alertmanager webhook deliveries by outcome (accepted, unauthenticated, malformed, unavailable)',
      labelNames: ['outcome'],
    }),
  };
}

export type IncidentsMetrics = ReturnType<typeof createIncidentsMetrics>;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
