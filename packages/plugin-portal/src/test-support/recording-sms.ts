/**
 * A tiny test plugin contributing a real SmsSender that records what it is asked to send (how tests read the
 * OTP), optionally held until the test releases it (to prove the HTTP answer does not wait for the SMS).
 */
import { definePlugin, type SmsMessage, type SmsSender, SmsSenders } from '@rgz/core';

export interface RecordedSms extends SmsMessage {
  at: number;
}

export class RecordingSmsSender implements SmsSender {
  readonly provider = 'recording';
  readonly capabilities = { senderIdOverride: true, statusQuery: false, deliveryReports: false, idempotent: false, maxTextLength: 1600 };
  readonly sent: RecordedSms[] = [];
  /** Calls to `send`, including ones still held. */
  calls = 0;
  /** When set, every send waits for this promise before it is recorded. */
  gate: Promise<void> | null = null;

  constructor(readonly id = 'recording') {}

  async send(message: SmsMessage) {
    this.calls += 1;
    if (this.gate) await this.gate;
    this.sent.push({ ...message, at: Date.now() });
    return { status: 'accepted' as const, providerMessageId: `rec-${this.sent.length}` };
  }

  /** Messages to `to`, oldest first. */
  to(to: string): RecordedSms[] {
    return this.sent.filter((m) => m.to === to);
  }

  /** The 6-digit code in the last message to `to`. */
  lastCode(to: string): string | undefined {
    return this.to(to)
      .at(-1)
      ?.text.match(/\b(\d{6})\b/)?.[1];
  }
}

export function recordingSmsPlugin(sender: RecordingSmsSender) {
  return definePlugin({
    name: 'test-sms',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.contribute(SmsSenders, sender);
    },
  });
}
