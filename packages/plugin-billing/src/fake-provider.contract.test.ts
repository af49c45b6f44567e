/** The test provider used by billing's tests follows core's PaymentProvider contract (so the tests prove something). */
import { paymentProviderContract } from '@rgz/core/testing';
import { FakePaymentProvider } from './test-support/fake-provider.js';

for (const canList of [false, true]) {
  paymentProviderContract(`fake provider (list API: ${canList})`, async () => {
    const provider = new FakePaymentProvider({ canList });
    return {
      provider,
      payerPhone: '+2290197000001',
      async pay(_checkout, request, outcome) {
        return provider.pay({ reference: request.reference, amount: request.amount.amountMinor, status: outcome });
      },
      async webhookFor(ref) {
        return provider.webhookFor(ref);
      },
      forge(req) {
        return { ...req, headers: { ...req.headers, 'x-fakepay-secret': 'not-the-secret' } };
      },
      async close() {},
    };
  });
}
