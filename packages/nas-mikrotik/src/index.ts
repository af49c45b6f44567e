/**
 * @rgz/nas-mikrotik: the `nas-mikrotik` plugin. Contributes the MikroTik RouterOS RADIUS dialect to `NasVendors`
 * under its instance id (default `mikrotik`), which NAS rows name in their `vendor` column.
 */

import { definePlugin, NasVendors, z } from '@rgz/core';
import { createMikrotikVendor } from './dialect.js';

export {
  createMikrotikVendor,
  formatRate,
  MIKROTIK_VENDOR_ID,
  MikrotikAttribute,
  type MikrotikVendorOptions,
  mikrotikDictionary,
  rateLimitValue,
} from './dialect.js';

/** `plugins[].config` of `nas-mikrotik`. */
export const configSchema = z.object({
  /** Instance id: the key in `NasVendors`, and the `vendor` value of the NAS that speak this dialect. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('mikrotik'),
});

export default definePlugin({
  name: 'nas-mikrotik',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'RADIUS dialect of MikroTik RouterOS hotspots and PPPoE (Mikrotik-Rate-Limit, Total/Recv/Xmit limits)',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(NasVendors, createMikrotikVendor({ id: ctx.config.id }));
  },
});
