import { readFileSync } from 'node:fs';
import { LogParsers } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(plugin.name).toBe('logparser-freeradius');
  expect(pkg.name).toBe('@rgz/logparser-freeradius');
  expect(configSchema.parse({})).toEqual({ id: 'freeradius', timeZone: 'UTC', appNames: ['radiusd', 'freeradius', 'radius'] });
  expect(configSchema.safeParse({ timeZone: 'Mars/Olympus' }).success).toBe(false);
});

it('contributes its parser to LogParsers under the instance id', async () => {
  const server = await startTestServer({
    plugins: [{ plugin }, { plugin, name: 'logparser-freeradius-b', config: { id: 'freeradius-b', timeZone: 'Africa/Porto-Novo' } }],
  });
  try {
    const parsers = server.collect(LogParsers);
    expect([...parsers.keys()].sort()).toEqual(['freeradius', 'freeradius-b']);
    expect(parsers.get('freeradius')?.provider).toBe('freeradius');
  } finally {
    await server.close();
  }
});
