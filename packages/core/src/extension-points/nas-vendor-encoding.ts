/**
 * What the NAS dialects encode alike: the standard attributes of a `SessionPolicy` (timeouts, interim interval), quotas
 * as an octets + Gigawords pair of VSAs, the standard attributes that name a session in CoA/Disconnect, and the order
 * of a CoA-Request. What differs on purpose between vendors (rate-limit notation and units, VSA names and numbers,
 * which session attributes the NAS matches on) stays in the dialect and is passed in. Pure, like the dialects.
 */

import {
  type NasSessionRef,
  type PolicyEncoding,
  type PolicyFeature,
  type RadiusAttribute,
  RadiusAttributeType,
  type SessionPolicy,
  splitGigawords,
} from './nas-vendor.js';

/** A vendor attribute's dictionary name and its number in the vendor's space. */
export type VsaName = readonly [name: string, type: number];

/** The VSAs carrying one byte quota: the low 32 bits (octets) and the number of 2^32 wraps (Gigawords). */
export type QuotaVsas = readonly [octets: VsaName, gigawords: VsaName];

/** A vendor's quota VSAs per direction; a direction without an entry is reported `unsupported`. */
export interface QuotaDialect {
  readonly vendorId: number;
  readonly total?: QuotaVsas;
  readonly up?: QuotaVsas;
  readonly down?: QuotaVsas;
}

/** The vendor-specific part of encoding a `SessionPolicy`. */
export interface PolicyDialect {
  /** Attributes enforcing the rate limit, in the vendor's notation and units. Absent: rate limits are reported `unsupported`. */
  readonly rateLimit?: (rate: NonNullable<SessionPolicy['rateLimit']>) => readonly RadiusAttribute[];
  /** Absent: the vendor has no quota attributes, every quota is reported `unsupported`. */
  readonly quota?: QuotaDialect;
}

/** An `integer` attribute: standard without `vendorId`, else a VSA of that vendor. */
export function integerAttribute(name: string, type: number, value: number, vendorId?: number): RadiusAttribute {
  return vendorId === undefined ? { name, type, dataType: 'integer', value } : { name, vendorId, type, dataType: 'integer', value };
}

/**
 * A byte quota as its octets VSA and, when non-zero or `alwaysGigawords`, its Gigawords VSA. A CoA sets
 * `alwaysGigawords` so that a high word left by an earlier Accept or CoA is overwritten with 0.
 */
export function quotaAttributes(vendorId: number, vsas: QuotaVsas, bytes: bigint, alwaysGigawords: boolean): RadiusAttribute[] {
  const [[octetsName, octetsType], [gigawordsName, gigawordsType]] = vsas;
  const { octets, gigawords } = splitGigawords(bytes);
  const out = [integerAttribute(octetsName, octetsType, octets, vendorId)];
  if (gigawords > 0 || alwaysGigawords) out.push(integerAttribute(gigawordsName, gigawordsType, gigawords, vendorId));
  return out;
}

/**
 * Session-Timeout (27), Idle-Timeout (28) and Acct-Interim-Interval (85) of a policy. The interval is raised to 60 s:
 * RFC 2869 §5.16 forbids lower values, and NAS ignore them (CoovaChilli falls back to its own default).
 */
export function standardPolicyAttributes(policy: SessionPolicy): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  if (policy.sessionTimeoutSeconds !== undefined)
    out.push(integerAttribute('Session-Timeout', RadiusAttributeType.SessionTimeout, policy.sessionTimeoutSeconds));
  if (policy.idleTimeoutSeconds !== undefined) out.push(integerAttribute('Idle-Timeout', RadiusAttributeType.IdleTimeout, policy.idleTimeoutSeconds));
  if (policy.interimIntervalSeconds !== undefined) {
    out.push(integerAttribute('Acct-Interim-Interval', RadiusAttributeType.AcctInterimInterval, Math.max(60, policy.interimIntervalSeconds)));
  }
  return out;
}

const QUOTA_DIRECTIONS = [
  ['totalBytes', 'total', 'quota.total'],
  ['upBytes', 'up', 'quota.up'],
  ['downBytes', 'down', 'quota.down'],
] as const satisfies readonly (readonly [keyof NonNullable<SessionPolicy['quota']>, 'total' | 'up' | 'down', PolicyFeature])[];

/**
 * A policy's attributes in the order all dialects use: rate limit, quotas (total, up, down), then the standard
 * timeouts. `forCoa` sends every Gigawords VSA, zero included (see `quotaAttributes`).
 */
export function encodeSessionPolicy(policy: SessionPolicy, dialect: PolicyDialect, forCoa: boolean): PolicyEncoding {
  const attributes: RadiusAttribute[] = [];
  const unsupported: PolicyFeature[] = [];
  if (policy.rateLimit) {
    if (dialect.rateLimit === undefined) unsupported.push('rateLimit');
    else attributes.push(...dialect.rateLimit(policy.rateLimit));
  }
  const quota = dialect.quota;
  for (const [field, direction, feature] of QUOTA_DIRECTIONS) {
    const bytes = policy.quota?.[field];
    if (bytes === undefined) continue;
    const vsas = quota?.[direction];
    if (quota === undefined || vsas === undefined) unsupported.push(feature);
    else attributes.push(...quotaAttributes(quota.vendorId, vsas, bytes, forCoa));
  }
  attributes.push(...standardPolicyAttributes(policy));
  return { attributes, unsupported };
}

/** `NasSessionRef` fields a dialect may add to User-Name and Acct-Session-Id to name a session. */
export type SessionMatchField = 'framedIpAddress' | 'callingStationId' | 'nasIdentifier' | 'nasIpAddress';

const SESSION_MATCH_ATTRIBUTES: Readonly<Record<SessionMatchField, { name: string; type: number; dataType: 'string' | 'ipaddr' }>> = {
  framedIpAddress: { name: 'Framed-IP-Address', type: RadiusAttributeType.FramedIpAddress, dataType: 'ipaddr' },
  callingStationId: { name: 'Calling-Station-Id', type: RadiusAttributeType.CallingStationId, dataType: 'string' },
  nasIdentifier: { name: 'NAS-Identifier', type: RadiusAttributeType.NasIdentifier, dataType: 'string' },
  nasIpAddress: { name: 'NAS-IP-Address', type: RadiusAttributeType.NasIpAddress, dataType: 'ipaddr' },
};

/**
 * The standard attributes naming `session` in a CoA/Disconnect-Request: User-Name, Acct-Session-Id when known (RFC
 * 5176 §3: SHOULD), then each of `also` that is known, in the order given (what the vendor's NAS matches on).
 */
export function sessionIdentification(session: NasSessionRef, also: readonly SessionMatchField[] = []): RadiusAttribute[] {
  const out: RadiusAttribute[] = [{ name: 'User-Name', type: RadiusAttributeType.UserName, dataType: 'string', value: session.userName }];
  if (session.acctSessionId !== undefined) {
    out.push({ name: 'Acct-Session-Id', type: RadiusAttributeType.AcctSessionId, dataType: 'string', value: session.acctSessionId });
  }
  for (const field of also) {
    const value = session[field];
    if (value !== undefined) out.push({ ...SESSION_MATCH_ATTRIBUTES[field], value });
  }
  return out;
}

/** A CoA-Request's attributes: the session identification first, then the new policy. */
export function coaEncoding(identification: readonly RadiusAttribute[], change: PolicyEncoding): PolicyEncoding {
  return { attributes: [...identification, ...change.attributes], unsupported: change.unsupported };
}
