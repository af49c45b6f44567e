import { readFileSync } from 'node:fs';
import { PaymentProviders } from '@rgz/core';
import { paymentProviderContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { CashPaymentProvider, Till } from './provider.js';
import { agent } from './test-support/agent.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const secret = 'test-secret-0123456789abcdef';

// The shared PaymentProvider contract from @rgz/core/testing: the test plays the agent and the till application.
paymentProviderContract('{{NAME}}', async () => {
  const till = new Till();
  const peer = agent(till, secret);
  return {
    provider: new CashPaymentProvider({ id: 'contract', secret, maxAmountMinor: 500_000, till }),
    payerPhone: '+2290197000001',
    pay: async (checkout, _request, outcome) => peer.pay(checkout, outcome),
    webhookFor: async (providerRef) => peer.webhookFor(providerRef),
    forge: (request) => peer.forge(request),
    close: async () => {},
  };
});

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its provider under the config id, and an agent records a payment over HTTP', async () => {
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'cash', secret } }] });
    try {
      const provider = server.collect(PaymentProviders).get('cash');
      expect(provider).toBeDefined();
      const checkout = await provider!.createCheckout({ reference: 'order-1', amount: { amountMinor: 1000, currency: 'XOF' }, description: 'Forfait 1 jour' });
      expect(checkout.kind).toBe('push');
      const providerRef = checkout.kind === 'push' ? checkout.providerRef : '';

      const path = `/api/{{NAME}}/payments/${providerRef}`;
      const init = (headers: Record<string, string>) => ({
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'succeeded' }),
      });
      expect((await server.request(path, init({}))).status).toBe(401);
      const res = await server.request(path, init(server.auth(server.nocToken)));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ providerRef, reference: 'order-1', status: 'succeeded', amount: 1000 });
      expect((await provider!.getTransaction(providerRef))?.status).toBe('succeeded');
      // Recorded once only.
      expect((await server.request(path, init(server.auth(server.nocToken)))).status).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { secret: 'short' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.secret',
    });
  });
});
