/**
 * @rgz/plugin-letexto: the `sms-letexto` plugin. Contributes one `SmsSender` (provider `letexto`) per instance to
 * `SmsSenders`, configured with a Letexto v3 API key and a validated sender name, and counts every send in
 * `sms_sent_total{provider="letexto",status}`. The wire-compatible test server is `@rgz/plugin-letexto/test-server`.
 */

import { definePlugin, SmsSenders, z } from '@rgz/core';
import { LETEXTO_BASE_URL } from './client.js';
import { DEFAULT_MAX_TEXT_LENGTH, LetextoSender, type SendOutcome } from './sender.js';

export {
  LETEXTO_BASE_URL,
  type LetextoBalance,
  LetextoClient,
  type LetextoClientOptions,
  LetextoError,
  type LetextoMessageStatus,
  type LetextoSendAccepted,
  type LetextoSendBody,
  toLetextoNumber,
} from './client.js';
export { LetextoSender, type LetextoSenderOptions, mapStatus, type SendOutcome } from './sender.js';

/** `plugins[].config` of `sms-letexto`. */
export const configSchema = z.object({
  /** Instance id: the key in `SmsSenders` that flows name to pick this sender. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('letexto'),
  /** API root; change it only to point at a test server or a proxy. */
  baseUrl: z.url({ protocol: /^https?$/ }).default(LETEXTO_BASE_URL),
  /** Letexto API key (secret: write `${env:LETEXTO_API_KEY}` in the config file). */
  // biome-ignore lint/suspicious/noTemplateCurlyInString: `${env:…}` is the config file's secret syntax, not a template.
  apiKey: z.string().min(1, 'the Letexto API key is required (e.g. apiKey: ${env:LETEXTO_API_KEY})'),
  /** Default sender name (`from`), created and validated on the Letexto account; at most 11 characters. */
  senderId: z.string().min(1).max(11),
  /** Deadline of one HTTP request to Letexto, in ms. A timeout after sending is reported as ambiguous. */
  timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Extra attempts after a failure that certainly did not send (refused, 5xx, 429); never after a timeout. */
  retries: z.coerce.number().int().min(0).max(10).default(2),
  /** Wait before the first retry, in ms; doubled for each further retry. */
  backoffMs: z.coerce.number().int().min(0).max(60_000).default(500),
  /** Longest text accepted per message (Letexto publishes no limit). */
  maxTextLength: z.coerce.number().int().min(160).max(10_000).default(DEFAULT_MAX_TEXT_LENGTH),
});

export type LetextoConfig = z.output<typeof configSchema>;

export default definePlugin({
  name: 'sms-letexto',
  version: '0.1.0',
  core: '^0.1.0',
  description: "SMS sender over Letexto's v3 HTTP API",
  config: configSchema,

  setup(ctx) {
    const { config } = ctx;
    const sent = ctx.metrics.counter({
      name: 'sms_sent_total',
      help: 'SMS sends by provider and final outcome (after retries): accepted, failed (refused or certainly not sent), ambiguous (may have been sent)',
      labelNames: ['provider', 'status'],
    });
    const sender = new LetextoSender({
      id: config.id,
      baseUrl: config.baseUrl,
      apiKey: config.apiKey,
      senderId: config.senderId,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      backoffMs: config.backoffMs,
      maxTextLength: config.maxTextLength,
      log: ctx.log,
      onOutcome: (status: SendOutcome) => sent.inc({ provider: 'letexto', status }),
    });
    ctx.contribute(SmsSenders, sender);
    ctx.onStart(() => {
      ctx.log.info({ sender: config.id, base_url: config.baseUrl, sender_id: config.senderId, retries: config.retries }, 'letexto sms sender ready');
    });
  },
});
