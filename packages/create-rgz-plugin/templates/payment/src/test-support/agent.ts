/**
 * The test peer of the PaymentProvider contract: the agent who takes the cash and the till application that posts a
 * signed webhook. The signature is computed here independently of the provider's code.
 */
import { createHmac } from 'node:crypto';
import type { Checkout, WebhookRequest } from '@rgz/core';
import { SIGNATURE_HEADER, type Till } from '../provider.js';

export interface Agent {
  /** Take (or fail to take) the cash for a checkout; returns the provider's transaction id. */
  pay(checkout: Checkout, outcome: 'succeeded' | 'failed'): string;
  /** The webhook the till application posts for a transaction's current state. */
  webhookFor(providerRef: string): WebhookRequest;
  /** The same delivery signed with another secret. */
  forge(request: WebhookRequest): WebhookRequest;
  /** A delivery of any body, signed with the shared secret (to test what happens after authentication). */
  signed(rawBody: string): WebhookRequest;
}

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body, 'utf8').digest('hex');

export function agent(till: Till, secret: string): Agent {
  return {
    pay(checkout, outcome) {
      if (checkout.kind !== 'push') throw new Error(`expected a push checkout, got ${checkout.kind}`);
      return till.record(checkout.providerRef, outcome).providerRef;
    },
    webhookFor(providerRef) {
      const tx = till.get(providerRef);
      if (tx === undefined) throw new Error(`no transaction ${providerRef}`);
      const rawBody = JSON.stringify({ event: `payment.${tx.status}`, providerRef, reference: tx.reference, amount: tx.amountMinor });
      return { rawBody, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(secret, rawBody) }, method: 'POST' };
    },
    signed(rawBody) {
      return { rawBody, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(secret, rawBody) }, method: 'POST' };
    },
    forge(request) {
      return { ...request, headers: { ...request.headers, [SIGNATURE_HEADER]: sign('not-the-shared-secret', request.rawBody) } };
    },
  };
}
