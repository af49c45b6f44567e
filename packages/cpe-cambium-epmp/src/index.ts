/**
 * @rgz/cpe-cambium-epmp — a `CpeProfile` for Cambium ePMP radios (CAMBIUM-PMP80211-MIB): DL RSSI, SNR, link quality
 * and capacity on a subscriber module; per-SM UL/DL RSSI, SNR, IP and rates from an AP's connected-station table;
 * frequency, channel width, CPU, firmware, and IF-MIB counters. Load it next to @rgz/plugin-snmp; OIDs: README.md.
 */
import { CpeProfiles, definePlugin, z } from '@rgz/core';
import { createEpmpProfile } from './profile.js';

export { createEpmpProfile, detectEpmp, EPMP_PROBE_OIDS, EpmpOid, type EpmpProfileOptions, epmpPlan, parseEpmp, sessionSeconds } from './profile.js';

export const configSchema = z
  .object({
    /** Profile id devices name in the inventory (`profile`). */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .default('cambium-epmp'),
  })
  .strict();

export default definePlugin({
  name: 'cpe-cambium-epmp',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'CPE profile for Cambium ePMP (CAMBIUM-PMP80211-MIB)',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(CpeProfiles, createEpmpProfile({ id: ctx.config.id }));
  },
});
