/**
 * A fake NAS for the DBA end-to-end test: a UDP listener on 127.0.0.1 (or another loopback address) that decodes CoA/Disconnect-Requests with the
 * RADIUS plugin's codec (imported by relative path: @rgz/plugin-radius does not export its codec), checks their Request
 * Authenticator with the shared secret, records them and answers CoA-ACK (or NAK when told).
 */
import { createSocket } from 'node:dgram';
import type { RadiusVendorDictionary } from '@rgz/core';
import {
  type RadiusVendorDictionary as CodecVendorDictionary,
  createDictionary,
  decode,
  encodeResponse,
  PacketCode,
  type RadiusAttribute,
  type RadiusPacket,
  verifyRequestAuthenticator,
} from '../../../plugin-radius/src/codec/index.js';

export interface ReceivedRequest {
  code: number;
  authenticatorValid: boolean;
  attributes: readonly RadiusAttribute[];
  /** Value of the first attribute of that name (dictionary name, e.g. `Mikrotik-Rate-Limit`). */
  get(name: string): unknown;
}

export interface FakeNas {
  port: number;
  secret: string;
  received: ReceivedRequest[];
  /** Answer the next requests with NAK (Error-Cause when given). */
  nakNext(count: number, errorCause?: number): void;
  close(): Promise<void>;
}

export async function startFakeNas(options: { secret: string; dictionaries: readonly RadiusVendorDictionary[]; host?: string }): Promise<FakeNas> {
  const dictionary = createDictionary(...(options.dictionaries as unknown as CodecVendorDictionary[]));
  const socket = createSocket('udp4');
  const received: ReceivedRequest[] = [];
  let naks: { left: number; errorCause?: number | undefined } = { left: 0 };
  socket.on('message', (msg, rinfo) => {
    let packet: RadiusPacket;
    try {
      packet = decode(msg, options.secret, { dictionary, invalidAttributes: 'raw' });
    } catch {
      return;
    }
    if (packet.code !== PacketCode.CoaRequest && packet.code !== PacketCode.DisconnectRequest) return;
    const attributes = packet.attributes;
    received.push({
      code: packet.code,
      authenticatorValid: verifyRequestAuthenticator(packet.raw, options.secret),
      attributes,
      get: (name) => attributes.find((a) => a.name === name)?.value,
    });
    const nak = naks.left > 0;
    if (nak) naks.left--;
    const isCoa = packet.code === PacketCode.CoaRequest;
    const code = nak ? (isCoa ? PacketCode.CoaNak : PacketCode.DisconnectNak) : isCoa ? PacketCode.CoaAck : PacketCode.DisconnectAck;
    const reply = encodeResponse(
      packet,
      { code, attributes: nak && naks.errorCause !== undefined ? [{ type: 101, dataType: 'integer', value: naks.errorCause }] : [] },
      options.secret,
      { dictionary },
    );
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, options.host ?? '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    secret: options.secret,
    received,
    nakNext(count, errorCause) {
      naks = { left: count, errorCause };
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
