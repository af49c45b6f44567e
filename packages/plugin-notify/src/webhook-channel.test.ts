/** The webhook channel against a local HTTP receiver: the Slack-compatible payload, the bearer token, failures. */
import { NotificationError } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookPeer, type WebhookPeer } from './testing/index.js';
import { WebhookNotificationChannel } from './webhook-channel.js';

describe('webhook channel', () => {
  let peer: WebhookPeer;

  beforeAll(async () => {
    peer = await startWebhookPeer();
  });
  afterAll(() => peer?.close());

  it('posts Slack-compatible JSON {text} with the bearer token, escaping &, < and >', async () => {
    const channel = new WebhookNotificationChannel({ id: 'slack', url: peer.url, token: 'tok-123', timeoutMs: 1000, maxTextLength: 4000 });
    await channel.send({
      recipient: { kind: 'default' },
      subject: '[P1] #3 CPUUsageCritical',
      text: 'cpu > 80 % & <rising>',
      severity: 'critical',
      links: [{ label: 'Graphe', url: 'http://prom:9090/graph' }],
      correlationId: 'corr-1',
    });
    const post = peer.posts.at(-1);
    expect(post?.headers.authorization).toBe('Bearer tok-123');
    expect(post?.headers['content-type']).toMatch(/^application\/json/);
    expect(post?.headers['x-rgz-correlation-id']).toBe('corr-1');
    expect(post?.body).toEqual({ text: '🚨 *[P1] #3 CPUUsageCritical*\ncpu &gt; 80 % &amp; &lt;rising&gt;\n<http://prom:9090/graph|Graphe>' });
  });

  it('addresses a chat room through the Slack `channel` field, and sends no token when none is configured', async () => {
    const channel = new WebhookNotificationChannel({ id: 'slack', url: peer.url, timeoutMs: 1000, maxTextLength: 4000 });
    await channel.send({ recipient: { kind: 'chat', room: '#noc' }, text: 'hello', severity: 'info', correlationId: 'c' });
    const post = peer.posts.at(-1);
    expect(post?.headers.authorization).toBeUndefined();
    expect(post?.body).toEqual({ text: 'ℹ️ hello', channel: '#noc' });
  });

  it('a receiver that is down is a retryable failure', async () => {
    const down = await startWebhookPeer();
    const url = down.url;
    await down.close();
    const channel = new WebhookNotificationChannel({ id: 'slack', url, timeoutMs: 1000, maxTextLength: 4000 });
    const error = await channel.send({ recipient: { kind: 'default' }, text: 'x', severity: 'critical', correlationId: 'c' }).catch((e) => e);
    expect(error).toBeInstanceOf(NotificationError);
    expect(error).toMatchObject({ kind: 'retryable' });
  });
});
