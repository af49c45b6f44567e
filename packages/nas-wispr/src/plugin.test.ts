/** The nas-wispr plugin inside a real server: it contributes its dialect to NasVendors under the configured id. */
import { readFileSync } from 'node:fs';
import { NasVendors } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(plugin.name).toBe('nas-wispr');
  expect(pkg.name).toBe('@rgz/nas-wispr');
  expect(configSchema.parse({})).toEqual({ id: 'wispr', policyChange: 'coa' });
});

it('contributes the dialect under its instance id, so two instances can coexist', async () => {
  const server = await startTestServer({
    plugins: [{ plugin }, { plugin, name: 'nas-wispr-b', config: { id: 'wispr-b' } }],
  });
  try {
    const vendors = server.collect(NasVendors);
    expect([...vendors.keys()].sort()).toEqual(['wispr', 'wispr-b']);
    expect(vendors.get('wispr')?.provider).toBe('wispr');
  } finally {
    await server.close();
  }
});
