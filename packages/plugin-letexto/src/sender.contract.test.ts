/**
 * The shared SmsSender contract from @rgz/core/testing, run against LetextoSender talking to the Letexto test server
 * over loopback HTTP. The contract's "one request per send" holds for `retries: 0`; with retries the sender repeats
 * only failures that certainly did not send, which sender.test.ts checks.
 */
import { type ReceivedSms, smsSenderContract } from '@rgz/core/testing';
import { LetextoSender } from './sender.js';
import { startLetextoTestServer } from './test-server.js';

smsSenderContract('letexto', async () => {
  const peer = await startLetextoTestServer({ senders: ['RGZ', 'RGZTEST'] });
  const sender = new LetextoSender({
    id: 'letexto-contract',
    baseUrl: peer.url,
    apiKey: peer.apiKey,
    senderId: 'RGZ',
    timeoutMs: 1_000,
    retries: 0,
    backoffMs: 10,
  });
  return {
    sender,
    recipient: '+2290197000000',
    received: async () =>
      peer.messages().map(
        (m): ReceivedSms => ({
          to: m.to === undefined ? '' : `+${m.to}`,
          text: m.content ?? '',
          ...(m.from === undefined ? {} : { senderId: m.from }),
          ...(m.customData === undefined ? {} : { correlationId: m.customData }),
        }),
      ),
    failNext: async (mode) => {
      if (mode === 'retryable') peer.failNext(1, { status: 503 });
      else if (mode === 'permanent') peer.failNext(1, { status: 400, code: 'LT400', message: 'Expéditeur non autorisé' });
      else peer.hangNext(1);
    },
    close: () => peer.close(),
  };
});
