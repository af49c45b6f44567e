/**
 * The e-mail channel against a real SMTP server (npm smtp-server) on 127.0.0.1: what arrives (envelope, subject,
 * body, Message-ID, headers), SMTP AUTH, and how failures are classified (server down, bad password).
 */
import { NotificationError } from '@rgz/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySmtpError, type EmailChannelOptions, EmailNotificationChannel } from './index.js';
import { type SmtpPeer, startSmtpPeer } from './testing/index.js';

const base = (peer: { host: string; port: number }, extra: Partial<EmailChannelOptions> = {}): EmailChannelOptions => ({
  id: 'noc-email',
  host: peer.host,
  port: peer.port,
  secure: false,
  requireTls: false,
  rejectUnauthorized: true,
  from: 'RGZ NOC <noc@rgz.test>',
  subjectPrefix: '[RGZ]',
  timeoutMs: 1000,
  ...extra,
});

describe('e-mail channel', () => {
  let peer: SmtpPeer;
  let channel: EmailNotificationChannel;

  beforeAll(async () => {
    peer = await startSmtpPeer({ auth: { user: 'rgz', pass: 's3cret-smtp' } });
    channel = new EmailNotificationChannel(base(peer, { auth: { user: 'rgz', pass: 's3cret-smtp' } }));
  });
  afterAll(async () => {
    channel?.close();
    await peer?.close();
  });

  it('delivers subject, body, links, envelope and our Message-ID, logged in with SMTP AUTH', async () => {
    const result = await channel.send({
      recipient: { kind: 'email', address: 'astreinte@rgz.test' },
      subject: '[P0] #12 DatabaseDown — Base de données injoignable',
      text: 'pg_up vaut 0 sur 10.0.0.5:8080 depuis 1 min.\nAccusez réception dans RGZ.',
      severity: 'critical',
      links: [{ label: 'Graphe', url: 'http://prometheus.example:9090/graph?g0.expr=pg_up' }],
      correlationId: 'inc-12-open-noc-email',
    });
    expect(result.status).toBe('accepted');
    const mail = peer.messages.at(-1);
    expect(mail?.user).toBe('rgz');
    expect(mail?.from).toBe('noc@rgz.test');
    expect(mail?.to).toEqual(['astreinte@rgz.test']);
    expect(mail?.subject).toBe('[RGZ] [P0] #12 DatabaseDown — Base de données injoignable');
    expect(mail?.text).toContain('pg_up vaut 0 sur 10.0.0.5:8080 depuis 1 min.\nAccusez réception dans RGZ.');
    expect(mail?.text).toContain('Graphe: http://prometheus.example:9090/graph?g0.expr=pg_up');
    expect(mail?.headers['message-id']).toBe('<inc-12-open-noc-email@rgz.test>');
    expect(mail?.headers['x-rgz-severity']).toBe('critical');
    expect(result.providerMessageId).toBe('<inc-12-open-noc-email@rgz.test>');
  });

  it('keeps a subject on one line even when given a line break', async () => {
    await channel.send({
      recipient: { kind: 'email', address: 'a@rgz.test' },
      subject: 'x\r\nBcc: evil@example.com',
      text: 't',
      severity: 'info',
      correlationId: 'c1',
    });
    const mail = peer.messages.at(-1);
    expect(mail?.subject).toBe('[RGZ] x Bcc: evil@example.com');
    expect(mail?.to).toEqual(['a@rgz.test']);
    expect(mail?.headers.bcc).toBeUndefined();
  });

  it('a wrong password is permanent', async () => {
    const wrong = new EmailNotificationChannel(base(peer, { auth: { user: 'rgz', pass: 'nope' } }));
    const error = await wrong.send({ recipient: { kind: 'email', address: 'a@rgz.test' }, text: 't', severity: 'info', correlationId: 'c2' }).catch((e) => e);
    wrong.close();
    expect(error).toBeInstanceOf(NotificationError);
    expect(error).toMatchObject({ kind: 'permanent' });
  });
});

describe('e-mail channel down', () => {
  it('a server that does not listen is a retryable failure (nothing was sent)', async () => {
    const peer = await startSmtpPeer();
    const port = peer.port;
    await peer.close();
    const channel = new EmailNotificationChannel(base({ host: '127.0.0.1', port }));
    const error = await channel
      .send({ recipient: { kind: 'email', address: 'a@rgz.test' }, text: 't', severity: 'critical', correlationId: 'c3' })
      .catch((e) => e);
    channel.close();
    expect(error).toBeInstanceOf(NotificationError);
    expect(error).toMatchObject({ kind: 'retryable', code: 'notification_retryable' });
  });

  it('classifies nodemailer errors by SMTP reply class and by stage', () => {
    const k = (e: object) => classifySmtpError(Object.assign(new Error('x'), e), 'a@b.c').kind;
    expect(k({ code: 'EENVELOPE', responseCode: 550, permanent: true })).toBe('permanent');
    expect(k({ code: 'EMESSAGE', responseCode: 452, permanent: false })).toBe('retryable');
    expect(k({ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' })).toBe('retryable');
    expect(k({ code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' })).toBe('retryable');
    expect(k({ code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' })).toBe('ambiguous');
    expect(k({ code: 'ESOCKET', originalCode: 'ECONNREFUSED' })).toBe('retryable');
    expect(k({ code: 'ECONNECTION' })).toBe('ambiguous');
    expect(k({ code: 'EAUTH' })).toBe('permanent');
  });
});
