/**
 * {{PACKAGE}}: an `SmsSender` contributed to `SmsSenders` that writes messages to a JSON-lines file, or keeps them
 * in memory only, plus `GET /api/<name>/messages` to read the last ones back (how a test or a demo reads an OTP).
 */
import { resolve } from 'node:path';
import { definePlugin, defineRoute, SmsSenders, z } from '@rgz/core';
import { fileSink, JsonlSmsSender, type SmsRecord } from './sender.js';

export { fileSink, JsonlSmsSender, type JsonlSmsSenderOptions, type SmsRecord, type SmsSink } from './sender.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `SmsSenders`, which flows name to pick a sender. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** File the messages are appended to, one JSON object per line (its folder must exist); absent: memory only. */
  path: z.string().min(1).optional(),
  /** Sender id used when a message carries none (an SMS sender id is at most 11 characters). */
  senderId: z.string().min(1).max(11).default('RGZ'),
  /** How many of the last messages `GET /messages` can return. */
  keep: z.coerce.number().int().min(1).max(10_000).default(100),
});

export type Config = z.output<typeof configSchema>;

const Message = z.object({
  at: z.string(),
  sender: z.string(),
  providerMessageId: z.string(),
  correlationId: z.string(),
  to: z.string(),
  senderId: z.string(),
  text: z.string(),
});

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  // A contributor lists the point, so plugins that depend on SmsSenders set up after this one.
  provides: [SmsSenders],

  setup(ctx) {
    const { config } = ctx;
    // Per instance, never module-level: the same package may be loaded twice with two configs.
    const last: SmsRecord[] = [];
    const path = config.path === undefined ? undefined : resolve(config.path);
    const sender = new JsonlSmsSender({
      id: config.id,
      senderId: config.senderId,
      sink: path === undefined ? async () => {} : fileSink(path),
      onAccepted(record) {
        last.push(record);
        if (last.length > config.keep) last.shift();
      },
    });
    ctx.contribute(SmsSenders, sender);

    ctx.router().add(
      defineRoute({
        method: 'get',
        path: '/messages',
        access: ['noc'],
        tags: [ctx.name],
        summary: 'Last messages this sender accepted, newest first',
        request: {
          query: z.object({
            to: z.string().max(32).optional().openapi({ description: 'Only messages to this E.164 number (write + as %2B)' }),
            limit: z.coerce.number().int().min(1).max(200).default(20),
          }),
        },
        responses: {
          200: { description: 'Messages, newest first', content: { 'application/json': { schema: z.object({ items: z.array(Message) }) } } },
        },
      }),
      (c) => {
        const { to, limit } = c.req.valid('query');
        const items = last
          .filter((m) => to === undefined || m.to === to)
          .reverse()
          .slice(0, limit);
        return c.json({ items }, 200);
      },
    );

    ctx.onStart(() => {
      ctx.log.info(
        { sender: config.id, path: path ?? null },
        path ? 'SMS messages are written to a file, not sent' : 'SMS messages are kept in memory, not sent',
      );
    });
  },
});
