/**
 * NAS vendor dialect: how one family of RADIUS clients (MikroTik, CoovaChilli/WISPr, Cambium ePMP, …) expresses a
 * subscriber's plan in RADIUS. It holds the vendor's dictionary of Vendor-Specific Attributes (so the codec can decode
 * and name them) and turns a provider-neutral session policy (rate limit, data quota, timeouts) into reply attributes
 * for Access-Accept and into CoA / Disconnect-Request attributes (RFC 5176). Pure: no I/O; the `NasClient` sends.
 */

import { point } from '../plugin/tokens.js';
import type { ExtensionIdentity } from './common.js';

/** RADIUS attribute data types (FreeRADIUS dictionary names). `tlv` only appears in dictionaries, never in values. */
export type RadiusDataType =
  | 'string'
  | 'octets'
  | 'integer'
  | 'integer64'
  | 'byte'
  | 'short'
  | 'date'
  | 'ipaddr'
  | 'ipv6addr'
  | 'ipv6prefix'
  | 'ifid'
  | 'ether';

/** Value of an attribute, tied to its data type so the codec needs no dictionary lookup to encode it. */
export type RadiusValue =
  /** `string`: UTF-8 text. `ipaddr`: dotted quad. `ipv6addr`: RFC 5952 text. `ipv6prefix`: `addr/len`. `ether`: `aa:bb:cc:dd:ee:ff`. */
  | { readonly dataType: 'string' | 'ipaddr' | 'ipv6addr' | 'ipv6prefix' | 'ether'; readonly value: string }
  /** Unsigned: `integer` 32-bit, `short` 16, `byte` 8; `date` = Unix seconds (32-bit). */
  | { readonly dataType: 'integer' | 'short' | 'byte' | 'date'; readonly value: number }
  /** Unsigned 64-bit (UBNT Data-Rate-*). */
  | { readonly dataType: 'integer64'; readonly value: bigint }
  /** Raw bytes; `ifid` is 8 bytes. */
  | { readonly dataType: 'octets' | 'ifid'; readonly value: Uint8Array };

/** One attribute on the wire: standard (no `vendorId`) or a VSA inside Vendor-Specific (26). */
export type RadiusAttribute = {
  /** Dictionary name (`Mikrotik-Rate-Limit`), for logs and tests; the wire uses `vendorId`/`type`. */
  readonly name: string;
  /** IANA private enterprise number for a VSA (MikroTik 14988, WISPr 14122, ChilliSpot 14559, Cambium 17713). */
  readonly vendorId?: number;
  /** Attribute number (within the vendor's space for a VSA). */
  readonly type: number;
  /** Tag for tagged attributes (RFC 2868), 1–31. */
  readonly tag?: number;
} & RadiusValue;

/** A dictionary entry. */
export interface RadiusAttributeDef {
  readonly name: string;
  readonly vendorId: number;
  readonly type: number;
  readonly dataType: RadiusDataType | 'tlv';
  /** Named integer values (`VALUE` lines), e.g. `{ 'Authorize-Only': 17 }`. */
  readonly values?: Readonly<Record<string, number>>;
  readonly hasTag?: boolean;
  /** Value hiding: 1 = User-Password style, 2 = Tunnel-Password style. */
  readonly encrypt?: 1 | 2;
}

/** The VSAs a vendor defines. Standard attributes (RFC 2865/2866/2869/5176) are core's and not repeated here. */
export interface RadiusVendorDictionary {
  readonly vendors: readonly { readonly id: number; readonly name: string }[];
  readonly attributes: readonly RadiusAttributeDef[];
}

/**
 * A subscriber's session limits, provider-neutral. Directions are the subscriber's view: `up` = subscriber → Internet
 * (the NAS's rx / Acct-Input), `down` = Internet → subscriber (tx / Acct-Output). MikroTik's `rx/tx` is the router's
 * view (rx = upload), so `up` maps to rx.
 */
export interface SessionPolicy {
  /** Maximum rate, bit/s (integers). */
  readonly rateLimit?: { readonly upBps: number; readonly downBps: number };
  /** Data quota in bytes; bigint because plans exceed 4 GiB (vendors split into octets + Gigawords). */
  readonly quota?: { readonly totalBytes?: bigint; readonly upBytes?: bigint; readonly downBytes?: bigint };
  /** Session-Timeout (27): seconds until the NAS ends the session. */
  readonly sessionTimeoutSeconds?: number;
  /** Idle-Timeout (28): seconds of inactivity before the NAS ends the session. */
  readonly idleTimeoutSeconds?: number;
  /** Acct-Interim-Interval (85), seconds, ≥ 60 (RFC 2869 §5.16); values below are raised to 60. */
  readonly interimIntervalSeconds?: number;
}

/** Parts of a `SessionPolicy` a dialect may be unable to express. */
export type PolicyFeature = 'rateLimit' | 'quota.total' | 'quota.up' | 'quota.down' | 'sessionTimeout' | 'idleTimeout' | 'interimInterval';

/** Attributes for a policy, and what of the policy could not be expressed (caller logs it, or refuses the plan). */
export interface PolicyEncoding {
  readonly attributes: readonly RadiusAttribute[];
  readonly unsupported: readonly PolicyFeature[];
}

/** How to find a live session at the NAS; values as seen in its accounting records. */
export interface NasSessionRef {
  readonly userName: string;
  /** Acct-Session-Id (44): unique per session per NAS; SHOULD be sent (RFC 5176 §3). */
  readonly acctSessionId?: string;
  readonly framedIpAddress?: string;
  readonly callingStationId?: string;
  readonly nasIdentifier?: string;
  readonly nasIpAddress?: string;
}

/** What differs between NAS dialects. */
export interface NasVendorCapabilities {
  /** The NAS accepts Disconnect-Request. */
  readonly disconnect: boolean;
  /**
   * How a policy change reaches a live session: `coa` = CoA-Request carrying the new attributes (MikroTik
   * Mikrotik-Rate-Limit, CoovaChilli bandwidth/octet limits); `reauthorize` = CoA with Service-Type Authorize-Only,
   * the NAS then re-asks RADIUS; `disconnect` = only by disconnecting, the client reconnects and gets the new Accept.
   */
  readonly policyChange: 'coa' | 'reauthorize' | 'disconnect';
  /** NAKs carry Error-Cause (101); CoovaChilli answers without it. */
  readonly errorCauseInNak: boolean;
  /** Quotas above 2^32-1 bytes are expressible (Gigawords VSAs); without, larger quotas are reported `unsupported`. */
  readonly quotaGigawords: boolean;
}

/** A NAS dialect. `provider` names the vendor family (`mikrotik`, `coovachilli`, `cambium-epmp`). */
export interface NasVendor extends ExtensionIdentity {
  readonly dictionary: RadiusVendorDictionary;
  readonly capabilities: NasVendorCapabilities;

  /** Reply attributes for Access-Accept that enforce `policy`. Only attributes whose definitions are in `dictionary` or standard. */
  accessAccept(policy: SessionPolicy): PolicyEncoding;

  /**
   * Attributes of a CoA-Request applying `change` to `session`: this vendor's session identification plus the new
   * limits (or Service-Type Authorize-Only for `reauthorize`). Present iff `capabilities.policyChange !== 'disconnect'`.
   * Event-Timestamp and Message-Authenticator are the `NasClient`'s.
   */
  coaRequest?(session: NasSessionRef, change: SessionPolicy): PolicyEncoding;

  /** Attributes of a Disconnect-Request for `session` (identification only). Present iff `capabilities.disconnect`. */
  disconnectRequest?(session: NasSessionRef): readonly RadiusAttribute[];
}

/** Standard attribute numbers the dialects and the CoA client use (RFC 2865, 2866, 2869, 5176). */
export const RadiusAttributeType = {
  UserName: 1,
  NasIpAddress: 4,
  ServiceType: 6,
  FramedIpAddress: 8,
  FilterId: 11,
  SessionTimeout: 27,
  IdleTimeout: 28,
  CalledStationId: 30,
  CallingStationId: 31,
  NasIdentifier: 32,
  AcctSessionId: 44,
  EventTimestamp: 55,
  AcctInterimInterval: 85,
  ErrorCause: 101,
} as const;

/** Service-Type (6) value asking the NAS to re-authorize the session (RFC 5176 §3.2). */
export const SERVICE_TYPE_AUTHORIZE_ONLY = 17;

/** Largest value of a 32-bit RADIUS integer. */
export const RADIUS_UINT32_MAX = 0xffff_ffff;

/**
 * Split a byte count into the 32-bit octets value and the Gigawords value (number of 2^32 wraps), as RADIUS carries
 * counters and quotas (RFC 2869 §5.1): bytes = gigawords·2^32 + octets. Throws on negative input or a Gigawords value
 * that does not fit 32 bits.
 */
export function splitGigawords(bytes: bigint): { octets: number; gigawords: number } {
  if (bytes < 0n) throw new RangeError(`byte count must be >= 0, got ${bytes}`);
  const gigawords = bytes >> 32n;
  if (gigawords > BigInt(RADIUS_UINT32_MAX)) throw new RangeError(`byte count ${bytes} exceeds 2^64`);
  return { octets: Number(bytes & 0xffff_ffffn), gigawords: Number(gigawords) };
}

/** Extension point: NAS dialects, keyed by instance id. */
export const NasVendors = point<NasVendor>('nas-vendor', (v) => v.id);
