import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@rgz/source'] },
  // Tests run in Vite's server (SSR) environment, whose conditions are separate from `resolve.conditions`.
  ssr: { resolve: { conditions: ['@rgz/source', 'node', 'development|production'] } },
  test: { testTimeout: 30_000, hookTimeout: 60_000, pool: 'forks' },
});
