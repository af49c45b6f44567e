/**
 * Forwarding to the upstream resolvers: the client's query goes out under a fresh random id from a fresh socket
 * (so answers cannot be matched by guessing, and one slow upstream never blocks another query), over UDP first and
 * over TCP when the UDP answer comes back truncated. Upstreams are tried in order; a timeout, an error or a
 * nonsensical answer moves on to the next one. Every attempt is timed for the latency histogram.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';
import { withId } from './wire.js';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** `host:port` or `[v6]:port`, for logs and metric labels. */
  readonly label: string;
}

export type UpstreamOutcome = 'ok' | 'timeout' | 'error' | 'bad_answer';

export interface ForwarderOptions {
  upstreams: readonly Upstream[];
  /** Deadline of one attempt (one upstream, one transport). */
  timeoutMs: number;
  /** Called after every attempt. */
  observe?: (attempt: { upstream: Upstream; transport: 'udp' | 'tcp'; outcome: UpstreamOutcome; seconds: number }) => void;
}

/** Parse `10.0.0.1`, `10.0.0.1:5300`, `::1`, `[::1]:5300`; port 53 by default. Null when invalid. */
export function parseUpstream(raw: string): Upstream | null {
  const text = raw.trim();
  let host: string;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
    if (!m) return null;
    host = m[1] as string;
    if (m[2] !== undefined) port = Number(m[2]);
  }
  if (isIP(host) === 0 || port < 1 || port > 65_535) return null;
  return { host, port, label: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

/** Why forwarding failed on every upstream. */
export class UpstreamError extends Error {
  readonly code = 'dns_upstream_failed';
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

class AttemptError extends Error {
  constructor(
    readonly outcome: Exclude<UpstreamOutcome, 'ok'>,
    message: string,
  ) {
    super(message);
  }
}

export class Forwarder {
  constructor(private readonly options: ForwarderOptions) {}

  /**
   * The upstream's answer to `query` (a client's raw query), carrying the client's id again. `preferTcp` skips the
   * UDP attempt (unused by the sinkhole, handy for tests). Throws `UpstreamError` when no upstream answered.
   */
  async forward(query: Buffer, options: { preferTcp?: boolean } = {}): Promise<Buffer> {
    const clientId = query.readUInt16BE(0);
    const failures: string[] = [];
    for (const upstream of this.options.upstreams) {
      try {
        let answer = options.preferTcp ? undefined : await this.attempt(upstream, 'udp', query);
        // TC: the answer did not fit in UDP; ask the same upstream over TCP for the whole of it.
        if (answer === undefined || (answer.readUInt16BE(2) & 0x0200) !== 0) answer = await this.attempt(upstream, 'tcp', query);
        return withId(answer, clientId);
      } catch (err) {
        failures.push(`${upstream.label}: ${(err as Error).message}`);
      }
    }
    throw new UpstreamError(`no upstream answered (${failures.join('; ')})`);
  }

  private async attempt(upstream: Upstream, transport: 'udp' | 'tcp', query: Buffer): Promise<Buffer> {
    const id = randomInt(0, 65_536);
    const outgoing = withId(query, id);
    const started = process.hrtime.bigint();
    let outcome: UpstreamOutcome = 'ok';
    try {
      const answer = transport === 'udp' ? await this.udp(upstream, outgoing) : await this.tcp(upstream, outgoing);
      checkAnswer(answer, outgoing);
      return answer;
    } catch (err) {
      outcome = err instanceof AttemptError ? err.outcome : 'error';
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.observe?.({ upstream, transport, outcome, seconds });
    }
  }

  private udp(upstream: Upstream, message: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(isIP(upstream.host) === 6 ? 'udp6' : 'udp4');
      const expectedId = message.readUInt16BE(0);
      let done = false;
      const finish = (err: Error | null, answer?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.close();
        if (err) reject(err);
        else resolve(answer as Buffer);
      };
      const timer = setTimeout(() => finish(new AttemptError('timeout', `no UDP answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      // A connected socket only hears from the upstream; other ids are stray or spoofed answers: keep waiting.
      socket.on('message', (answer) => {
        if (answer.length >= 12 && answer.readUInt16BE(0) === expectedId) finish(null, answer);
      });
      socket.on('error', (err) => finish(new AttemptError('error', `UDP ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
      socket.connect(upstream.port, upstream.host, () => {
        socket.send(message, (err) => {
          if (err) finish(new AttemptError('error', `UDP send: ${err.message}`));
        });
      });
    });
  }

  private tcp(upstream: Upstream, message: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ host: upstream.host, port: upstream.port });
      let buffered = Buffer.alloc(0);
      let done = false;
      const finish = (err: Error | null, answer?: Buffer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(answer as Buffer);
      };
      const timer = setTimeout(() => finish(new AttemptError('timeout', `no TCP answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 2) return;
        const size = buffered.readUInt16BE(0);
        if (buffered.length >= 2 + size) finish(null, buffered.subarray(2, 2 + size));
      });
      socket.on('error', (err: NodeJS.ErrnoException) => finish(new AttemptError('error', `TCP ${err.code ?? err.message}`)));
      socket.on('close', () => finish(new AttemptError('error', 'TCP connection closed before a whole answer')));
    });
  }
}

/** The answer must be a response to our query: same id, QR set, the same question. */
function checkAnswer(answer: Buffer, query: Buffer): void {
  if (answer.length < 12 || answer.readUInt16BE(0) !== query.readUInt16BE(0) || (answer.readUInt16BE(2) & 0x8000) === 0) {
    throw new AttemptError('bad_answer', 'not an answer to our query');
  }
  const questionLength = questionSectionLength(query);
  // REFUSED/FORMERR answers may carry no question; otherwise it must be ours (case-insensitively: some servers
  // normalise the case of the name).
  if (answer.readUInt16BE(4) === 0) return;
  if (questionLength === null || answer.length < 12 + questionLength) throw new AttemptError('bad_answer', 'answer shorter than its question');
  const nameEnd = 12 + questionLength - 4;
  const sameName = query.toString('latin1', 12, nameEnd).toLowerCase() === answer.toString('latin1', 12, nameEnd).toLowerCase();
  const sameTypeAndClass = query.subarray(nameEnd, nameEnd + 4).equals(answer.subarray(nameEnd, nameEnd + 4));
  if (!sameName || !sameTypeAndClass) {
    throw new AttemptError('bad_answer', 'answer is for another question');
  }
}

function questionSectionLength(message: Buffer): number | null {
  let at = 12;
  for (let labels = 0; labels < 128; labels++) {
    if (at >= message.length) return null;
    const len = message[at] as number;
    if (len === 0) return at + 1 + 4 - 12;
    if (len & 0xc0) return null;
    at += 1 + len;
  }
  return null;
}
