/**
 * Pins the test set-up: workspace packages must resolve to their TypeScript sources through the private
 * `@rgz/source` export condition (vitest's `ssr.resolve.conditions`), never to a possibly stale `dist/`.
 */
import { TESTING_MODULE_URL } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';

describe('workspace resolution in tests', () => {
  it('imports @rgz/core from its sources', () => {
    expect(TESTING_MODULE_URL).toMatch(/\/packages\/core\/src\/testing\/index\.ts$/);
  });
});
