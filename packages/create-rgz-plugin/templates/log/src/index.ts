/**
 * {{PACKAGE}}: a rule-based log parser contributed to `LogParsers`: syslog lines matching one of its regular
 * expressions become structured records (kind, subject MAC / user / IP, fields).
 */
import { definePlugin, LogParsers, z } from '@rgz/core';
import { createRegexLogParser, DEFAULT_RULES } from './parser.js';

export { createRegexLogParser, DEFAULT_RULES, type LogRule, type RegexLogParserOptions } from './parser.js';

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

const rule = z.strictObject({
  kind: z.string().regex(/^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/, 'area.event, lowercase (wifi.associated)'),
  pattern: z.string().min(1).refine(compiles, 'not a valid JavaScript regular expression'),
  severity: z.coerce.number().int().min(0).max(7).optional(),
});

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `LogParsers`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Syslog TAG / APP-NAME of the lines to parse; empty: every line. */
  appNames: z.array(z.string().min(1)).default(['hostapd']),
  /** Tried in order; the first match makes the record. */
  rules: z
    .array(rule)
    .min(1)
    .default(DEFAULT_RULES.map((r) => ({ ...r }))),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [LogParsers],

  setup(ctx) {
    const { id, appNames, rules } = ctx.config;
    ctx.contribute(LogParsers, createRegexLogParser({ id, appNames, rules }));
  },
});
