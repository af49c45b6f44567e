/**
 * A `NotificationChannel` that POSTs each notification as JSON to a webhook URL (a chat bridge, an automation tool,
 * your own receiver): `{"subject", "text", "severity", "links", "correlationId"}`, with an optional bearer token.
 * One attempt per `send`, failures classified as the contract requires: nothing sent (connection refused, DNS) and
 * 408/429/5xx are `retryable`; other 4xx and certificate errors `permanent`; a timeout or a reset once the request
 * may have left, and 504, `ambiguous` (the receiver may have acted on it).
 */
import type { CallOptions, Notification, NotificationCapabilities, NotificationChannel, NotificationResult } from '@rgz/core';
import { NotificationError } from '@rgz/core';

export interface WebhookChannelOptions {
  /** Instance id: the key in `NotificationChannels`. */
  readonly id: string;
  /** http(s) URL the notifications are posted to. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
  /** Whole-request deadline, ms. */
  readonly timeoutMs: number;
  /** Longest `text` posted, in characters; longer texts are cut and end with `…`. */
  readonly maxTextLength: number;
}

/** Cut `text` to `max` characters (code points), ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Causes of a failed fetch that mean the request never left. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

export class WebhookChannel implements NotificationChannel {
  readonly id: string;
  readonly provider = 'webhook';
  readonly capabilities: NotificationCapabilities;

  constructor(private readonly options: WebhookChannelOptions) {
    this.id = options.id;
    this.capabilities = { recipientKinds: ['default'], subject: true, maxTextLength: options.maxTextLength };
  }

  async send(notification: Notification, options: CallOptions = {}): Promise<NotificationResult> {
    if (notification.recipient.kind !== 'default') {
      throw new NotificationError('permanent', `channel "${this.id}" posts to its webhook; it cannot address a ${notification.recipient.kind} recipient`);
    }
    if (options.signal?.aborted) throw new NotificationError('retryable', `webhook ${this.id}: aborted before sending`);
    const body = JSON.stringify({
      subject: notification.subject ?? null,
      text: truncate(notification.text, this.options.maxTextLength),
      severity: notification.severity,
      links: notification.links ?? [],
      correlationId: notification.correlationId,
    });
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        redirect: 'manual',
        signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'rgz-plugin-{{NAME}}',
          'x-rgz-correlation-id': notification.correlationId.replace(/[^\x20-\x7e]/g, ''),
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        body,
      });
    } catch (error) {
      throw this.classify(error);
    }
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    if (status >= 200 && status < 300) return { status: 'accepted' };
    const why = `webhook ${this.id} answered ${status}`;
    const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
    const details = { httpStatus: status, ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}) };
    if (status === 504) throw new NotificationError('ambiguous', why, details);
    if (status === 408 || status === 429 || status >= 500) throw new NotificationError('retryable', why, details);
    throw new NotificationError('permanent', why, details);
  }

  private classify(error: unknown): NotificationError {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new NotificationError('ambiguous', `webhook ${this.id}: no answer within ${this.options.timeoutMs} ms or aborted; it may have been delivered`, {
        cause: error,
      });
    }
    const code = ((error as { cause?: { code?: string } }).cause?.code ?? '') as string;
    if (NOT_SENT.has(code)) return new NotificationError('retryable', `webhook ${this.id}: ${code}`, { cause: error });
    if (CERTIFICATE.test(code)) return new NotificationError('permanent', `webhook ${this.id}: TLS certificate refused (${code})`, { cause: error });
    return new NotificationError('ambiguous', `webhook ${this.id}: ${code || (error as Error).message}`, { cause: error });
  }
}
