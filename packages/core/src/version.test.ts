import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from './index.js';
import { CORE_VERSION } from './version.js';

describe('core version', () => {
  it('CORE_VERSION equals package.json version, and index exports it', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect(pkg.name).toBe('@rgz/core');
    expect(CORE_VERSION).toBe(pkg.version);
    expect(core.CORE_VERSION).toBe(pkg.version);
  });
});
