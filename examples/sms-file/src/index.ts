/**
 * rgz-plugin-sms-file: an SMS sender that writes messages to a file instead of a gateway, a route to read them back
 * (how an end-to-end test gets the OTP), a metric, a start-up check and a trim job. Written as an outside
 * integrator would write a plugin: it depends on @rgz/core only. See docs/writing-a-plugin.md.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, definePlugin, defineRoute, E164, httpErrors, SmsSenders, z } from '@rgz/core';
import { FileSmsSender, readLastMessages } from './file-sms-sender.js';

export { FileSmsSender, readLastMessages, type FileSmsRecord, type FileSmsSenderOptions } from './file-sms-sender.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in the SmsSenders point, which flows name to pick a sender. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('file'),
  /** File the messages are appended to, one JSON object per line; relative to the server's working folder. */
  path: z.string().min(1),
  /** Sender id written when a message carries none (an SMS sender id is at most 11 characters). */
  senderId: z.string().min(1).max(11),
  /** Refuse the first n sends as `retryable`, to watch a flow fail over to another sender. */
  failFirst: z.coerce.number().int().min(0).default(0),
  /** The daily `trim` job keeps this many lines. */
  keepLines: z.coerce.number().int().positive().default(10_000),
});

export type FileSmsConfig = z.output<typeof configSchema>;

const Message = z.object({
  at: z.string(),
  sender: z.string(),
  providerMessageId: z.string(),
  correlationId: z.string(),
  to: z.string(),
  senderId: z.string(),
  text: z.string(),
});

/** `+` in a query string decodes to a space: accept `?to=+229…` typed by hand as well as `?to=%2B229…`. */
function normalisePhone(raw: string): string {
  const compact = raw.replace(/\s+/g, '');
  return compact.startsWith('+') ? compact : `+${compact}`;
}

export default definePlugin({
  name: 'sms-file',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'SMS sender that appends each message as one JSON line to a file (development, demos, end-to-end tests)',
  config: configSchema,
  // A contributor lists the point: plugins that depend on SmsSenders then set up after this one.
  provides: [SmsSenders],

  setup(ctx) {
    const { config } = ctx;
    const path = resolve(config.path);

    const sent = ctx.metrics.counter({
      name: 'sms_sent_total',
      help: 'SMS sends by provider and final outcome: accepted, failed (refused or certainly not sent), ambiguous (may have been sent)',
      labelNames: ['provider', 'status'],
    });
    const sender = new FileSmsSender({
      id: config.id,
      path,
      senderId: config.senderId,
      failFirst: config.failFirst,
      // Same label values as every SMS plugin: accepted, failed, ambiguous.
      onOutcome: (outcome) => sent.inc({ provider: 'file', status: outcome === 'retryable' || outcome === 'permanent' ? 'failed' : outcome }),
    });
    ctx.contribute(SmsSenders, sender);

    ctx.router().add(
      defineRoute({
        method: 'get',
        path: '/messages',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Last messages written by this sender, newest first (tests read OTP codes here)',
        request: {
          query: z.object({
            to: z.string().max(32).optional().openapi({ description: 'Only messages to this E.164 number (encode + as %2B)', example: '+2290197000000' }),
            limit: z.coerce.number().int().min(1).max(200).default(20),
          }),
        },
        responses: {
          200: { description: 'Messages, newest first', content: { 'application/json': { schema: z.object({ items: z.array(Message) }) } } },
        },
      }),
      async (c) => {
        const query = c.req.valid('query');
        const to = query.to === undefined ? undefined : normalisePhone(query.to);
        if (to !== undefined && !E164.test(to)) throw httpErrors.badRequest('invalid_phone', `"${query.to}" is not an E.164 number (+229…)`);
        const items = await readLastMessages(path, { limit: query.limit, ...(to ? { to } : {}) });
        return c.json({ items }, 200);
      },
    );

    ctx.schedule({
      id: 'trim',
      cron: '0 4 * * *',
      // The file is on this replica's disk: every replica trims its own.
      scope: 'local',
      description: `Keep the last ${config.keepLines} lines of ${path}`,
      async run({ log }) {
        const dropped = await sender.trim(config.keepLines);
        if (dropped > 0) log.info({ dropped, path }, 'sms file trimmed');
        return { dropped };
      },
    });

    ctx.onStart(async () => {
      const folder = dirname(path);
      try {
        if (!(await stat(folder)).isDirectory()) throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
        await access(folder, constants.W_OK);
        if ((await stat(path).catch(() => null))?.isDirectory()) throw Object.assign(new Error(`${path} is a folder`), { code: 'EISDIR' });
      } catch (err) {
        const { code = 'error', message } = err as NodeJS.ErrnoException;
        const reason = message.startsWith(code) ? message : `${code}: ${message}`;
        throw new ConfigError(
          `plugins.${ctx.name}.config.path`,
          `cannot write ${path} (${reason}); create the folder ${folder}, make it writable by this process, or set another path`,
        );
      }
      ctx.log.info({ sender: config.id, path }, 'SMS messages are written to a file, not sent');
    });
  },
});
