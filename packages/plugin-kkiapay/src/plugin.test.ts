/**
 * The payment-kkiapay plugin inside a real server (startTestServer: the real kernel on PGlite), talking to the KKiaPay
 * test server: config parsing and errors, the contributed provider, and the request metrics.
 */
import { readFileSync } from 'node:fs';
import { configErrorFromZod, PaymentProviders } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { startKkiapayTestServer as fromSubpath } from '@rgz/plugin-kkiapay/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kkiapay, { configSchema } from './index.js';
import { type KkiapayTestServer, startKkiapayTestServer } from './test-server.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const base = { sandbox: true, publicKey: 'pk', privateKey: 'pv', secret: 'sk', webhookSecret: 'whsec-0123456789abcdef' };

it("declares package.json's version and its name", () => {
  expect(kkiapay.version).toBe(pkg.version);
  expect(kkiapay.name).toBe('payment-kkiapay');
  expect(pkg.name).toBe('@rgz/plugin-kkiapay');
});

it('ships the test server as @rgz/plugin-kkiapay/test-server', () => {
  expect(fromSubpath).toBe(startKkiapayTestServer);
});

it('defaults: id kkiapay, 10 s timeout, the 1.5 % commission; sandbox also as a string', () => {
  expect(configSchema.parse(base)).toEqual({ ...base, id: 'kkiapay', timeoutMs: 10_000, walledGardenExtraHosts: [] });
  expect(configSchema.parse({ ...base, sandbox: 'false' }).sandbox).toBe(false);
  expect(configSchema.parse({ ...base, sandbox: 'true' }).sandbox).toBe(true);
});

describe('payment-kkiapay in a server', () => {
  let peer: KkiapayTestServer;
  let server: TestServer;

  beforeAll(async () => {
    peer = await startKkiapayTestServer({ publicKey: 'pk', privateKey: 'pv', secretKey: 'sk' });
    server = await startTestServer({
      plugins: [{ plugin: kkiapay, config: { ...base, id: 'kkiapay-bj', baseUrl: peer.url, timeoutMs: 300 } }],
    });
  });
  afterAll(async () => {
    await server?.close();
    await peer?.close();
  });

  it('contributes its provider to PaymentProviders under the config id', () => {
    const providers = server.collect(PaymentProviders);
    expect([...providers.keys()]).toEqual(['kkiapay-bj']);
    expect(providers.get('kkiapay-bj')).toMatchObject({
      id: 'kkiapay-bj',
      provider: 'kkiapay',
      capabilities: { checkoutKinds: ['client_widget'], canList: false, refunds: 'full_only', currencies: ['XOF'] },
    });
    expect(server.kernel.plugins.find((p) => p.name === 'payment-kkiapay')?.contributions).toEqual(['payment-provider:kkiapay-bj']);
  });

  it('verifies through the test server and counts calls in payment_provider_requests_total', async () => {
    const provider = server.collect(PaymentProviders).get('kkiapay-bj');
    if (!provider) throw new Error('no provider');
    const tx = peer.createTransaction({ amount: 1000, reference: 'pay_srv' });
    expect(await provider.getTransaction(tx.transactionId)).toMatchObject({ status: 'succeeded', reference: 'pay_srv' });
    expect(await provider.getTransaction('missing')).toBeNull();
    peer.hangNext(1);
    await expect(provider.getTransaction(tx.transactionId)).rejects.toMatchObject({ kind: 'retryable' });
    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(/^payment_provider_requests_total\{provider="kkiapay",instance="kkiapay-bj",call="status",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^payment_provider_requests_total\{provider="kkiapay",instance="kkiapay-bj",call="status",outcome="not_found"\} 1$/m);
    expect(text).toMatch(/^payment_provider_requests_total\{provider="kkiapay",instance="kkiapay-bj",call="status",outcome="retryable"\} 1$/m);
    expect(text).toMatch(/^payment_provider_request_duration_seconds_count\{provider="kkiapay",call="status"\} 3$/m);
  });
});

describe('payment-kkiapay config errors', () => {
  it('names the full key path of a missing or bad key', async () => {
    const { privateKey: _omit, ...withoutPrivate } = base;
    await expect(startTestServer({ plugins: [{ plugin: kkiapay, config: withoutPrivate }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.payment-kkiapay.config.privateKey',
    });
    await expect(startTestServer({ plugins: [{ plugin: kkiapay, config: { ...base, webhookSecret: 'short' } }] })).rejects.toThrow(
      /plugins\.payment-kkiapay\.config\.webhookSecret: the webhook secret must be at least 16 characters/,
    );
    // The same conversion the kernel applies, without booting a server per case.
    const pathOf = (config: unknown) => {
      const result = configSchema.safeParse(config);
      return result.success ? undefined : configErrorFromZod('plugins.payment-kkiapay.config', result.error, config).path;
    };
    expect(pathOf({ ...base, sandbox: 'yes please' })).toBe('plugins.payment-kkiapay.config.sandbox');
    expect(pathOf({ ...base, baseUrl: 'ftp://x' })).toBe('plugins.payment-kkiapay.config.baseUrl');
    expect(pathOf({ ...base, id: 'Bad Id' })).toBe('plugins.payment-kkiapay.config.id');
    expect(pathOf({ ...base, walledGardenExtraHosts: ['https://x.example'] })).toBe('plugins.payment-kkiapay.config.walledGardenExtraHosts.0');
  });
});
