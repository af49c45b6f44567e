/**
 * A fake NAS Dynamic Authorization Server for tests: a UDP listener on 127.0.0.1 that decodes CoA/Disconnect-Requests
 * with the codec, verifies their Request Authenticator and Message-Authenticator, records them, and answers ACK, NAK
 * (with Error-Cause), nothing, or an ACK with a forged authenticator, as queued. Like a real NAS (RFC 5176 §2.3) it
 * answers a retransmission of a request it already answered with the same reply, without recording it again or taking
 * the next queued answer: on a loaded machine the client's retransmission timer may fire before the answer arrives.
 */

import { createSocket } from 'node:dgram';
import type { NasEndpoint } from '@rgz/core';
import type { NasPeerAnswer, ReceivedRadiusPacket } from '@rgz/core/testing';
import {
  decode,
  encodeResponse,
  PacketCode,
  type RadiusDictionary,
  type RadiusPacket,
  standardDictionary,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
} from '../codec/index.js';

export interface FakeNas {
  readonly endpoint: NasEndpoint;
  readonly port: number;
  answer(...answers: readonly NasPeerAnswer[]): Promise<void>;
  /** Answer every packet this way from now on (after the queue is empty); default ACK. */
  answerAlways(answer: NasPeerAnswer): void;
  received(): Promise<readonly ReceivedRadiusPacket[]>;
  close(): Promise<void>;
}

export async function startFakeNas(options: { secret?: string; dictionary?: RadiusDictionary; host?: string } = {}): Promise<FakeNas> {
  const host = options.host ?? '127.0.0.1';
  const secret = options.secret ?? 'fake-nas-secret-0123456789';
  const dictionary = options.dictionary ?? standardDictionary;
  const socket = createSocket('udp4');
  const queue: NasPeerAnswer[] = [];
  let fallback: NasPeerAnswer = { reply: 'ack' };
  const seen: ReceivedRadiusPacket[] = [];
  const answered = new Map<string, Buffer>();

  socket.on('message', (msg, rinfo) => {
    let packet: RadiusPacket;
    try {
      packet = decode(msg, secret, { dictionary, invalidAttributes: 'raw' });
    } catch {
      return;
    }
    if (packet.code !== PacketCode.CoaRequest && packet.code !== PacketCode.DisconnectRequest) return;
    const key = `${rinfo.address}:${rinfo.port}:${packet.identifier}:${packet.authenticator.toString('hex')}`;
    const cached = answered.get(key);
    if (cached !== undefined) {
      socket.send(cached, rinfo.port, rinfo.address);
      return;
    }
    const ma = verifyMessageAuthenticator(packet.raw, secret);
    seen.push({
      code: packet.code,
      identifier: packet.identifier,
      authenticator: packet.authenticator.toString('hex'),
      sourcePort: rinfo.port,
      attributes: packet.attributes,
      authenticatorValid: verifyRequestAuthenticator(packet.raw, secret),
      ...(ma === 'missing' ? {} : { messageAuthenticatorValid: ma === 'valid' }),
    });
    const answer = queue.shift() ?? fallback;
    if (answer.reply === 'drop') return;
    const ack = packet.code === PacketCode.CoaRequest ? PacketCode.CoaAck : PacketCode.DisconnectAck;
    const nak = packet.code === PacketCode.CoaRequest ? PacketCode.CoaNak : PacketCode.DisconnectNak;
    const errorCause = answer.reply === 'ack' || answer.reply === 'nak' ? answer.errorCause : undefined;
    const reply = encodeResponse(
      packet,
      {
        code: answer.reply === 'nak' ? nak : ack,
        attributes: errorCause === undefined ? [] : [{ type: 101, dataType: 'integer', value: errorCause }],
      },
      secret,
      { dictionary },
    );
    // A forged answer stands for one the client must ignore: its retransmission is answered afresh.
    if (answer.reply === 'bad_authenticator') reply[4] = (reply[4] ?? 0) ^ 0xff;
    else answered.set(key, reply);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const port = socket.address().port;
  return {
    endpoint: { address: host, port, secret },
    port,
    async answer(...answers) {
      queue.push(...answers);
    },
    answerAlways(answer) {
      fallback = answer;
    },
    async received() {
      return [...seen];
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
