/**
 * What the shared authentication and accounting logic reads of a request, whichever way it came in: a datagram decoded
 * by the codec (the native UDP server) or the JSON body FreeRADIUS's rlm_rest posts (`/radius/rest/*`). Values are
 * typed as the codec types them (integers as numbers, enumerated integers with their value name, octets as Buffers).
 */

import { chapChallenge, type RadiusPacket, type RadiusValue } from '../codec/index.js';

export interface RequestAttribute {
  readonly value: RadiusValue;
  /** Value octets (CHAP-Password is checked on them). */
  readonly raw: Buffer;
  /** Name of an enumerated integer value (`Interim-Update`, `User-Request`). */
  readonly valueName?: string;
  /** Set when the value was malformed and kept as octets. */
  readonly invalid?: string;
}

export interface RequestAttributes {
  /** Value of the first attribute named `name`. */
  get(name: string): RadiusValue | undefined;
  find(name: string): RequestAttribute | undefined;
  has(name: string): boolean;
  /** The CHAP challenge (RFC 2865 §2.2): CHAP-Challenge, else the Request Authenticator; undefined when unknown. */
  chapChallenge(): Buffer | undefined;
}

/** A decoded datagram as the shared logic reads it. */
export function packetAttributes(packet: RadiusPacket): RequestAttributes {
  return {
    get: (name) => packet.get(name),
    find: (name) => packet.find(name),
    has: (name) => packet.has(name),
    chapChallenge: () => chapChallenge(packet),
  };
}
