/**
 * @rgz/plugin-notify — the `notify` plugin: `NotificationChannel`s for the NOC's pages and notices, configured as a
 * list of instances (`channels: [{ id, kind: 'sms' | 'email' | 'webhook', … }]`), each contributed to
 * `NotificationChannels` under its id. SMS goes through the loaded `SmsSender`s with fail-over, e-mail over SMTP
 * (nodemailer), webhooks as Slack-compatible JSON. A channel makes one delivery attempt and throws a typed
 * `NotificationError` (retryable / permanent / ambiguous); retries belong to the caller (the incidents plugin's tasks).
 */
import { ConfigError, definePlugin, NotificationChannels, SmsSenders, z } from '@rgz/core';
import { EmailNotificationChannel } from './email-channel.js';
import { SmsNotificationChannel } from './sms-channel.js';
import { WebhookNotificationChannel } from './webhook-channel.js';

export { classify as classifySmtpError, type EmailChannelOptions, EmailNotificationChannel } from './email-channel.js';
export { maskPhone, type SmsChannelOptions, SmsNotificationChannel } from './sms-channel.js';
export { truncate } from './text.js';
export { slackEscape, slackUnescape, type WebhookChannelOptions, WebhookNotificationChannel } from './webhook-channel.js';

const ID = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes');
/** `true`/`false`, also as the strings `${env:…}` interpolation produces. */
const flag = z.union([z.boolean(), z.stringbool()]);

export const smsChannelSchema = z.object({
  id: ID,
  kind: z.literal('sms'),
  /** SMS sender ids (`SmsSenders` keys) to try, in order; default: every loaded sender, in load order. */
  senders: z.array(ID).min(1).optional(),
  /** Alphanumeric sender id (≤ 11 characters); default: each sender's own. */
  senderId: z.string().min(1).max(11).optional(),
  /** Longest SMS text (the senders' limits also apply): 306 = two GSM-7 segments. */
  maxTextLength: z.coerce.number().int().min(70).max(1600).default(306),
});

export const emailChannelSchema = z.object({
  id: ID,
  kind: z.literal('email'),
  host: z.string().min(1),
  /** 587 (submission, STARTTLS), 465 (`secure: true`) or 25. */
  port: z.coerce.number().int().min(1).max(65535).default(587),
  /** TLS from the first byte (port 465). */
  secure: flag.default(false),
  /** Refuse to send without STARTTLS (when not `secure`). */
  requireTls: flag.default(false),
  /** Verify the server certificate. */
  rejectUnauthorized: flag.default(true),
  /** SMTP credentials; write them as `${env:SMTP_USER}` / `${file:/run/secrets/smtp}` so they never sit in the file. */
  auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
  /** Sender, e.g. `RGZ NOC <noc@example.bj>`. */
  from: z.string().min(3),
  subjectPrefix: z.string().max(40).default('[RGZ]'),
  /** Connect, greeting and idle-socket timeout, in ms. */
  timeoutMs: z.coerce.number().int().min(100).max(120_000).default(15_000),
});

export const webhookChannelSchema = z.object({
  id: ID,
  kind: z.literal('webhook'),
  /** The incoming-webhook URL (Slack, Mattermost, Rocket.Chat, Google Chat, Discord `…/slack`, your own receiver). */
  url: z.url({ protocol: /^https?$/ }),
  /** Optional bearer token (`${env:…}`): `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
  timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
  maxTextLength: z.coerce.number().int().min(200).max(40_000).default(4_000),
});

export const channelSchema = z.discriminatedUnion('kind', [smsChannelSchema, emailChannelSchema, webhookChannelSchema]);

/** `plugins[].config` of `notify`. */
export const configSchema = z
  .object({
    channels: z.array(channelSchema).min(1, 'configure at least one channel: channels: [{ id, kind: sms | email | webhook, … }]'),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.channels.forEach((c, i) => {
      const first = seen.get(c.id);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `channel id "${c.id}" is already used by channels[${first}]` });
      else seen.set(c.id, i);
    });
  });

export type NotifyConfig = z.output<typeof configSchema>;
export type ChannelConfig = z.output<typeof channelSchema>;

export default definePlugin({
  name: 'notify',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Notification channels: SMS (through the loaded SMS senders, with fail-over), e-mail over SMTP, Slack-compatible webhooks',
  config: configSchema,

  setup(ctx) {
    const deliveries = ctx.metrics.counter({
      name: 'notify_deliveries_total',
      help: 'Notification delivery attempts by channel instance, channel kind and outcome (accepted, delivered, retryable, permanent, ambiguous)',
      labelNames: ['channel', 'kind', 'outcome'],
    });
    const emails: EmailNotificationChannel[] = [];
    const smsSenders = ctx.config.channels.filter((c) => c.kind === 'sms');

    for (const c of ctx.config.channels) {
      const onOutcome = (outcome: string) => deliveries.inc({ channel: c.id, kind: c.kind, outcome });
      switch (c.kind) {
        case 'sms': {
          const all = ctx.collect(SmsSenders);
          const pick = () => {
            const senders = c.senders ? c.senders.map((id) => all.get(id)) : [...all.values()];
            return senders.filter((s) => s !== undefined);
          };
          ctx.contribute(
            NotificationChannels,
            new SmsNotificationChannel({
              id: c.id,
              senders: pick,
              maxTextLength: c.maxTextLength,
              senderId: c.senderId,
              log: ctx.log.child({ channel: c.id }),
              onOutcome,
            }),
          );
          break;
        }
        case 'email': {
          const channel = new EmailNotificationChannel({
            id: c.id,
            host: c.host,
            port: c.port,
            secure: c.secure,
            requireTls: c.requireTls,
            rejectUnauthorized: c.rejectUnauthorized,
            auth: c.auth,
            from: c.from,
            subjectPrefix: c.subjectPrefix,
            timeoutMs: c.timeoutMs,
            onOutcome,
          });
          emails.push(channel);
          ctx.contribute(NotificationChannels, channel);
          break;
        }
        case 'webhook':
          ctx.contribute(
            NotificationChannels,
            new WebhookNotificationChannel({ id: c.id, url: c.url, token: c.token, timeoutMs: c.timeoutMs, maxTextLength: c.maxTextLength, onOutcome }),
          );
          break;
      }
    }

    ctx.onStart(() => {
      const senders = ctx.collect(SmsSenders);
      for (const c of smsSenders) {
        const index = ctx.config.channels.indexOf(c);
        if (c.senders) {
          c.senders.forEach((id, j) => {
            if (!senders.has(id)) {
              throw new ConfigError(
                `plugins.${ctx.name}.config.channels.${index}.senders.${j}`,
                `no SMS sender "${id}"; loaded: ${[...senders.keys()].join(', ') || 'none (load sms-letexto, sms-file, …)'}`,
              );
            }
          });
        } else if (senders.size === 0) {
          throw new ConfigError(
            `plugins.${ctx.name}.config.channels.${index}`,
            `SMS channel "${c.id}" needs an SMS sender plugin (sms-letexto, sms-file, …); none is loaded`,
          );
        }
      }
      ctx.log.info({ channels: ctx.config.channels.map((c) => `${c.id}:${c.kind}`) }, 'notification channels ready');
    });
    ctx.onStop(() => {
      for (const e of emails) e.close();
    });
  },
});
