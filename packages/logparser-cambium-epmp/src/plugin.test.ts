import { readFileSync } from 'node:fs';
import { LogParsers } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';
import { createCambiumParser } from './parser.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(plugin.name).toBe('logparser-cambium-epmp');
  expect(pkg.name).toBe('@rgz/logparser-cambium-epmp');
  expect(configSchema.parse({})).toEqual({ id: 'cambium-epmp', appNames: [] });
});

it('contributes its parser to LogParsers', async () => {
  const server = await startTestServer({ plugins: [plugin] });
  try {
    expect(server.collect(LogParsers).get('cambium-epmp')?.provider).toBe('cambium-epmp');
  } finally {
    await server.close();
  }
});

it('ignores out-of-range VLANs and MAC-like substrings of longer hex runs', () => {
  const p = createCambiumParser();
  const base = { format: 'raw' as const, receivedAt: new Date() };
  expect(p.parse({ ...base, message: 'Bridge entry 00:04:56:aa:bb:d0 vlan=5000' })).toBeNull();
  expect(p.parse({ ...base, message: 'SM 00:04:56:aa:bb:d0:11 registered' })).toBeNull();
  expect(p.parse({ ...base, message: 'SM 00:04:56:aa:bb:d0 registered' })?.kind).toBe('wifi.registered');
});
