/**
 * @rgz/logparser-cambium-epmp: the `logparser-cambium-epmp` plugin. Contributes a `LogParser` for Cambium ePMP
 * syslog (subscriber MAC, VLAN, authentication and registration events) to core's `LogParsers` point, read by
 * `@rgz/plugin-logs`. Built without a real capture: see the README.
 */

import { definePlugin, LogParsers, z } from '@rgz/core';
import { createCambiumParser } from './parser.js';

export { type CambiumParserOptions, createCambiumParser } from './parser.js';

/** `plugins[].config` of `logparser-cambium-epmp`. */
export const configSchema = z.object({
  /** Instance id in `LogParsers`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('cambium-epmp'),
  /** Syslog TAGs routed to this parser; empty = every message no TAG-specific parser claimed. */
  appNames: z.array(z.string().min(1)).default([]),
});

export default definePlugin({
  name: 'logparser-cambium-epmp',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Log parser for Cambium ePMP syslog: subscriber MAC, VLAN, authentication and registration',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(LogParsers, createCambiumParser(ctx.config));
  },
});
