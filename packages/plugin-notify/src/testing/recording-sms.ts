/** An in-test `SmsSender`: records what it is asked to send and fails the next sends on demand. */
import { type CallOptions, E164, type FailureKind, type SmsMessage, SmsSendError, type SmsSender, type SmsSendResult } from '@rgz/core';

export class RecordingSmsSender implements SmsSender {
  readonly provider = 'recording';
  readonly capabilities = { senderIdOverride: true, statusQuery: false, deliveryReports: false, idempotent: false, maxTextLength: 612 };
  /** Every message it was asked to send, including the ones it then failed. */
  readonly messages: SmsMessage[] = [];
  private readonly failures: FailureKind[] = [];
  private down = false;

  constructor(readonly id: string) {}

  failNext(kind: FailureKind, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(kind);
  }

  /** While down, every send fails `retryable` without being recorded (the gateway is unreachable). */
  setDown(down: boolean): void {
    this.down = down;
  }

  async send(message: SmsMessage, _options?: CallOptions): Promise<SmsSendResult> {
    if (!E164.test(message.to)) throw new SmsSendError('permanent', `"${message.to}" is not E.164`);
    if ([...message.text].length > this.capabilities.maxTextLength) throw new SmsSendError('permanent', 'text too long');
    if (this.down) throw new SmsSendError('retryable', `${this.id} is unreachable (ECONNREFUSED)`);
    this.messages.push(message);
    const kind = this.failures.shift();
    if (kind) throw new SmsSendError(kind, `${this.id} told to fail (${kind})`);
    return { status: 'accepted', providerMessageId: `${this.id}-${this.messages.length}` };
  }
}
