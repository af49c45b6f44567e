/**
 * The shared PaymentProvider contract from @rgz/core/testing, run against FedapayProvider talking to the FedaPay test
 * server over loopback HTTP. The harness pays on the test server's hosted page and captures signed webhooks as they
 * arrive on a real socket, fresh or with an old timestamp.
 */
import { paymentProviderContract, startWebhookCapture } from '@rgz/core/testing';
import { FedapayProvider } from './provider.js';
import { startFedapayTestServer } from './test-server.js';

paymentProviderContract('fedapay', async () => {
  const peer = await startFedapayTestServer();
  const capture = await startWebhookCapture();
  const provider = new FedapayProvider({
    id: 'fedapay-contract',
    sandbox: true,
    secretKey: peer.secretKey,
    webhookSecret: peer.webhookSecret,
    baseUrl: peer.url,
    timeoutMs: 2_000,
    toleranceSeconds: 300,
    minAmount: 100,
    maxAmount: 3_000_000,
    // Small pages so the contract's list goes through several of them.
    listPageSize: 2,
    listMaxPages: 1_000,
    listLookbackHours: 48,
  });
  return {
    provider,
    payerPhone: '+2290197000000',
    async pay(checkout, _request, outcome) {
      if (checkout.kind !== 'redirect' || checkout.providerRef === undefined)
        throw new Error(`FedaPay checkouts are redirects with an id, got ${checkout.kind}`);
      // The payer's browser on FedaPay's hosted page.
      const { status } = await peer.pay(checkout.url, outcome === 'succeeded' ? 'approved' : 'declined');
      if (status !== 302) throw new Error(`hosted page answered ${status}`);
      return checkout.providerRef;
    },
    webhookFor: (providerRef) => capture.next(() => peer.sendWebhook(capture.url, providerRef)),
    forge: (request) => {
      const header = request.headers['x-fedapay-signature'] ?? '';
      // Same timestamp, one hex digit changed.
      const forged = header.replace(/s=([0-9a-f])/, (_m, d: string) => `s=${d === '0' ? '1' : '0'}`);
      return { ...request, headers: { ...request.headers, 'x-fedapay-signature': forged } };
    },
    stale: (providerRef) => capture.next(() => peer.sendWebhook(capture.url, providerRef, { timestamp: Math.floor(Date.now() / 1000) - 301 })),
    async close() {
      provider.close();
      await capture.close();
      await peer.close();
    },
  };
});
