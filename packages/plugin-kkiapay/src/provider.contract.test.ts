/**
 * The shared PaymentProvider contract from @rgz/core/testing, run against KkiapayProvider talking to the KKiaPay test
 * server over loopback HTTP. The harness pays through the test server's widget stand-in and captures webhooks as
 * they arrive on a real socket.
 */
import { paymentProviderContract, startWebhookCapture } from '@rgz/core/testing';
import { KkiapayProvider } from './provider.js';
import { startKkiapayTestServer } from './test-server.js';

const WEBHOOK_SECRET = 'whsec-contract-0123456789abcdef';

paymentProviderContract('kkiapay', async () => {
  const peer = await startKkiapayTestServer();
  const capture = await startWebhookCapture();
  const provider = new KkiapayProvider({
    id: 'kkiapay-contract',
    sandbox: true,
    publicKey: peer.publicKey,
    privateKey: peer.privateKey,
    secret: peer.secretKey,
    webhookSecret: WEBHOOK_SECRET,
    baseUrl: peer.url,
    timeoutMs: 2_000,
  });
  return {
    provider,
    payerPhone: '+2290197000000',
    async pay(checkout, _request, outcome) {
      if (checkout.kind !== 'client_widget') throw new Error(`KKiaPay checkouts are widgets, got ${checkout.kind}`);
      // The payer's browser: the widget gets `params` and KKiaPay records the payment.
      const res = await fetch(`${peer.url}/_rgz/widget/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: checkout.params, outcome }),
      });
      if (!res.ok) throw new Error(`widget stand-in answered ${res.status}`);
      return ((await res.json()) as { transactionId: string }).transactionId;
    },
    webhookFor: (providerRef) =>
      capture.next(async () => {
        const [delivery] = await peer.sendWebhook(capture.url, providerRef, { secret: WEBHOOK_SECRET });
        if (!delivery?.delivered) throw new Error('webhook not delivered to the capture server');
      }),
    forge: (request) => ({ ...request, headers: { ...request.headers, 'x-kkiapay-secret': 'not-the-secret-0123456789' } }),
    async close() {
      provider.close();
      await capture.close();
      await peer.close();
    },
  };
});
