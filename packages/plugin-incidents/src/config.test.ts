/** The severity → priority mapping, durations, and config errors named by key path (at parse and at start). */
import { createKernel, parseServerConfig } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import notify from '@rgz/plugin-notify';
import { describe, expect, it } from 'vitest';
import incidents, { configSchema, parseDuration, priorityFor } from './index.js';
import { WEBHOOK_TOKEN } from './test-support/harness.js';

describe('severity → priority', () => {
  const config = configSchema.parse({ webhookToken: WEBHOOK_TOKEN });

  it('by default: critical DatabaseDown → P0, other critical → P1, warning → P2, anything else → P2', () => {
    expect(priorityFor({ alertname: 'DatabaseDown', severity: 'critical' }, config)).toBe('P0');
    expect(priorityFor({ alertname: 'DatabaseDown', severity: 'warning' }, config)).toBe('P2');
    expect(priorityFor({ alertname: 'CPUUsageCritical', severity: 'critical' }, config)).toBe('P1');
    expect(priorityFor({ alertname: 'CPUUsageHigh', severity: 'warning' }, config)).toBe('P2');
    expect(priorityFor({ alertname: 'Info', severity: 'info' }, config)).toBe('P2');
    expect(priorityFor({ alertname: 'NoSeverity' }, config)).toBe('P2');
  });

  it('a `priority` label set by the rule wins; an invalid one is ignored', () => {
    expect(priorityFor({ alertname: 'NasDown', severity: 'warning', priority: 'P0' }, config)).toBe('P0');
    expect(priorityFor({ alertname: 'NasDown', severity: 'warning', priority: 'urgent' }, config)).toBe('P2');
    const off = configSchema.parse({ webhookToken: WEBHOOK_TOKEN, priorityLabel: null });
    expect(priorityFor({ alertname: 'NasDown', severity: 'warning', priority: 'P0' }, off)).toBe('P2');
  });

  it('is configurable: first matching rule wins', () => {
    const custom = configSchema.parse({
      webhookToken: WEBHOOK_TOKEN,
      priorities: [
        { match: { alertname: 'RGZInstanceDown' }, priority: 'P0' },
        { match: { severity: 'critical', site: 'cotonou' }, priority: 'P0' },
        { match: { severity: 'critical' }, priority: 'P1' },
      ],
      defaultPriority: 'P1',
    });
    expect(priorityFor({ alertname: 'RGZInstanceDown', severity: 'critical' }, custom)).toBe('P0');
    expect(priorityFor({ alertname: 'X', severity: 'critical', site: 'cotonou' }, custom)).toBe('P0');
    expect(priorityFor({ alertname: 'X', severity: 'critical', site: 'parakou' }, custom)).toBe('P1');
    expect(priorityFor({ alertname: 'X', severity: 'warning' }, custom)).toBe('P1');
  });
});

describe('config', () => {
  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('5 minutes')).toThrow(/not a duration/);
    const parsed = configSchema.parse({
      webhookToken: WEBHOOK_TOKEN,
      policies: { P0: { escalation: [{ after: '15m', notify: [{ channel: 'c' }] }], repeatEvery: '30m' } },
    });
    expect(parsed.policies.P0).toMatchObject({
      escalation: [{ after: 900_000, notify: [{ channel: 'c', to: [] }] }],
      repeatEvery: 1_800_000,
      notifyResolved: true,
    });
    expect(parsed.policies.P1).toEqual({ notify: [], escalation: [], notifyResolved: true });
    expect(parsed).toMatchObject({
      escalationCron: '* * * * *',
      sinkId: 'incidents',
      degraded: { priorities: ['P0'], cooldown: 900_000, storageTimeout: 8000 },
    });
    expect(parsed.webhookToken).toEqual([WEBHOOK_TOKEN]);
  });

  const load = (config: Record<string, unknown>) =>
    createKernel({ config: parseServerConfig({ log: { level: 'silent' } }, {}), plugins: [{ plugin: incidents, config }] });

  it('names the key path of a bad value', async () => {
    await expect(load({})).rejects.toThrow(/plugins\.incidents\.config\.webhookToken/);
    await expect(load({ webhookToken: 'short' })).rejects.toThrow(
      /plugins\.incidents\.config\.webhookToken: the Alertmanager webhook token must be at least 24 characters/,
    );
    await expect(load({ webhookToken: `rgz_noc_${'x'.repeat(40)}` })).rejects.toThrow(/not an RGZ API token/);
    await expect(load({ webhookToken: WEBHOOK_TOKEN, policies: { P0: { notify: [{ channel: 'sms', to: ['0197000000'] }] } } })).rejects.toThrow(
      /plugins\.incidents\.config\.policies\.P0\.notify\.0\.to\.0: a phone number in E\.164/,
    );
    await expect(load({ webhookToken: WEBHOOK_TOKEN, policies: { P1: { escalation: [{ after: '5 min', notify: [{ channel: 'x' }] }] } } })).rejects.toThrow(
      /plugins\.incidents\.config\.policies\.P1\.escalation\.0\.after/,
    );
    await expect(load({ webhookToken: WEBHOOK_TOKEN, priorities: [{ match: {}, priority: 'P0' }] })).rejects.toThrow(
      /plugins\.incidents\.config\.priorities\.0\.match/,
    );
  });

  it('refuses to start when a target names a channel that is not loaded, or a recipient its channel cannot reach', async () => {
    const chat = { plugin: notify, config: { channels: [{ id: 'chat', kind: 'webhook', url: 'http://127.0.0.1:9/hook' }] } };
    const e1 = await startTestServer({
      plugins: [chat, { plugin: incidents, config: { webhookToken: WEBHOOK_TOKEN, policies: { P0: { notify: [{ channel: 'sms' }] } } } }],
    }).catch((e: unknown) => e);
    expect((e1 as Error).message).toMatch(/plugins\.incidents\.config\.policies\.P0\.notify\.0\.channel: no notification channel "sms"; loaded: chat/);
    const e2 = await startTestServer({
      plugins: [
        chat,
        {
          plugin: incidents,
          config: { webhookToken: WEBHOOK_TOKEN, policies: { P2: { escalation: [{ after: '1m', notify: [{ channel: 'chat', to: ['noc@rgz.test'] }] }] } } },
        },
      ],
    }).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(
      /plugins\.incidents\.config\.policies\.P2\.escalation\.0\.notify\.0\.to: channel "chat" cannot reach email recipients \(noc@rgz\.test\)/,
    );
  });
});
