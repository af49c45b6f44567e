/**
 * {{PACKAGE}}: a RADIUS dialect contributed to `NasVendors` that speaks only standard attributes. NAS rows whose
 * `vendor` is this instance's `id` get their plans' timeouts as Session-Timeout / Idle-Timeout /
 * Acct-Interim-Interval, and are disconnected with RFC 5176 Disconnect-Request.
 */
import { definePlugin, NasVendors, z } from '@rgz/core';
import { createStandardVendor } from './dialect.js';

export { createStandardVendor, type StandardVendorOptions } from './dialect.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `NasVendors`, and the `vendor` value of the NAS that speak this dialect. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** The NAS accept Disconnect-Request (RFC 5176) on their CoA port. */
  disconnect: z.boolean().default(true),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [NasVendors],

  setup(ctx) {
    ctx.contribute(NasVendors, createStandardVendor({ id: ctx.config.id, disconnect: ctx.config.disconnect }));
  },
});
