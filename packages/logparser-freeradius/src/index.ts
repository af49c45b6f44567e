/**
 * @rgz/logparser-freeradius: the `logparser-freeradius` plugin. Contributes a `LogParser` for FreeRADIUS 3.2
 * auth-log lines (`Login OK`, `Login incorrect`, `Invalid user`) and for the seed's `[Auth] [Success] User=…, NAS-ID=…`
 * lines (what RGZ's own RADIUS plugin logs) to core's `LogParsers` point, read by `@rgz/plugin-logs`.
 */

import { definePlugin, isTimeZone, LogParsers, z } from '@rgz/core';
import { createFreeradiusParser, FREERADIUS_APP_NAMES } from './parser.js';

export { createFreeradiusParser, FREERADIUS_APP_NAMES, type FreeradiusParserOptions, normalizeMac } from './parser.js';

/** `plugins[].config` of `logparser-freeradius`. */
export const configSchema = z.object({
  /** Instance id in `LogParsers`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('freeradius'),
  /** Zone of the ctime at the start of FreeRADIUS log-file lines (`radius.log`); syslog lines carry their own time. */
  timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as UTC or Africa/Porto-Novo').default('UTC'),
  /** Syslog TAGs routed to this parser; lines without a TAG (tailed files) always are. */
  appNames: z.array(z.string().min(1)).default([...FREERADIUS_APP_NAMES]),
});

export default definePlugin({
  name: 'logparser-freeradius',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Log parser for FreeRADIUS 3.2 auth lines (Login OK / incorrect, Invalid user) and RGZ [Auth] lines',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(LogParsers, createFreeradiusParser(ctx.config));
  },
});
