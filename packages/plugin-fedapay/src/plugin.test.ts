/**
 * The payment-fedapay plugin inside a real server (startTestServer: the real kernel on PGlite), talking to the FedaPay
 * test server: config parsing and errors, the contributed provider, and the request metrics.
 */
import { readFileSync } from 'node:fs';
import { configErrorFromZod, PaymentProviders } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { startFedapayTestServer as fromSubpath } from '@rgz/plugin-fedapay/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fedapay, { configSchema } from './index.js';
import { type FedapayTestServer, startFedapayTestServer } from './test-server.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const base = { sandbox: true, secretKey: 'sk_sandbox_k', webhookSecret: 'wh_sandbox_s' };

it("declares package.json's version and its name", () => {
  expect(fedapay.version).toBe(pkg.version);
  expect(fedapay.name).toBe('payment-fedapay');
  expect(pkg.name).toBe('@rgz/plugin-fedapay');
});

it('ships the test server as @rgz/plugin-fedapay/test-server', () => {
  expect(fromSubpath).toBe(startFedapayTestServer);
});

it('defaults: id fedapay, 300 s tolerance, Hub2 Benin limits; sandbox also as a string', () => {
  expect(configSchema.parse(base)).toEqual({
    ...base,
    id: 'fedapay',
    timeoutMs: 10_000,
    toleranceSeconds: 300,
    minAmount: 100,
    maxAmount: 3_000_000,
    listPageSize: 100,
    listMaxPages: 10_000,
    listLookbackHours: 48,
    walledGardenExtraHosts: [],
  });
  expect(configSchema.parse({ ...base, sandbox: 'false' }).sandbox).toBe(false);
});

describe('payment-fedapay in a server', () => {
  let peer: FedapayTestServer;
  let server: TestServer;

  beforeAll(async () => {
    peer = await startFedapayTestServer({ secretKey: 'sk_sandbox_k', webhookSecret: 'wh_sandbox_s' });
    server = await startTestServer({
      plugins: [{ plugin: fedapay, config: { ...base, id: 'fedapay-bj', baseUrl: peer.url, timeoutMs: 300 } }],
    });
  });
  afterAll(async () => {
    await server?.close();
    await peer?.close();
  });

  it('contributes its provider to PaymentProviders under the config id', () => {
    const providers = server.collect(PaymentProviders);
    expect([...providers.keys()]).toEqual(['fedapay-bj']);
    expect(providers.get('fedapay-bj')).toMatchObject({
      id: 'fedapay-bj',
      provider: 'fedapay',
      capabilities: {
        checkoutKinds: ['redirect'],
        canList: true,
        refunds: 'none',
        currencies: ['XOF'],
        minAmountMinor: 100,
        maxAmountMinor: 3_000_000,
        walledGardenHosts: ['sandbox-process.fedapay.com'],
      },
    });
    expect(server.kernel.plugins.find((p) => p.name === 'payment-fedapay')?.contributions).toEqual(['payment-provider:fedapay-bj']);
  });

  it('checks out, reads and lists through the test server and counts calls in payment_provider_requests_total', async () => {
    const provider = server.collect(PaymentProviders).get('fedapay-bj');
    if (!provider?.listTransactions) throw new Error('no provider');
    const checkout = await provider.createCheckout({ reference: 'pay_srv', amount: { amountMinor: 1000, currency: 'XOF' }, description: 'Forfait' });
    if (checkout.kind !== 'redirect' || !checkout.providerRef) throw new Error('expected a redirect');
    await peer.pay(checkout.url, 'approved');
    expect(await provider.getTransaction(checkout.providerRef)).toMatchObject({ status: 'succeeded', reference: 'pay_srv' });
    expect(await provider.getTransaction('123')).toBeNull();
    const listed = [];
    for await (const tx of provider.listTransactions({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) })) listed.push(tx);
    expect(listed.map((t) => t.reference)).toEqual(['pay_srv']);
    peer.hangNext(1, 'create');
    await expect(provider.createCheckout({ reference: 'pay_2', amount: { amountMinor: 1000, currency: 'XOF' }, description: 'x' })).rejects.toMatchObject({
      kind: 'ambiguous',
    });
    const text = await (await server.request('/metrics')).text();
    const line = (call: string, outcome: string, n: number) =>
      new RegExp(`^payment_provider_requests_total\\{provider="fedapay",instance="fedapay-bj",call="${call}",outcome="${outcome}"\\} ${n}$`, 'm');
    expect(text).toMatch(line('create', 'ok', 1));
    expect(text).toMatch(line('token', 'ok', 1));
    expect(text).toMatch(line('retrieve', 'ok', 1));
    expect(text).toMatch(line('retrieve', 'not_found', 1));
    expect(text).toMatch(line('list', 'ok', 1));
    expect(text).toMatch(line('create', 'ambiguous', 1));
    expect(text).toMatch(/^payment_provider_request_duration_seconds_count\{provider="fedapay",call="create"\} 2$/m);
  });
});

describe('payment-fedapay config errors', () => {
  it('names the full key path of a missing or bad key', async () => {
    const { secretKey: _omit, ...withoutKey } = base;
    await expect(startTestServer({ plugins: [{ plugin: fedapay, config: withoutKey }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.payment-fedapay.config.secretKey',
    });
    // The same conversion the kernel applies, without booting a server per case.
    const pathOf = (config: unknown) => {
      const result = configSchema.safeParse(config);
      return result.success ? undefined : configErrorFromZod('plugins.payment-fedapay.config', result.error, config).path;
    };
    expect(pathOf({ ...base, webhookSecret: '' })).toBe('plugins.payment-fedapay.config.webhookSecret');
    expect(pathOf({ ...base, sandbox: 'maybe' })).toBe('plugins.payment-fedapay.config.sandbox');
    expect(pathOf({ ...base, baseUrl: 'ftp://x' })).toBe('plugins.payment-fedapay.config.baseUrl');
    expect(pathOf({ ...base, toleranceSeconds: 0 })).toBe('plugins.payment-fedapay.config.toleranceSeconds');
    expect(pathOf({ ...base, minAmount: 5000, maxAmount: 1000 })).toBe('plugins.payment-fedapay.config.minAmount');
  });
});
