/**
 * The notify plugin inside a real server (startTestServer: the real kernel on PGlite): channels from config, the SMS
 * channel going through the loaded SMS senders with fail-over, config errors, notify_deliveries_total.
 */
import { readFileSync } from 'node:fs';
import { createKernel, definePlugin, NotificationChannels, NotificationError, parseServerConfig, SmsSenders } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import notify, { configSchema } from './index.js';
import { RecordingSmsSender, type SmtpPeer, startSmtpPeer, startWebhookPeer, type WebhookPeer } from './testing/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(notify.version).toBe(pkg.version);
  expect(notify.name).toBe('notify');
  expect(pkg.name).toBe('@rgz/plugin-notify');
});

/** Two in-test SMS gateways contributed by a tiny plugin, as sms-letexto would. */
const primary = new RecordingSmsSender('primary');
const backup = new RecordingSmsSender('backup');
const gateways = definePlugin({
  name: 'test-gateways',
  version: '0.0.0',
  core: '^0.1.0',
  setup(ctx) {
    ctx.contribute(SmsSenders, primary);
    ctx.contribute(SmsSenders, backup);
  },
});

describe('notify in a server', () => {
  let smtp: SmtpPeer;
  let hook: WebhookPeer;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startSmtpPeer();
    hook = await startWebhookPeer();
    server = await startTestServer({
      plugins: [
        gateways,
        {
          plugin: notify,
          config: {
            channels: [
              { id: 'noc-sms', kind: 'sms', senders: ['primary', 'backup'], senderId: 'RGZ-NOC' },
              { id: 'noc-email', kind: 'email', host: smtp.host, port: smtp.port, from: 'noc@rgz.test', timeoutMs: 1000 },
              { id: 'noc-chat', kind: 'webhook', url: hook.url, token: 'tok' },
            ],
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await hook?.close();
  });

  it('contributes one channel per configured instance', () => {
    const channels = server.collect(NotificationChannels);
    expect([...channels.keys()]).toEqual(['noc-sms', 'noc-email', 'noc-chat']);
    expect([...channels.values()].map((c) => c.provider)).toEqual(['sms', 'smtp', 'webhook']);
    expect(server.kernel.plugins.find((p) => p.name === 'notify')?.contributions).toEqual([
      'notification-channel:noc-sms',
      'notification-channel:noc-email',
      'notification-channel:noc-chat',
    ]);
  });

  it('sends SMS through the senders in order, failing over from a retryable failure', async () => {
    const sms = server.collect(NotificationChannels).get('noc-sms');
    primary.failNext('retryable');
    await sms?.send({
      recipient: { kind: 'phone', phone: '+2290197000011' },
      subject: '[P0] #1 DatabaseDown',
      text: 'pg_up = 0',
      severity: 'critical',
      correlationId: 'k1',
    });
    expect(primary.messages.at(-1)?.to).toBe('+2290197000011');
    expect(backup.messages.at(-1)).toMatchObject({ to: '+2290197000011', text: '[P0] #1 DatabaseDown\npg_up = 0', senderId: 'RGZ-NOC', correlationId: 'k1' });
  });

  it('does not fail over after an ambiguous failure (the first gateway may have sent it)', async () => {
    const sms = server.collect(NotificationChannels).get('noc-sms');
    const before = backup.messages.length;
    primary.failNext('ambiguous');
    const error = await sms
      ?.send({ recipient: { kind: 'phone', phone: '+2290197000011' }, text: 'x', severity: 'critical', correlationId: 'k2' })
      .catch((e) => e);
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'notification_ambiguous' });
    expect(backup.messages.length).toBe(before);
  });

  it('every gateway down: a typed retryable error', async () => {
    const sms = server.collect(NotificationChannels).get('noc-sms');
    primary.setDown(true);
    backup.setDown(true);
    try {
      const error = await sms
        ?.send({ recipient: { kind: 'phone', phone: '+2290197000011' }, text: 'x', severity: 'critical', correlationId: 'k3' })
        .catch((e) => e);
      expect(error).toBeInstanceOf(NotificationError);
      expect(error).toMatchObject({ kind: 'retryable', code: 'notification_retryable' });
    } finally {
      primary.setDown(false);
      backup.setDown(false);
    }
  });

  it('counts deliveries in notify_deliveries_total by channel, kind and outcome', async () => {
    await server
      .collect(NotificationChannels)
      .get('noc-email')
      ?.send({ recipient: { kind: 'email', address: 'a@rgz.test' }, text: 't', severity: 'info', correlationId: 'm' });
    await server
      .collect(NotificationChannels)
      .get('noc-chat')
      ?.send({ recipient: { kind: 'default' }, text: 't', severity: 'info', correlationId: 'w' });
    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(/^notify_deliveries_total\{channel="noc-sms",kind="sms",outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^notify_deliveries_total\{channel="noc-sms",kind="sms",outcome="ambiguous"\} 1$/m);
    expect(text).toMatch(/^notify_deliveries_total\{channel="noc-sms",kind="sms",outcome="retryable"\} 1$/m);
    expect(text).toMatch(/^notify_deliveries_total\{channel="noc-email",kind="email",outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^notify_deliveries_total\{channel="noc-chat",kind="webhook",outcome="accepted"\} 1$/m);
    expect(smtp.messages).toHaveLength(1);
    expect(hook.posts).toHaveLength(1);
  });
});

describe('notify config errors', () => {
  const load = (config: Record<string, unknown>) =>
    createKernel({ config: parseServerConfig({ log: { level: 'silent' } }, {}), plugins: [{ plugin: notify, config }] });

  it('names the key path of a bad channel', async () => {
    await expect(load({ channels: [] })).rejects.toThrow(/plugins\.notify\.config\.channels/);
    await expect(load({ channels: [{ id: 'x', kind: 'pager' }] })).rejects.toThrow(/plugins\.notify\.config\.channels\.0\.kind/);
    await expect(load({ channels: [{ id: 'x', kind: 'webhook', url: 'ftp://h/x' }] })).rejects.toThrow(/plugins\.notify\.config\.channels\.0\.url/);
    await expect(load({ channels: [{ id: 'x', kind: 'email', host: 'h' }] })).rejects.toThrow(/plugins\.notify\.config\.channels\.0\.from/);
    await expect(
      load({
        channels: [
          { id: 'x', kind: 'webhook', url: 'http://h/x' },
          { id: 'x', kind: 'webhook', url: 'http://h/y' },
        ],
      }),
    ).rejects.toThrow(/plugins\.notify\.config\.channels\.1\.id: channel id "x" is already used by channels\[0\]/);
  });

  it('reads booleans written as strings (env interpolation)', () => {
    const parsed = configSchema.parse({ channels: [{ id: 'm', kind: 'email', host: 'h', from: 'a@b.c', secure: 'true', rejectUnauthorized: 'false' }] });
    expect(parsed.channels[0]).toMatchObject({ secure: true, rejectUnauthorized: false, port: 587, timeoutMs: 15000 });
  });

  it('refuses to start when an SMS channel names a sender that is not loaded', async () => {
    const error = await startTestServer({
      plugins: [gateways, { plugin: notify, config: { channels: [{ id: 's', kind: 'sms', senders: ['primary', 'letexto'] }] } }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/plugins\.notify\.config\.channels\.0\.senders\.1: no SMS sender "letexto"; loaded: primary, backup/);
  });

  it('refuses to start an SMS channel when no SMS sender is loaded at all', async () => {
    const error = await startTestServer({ plugins: [{ plugin: notify, config: { channels: [{ id: 's', kind: 'sms' }] } }] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/SMS channel "s" needs an SMS sender plugin/);
  });
});
