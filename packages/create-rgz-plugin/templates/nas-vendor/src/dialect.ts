/**
 * A `NasVendor` dialect that uses only the standard RADIUS attributes every NAS understands: Session-Timeout (27),
 * Idle-Timeout (28) and Acct-Interim-Interval (85) in Access-Accept, and RFC 5176 Disconnect-Request to end a
 * session. Rate limits and data quotas have no standard attribute, so they are reported `unsupported` (the caller
 * logs that, or refuses the plan). For a vendor with its own attributes, declare them in `dictionary` and emit them
 * from `accessAccept`; the contract suite checks every emitted VSA against the dictionary.
 */
import {
  type NasSessionRef,
  type NasVendor,
  type NasVendorCapabilities,
  type PolicyEncoding,
  type PolicyFeature,
  RADIUS_UINT32_MAX,
  type RadiusAttribute,
  RadiusAttributeType,
  type RadiusVendorDictionary,
  type SessionPolicy,
} from '@rgz/core';

/** RFC 2869 §5.16: interim updates no more often than every 60 s. */
const MIN_INTERIM_SECONDS = 60;

const integer = (name: string, type: number, value: number): RadiusAttribute => ({
  name,
  type,
  dataType: 'integer',
  value: Math.min(RADIUS_UINT32_MAX, Math.max(0, Math.round(value))),
});

const text = (name: string, type: number, value: string): RadiusAttribute => ({ name, type, dataType: 'string', value });

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
    const attributes: RadiusAttribute[] = [];
    const unsupported: PolicyFeature[] = [];
    if (policy.rateLimit !== undefined) unsupported.push('rateLimit');
    if (policy.quota?.totalBytes !== undefined) unsupported.push('quota.total');
    if (policy.quota?.upBytes !== undefined) unsupported.push('quota.up');
    if (policy.quota?.downBytes !== undefined) unsupported.push('quota.down');
    if (policy.sessionTimeoutSeconds !== undefined) {
      attributes.push(integer('Session-Timeout', RadiusAttributeType.SessionTimeout, policy.sessionTimeoutSeconds));
    }
    if (policy.idleTimeoutSeconds !== undefined) {
      attributes.push(integer('Idle-Timeout', RadiusAttributeType.IdleTimeout, policy.idleTimeoutSeconds));
    }
    if (policy.interimIntervalSeconds !== undefined) {
      attributes.push(integer('Acct-Interim-Interval', RadiusAttributeType.AcctInterimInterval, Math.max(MIN_INTERIM_SECONDS, policy.interimIntervalSeconds)));
    }
    return { attributes, unsupported };
  }

  /** RFC 5176 §3: the session identification attributes the NAS gave in accounting, nothing else. */
  function disconnectRequest(session: NasSessionRef): readonly RadiusAttribute[] {
    const attributes: RadiusAttribute[] = [text('User-Name', RadiusAttributeType.UserName, session.userName)];
    if (session.acctSessionId !== undefined) attributes.push(text('Acct-Session-Id', RadiusAttributeType.AcctSessionId, session.acctSessionId));
    if (session.framedIpAddress !== undefined) {
      attributes.push({ name: 'Framed-IP-Address', type: RadiusAttributeType.FramedIpAddress, dataType: 'ipaddr', value: session.framedIpAddress });
    }
    if (session.callingStationId !== undefined) {
      attributes.push(text('Calling-Station-Id', RadiusAttributeType.CallingStationId, session.callingStationId));
    }
    if (session.nasIdentifier !== undefined) attributes.push(text('NAS-Identifier', RadiusAttributeType.NasIdentifier, session.nasIdentifier));
    if (session.nasIpAddress !== undefined) {
      attributes.push({ name: 'NAS-IP-Address', type: RadiusAttributeType.NasIpAddress, dataType: 'ipaddr', value: session.nasIpAddress });
    }
    return attributes;
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
