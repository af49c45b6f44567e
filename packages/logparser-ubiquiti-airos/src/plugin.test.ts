import { readFileSync } from 'node:fs';
import { LogParsers } from '@rgz/core';
import { startTestServer } from '@rgz/core/testing';
import { expect, it } from 'vitest';
import plugin, { configSchema } from './index.js';
import { createAirosParser } from './parser.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(plugin.name).toBe('logparser-ubiquiti-airos');
  expect(pkg.name).toBe('@rgz/logparser-ubiquiti-airos');
  expect(configSchema.parse({})).toEqual({ id: 'airos', appNames: ['hostapd', 'wpa_supplicant'] });
});

it('contributes its parser to LogParsers', async () => {
  const server = await startTestServer({ plugins: [plugin] });
  try {
    expect(server.collect(LogParsers).get('airos')?.provider).toBe('airos');
  } finally {
    await server.close();
  }
});

it('does not mistake a MAC-less or malformed STA line for an event', () => {
  const p = createAirosParser();
  const base = { format: 'raw' as const, receivedAt: new Date() };
  expect(p.parse({ ...base, message: 'ath0: STA 24:a4:3c:01:02 IEEE 802.11: associated' })).toBeNull();
  expect(p.parse({ ...base, message: 'STA 24:a4:3c:01:02:03 IEEE 802.11: associated' })).toBeNull();
  expect(p.parse({ ...base, message: 'ath0: STA 24:a4:3c:01:02:03 IEEE 802.11: something new' })?.kind).toBe('wifi.station_event');
});
