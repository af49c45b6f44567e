/**
 * @rgz/logparser-ubiquiti-airos: the `logparser-ubiquiti-airos` plugin. Contributes a `LogParser` for Ubiquiti airOS
 * wireless events (hostapd association/deauthentication/handshake, wpa_supplicant connection and signal changes) to
 * core's `LogParsers` point, read by `@rgz/plugin-logs`.
 */

import { definePlugin, LogParsers, z } from '@rgz/core';
import { AIROS_APP_NAMES, createAirosParser } from './parser.js';

export { AIROS_APP_NAMES, type AirosParserOptions, createAirosParser } from './parser.js';

/** `plugins[].config` of `logparser-ubiquiti-airos`. */
export const configSchema = z.object({
  /** Instance id in `LogParsers`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('airos'),
  /** Syslog TAGs routed to this parser. */
  appNames: z.array(z.string().min(1)).default([...AIROS_APP_NAMES]),
});

export default definePlugin({
  name: 'logparser-ubiquiti-airos',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Log parser for Ubiquiti airOS syslog: hostapd / wpa_supplicant association events, signal where present',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(LogParsers, createAirosParser(ctx.config));
  },
});
