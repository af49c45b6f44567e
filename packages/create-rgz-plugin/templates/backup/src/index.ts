/**
 * {{PACKAGE}}: a backup target contributed to `BackupTargets` that stores backups as files in a folder (a second
 * disk, a mounted share).
 */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BackupTargets, ConfigError, definePlugin, z } from '@rgz/core';
import { FolderTarget } from './folder-target.js';

export { FolderTarget } from './folder-target.js';

/** `plugins[].config` of this plugin. Strict: a misspelt key is an error, not silently ignored. */
export const configSchema = z.strictObject({
  /** Instance id: the key in `BackupTargets`, which the backup plan names. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .default('{{NAME}}'),
  /** Folder the backups are written to; created at start if missing. Relative to the server's working folder. */
  path: z.string().min(1),
});

export type Config = z.output<typeof configSchema>;

export default definePlugin({
  name: '{{NAME}}',
  version: '{{VERSION}}',
  core: '{{CORE_RANGE}}',
  description: '{{DESCRIPTION}}',
  config: configSchema,
  provides: [BackupTargets],

  setup(ctx) {
    const root = resolve(ctx.config.path);
    ctx.contribute(BackupTargets, new FolderTarget(ctx.config.id, root));

    // setup does no I/O: the folder is checked when the server starts.
    ctx.onStart(async () => {
      try {
        await mkdir(root, { recursive: true });
        await access(root, constants.W_OK);
      } catch (error) {
        throw new ConfigError(
          `plugins.${ctx.name}.config.path`,
          `cannot write to ${root} (${(error as Error).message}); create it, make it writable by this process, or set another path`,
        );
      }
    });
  },
});
