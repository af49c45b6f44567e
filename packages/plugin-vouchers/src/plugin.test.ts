/** The plugin value: name, version, config defaults and errors, migration names, and start-up without billing. */
import { readFileSync } from 'node:fs';
import { startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import vouchers, { configSchema } from './index.js';
import { vouchersMigrations } from './migrations.js';
import { SECRET } from './test-support/harness.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

describe('the vouchers plugin', () => {
  it("declares package.json's version and its name", () => {
    expect(vouchers.version).toBe(pkg.version);
    expect(vouchers.name).toBe('vouchers');
    expect(pkg.name).toBe('@rgz/plugin-vouchers');
  });

  it('has its defaults and refuses a short secret', () => {
    const c = configSchema.parse({ secret: SECRET });
    expect(c).toMatchObject({ brand: 'RGZ WiFi', maxBatchSize: 5000, defaultValidityDays: 180, pdf: { ttlSeconds: 86_400 } });
    expect(c.rateLimit).toEqual({
      perSubscriber: { failures: 5, windowSeconds: 900 },
      perSubscriberPerDay: { failures: 20, windowSeconds: 86_400 },
      perIp: { failures: 30, windowSeconds: 900 },
    });
    expect(configSchema.safeParse({ secret: 'short' }).success).toBe(false);
    expect(configSchema.safeParse({ secret: SECRET, maxBatchSize: 5001 }).success).toBe(false);
  });

  it('names its migrations vouchers_<nnnn>_<what>', () => {
    for (const name of Object.keys(vouchersMigrations)) expect(name).toMatch(/^vouchers_\d{4}_[a-z0-9_]+$/);
  });

  it('does not start without billing: a voucher sale must never go unbooked', async () => {
    await expect(startTestServer({ plugins: [{ plugin: vouchers, config: { secret: SECRET } }] })).rejects.toThrow(/core\.ledger-writer/);
  });
});
