import { z } from '@rgz/core';

export const configSchema = z
  .object({
    /** Largest CSV import, in rows (the HTTP body limit of 1 MiB applies too; the CLI has none). */
    importMaxRows: z.number().int().positive().default(20_000),
    /**
     * Refuse a device profile that no loaded plugin contributes (when at least one CpeProfile is loaded). Turn off to
     * register devices before their vendor plugin is installed.
     */
    checkProfiles: z.boolean().default(true),
  })
  .strict();

export type InventoryConfig = z.infer<typeof configSchema>;
