import { readFileSync } from 'node:fs';
import { NotificationChannels } from '@rgz/core';
import { notificationChannelContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { WebhookChannel } from './channel.js';
import plugin from './index.js';
import { startWebhookPeer } from './test-support/webhook-peer.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared NotificationChannel contract from @rgz/core/testing, against a local HTTP receiver.
notificationChannelContract('{{NAME}}', async () => {
  const peer = await startWebhookPeer();
  return {
    channel: new WebhookChannel({ id: 'contract', url: peer.url, token: 'test-token', timeoutMs: 800, maxTextLength: 500 }),
    recipient: { kind: 'default' },
    received: async () => peer.posts.map((p) => ({ to: '', text: p.body?.text ?? '', ...(p.body?.subject ? { subject: p.body.subject } : {}) })),
    failNext: async (mode) => peer.failNext(mode),
    close: () => peer.close(),
  };
});

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its channel under the config id, posting with the configured token', async () => {
    const peer = await startWebhookPeer();
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'noc-hook', url: peer.url, token: 's3cret' } }] });
    try {
      const channel = server.collect(NotificationChannels).get('noc-hook');
      await channel?.send({
        recipient: { kind: 'default' },
        subject: 'NAS injoignable',
        text: 'hotspot-1 ne répond plus',
        severity: 'critical',
        correlationId: 'inc-1',
      });
      expect(peer.posts.at(-1)?.body).toMatchObject({
        subject: 'NAS injoignable',
        text: 'hotspot-1 ne répond plus',
        severity: 'critical',
        correlationId: 'inc-1',
      });
      expect(peer.posts.at(-1)?.headers.authorization).toBe('Bearer s3cret');
    } finally {
      await server.close();
      await peer.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { url: 'ftp://example.test/hook' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.url',
    });
  });
});
