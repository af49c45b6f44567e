/**
 * A real SMTP server (npm `smtp-server`) on 127.0.0.1 for tests: records every message it receives (decoded), and can
 * be told to refuse the next one with a 4xx or 5xx reply, or to hang after the data (no reply: the client times out
 * not knowing whether the message was taken).
 */
import { SMTPServer } from 'smtp-server';
import { parseMail } from './mime.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  raw: string;
  /** The AUTH user, when the client logged in. */
  user?: string;
}

export type SmtpFailure = 'retryable' | 'permanent' | 'ambiguous';

export interface SmtpPeer {
  host: string;
  port: number;
  /** Messages received so far, oldest first (including the ones the peer then refused). */
  readonly messages: readonly ReceivedMail[];
  /** Refuse (451 / 554) or hang after the next message's data. */
  failNext(mode: SmtpFailure): void;
  close(): Promise<void>;
}

export interface SmtpPeerOptions {
  /** Require AUTH PLAIN/LOGIN with these credentials. */
  auth?: { user: string; pass: string };
  port?: number;
}

export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const messages: ReceivedMail[] = [];
  const failures: SmtpFailure[] = [];
  const hung = new Set<() => void>();
  const server = new SMTPServer({
    logger: false,
    secure: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = parseMail(raw);
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: parsed.subject,
          text: parsed.text,
          headers: parsed.headers,
          raw,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        };
        messages.push(mail);
        const mode = failures.shift();
        if (mode === 'retryable') return callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
        if (mode === 'permanent') return callback(Object.assign(new Error('Message refused'), { responseCode: 554 }));
        if (mode === 'ambiguous') {
          // Never answer the end of data: the client's socket timeout fires.
          hung.add(() => callback(Object.assign(new Error('gave up'), { responseCode: 451 })));
          return;
        }
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    messages,
    failNext(mode) {
      failures.push(mode);
    },
    async close() {
      for (const release of hung) release();
      hung.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
