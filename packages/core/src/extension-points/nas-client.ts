/**
 * NAS client: sends a RADIUS CoA-Request or Disconnect-Request (RFC 5176) to a NAS and reports what it answered.
 * Used to apply a plan change to a live session or to cut a session (expired plan, admin kick). The attributes come
 * from the NAS's `NasVendor` dialect; the client owns the wire: UDP (default port 3799), Request Authenticator,
 * optional Message-Authenticator, Event-Timestamp for replay protection, and RFC 5080 retransmission (identical Id,
 * authenticator and source port on every retransmit). A NAK is an answer, not an error: it is final.
 */

import { RgzError } from '../errors/rgz-error.js';
import { point, token } from '../plugin/tokens.js';
import type { CallOptions, ExtensionIdentity } from './common.js';
import type { RadiusAttribute } from './nas-vendor.js';

/** Where and how to reach one NAS's Dynamic Authorization Server. */
export interface NasEndpoint {
  /** IP address (v4 or v6) or host name of the NAS. */
  readonly address: string;
  /** UDP port; default 3799 (RFC 5176 §2.3). */
  readonly port?: number;
  /** Shared secret for this NAS (≥ 16 octets recommended, RFC 2865 §3). */
  readonly secret: string;
  /**
   * Add Message-Authenticator (80) as first attribute. Per NAS: some firmware rejects what it does not expect.
   * Default false.
   */
  readonly messageAuthenticator?: boolean;
}

/** Retransmission parameters (RFC 5080 §2.2.1); defaults IRT 2000 ms, MRC 5, MRT 16000 ms, MRD 30000 ms. */
export interface RetransmitPolicy {
  /** Initial retransmission timeout, ms. */
  readonly initialTimeoutMs?: number;
  /** Maximum number of transmissions including the first. */
  readonly maxAttempts?: number;
  /** Cap on a single retransmission timeout, ms. */
  readonly maxTimeoutMs?: number;
  /** Overall deadline, ms. */
  readonly maxDurationMs?: number;
}

/** One dynamic-authorization request. */
export interface NasRequest {
  readonly nas: NasEndpoint;
  /** `coa` = CoA-Request (43); `disconnect` = Disconnect-Request (40). */
  readonly code: 'coa' | 'disconnect';
  /** Session identification and changes, from `NasVendor.coaRequest` / `disconnectRequest`. No Event-Timestamp, no M-A. */
  readonly attributes: readonly RadiusAttribute[];
  readonly retransmit?: RetransmitPolicy;
}

/** The NAS's answer. */
export type NasResponse =
  | {
      /** CoA-ACK (44) / Disconnect-ACK (41). */
      readonly outcome: 'ack';
      /** Error-Cause in an ACK: only 201 Residual-Session-Context-Removed. */
      readonly errorCause?: number;
      readonly attributes: readonly RadiusAttribute[];
      /** Transmissions made (1 = answered first time). */
      readonly attempts: number;
      /** From first transmission to the valid answer, ms. */
      readonly elapsedMs: number;
    }
  | {
      /** CoA-NAK (45) / Disconnect-NAK (42): final, do not retry the same request. */
      readonly outcome: 'nak';
      /** Error-Cause (101) when the NAS sent one (see `RadiusErrorCause`); CoovaChilli sends none. */
      readonly errorCause?: number;
      readonly attributes: readonly RadiusAttribute[];
      readonly attempts: number;
      readonly elapsedMs: number;
    };

/** A dynamic-authorization client. The built-in one has `provider: 'rgz-udp'`. */
export interface NasClient extends ExtensionIdentity {
  /**
   * Send and wait for the first valid answer (responses with a wrong authenticator are ignored, as if lost).
   * Resolves with ACK or NAK; throws `NasRequestError` when no valid answer came or the request cannot be sent.
   */
  send(request: NasRequest, options?: CallOptions): Promise<NasResponse>;
}

/**
 * Why no answer was obtained:
 * - `timeout`: every retransmission went unanswered. The NAS may or may not have applied it; CoA and Disconnect are
 *   idempotent in effect, so a later new request (new Id) is acceptable.
 * - `unreachable`: the request could not be delivered (DNS failure, ICMP port unreachable, no route).
 * - `invalid_request`: rejected before sending (attribute too long, packet > 4096 octets, bad value).
 */
export type NasRequestErrorKind = 'timeout' | 'unreachable' | 'invalid_request';

export class NasRequestError extends RgzError {
  readonly kind: NasRequestErrorKind;
  /** Transmissions made before giving up (0 for `invalid_request`). */
  readonly attempts: number;
  constructor(kind: NasRequestErrorKind, message: string, options: { attempts?: number; cause?: unknown } = {}) {
    super(`nas_${kind}`, message, {
      status: kind === 'invalid_request' ? 500 : 504,
      fields: { kind, attempts: options.attempts ?? 0 },
      cause: options.cause,
    });
    this.name = 'NasRequestError';
    this.kind = kind;
    this.attempts = options.attempts ?? 0;
  }
}

/** Error-Cause (101) values, RFC 5176 §3.5. 2xx only in ACKs, 4xx/5xx only in NAKs. */
export const RadiusErrorCause = {
  ResidualSessionContextRemoved: 201,
  InvalidEapPacket: 202,
  UnsupportedAttribute: 401,
  MissingAttribute: 402,
  NasIdentificationMismatch: 403,
  InvalidRequest: 404,
  UnsupportedService: 405,
  UnsupportedExtension: 406,
  InvalidAttributeValue: 407,
  AdministrativelyProhibited: 501,
  RequestNotRoutable: 502,
  SessionContextNotFound: 503,
  SessionContextNotRemovable: 504,
  OtherProxyProcessingError: 505,
  ResourcesUnavailable: 506,
  RequestInitiated: 507,
  MultipleSessionSelectionUnsupported: 508,
} as const;

/** Default UDP port of a NAS's Dynamic Authorization Server. */
export const COA_DEFAULT_PORT = 3799;

/** Extension point: CoA/Disconnect clients, keyed by instance id. */
export const NasClients = point<NasClient>('nas-client', (c) => c.id);

/**
 * Which NAS a request came from, and which reseller operates it. Provided by the RADIUS plugin (which owns the
 * NAS table); the portal and other flows read it through `ctx.lookup(nasDirectory)` and work without it.
 */
export interface NasRecord {
  id: string;
  /** NAS-Identifier as the NAS sends it (CoovaChilli `nasid`, MikroTik identity). */
  identifier: string;
  /** Source address RADIUS packets come from. */
  address: string;
  /** NasVendor id of its dialect (mikrotik, coovachilli, wispr, …). */
  vendor: string;
  resellerId: string | null;
  /** Where CoA/Disconnect requests go (RFC 5176; default port 3799). */
  coaPort: number;
}

export interface NasDirectory {
  findByIdentifier(identifier: string): Promise<NasRecord | null>;
  findByAddress(address: string): Promise<NasRecord | null>;
}

export const nasDirectory = token<NasDirectory>('core.nas-directory');
