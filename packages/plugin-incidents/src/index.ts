/**
 * @rgz/plugin-incidents — the `incidents` plugin (seed flow 12): Alertmanager posts its alerts to
 * `POST /hooks/alertmanager`; each alert (fingerprint) becomes one incident with a priority P0/P1/P2, a timeline of
 * every change, notifications through the `NotificationChannel`s configured for that priority (background tasks:
 * a channel down is retried and the incident is recorded anyway), and an escalation ladder run by a global
 * scheduled job whose state lives in the database. The NOC acknowledges, comments and resolves through
 * `/api/incidents`; a resolved alert resolves its incident. Other plugins open incidents through the
 * `IncidentSink` this plugin contributes (billing's reconciliation P1). See README.md and docs/monitoring.md.
 */
import { ConfigError, definePlugin, defineTask, IncidentSinks, NotificationChannels } from '@rgz/core';
import { configSchema, PRIORITIES } from './config.js';
import { createIncidentsMetrics } from './metrics.js';
import { incidentsMigrations } from './migrations.js';
import { registerApi, registerWebhook } from './routes.js';
import { type ForwardTask, IncidentService, type NotifyTask, toRecipient } from './service.js';
import { IncidentStoreSink } from './sink.js';
import { registerSummary } from './summary-routes.js';

export { type AlertmanagerAlert, type AlertmanagerPayload, alertSchema, bearerMatches, payloadSchema } from './alertmanager.js';
export { configSchema, DEFAULT_MAPPING, type IncidentsConfig, type Policy, parseDuration, priorityFor, type Target } from './config.js';
export { incidentsMigrations } from './migrations.js';
export {
  type AlertOutcome,
  compose,
  expandTargets,
  type IncidentRow,
  IncidentService,
  type NotificationRow,
  type TimelineRow,
  toRecipient,
} from './service.js';
export { IncidentStoreSink } from './sink.js';

export default definePlugin({
  name: 'incidents',
  version: '0.1.0',
  core: '^0.1.0',
  description:
    'Incidents from Alertmanager alerts (P0/P1/P2, timeline, notifications, escalation, NOC API) and the IncidentSink other flows open incidents through',
  config: configSchema,

  setup(ctx) {
    const { config } = ctx;
    const notifyTask = defineTask<NotifyTask>(`${ctx.name}.notify`);
    const forwardTask = defineTask<ForwardTask>(`${ctx.name}.forward`);
    let service: IncidentService | undefined;
    const metrics = createIncidentsMetrics(ctx.metrics, () => (service as IncidentService).openCounts());
    service = new IncidentService({
      db: ctx.db,
      config,
      log: ctx.log,
      tasks: ctx.tasks,
      metrics,
      notifyTask,
      forwardTask,
      channels: () => ctx.collect(NotificationChannels),
      sinks: () => ctx.collect(IncidentSinks),
    });
    const svc = service;

    ctx.migrations(incidentsMigrations);
    const n = config.notifications;
    ctx.tasks.handle(notifyTask, (payload, task) => svc.deliver(payload, task), {
      maxAttempts: n.maxAttempts,
      backoffSeconds: n.backoffSeconds,
      timeoutSeconds: n.timeoutSeconds,
    });
    ctx.tasks.handle(forwardTask, (payload, task) => svc.forward(payload, task), { maxAttempts: 10, backoffSeconds: 30, timeoutSeconds: 30 });

    ctx.schedule({
      id: 'escalate',
      cron: config.escalationCron,
      scope: 'global',
      timeoutSeconds: 60,
      description: 'Escalate incidents not acknowledged in time (seed flow 12)',
      run: async () => ({ escalated: await svc.escalateDue() }),
    });

    ctx.contribute(IncidentSinks, new IncidentStoreSink(config.sinkId, svc));

    const deps = { name: ctx.name, config, service: svc, metrics, log: ctx.log, audit: ctx.audit };
    registerWebhook(ctx.router('/hooks'), deps);
    const api = ctx.router();
    registerSummary(api, { name: ctx.name, db: ctx.db });
    registerApi(api, deps);

    ctx.onStart(() => {
      // Every target names a loaded channel that can reach its recipients: a typo must fail at start, not at 3 a.m.
      const channels = ctx.collect(NotificationChannels);
      for (const p of PRIORITIES) {
        const policy = config.policies[p];
        const lists = [
          { path: `policies.${p}.notify`, targets: policy.notify },
          ...policy.escalation.map((l, i) => ({ path: `policies.${p}.escalation.${i}.notify`, targets: l.notify })),
        ];
        for (const { path, targets } of lists) {
          targets.forEach((t, i) => {
            const channel = channels.get(t.channel);
            const where = `plugins.${ctx.name}.config.${path}.${i}`;
            if (!channel) {
              throw new ConfigError(
                `${where}.channel`,
                `no notification channel "${t.channel}"; loaded: ${[...channels.keys()].join(', ') || 'none (load the notify plugin)'}`,
              );
            }
            for (const to of t.to.length ? t.to : ['']) {
              const kind = toRecipient(to).kind;
              if (!channel.capabilities.recipientKinds.includes(kind)) {
                throw new ConfigError(
                  `${where}.to`,
                  `channel "${t.channel}" cannot reach ${kind} recipients${to ? ` (${to})` : ''}; it takes ${channel.capabilities.recipientKinds.join(', ')}`,
                );
              }
            }
          });
        }
      }
      if (config.policies.P0.notify.length === 0) ctx.log.warn('policies.P0.notify is empty: a P0 incident (DatabaseDown) will page nobody');
    });
  },
});
