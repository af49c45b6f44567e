/**
 * A server with the incidents and notify plugins, test peers for every channel kind (an in-test SMS gateway, a real
 * SMTP server, an HTTP receiver), and helpers to post Alertmanager payloads.
 */

import { definePlugin, type RgzPlugin, SmsSenders } from '@rgz/core';
import { type Backend, startTestServer, type TestServer, waitFor } from '@rgz/core/testing';
import notify from '@rgz/plugin-notify';
import { RecordingSmsSender, type SmtpPeer, startSmtpPeer, startWebhookPeer, type WebhookPeer } from '@rgz/plugin-notify/testing';
import incidents from '../index.js';

export const WEBHOOK_TOKEN = 'am-test-token-0123456789abcdef';
export const ONCALL_1 = '+2290197000001';
export const ONCALL_2 = '+2290197000002';
export const NOC_EMAIL = 'noc@rgz.test';

export interface Harness {
  server: TestServer;
  sms: RecordingSmsSender;
  smtp: SmtpPeer;
  chat: WebhookPeer;
  /** POST a payload to /hooks/alertmanager with the right token (or the given headers). */
  post(payload: unknown, headers?: Record<string, string>): Promise<Response>;
  api(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export function gatewayPlugin(sender: RecordingSmsSender) {
  return definePlugin({
    name: 'test-sms-gateway',
    version: '0.0.0',
    core: '^0.1.0',
    setup(ctx) {
      ctx.contribute(SmsSenders, sender);
    },
  });
}

/** The incidents config used by the tests: P0 pages two phones and e-mail, escalates to another phone then chat. */
export function incidentsConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    webhookToken: WEBHOOK_TOKEN,
    policies: {
      P0: {
        notify: [
          { channel: 'noc-sms', to: [ONCALL_1] },
          { channel: 'noc-email', to: [NOC_EMAIL] },
        ],
        escalation: [
          { after: '1s', notify: [{ channel: 'noc-sms', to: [ONCALL_2] }] },
          { after: '1s', notify: [{ channel: 'noc-chat' }] },
        ],
      },
      P1: { notify: [{ channel: 'noc-chat' }], escalation: [{ after: '1s', notify: [{ channel: 'noc-sms', to: [ONCALL_2] }] }], repeatEvery: '1s' },
      P2: { notify: [{ channel: 'noc-email', to: [NOC_EMAIL] }] },
    },
    notifications: { maxAttempts: 30, backoffSeconds: 0.2, timeoutSeconds: 10 },
    ...extra,
  };
}

export function notifyConfig(smtp: SmtpPeer, chat: WebhookPeer): Record<string, unknown> {
  return {
    channels: [
      { id: 'noc-sms', kind: 'sms' },
      { id: 'noc-email', kind: 'email', host: smtp.host, port: smtp.port, from: 'RGZ NOC <noc-bot@rgz.test>', timeoutMs: 2000 },
      { id: 'noc-chat', kind: 'webhook', url: chat.url, timeoutMs: 2000 },
    ],
  };
}

export async function startHarness(
  options: { backend?: Backend; incidents?: Record<string, unknown>; scheduler?: boolean; extraPlugins?: RgzPlugin[] } = {},
): Promise<Harness> {
  const sms = new RecordingSmsSender('gw');
  const smtp = await startSmtpPeer();
  const chat = await startWebhookPeer();
  const server = await startTestServer({
    backend: options.backend ?? 'embedded',
    config: { tasks: { pollIntervalMs: 50, concurrency: 4 } },
    scheduler: options.scheduler ?? false,
    plugins: [
      gatewayPlugin(sms),
      ...(options.extraPlugins ?? []),
      { plugin: notify, config: notifyConfig(smtp, chat) },
      { plugin: incidents, config: incidentsConfig(options.incidents) },
    ],
  });
  return {
    server,
    sms,
    smtp,
    chat,
    post: (payload, headers) =>
      server.request('/hooks/alertmanager', {
        method: 'POST',
        headers: headers ?? { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
        body: typeof payload === 'string' ? payload : JSON.stringify(payload),
      }),
    api: (path, init = {}) =>
      server.request(`/api/incidents${path}`, {
        ...init,
        headers: {
          ...server.auth(server.nocToken),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    async close() {
      await server.close();
      await smtp.close();
      await chat.close();
    },
  };
}

let seq = 0;

/** An Alertmanager v4 payload with one alert per entry. */
export function alertPayload(
  status: 'firing' | 'resolved',
  alerts: Array<{
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    fingerprint?: string;
    startsAt?: string;
    endsAt?: string;
    status?: 'firing' | 'resolved';
  }>,
): Record<string, unknown> {
  return {
    version: '4',
    groupKey: `{}:{alertname="${alerts[0]?.labels.alertname ?? 'x'}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'rgz-p0-p1',
    groupLabels: { alertname: alerts[0]?.labels.alertname ?? 'x' },
    commonLabels: alerts[0]?.labels ?? {},
    commonAnnotations: alerts[0]?.annotations ?? {},
    externalURL: 'http://alertmanager.test:9093',
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? '2026-01-10T08:00:00.000Z',
      endsAt: a.endsAt ?? (status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-01-10T08:30:00Z'),
      generatorURL: 'http://prometheus.test:9090/graph?g0.expr=pg_up+%3D%3D+0',
      fingerprint: a.fingerprint ?? `fp${(++seq).toString(16).padStart(14, '0')}`,
    })),
  };
}

export async function getIncident(h: Harness, ref: string): Promise<{ incident: any; timeline: any[]; notifications: any[] }> {
  const res = await h.api(`/${ref}`);
  if (res.status !== 200) throw new Error(`GET /api/incidents/${ref}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { incident: any; timeline: any[]; notifications: any[] };
}

/** Wait until every notification of the incident left `pending`. */
export async function settled(h: Harness, ref: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const got = await getIncident(h, ref);
      return got.notifications.length > 0 && got.notifications.every((n) => n.status !== 'pending') ? got : null;
    },
    timeoutMs,
    { message: `notifications of incident ${ref} settled` },
  );
}
