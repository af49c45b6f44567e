/**
 * Webhook notification channel: one Slack-compatible JSON POST `{"text": "…"}` per notification (Slack incoming
 * webhooks, Mattermost, Rocket.Chat, Google Chat, Discord's `/slack` endpoint, or any HTTP receiver), with an optional
 * bearer token. Failures: no connection, 429 and 5xx (but 504) are retryable; other 4xx are permanent; a timeout or
 * reset once the request was on the wire, and 504, are ambiguous (the receiver may have posted the message).
 */
import http from 'node:http';
import https from 'node:https';
import { type CallOptions, type Notification, type NotificationChannel, NotificationError, type NotificationResult } from '@rgz/core';
import { truncate } from './text.js';

export interface WebhookChannelOptions {
  id: string;
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Whole-request deadline, in ms. */
  timeoutMs: number;
  /** Longest `text` sent (Slack shows 4 000 characters comfortably and cuts at 40 000). */
  maxTextLength: number;
  onOutcome?: (outcome: string) => void;
}

/** Slack's three control characters in `text` (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackUnescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const SEVERITY_MARK: Record<Notification['severity'], string> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

export class WebhookNotificationChannel implements NotificationChannel {
  readonly id: string;
  readonly provider = 'webhook';
  readonly capabilities;
  private readonly url: URL;

  constructor(private readonly options: WebhookChannelOptions) {
    this.id = options.id;
    this.url = new URL(options.url);
    this.capabilities = { recipientKinds: ['default', 'chat'] as const, subject: false, maxTextLength: options.maxTextLength };
  }

  async send(notification: Notification, options: CallOptions = {}): Promise<NotificationResult> {
    const { recipient } = notification;
    if (recipient.kind !== 'default' && recipient.kind !== 'chat') {
      throw this.fail(new NotificationError('permanent', `channel "${this.id}" posts to its webhook, not to a ${recipient.kind} recipient`));
    }
    const head = notification.subject
      ? `${SEVERITY_MARK[notification.severity]} *${slackEscape(notification.subject)}*\n`
      : `${SEVERITY_MARK[notification.severity]} `;
    const links = (notification.links ?? []).map((l) => `<${l.url}|${slackEscape(l.label)}>`).join(' · ');
    const budget = this.options.maxTextLength - [...head].length - (links ? [...links].length + 1 : 0);
    const text = `${head}${truncate(slackEscape(notification.text), Math.max(20, budget))}${links ? `\n${links}` : ''}`;
    const body = JSON.stringify({ text: truncate(text, this.options.maxTextLength), ...(recipient.kind === 'chat' ? { channel: recipient.room } : {}) });
    try {
      const status = await this.post(body, notification.correlationId, options.signal);
      this.options.onOutcome?.('accepted');
      return { status: 'accepted', ...(status.id ? { providerMessageId: status.id } : {}) };
    } catch (err) {
      if (err instanceof NotificationError) throw this.fail(err);
      throw this.fail(new NotificationError('ambiguous', `webhook ${this.id}: ${(err as Error).message}`, { cause: err }));
    }
  }

  private post(body: string, correlationId: string, signal: AbortSignal | undefined): Promise<{ id?: string }> {
    const url = this.url;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      let onWire = false;
      const done = (err: NotificationError | null, value?: { id?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value ?? {});
      };
      const req = lib.request(url, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'rgz-notify',
          'x-rgz-correlation-id': correlationId.replace(/[^\x20-\x7e]/g, ''),
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
      });
      const cut = (why: string) => {
        req.destroy();
        done(
          new NotificationError(
            onWire ? 'ambiguous' : 'retryable',
            `webhook ${this.id}: ${why}${onWire ? ' after the request was sent' : ' before connecting'}`,
          ),
        );
      };
      const timer = setTimeout(() => cut(`no answer within ${this.options.timeoutMs} ms`), this.options.timeoutMs);
      const onAbort = () => cut('aborted');
      if (signal?.aborted) return cut('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('socket', (socket) => {
        const connected = () => {
          onWire = true;
        };
        if ((socket as { connecting?: boolean }).connecting === false) connected();
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code ?? '');
        const kind = certificate ? 'permanent' : onWire ? 'ambiguous' : 'retryable';
        done(new NotificationError(kind, `webhook ${this.id}: ${err.code ?? err.message}${onWire ? ' after the request was sent' : ''}`, { cause: err }));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('error', (err) =>
          done(new NotificationError('ambiguous', `webhook ${this.id}: response cut: ${err.message}`, { cause: err, httpStatus: res.statusCode ?? 0 })),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 200);
          if (status >= 200 && status < 300) return done(null, {});
          const retryAfter = Number.parseInt(String(res.headers['retry-after'] ?? ''), 10);
          const opts = { httpStatus: status, ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}) };
          const why = `webhook ${this.id} answered ${status}${text ? `: ${text}` : ''}`;
          if (status === 504) return done(new NotificationError('ambiguous', why, opts));
          if (status === 429 || status === 408 || status >= 500) return done(new NotificationError('retryable', why, opts));
          done(new NotificationError('permanent', why, opts));
        });
      });
      req.end(body);
    });
  }

  private fail(error: NotificationError): NotificationError {
    this.options.onOutcome?.(error.kind);
    return error;
  }
}
