import { readFileSync } from 'node:fs';
import { LogParsers } from '@rgz/core';
import { logParserContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { createRegexLogParser, DEFAULT_RULES } from './parser.js';
import { samples } from './test-support/samples.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared LogParser contract from @rgz/core/testing, over the sample lines (and mangled copies of them).
logParserContract('{{NAME}}', () => ({ parser: createRegexLogParser({ id: 'contract', appNames: ['hostapd'], rules: DEFAULT_RULES }), samples }));

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its parser under the config id, with the rules from config', async () => {
    const rules = [{ kind: 'auth.login_failed', pattern: String.raw`login failed for user (?<user>\S+) from (?<ip>[\d.]+)`, severity: 4 }];
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'admin-logins', appNames: [], rules } }] });
    try {
      const parser = server.collect(LogParsers).get('admin-logins');
      const record = parser?.parse({ format: 'raw', message: 'login failed for user admin from 10.0.0.9', receivedAt: new Date(0) });
      expect(record).toMatchObject({ kind: 'auth.login_failed', severity: 4, subject: { userName: 'admin', ip: '10.0.0.9' } });
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { rules: [{ kind: 'wifi.x', pattern: '(unclosed' }] } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.rules.0.pattern',
    });
  });
});
