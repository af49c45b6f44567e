/**
 * @rgz/nas-wispr: the `nas-wispr` plugin. Contributes the WISPr RADIUS dialect to `NasVendors` under its instance id
 * (default `wispr`), which NAS rows name in their `vendor` column.
 */

import { definePlugin, NasVendors, z } from '@rgz/core';
import { createWisprVendor } from './dialect.js';

export { createWisprVendor, WISPR_VENDOR_ID, WisprAttribute, type WisprVendorOptions, wisprDictionary } from './dialect.js';

/** `plugins[].config` of `nas-wispr`. */
export const configSchema = z.object({
  /** Instance id: the key in `NasVendors`, and the `vendor` value of the NAS that speak this dialect. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('wispr'),
  /** `disconnect` for NAS without CoA support: a plan change then disconnects the session instead. */
  policyChange: z.enum(['coa', 'disconnect']).default('coa'),
});

export default definePlugin({
  name: 'nas-wispr',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'RADIUS dialect of WISPr-compliant NAS (bandwidth in bit/s; no quota attributes)',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(NasVendors, createWisprVendor({ id: ctx.config.id, policyChange: ctx.config.policyChange }));
  },
});
