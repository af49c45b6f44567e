/**
 * @rgz/cpe-ubiquiti-airmax — a `CpeProfile` for Ubiquiti airMAX radios (UBNT-AirMAX-MIB): signal, noise, SNR, CCQ,
 * airMAX capacity/quality, airtime, PHY rates, station table (AP side), CPU, temperature, and IF-MIB counters
 * (32-bit when airOS has no ifXTable). Load it next to @rgz/plugin-snmp; OIDs and units: README.md.
 */
import { CpeProfiles, definePlugin, z } from '@rgz/core';
import { createAirMaxProfile } from './profile.js';

export {
  AIRMAX_PROBE_OIDS,
  AirMaxOid,
  type AirMaxProfileOptions,
  airMaxPlan,
  createAirMaxProfile,
  detectAirMax,
  firmwareOf,
  parseAirMax,
  temperatureOf,
} from './profile.js';

export const configSchema = z
  .object({
    /** Profile id devices name in the inventory (`profile`); change it only to run two differently configured copies. */
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .default('ubnt-airmax'),
  })
  .strict();

export default definePlugin({
  name: 'cpe-ubiquiti-airmax',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'CPE profile for Ubiquiti airMAX (UBNT-AirMAX-MIB: LiteBeam, NanoStation)',
  config: configSchema,
  setup(ctx) {
    ctx.contribute(CpeProfiles, createAirMaxProfile({ id: ctx.config.id }));
  },
});
