/**
 * Contract suite for a `NasClient` against a fake NAS (a UDP Dynamic Authorization Server the harness runs, decoding
 * what it receives). Checks RFC 5176 behaviour: codes, Event-Timestamp, ACK/NAK with Error-Cause (NAK is final, not
 * retried), RFC 5080 retransmission with identical Id/authenticator/source port, timeouts, ignoring responses with a
 * bad authenticator, optional Message-Authenticator first, and rejecting unencodable requests before sending.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NasClient, type NasEndpoint, type NasRequest, NasRequestError } from '../../extension-points/nas-client.js';
import { type RadiusAttribute, RadiusAttributeType } from '../../extension-points/nas-vendor.js';
import { rejectionOf } from './util.js';

/** A request as the fake NAS received it. */
export interface ReceivedRadiusPacket {
  /** RADIUS code: 40 Disconnect-Request, 43 CoA-Request. */
  readonly code: number;
  readonly identifier: number;
  /** Request Authenticator, hex. */
  readonly authenticator: string;
  readonly sourcePort: number;
  /** Decoded in wire order (standard attributes; VSAs with vendorId), including Message-Authenticator (80) if sent. */
  readonly attributes: readonly RadiusAttribute[];
  /** The Request Authenticator verified with the shared secret. */
  readonly authenticatorValid: boolean;
  /** Message-Authenticator verified (RFC 5176 §3.4: computed with a zeroed authenticator); undefined if absent. */
  readonly messageAuthenticatorValid?: boolean;
}

/** How the fake NAS answers one received packet (retransmissions included). */
export type NasPeerAnswer =
  | { readonly reply: 'ack'; readonly errorCause?: number }
  | { readonly reply: 'nak'; readonly errorCause?: number }
  /** Say nothing. */
  | { readonly reply: 'drop' }
  /** Send an ACK whose Response Authenticator is wrong (as a spoofer would). */
  | { readonly reply: 'bad_authenticator' };

export interface NasClientHarness {
  readonly client: NasClient;
  /** Endpoint of the fake NAS (address, port, secret). */
  readonly nas: NasEndpoint;
  /** Queue answers for the next packets, in order; when the queue is empty the peer ACKs. */
  answer(...answers: readonly NasPeerAnswer[]): Promise<void>;
  /** Everything received so far, oldest first. */
  received(): Promise<readonly ReceivedRadiusPacket[]>;
  close(): Promise<void>;
}

const user = (value: string): RadiusAttribute => ({ name: 'User-Name', type: RadiusAttributeType.UserName, dataType: 'string', value });
const acct = (value: string): RadiusAttribute => ({
  name: 'Acct-Session-Id',
  type: RadiusAttributeType.AcctSessionId,
  dataType: 'string',
  value,
});
const std = (packet: ReceivedRadiusPacket | undefined, type: number) => packet?.attributes.find((a) => a.vendorId === undefined && a.type === type);
const fast = { initialTimeoutMs: 150, maxAttempts: 3, maxTimeoutMs: 400, maxDurationMs: 3000 };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function nasClientContract(name: string, make: () => Promise<NasClientHarness>): void {
  describe(`NasClient contract: ${name}`, () => {
    let harness: NasClientHarness | undefined;
    let h: NasClientHarness;
    let client: NasClient;
    let serial = 0;

    beforeAll(async () => {
      harness = await make();
      h = harness;
      client = harness.client;
    });
    afterAll(async () => {
      await harness?.close();
    });

    const request = (code: NasRequest['code'], extra: Partial<NasRequest> = {}): NasRequest => ({
      nas: h.nas,
      code,
      attributes: [user('alice'), acct(`sess-${++serial}`)],
      retransmit: fast,
      ...extra,
    });
    /** Packets received during `fn`. */
    const during = async (fn: () => Promise<unknown>) => {
      const before = (await h.received()).length;
      await fn();
      await pause(250);
      return (await h.received()).slice(before);
    };

    it('has an id and a provider', () => {
      expect(client.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(client.provider.length).toBeGreaterThan(0);
    });

    it.for([
      ['coa', 43],
      ['disconnect', 40],
    ] as const)('sends a %s request with our attributes and a fresh Event-Timestamp, and reports the ACK', async ([code, wire]) => {
      const req = request(code);
      let response: Awaited<ReturnType<NasClient['send']>> | undefined;
      const packets = await during(async () => {
        response = await client.send(req);
      });
      expect(response).toMatchObject({ outcome: 'ack', attempts: 1 });
      expect(packets.length).toBe(1);
      const packet = packets[0];
      expect(packet?.code).toBe(wire);
      expect(packet?.authenticatorValid).toBe(true);
      expect(std(packet, RadiusAttributeType.UserName)?.value).toBe('alice');
      expect(std(packet, RadiusAttributeType.AcctSessionId)?.value).toBe(req.attributes[1]?.value);
      const timestamp = std(packet, RadiusAttributeType.EventTimestamp)?.value;
      expect(typeof timestamp).toBe('number');
      expect(Math.abs((timestamp as number) - Date.now() / 1000)).toBeLessThan(300);
    });

    it('reports a NAK with its Error-Cause and does not retry it', async () => {
      await h.answer({ reply: 'nak', errorCause: 503 });
      let response: Awaited<ReturnType<NasClient['send']>> | undefined;
      const packets = await during(async () => {
        response = await client.send(request('coa'));
      });
      expect(response).toMatchObject({ outcome: 'nak', errorCause: 503, attempts: 1 });
      await pause(fast.initialTimeoutMs * 3);
      expect(packets.length).toBe(1);
    });

    it('retransmits an unanswered request identically (Id, authenticator, source port, attributes)', async () => {
      await h.answer({ reply: 'drop' });
      let response: Awaited<ReturnType<NasClient['send']>> | undefined;
      const packets = await during(async () => {
        response = await client.send(request('coa'));
      });
      expect(response).toMatchObject({ outcome: 'ack', attempts: 2 });
      expect(packets.length).toBe(2);
      const [first, second] = packets;
      expect(second?.identifier).toBe(first?.identifier);
      expect(second?.authenticator).toBe(first?.authenticator);
      expect(second?.sourcePort).toBe(first?.sourcePort);
      expect(second?.attributes).toEqual(first?.attributes);
    });

    it('gives up with NasRequestError(timeout) after maxAttempts', async () => {
      await h.answer({ reply: 'drop' }, { reply: 'drop' }, { reply: 'drop' });
      let error: unknown;
      const packets = await during(async () => {
        error = await rejectionOf(client.send(request('disconnect')));
      });
      expect(error).toBeInstanceOf(NasRequestError);
      expect((error as NasRequestError).kind).toBe('timeout');
      expect((error as NasRequestError).attempts).toBe(fast.maxAttempts);
      expect(packets.length).toBe(fast.maxAttempts);
    });

    it('ignores a response with a wrong authenticator', async () => {
      await h.answer({ reply: 'bad_authenticator' });
      const response = await client.send(request('coa'));
      expect(response).toMatchObject({ outcome: 'ack', attempts: 2 });
    });

    it('puts a valid Message-Authenticator first when the NAS is configured for it', async () => {
      const packets = await during(() => client.send(request('coa', { nas: { ...h.nas, messageAuthenticator: true } })));
      expect(packets[0]?.attributes[0]?.type).toBe(80);
      expect(packets[0]?.messageAuthenticatorValid).toBe(true);
      const without = await during(() => client.send(request('coa')));
      expect(without[0]?.messageAuthenticatorValid).toBeUndefined();
    });

    it('keeps concurrent requests apart', async () => {
      const packets = await during(() => Promise.all(Array.from({ length: 20 }, () => client.send(request('coa')))));
      const keys = packets.map((p) => `${p.sourcePort}/${p.identifier}`);
      expect(packets.length).toBe(20);
      expect(new Set(keys).size).toBe(20);
    });

    it('rejects an unencodable request before sending', async () => {
      let error: unknown;
      const packets = await during(async () => {
        error = await rejectionOf(client.send({ ...request('coa'), attributes: [user('x'.repeat(300))] }));
      });
      expect(error).toBeInstanceOf(NasRequestError);
      expect((error as NasRequestError).kind).toBe('invalid_request');
      expect(packets.length).toBe(0);
    });
  });
}
