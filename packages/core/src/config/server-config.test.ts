// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config placeholders, not templates
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors/rgz-error.js';
import { applyEnvOverrides, interpolateSecrets, parseServerConfig, redactConfig, safeParseCoercingStrings } from './server-config.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('server config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills defaults for an empty config', () => {
    const c = parseServerConfig({}, {});
    expect(c.service).toBe('rgz-api');
    expect(c.timezone).toBe('Africa/Porto-Novo');
    expect(c.http).toMatchObject({ port: 8080, host: '0.0.0.0', shutdownGraceSeconds: 15 });
    expect(c.database.url).toBeUndefined();
    expect(c.redis.url).toBeUndefined();
    expect(c.tasks).toEqual({ concurrency: 4, pollIntervalMs: 500, worker: true });
    expect(c.plugins).toEqual([]);
  });

  it('PORT, DATABASE_URL, REDIS_URL and LOG_LEVEL override the file', () => {
    const c = parseServerConfig(
      { http: { port: 3000 }, database: { url: 'postgres://file/db' }, log: { level: 'info' } },
      { PORT: '9090', DATABASE_URL: 'postgres://env@db:5432/rgz', REDIS_URL: 'redis://cache:6379', LOG_LEVEL: 'warn' },
    );
    expect(c.http.port).toBe(9090);
    expect(c.database.url).toBe('postgres://env@db:5432/rgz');
    expect(c.redis.url).toBe('redis://cache:6379');
    expect(c.log.level).toBe('warn');
  });

  it('RGZ_A__B overrides any key, SNAKE_CASE becoming camelCase, and wins over PORT', () => {
    const c = parseServerConfig(
      {},
      {
        PORT: '1111',
        RGZ_HTTP__PORT: '2222',
        RGZ_HTTP__SHUTDOWN_GRACE_SECONDS: '3',
        RGZ_TASKS__WORKER: 'false',
        RGZ_HTTP__TRUST_PROXY: '["10.0.0.1"]',
        RGZ_SERVICE: 'rgz-test',
      },
    );
    expect(c.http.port).toBe(2222);
    expect(c.http.shutdownGraceSeconds).toBe(3);
    expect(c.tasks.worker).toBe(false);
    expect(c.http.trustProxy).toEqual(['10.0.0.1']);
    expect(c.service).toBe('rgz-test');
    // RGZ_CONFIG names the file; it is not a key.
    expect(parseServerConfig({}, { RGZ_CONFIG: '/etc/rgz.yaml' })).not.toHaveProperty('config');
  });

  it('RGZ_PLUGINS__<INSTANCE>__<KEY> sets an option of the matching plugin instance', () => {
    const raw = {
      plugins: [
        { package: '@rgz/plugin-sms-letexto', config: { sender: 'RGZ' } },
        { package: '@rgz/plugin-payment-kkiapay', name: 'kkiapay-b', config: {} },
        '@rgz/plugin-portal',
      ],
    };
    const env = {
      RGZ_PLUGINS__SMS_LETEXTO__API_KEY: 'k-123',
      RGZ_PLUGINS__KKIAPAY_B__SANDBOX: 'true',
      RGZ_PLUGINS__KKIAPAY_B__WEBHOOK__SECRET: 's3',
      RGZ_PLUGINS__NOT_LOADED__X: 'ignored',
    };
    const c = parseServerConfig(raw, env);
    expect(c.plugins[0]).toMatchObject({ package: '@rgz/plugin-sms-letexto', config: { sender: 'RGZ', apiKey: 'k-123' } });
    expect(c.plugins[1]).toMatchObject({ name: 'kkiapay-b', config: { sandbox: true, webhook: { secret: 's3' } } });
    expect(c.plugins[2]).toMatchObject({ package: '@rgz/plugin-portal', config: {}, enabled: true });
    expect(JSON.stringify(c)).not.toContain('ignored');
    // The string shorthand takes options from the environment too.
    const short = parseServerConfig({ plugins: ['@rgz/plugin-portal'] }, { RGZ_PLUGINS__PORTAL__THEME: 'dark' });
    expect(short.plugins).toEqual([{ package: '@rgz/plugin-portal', config: { theme: 'dark' }, enabled: true }]);
    // The input object is never mutated.
    expect(raw.plugins[0]).toEqual({ package: '@rgz/plugin-sms-letexto', config: { sender: 'RGZ' } });
    expect(applyEnvOverrides(raw, env)).not.toBe(raw);
  });

  it('${env:X} and ${file:/path} fill secrets, anywhere in the tree', () => {
    const file = join(dir, 'db-password');
    writeFileSync(file, 's3cr3t\n');
    const c = parseServerConfig(
      {
        database: { url: 'postgres://rgz:${file:' + file + '}@db/rgz' },
        redis: { url: '${env:RGZ_TEST_REDIS}' },
        plugins: [{ package: 'p', config: { apiKey: '${env:LETEXTO_KEY}', list: ['a-${env:LETEXTO_KEY}'] } }],
      },
      { RGZ_TEST_REDIS: 'redis://r:6379', LETEXTO_KEY: 'abc' },
    );
    expect(c.database.url).toBe('postgres://rgz:s3cr3t@db/rgz');
    expect(c.redis.url).toBe('redis://r:6379');
    expect(c.plugins[0]?.config).toEqual({ apiKey: 'abc', list: ['a-abc'] });
  });

  it('a missing secret names the key path and the variable or file', () => {
    const env = configError(() => parseServerConfig({ plugins: [{ package: 'p', config: { apiKey: '${env:NOPE_KEY}' } }] }, {}));
    expect(env.path).toBe('plugins[0].config.apiKey');
    expect(env.message).toContain('NOPE_KEY');
    const file = configError(() => interpolateSecrets({ database: { url: '${file:/no/such/secret}' } }, {}));
    expect(file.path).toBe('database.url');
    expect(file.message).toContain('/no/such/secret');
  });

  it('errors name the key path, what was expected and what was found', () => {
    const port = configError(() => parseServerConfig({ http: { port: 'eighty' } }, {}));
    expect(port.path).toBe('http.port');
    expect(port.message).toMatch(/^http\.port: .*number.*found "eighty"/);

    const level = configError(() => parseServerConfig({}, { LOG_LEVEL: 'loud' }));
    expect(level.path).toBe('log.level');
    expect(level.message).toMatch(/log\.level: .*"info".*found "loud"/);

    const range = configError(() => parseServerConfig({ http: { port: 70000 } }, {}));
    expect(range.message).toMatch(/http\.port: .*65535.*found number 70000/);

    const plugin = configError(() => parseServerConfig({ plugins: [{ package: 'p', name: 'Bad Name' }] }, {}));
    expect(plugin.path).toBe('plugins.0.name');
    expect(plugin.message).toMatch(/plugins\.0\.name: .*lowercase.*found "Bad Name"/);

    const several = configError(() => parseServerConfig({ tasks: { concurrency: 0, worker: 'yes' } }, {}));
    expect(several.message.split('\n')).toHaveLength(2);
    expect(several.message).toMatch(/tasks\.concurrency: .*found number 0/);
    expect(several.message).toMatch(/tasks\.worker: .*boolean.*found "yes"/);
  });

  it('redactConfig masks secret-looking keys and URL passwords, and leaves the rest', () => {
    const input = {
      database: { url: 'postgres://rgz:s3cr3t@db:5432/rgz' },
      redis: { url: 'redis://:redispass@cache:6379/0' },
      http: { port: 8080 },
      plugins: [
        {
          package: 'p',
          config: { apiKey: 'k-123', api_key: 'k-456', webhookSecret: 'w', password: 'p', token: 't', privateKey: 'pk', sender: 'RGZ', empty: '' },
        },
      ],
      nested: { credentials: ['a', 'b'] },
    };
    const r = redactConfig(input);
    expect(r.database.url).toBe('postgres://rgz:***@db:5432/rgz');
    expect(r.redis.url).toBe('redis://:***@cache:6379/0');
    expect(r.http.port).toBe(8080);
    expect(r.plugins[0]?.config).toEqual({
      apiKey: '***',
      api_key: '***',
      webhookSecret: '***',
      password: '***',
      token: '***',
      privateKey: '***',
      sender: 'RGZ',
      empty: '',
    });
    expect(r.nested.credentials).toEqual(['***', '***']);
    const text = JSON.stringify(r);
    for (const secret of ['s3cr3t', 'redispass', 'k-123', 'k-456']) expect(text).not.toContain(secret);
    // The original is untouched.
    expect(input.database.url).toContain('s3cr3t');
  });

  it('an unknown key is an error naming it, and stray RGZ_ variables are not config', () => {
    const err = configError(() => parseServerConfig({ htpp: { port: 1 } }, {}));
    expect(err.message).toMatch(/\(config root\): Unrecognized key: "htpp"/);
    const c = parseServerConfig({}, { RGZ_PUBLIC_URL: 'http://x', RGZ_TEST_DATABASE_URL: 'postgres://y', RGZ_HTTP__PORT: '9999' });
    expect(c.http.port).toBe(9999);
  });

  it('plugin options from the environment reach numeric and boolean keys without z.coerce in the schema', () => {
    const schema = z.strictObject({
      limit: z.number().int().positive(),
      nested: z.object({ enabled: z.boolean(), ratio: z.number().optional() }),
      list: z.array(z.object({ port: z.number() })),
      label: z.string(),
    });
    const raw = { plugins: [{ package: '@acme/rgz-plugin-x', config: { nested: { enabled: false }, list: [{ port: 1 }], label: '7' } }] };
    const env = { RGZ_PLUGINS__X__LIMIT: '25', RGZ_PLUGINS__X__NESTED__RATIO: '0.5' };
    const entry = (applyEnvOverrides(raw, env).plugins as Array<{ config: unknown }>)[0];
    const parsed = safeParseCoercingStrings(schema, { ...(entry?.config as object), list: [{ port: '1812' }] });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({ limit: 25, nested: { enabled: false, ratio: 0.5 }, list: [{ port: 1812 }], label: '7' });
    // A string the schema accepts stays a string, and a value that is not a number is still an error on its key.
    const bad = safeParseCoercingStrings(schema, { limit: 'many', nested: { enabled: 'yes' }, list: [], label: 'x' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['limit', 'nested.enabled']);
  });
});
