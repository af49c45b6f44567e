/** The nas-coovachilli plugin inside a real server: it contributes its dialect to NasVendors under the configured id. */
import { readFileSync } from 'node:fs';
import { NasVendors } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(plugin.name).toBe('nas-coovachilli');
  expect(pkg.name).toBe('@rgz/nas-coovachilli');
  expect(configSchema.parse({})).toEqual({ id: 'coovachilli' });
});

it('contributes the dialect under its instance id, so two instances can coexist', async () => {
  const server = await startTestServer({
    plugins: [{ plugin }, { plugin, name: 'nas-coovachilli-b', config: { id: 'coovachilli-b' } }],
  });
  try {
    const vendors = server.collect(NasVendors);
    expect([...vendors.keys()].sort()).toEqual(['coovachilli', 'coovachilli-b']);
    expect(vendors.get('coovachilli')?.provider).toBe('coovachilli');
  } finally {
    await server.close();
  }
});
