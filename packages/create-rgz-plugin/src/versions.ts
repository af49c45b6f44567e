/**
 * Version ranges written into a scaffold's package.json. The `@rgz/core` range is taken from the core the generator
 * can see (the integrator's project, or the RGZ repository); this file gives the fallback and the tool versions the
 * RGZ repository tests with. `versions.test.ts` keeps them equal to the repository's.
 */

/** `@rgz/core` range used when no `@rgz/core` is installed where the generator runs. */
export const CORE_RANGE_FALLBACK = '^0.1.0';

/** Dev tools of the scaffold: the ranges of the RGZ repository's root package.json. */
export const TOOL_RANGES = {
  '@types/node': '^20.19.43',
  typescript: '~5.9.3',
  vitest: '~4.1.0',
} as const;

/** The scaffold's own first version. */
export const INITIAL_VERSION = '0.1.0';
