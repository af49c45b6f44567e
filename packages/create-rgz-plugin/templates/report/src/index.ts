/**
 * {{PACKAGE}}: a report exporter contributed to `ReportExporters` that writes a period's figures as CSV files.
 */
import { definePlugin, ReportExporters, z } from '@rgz/core';
import { createCsvExporter } from './exporter.js';

export { type CsvExporterOptions, createCsvExporter } from './exporter.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `ReportExporters`, which report runs name. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Start of every file name. */
  filePrefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"')
    .default('{{NAME}}'),
  /** `,` (RFC 4180) or `;` (spreadsheets in a French locale). */
  separator: z.enum([',', ';']).default(';'),
  /** Start each file with a UTF-8 byte order mark (spreadsheets then read accents right). */
  bom: z.boolean().default(true),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [ReportExporters],

  setup(ctx) {
    ctx.contribute(ReportExporters, createCsvExporter(ctx.config));
  },
});
