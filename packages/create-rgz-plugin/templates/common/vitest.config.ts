import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `@rgz/source` picks @rgz/core's TypeScript sources when it is linked from a checkout of the RGZ repository;
  // an @rgz/core installed from npm has no sources and resolves to its dist/ as usual.
  resolve: { conditions: ['@rgz/source'] },
  // Tests run in Vite's server (SSR) environment, whose conditions are separate from `resolve.conditions`.
  ssr: { resolve: { conditions: ['@rgz/source', 'node', 'development|production'] } },
  test: { include: ['src/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000, pool: 'forks' },
});
