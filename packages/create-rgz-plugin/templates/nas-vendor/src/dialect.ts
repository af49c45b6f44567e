/**
 * A `NasVendor` dialect that uses only the standard RADIUS attributes every NAS understands: Session-Timeout (27),
 * Idle-Timeout (28) and Acct-Interim-Interval (85) in Access-Accept, and RFC 5176 Disconnect-Request to end a
 * session. Rate limits and data quotas have no standard attribute, so they are reported `unsupported` (the caller
 * logs that, or refuses the plan). The encoding is core's, the one the shipped dialects (MikroTik, CoovaChilli, WISPr)
 * use. For a vendor with its own attributes, declare them in `dictionary` and describe them in `policyDialect`; the
 * contract suite checks every emitted VSA against the dictionary.
 */
import {
  encodeSessionPolicy,
  type NasSessionRef,
  type NasVendor,
  type NasVendorCapabilities,
  type PolicyDialect,
  type PolicyEncoding,
  type RadiusAttribute,
  type RadiusVendorDictionary,
  type SessionPolicy,
  sessionIdentification,
} from '@rgz/core';

/**
 * What this vendor adds to the standard attributes: nothing yet. Give `rateLimit` (the vendor's notation and units)
 * and `quota` (its octets + Gigawords VSAs per direction) to support them; until then core's `encodeSessionPolicy`
 * reports them `unsupported` and emits the standard timeouts, in the order the shipped dialects use.
 */
const policyDialect: PolicyDialect = {};

export interface StandardVendorOptions {
  /** Instance id: the key in `NasVendors`, and the `vendor` of the NAS rows that speak this dialect. */
  readonly id: string;
  /** The NAS accepts Disconnect-Request (RFC 5176, UDP 3799). */
  readonly disconnect: boolean;
}

export function createStandardVendor(options: StandardVendorOptions): NasVendor {
  const dictionary: RadiusVendorDictionary = { vendors: [], attributes: [] };
  const capabilities: NasVendorCapabilities = {
    disconnect: options.disconnect,
    // No standard attribute changes a live session's limits: a new policy applies when the client reconnects.
    policyChange: 'disconnect',
    // Error-Cause in NAKs is optional (RFC 5176 §3.5): do not count on it.
    errorCauseInNak: false,
    quotaGigawords: false,
  };

  function accessAccept(policy: SessionPolicy): PolicyEncoding {
    return encodeSessionPolicy(policy, policyDialect, false);
  }

  /**
   * RFC 5176 §3: the session identification attributes the NAS gave in accounting, nothing else. Name the fields your
   * NAS matches on, in the order it wants them, after User-Name and Acct-Session-Id.
   */
  function disconnectRequest(session: NasSessionRef): readonly RadiusAttribute[] {
    return sessionIdentification(session, ['framedIpAddress', 'callingStationId', 'nasIdentifier', 'nasIpAddress']);
  }

  return {
    id: options.id,
    provider: 'standard',
    dictionary,
    capabilities,
    accessAccept,
    ...(options.disconnect ? { disconnectRequest } : {}),
  };
}
