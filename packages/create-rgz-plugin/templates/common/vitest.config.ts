import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `development` picks @rgz/core's TypeScript sources when it is linked from a checkout of the RGZ repository;
  // an @rgz/core installed from npm has no sources and resolves to its dist/ as usual.
  resolve: { conditions: ['development'] },
  test: { include: ['src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000, pool: 'forks' },
});
