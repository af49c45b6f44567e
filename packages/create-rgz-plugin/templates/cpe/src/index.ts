/**
 * {{PACKAGE}}: an SNMP profile contributed to `CpeProfiles` reading the standard IF-MIB interface counters, uptime
 * and description of a CPE or radio.
 */
import { CpeProfiles, definePlugin, z } from '@rgz/core';
import { createIfMibProfile } from './profile.js';

export { createIfMibProfile, type IfMibProfileOptions, parse, plan } from './profile.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `CpeProfiles`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Claim only devices whose sysObjectID is under this enterprise OID (e.g. 1.3.6.1.4.1.41112); absent: any agent. */
  enterprise: z
    .string()
    .regex(/^1\.3\.6\.1\.4\.1\.\d+(?:\.\d+)*$/, 'an OID under 1.3.6.1.4.1 (enterprises), dotted, no leading dot')
    .optional(),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [CpeProfiles],

  setup(ctx) {
    const { id, enterprise } = ctx.config;
    ctx.contribute(CpeProfiles, createIfMibProfile({ id, ...(enterprise === undefined ? {} : { enterprise }) }));
  },
});
