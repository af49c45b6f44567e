/**
 * E-mail notification channel over SMTP (nodemailer's SMTP transport, one connection per message). Failures are
 * classified from what nodemailer reports: an SMTP reply carries its class (4xx → retryable, 5xx → permanent);
 * a connection that could not be made, or a connect/greeting/TLS-upgrade timeout, is retryable (nothing was sent);
 * a socket that went silent or closed mid-transaction is ambiguous (the server may have queued the message).
 */
import { randomUUID } from 'node:crypto';
import { type CallOptions, type Notification, type NotificationChannel, NotificationError, type NotificationResult } from '@rgz/core';
import nodemailer, { type Transporter } from 'nodemailer';
import { EMAIL_ADDRESS, oneLine } from './text.js';

export interface EmailChannelOptions {
  id: string;
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  /** Refuse to send unless STARTTLS succeeds (ignored when `secure`). */
  requireTls: boolean;
  /** Verify the server certificate (turn off only for a test server). */
  rejectUnauthorized: boolean;
  auth?: { user: string; pass: string } | undefined;
  /** `RGZ NOC <noc@example.bj>` or a bare address. */
  from: string;
  /** Prepended to every subject. */
  subjectPrefix: string;
  /** Connect, greeting and idle-socket timeout, in ms. */
  timeoutMs: number;
  onOutcome?: (outcome: string) => void;
}

type MailError = Error & {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
  timeoutType?: string;
  originalCode?: string;
  command?: string;
};

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

export class EmailNotificationChannel implements NotificationChannel {
  readonly id: string;
  readonly provider = 'smtp';
  readonly capabilities = { recipientKinds: ['email'] as const, subject: true };
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(private readonly options: EmailChannelOptions) {
    this.id = options.id;
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: options.requireTls,
      ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      tls: { rejectUnauthorized: options.rejectUnauthorized },
      // The message is built from our own strings: never let a body reference a file or URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    this.domain = /@([^>\s]+)>?\s*$/.exec(options.from)?.[1] ?? 'rgz.invalid';
  }

  async send(notification: Notification, options: CallOptions = {}): Promise<NotificationResult> {
    const { recipient } = notification;
    if (recipient.kind !== 'email') {
      throw this.fail(new NotificationError('permanent', `channel "${this.id}" sends e-mail, not to a ${recipient.kind} recipient`));
    }
    if (!EMAIL_ADDRESS.test(recipient.address)) {
      throw this.fail(new NotificationError('permanent', `"${recipient.address}" is not an e-mail address`));
    }
    const subject = oneLine(`${this.options.subjectPrefix} ${notification.subject ?? firstLine(notification.text)}`);
    const links = (notification.links ?? []).map((l) => `${l.label}: ${l.url}`);
    const text = [notification.text, ...(links.length ? ['', ...links] : []), '', '-- ', 'RGZ'].join('\n');
    const localPart = notification.correlationId.replace(/[^A-Za-z0-9._-]/g, '') || randomUUID();
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to: recipient.address,
        subject,
        text,
        messageId: `<${localPart}@${this.domain}>`,
        headers: { 'X-RGZ-Severity': notification.severity, 'X-RGZ-Correlation-Id': oneLine(notification.correlationId) },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.options.onOutcome?.('accepted');
      return { status: 'accepted', ...(info.messageId ? { providerMessageId: String(info.messageId) } : {}) };
    } catch (err) {
      throw this.fail(classify(err as MailError, recipient.address));
    }
  }

  /** Close the transport (idle connections). */
  close(): void {
    this.transport.close();
  }

  private fail(error: NotificationError): NotificationError {
    this.options.onOutcome?.(error.kind);
    return error;
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.slice(0, 120) ?? '';
}

/** nodemailer error → how the caller may retry. Exported for tests. */
export function classify(err: MailError, to: string): NotificationError {
  const detail = `e-mail to ${to} not sent: ${err.message}`;
  const base = { cause: err, ...(err.responseCode ? { providerCode: String(err.responseCode) } : {}) };
  if (typeof err.responseCode === 'number' && err.responseCode >= 400) {
    // The server answered: 5xx is final, 4xx (and 503 bad sequence) may pass later.
    return new NotificationError((err.permanent ?? err.responseCode >= 500) ? 'permanent' : 'retryable', detail, base);
  }
  switch (err.code) {
    case 'EAUTH':
    case 'ENOAUTH':
    case 'ECONFIG':
    case 'EENVELOPE':
    case 'EMESSAGE':
    case 'EREQUIRETLS':
    case 'ETLS':
      // Credentials, configuration, an envelope or message the server refused, a TLS set-up that will fail again.
      return new NotificationError('permanent', detail, base);
    case 'EDNS':
      return new NotificationError('retryable', detail, base);
    case 'ETIMEDOUT':
      return new NotificationError(err.timeoutType === 'SOCKET_TIMEOUT' ? 'ambiguous' : 'retryable', detail, base);
    case 'ESOCKET':
    case 'ECONNECTION':
      if (err.originalCode && NOT_CONNECTED.has(err.originalCode)) return new NotificationError('retryable', detail, base);
      if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND/.test(err.message)) return new NotificationError('retryable', detail, base);
      return new NotificationError('ambiguous', detail, base);
    default:
      return new NotificationError('ambiguous', detail, base);
  }
}
