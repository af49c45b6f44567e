/**
 * Tiny test plugins for the browser test: an SmsSender that records the OTP SMS (how the test reads the code), and a
 * usage source (what RADIUS accounting provides in production) so the page can show the quota left.
 */
import { definePlugin, type SmsMessage, type SmsSender, SmsSenders, usageSource } from '@rgz/core';

export class RecordingSmsSender implements SmsSender {
  readonly provider = 'recording';
  readonly id = 'recording';
  readonly capabilities = { senderIdOverride: true, statusQuery: false, deliveryReports: false, idempotent: false, maxTextLength: 1600 };
  readonly sent: SmsMessage[] = [];
  async send(message: SmsMessage) {
    this.sent.push(message);
    return { status: 'accepted' as const, providerMessageId: `rec-${this.sent.length}` };
  }
  /** The 6-digit code in the last message to `to`. */
  lastCode(to: string): string | undefined {
    return this.sent
      .filter((m) => m.to === to)
      .at(-1)
      ?.text.match(/\b(\d{6})\b/)?.[1];
  }
}

export function testPlugins(sms: RecordingSmsSender, usedBytes: number) {
  return definePlugin({
    name: 'test-support',
    version: '0.0.0',
    core: '*',
    provides: [usageSource],
    setup(ctx) {
      ctx.contribute(SmsSenders, sms);
      ctx.provide(usageSource, { usedSince: async () => ({ uploadBytes: Math.floor(usedBytes / 4), downloadBytes: usedBytes - Math.floor(usedBytes / 4) }) });
    },
  });
}
