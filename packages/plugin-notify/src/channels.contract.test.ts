/**
 * The shared NotificationChannel contract, run by each channel kind against a real peer: the SMS channel over an
 * in-test SmsSender, the e-mail channel against a real SMTP server (npm smtp-server) on 127.0.0.1, the webhook
 * channel against a local HTTP receiver.
 */
import { createLogger } from '@rgz/core';
import { notificationChannelContract } from '@rgz/core/testing';
import { EmailNotificationChannel } from './email-channel.js';
import { SmsNotificationChannel } from './sms-channel.js';
import { RecordingSmsSender, startSmtpPeer, startWebhookPeer } from './testing/index.js';
import { slackUnescape, WebhookNotificationChannel } from './webhook-channel.js';

const log = createLogger({ service: 'test', level: 'silent' });

notificationChannelContract('sms (in-test SmsSender)', async () => {
  const sender = new RecordingSmsSender('gw');
  const channel = new SmsNotificationChannel({ id: 'noc-sms', senders: () => [sender], maxTextLength: 306, log });
  return {
    channel,
    recipient: { kind: 'phone', phone: '+2290197000000' },
    received: async () => sender.messages.map((m) => ({ to: m.to, text: m.text })),
    failNext: async (mode) => sender.failNext(mode),
    close: async () => {},
  };
});

notificationChannelContract('email (smtp-server)', async () => {
  const peer = await startSmtpPeer();
  const channel = new EmailNotificationChannel({
    id: 'noc-email',
    host: peer.host,
    port: peer.port,
    secure: false,
    requireTls: false,
    rejectUnauthorized: true,
    from: 'RGZ NOC <noc@rgz.test>',
    subjectPrefix: '[RGZ]',
    timeoutMs: 800,
  });
  return {
    channel,
    recipient: { kind: 'email', address: 'astreinte@rgz.test' },
    received: async () => peer.messages.map((m) => ({ to: m.to.join(','), subject: m.subject, text: m.text })),
    failNext: async (mode) => peer.failNext(mode),
    close: async () => {
      channel.close();
      await peer.close();
    },
  };
});

notificationChannelContract('webhook (local HTTP receiver)', async () => {
  const peer = await startWebhookPeer();
  const channel = new WebhookNotificationChannel({ id: 'noc-chat', url: peer.url, token: 'hook-secret', timeoutMs: 800, maxTextLength: 4000 });
  return {
    channel,
    recipient: { kind: 'default' },
    received: async () =>
      peer.posts.map((p) => {
        const body = p.body as { text?: string; channel?: string } | null;
        return { to: body?.channel ?? '', text: slackUnescape(body?.text ?? '') };
      }),
    failNext: async (mode) => peer.failNext(mode),
    close: () => peer.close(),
  };
});
