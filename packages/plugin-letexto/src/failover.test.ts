/**
 * `sendWithFailover` (from @rgz/core) with two real Letexto senders, each against its own test server: a sender that
 * certainly did not send hands over to the next; one that may have sent stops the fail-over.
 */
import { createLogger, SmsFailoverError, sendWithFailover } from '@rgz/core';
import { rejectionOf } from '@rgz/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LetextoSender } from './sender.js';
import { type LetextoTestServer, startLetextoTestServer } from './test-server.js';

const log = createLogger({ service: 'test', level: 'silent' });
const message = (correlationId: string) => ({ to: '+2290197000002', text: 'Votre code RGZ : 730201', correlationId });

describe('sendWithFailover with two Letexto accounts', () => {
  let primaryPeer: LetextoTestServer;
  let backupPeer: LetextoTestServer;
  let primary: LetextoSender;
  let backup: LetextoSender;

  beforeAll(async () => {
    primaryPeer = await startLetextoTestServer();
    backupPeer = await startLetextoTestServer();
    const common = { apiKey: 'test-key', senderId: 'RGZ', timeoutMs: 300, retries: 1, backoffMs: 10 };
    primary = new LetextoSender({ id: 'letexto-main', baseUrl: primaryPeer.url, ...common });
    backup = new LetextoSender({ id: 'letexto-backup', baseUrl: backupPeer.url, ...common });
  });
  afterAll(async () => {
    await primaryPeer?.close();
    await backupPeer?.close();
  });
  afterEach(() => {
    primaryPeer.reset();
    backupPeer.reset();
  });

  it('uses the first sender when it accepts', async () => {
    const outcome = await sendWithFailover([primary, backup], message('f0'), log);
    expect(outcome).toMatchObject({ sender: 'letexto-main', provider: 'letexto', result: { status: 'accepted' } });
    expect(backupPeer.messages()).toHaveLength(0);
  });

  it('moves to the second sender when the first keeps answering 5xx', async () => {
    primaryPeer.failNext(10, { status: 503 });
    const outcome = await sendWithFailover([primary, backup], message('f1'), log);
    expect(outcome.sender).toBe('letexto-backup');
    expect(outcome.attempts.map((a) => [a.sender, a.outcome])).toEqual([
      ['letexto-main', 'retryable'],
      ['letexto-backup', 'accepted'],
    ]);
    // The primary used its own retry (1) before handing over.
    expect(primaryPeer.messages()).toHaveLength(2);
    expect(backupPeer.lastMessageTo('+2290197000002')?.customData).toBe('f1');
  });

  it('moves on after a permanent refusal too', async () => {
    primaryPeer.failNext(1, { status: 400, code: 'LT400' });
    const outcome = await sendWithFailover([primary, backup], message('f2'), log);
    expect(outcome.sender).toBe('letexto-backup');
    expect(primaryPeer.messages()).toHaveLength(1);
  });

  it('stops at an ambiguous timeout: the second sender is not used', async () => {
    primaryPeer.hangNext(1);
    const error = await rejectionOf(sendWithFailover([primary, backup], message('f3'), log));
    expect(error).toBeInstanceOf(SmsFailoverError);
    expect(error).toMatchObject({ kind: 'ambiguous', code: 'sms_ambiguous', sender: 'letexto-main' });
    expect(primaryPeer.messages()).toHaveLength(1);
    expect(backupPeer.messages()).toHaveLength(0);
    expect(backupPeer.requestCount()).toBe(0);
  });

  it('reports retryable when every sender failed and one may pass later, permanent when all refused', async () => {
    primaryPeer.failNext(10, { status: 503 });
    backupPeer.failNext(1, { status: 400 });
    const retryable = await rejectionOf(sendWithFailover([primary, backup], message('f4'), log));
    expect(retryable).toMatchObject({ kind: 'retryable' });
    expect((retryable as SmsFailoverError).attempts.map((a) => a.outcome)).toEqual(['retryable', 'permanent']);

    primaryPeer.reset();
    backupPeer.reset();
    primaryPeer.failNext(1, { status: 400 });
    backupPeer.failNext(1, { status: 422 });
    await expect(sendWithFailover([primary, backup], message('f5'), log)).rejects.toMatchObject({ kind: 'permanent', sender: 'letexto-backup' });
  });

  it('refuses an empty sender list', async () => {
    await expect(sendWithFailover([], message('f6'), log)).rejects.toMatchObject({ kind: 'permanent' });
  });
});
