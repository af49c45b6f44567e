/**
 * {{PACKAGE}}: a notification channel contributed to `NotificationChannels` that posts each notification as JSON
 * to a webhook URL.
 */
import { definePlugin, NotificationChannels, z } from '@rgz/core';
import { WebhookChannel } from './channel.js';

export { truncate, WebhookChannel, type WebhookChannelOptions } from './channel.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `NotificationChannels`, which alert routes name. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Where the notifications are posted. */
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  /** Bearer token sent with each post; write it `${env:…}`. */
  token: z.string().min(1).optional(),
  /** Whole-request deadline, ms. */
  timeoutMs: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Longest text posted, in characters. */
  maxTextLength: z.coerce.number().int().min(70).max(100_000).default(4_000),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [NotificationChannels],

  setup(ctx) {
    const { id, url, token, timeoutMs, maxTextLength } = ctx.config;
    ctx.contribute(NotificationChannels, new WebhookChannel({ id, url, timeoutMs, maxTextLength, ...(token === undefined ? {} : { token }) }));
  },
});
