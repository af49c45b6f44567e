import { readFileSync } from 'node:fs';
import { PaymentProviders } from '@rgz/core';
import { paymentProviderContract, rejectionOf, startTestServer } from '@rgz/core/testing';
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

describe('{{NAME}} checks before it opens a payment', () => {
  const provider = new CashPaymentProvider({ id: 'checks', secret, maxAmountMinor: 500_000, till: new Till() });

  it('refuses a reference billing could not match, and a currency other than XOF, as permanent invalid_request', async () => {
    for (const request of [
      { reference: 'not a reference!', amount: { amountMinor: 1000, currency: 'XOF' } },
      { reference: 'order-2', amount: { amountMinor: 1000, currency: 'EUR' } },
    ]) {
      const error = await rejectionOf(provider.createCheckout({ ...request, description: 'x' } as Parameters<typeof provider.createCheckout>[0]));
      expect(error, request.reference).toMatchObject({ kind: 'permanent', reason: 'invalid_request' });
    }
  });

  it('rejects an authentic webhook that is not a POST of a JSON object as malformed', () => {
    const till = new Till();
    const peer = agent(till, secret);
    const tx = till.open({ reference: 'order-3', amount: { amountMinor: 1000, currency: 'XOF' }, description: 'x' });
    const webhook = peer.webhookFor(tx.providerRef);
    const cash = new CashPaymentProvider({ id: 'hooks', secret, maxAmountMinor: 500_000, till });
    expect(() => cash.verifyWebhook({ ...webhook, method: 'GET' })).toThrow(expect.objectContaining({ reason: 'malformed' }));
    for (const rawBody of ['[]', 'not json']) {
      expect(() => cash.verifyWebhook(peer.signed(rawBody)), rawBody).toThrow(expect.objectContaining({ reason: 'malformed' }));
    }
  });
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
