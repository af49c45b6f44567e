/**
 * @rgz/nas-coovachilli: the `nas-coovachilli` plugin. Contributes the CoovaChilli / ChilliSpot RADIUS dialect to
 * `NasVendors` under its instance id (default `coovachilli`), which NAS rows name in their `vendor` column.
 */

import { definePlugin, NasVendors, z } from '@rgz/core';
import { createChilliVendor } from './dialect.js';

export {
  CHILLISPOT_VENDOR_ID,
  ChilliAttribute,
  type ChilliVendorOptions,
  chilliDictionary,
  createChilliVendor,
  toKbps,
} from './dialect.js';

/** `plugins[].config` of `nas-coovachilli`. */
export const configSchema = z.object({
  /** Instance id: the key in `NasVendors`, and the `vendor` value of the NAS that speak this dialect. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('coovachilli'),
});

export default definePlugin({
  name: 'nas-coovachilli',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'RADIUS dialect of CoovaChilli / ChilliSpot (bandwidth in kbit/s, octet quotas with Gigawords)',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(NasVendors, createChilliVendor({ id: ctx.config.id }));
  },
});
