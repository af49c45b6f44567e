/**
 * The WISPr dialect (vendor 14122) for NAS that follow the Wi-Fi Alliance WISPr RADIUS attributes: rate limits as
 * `WISPr-Bandwidth-Max-Up/Down` in **bit/s** (coova-chilli `doc/attributes`), timeouts in the standard attributes.
 * WISPr has no data-quota attributes, so every quota is reported `unsupported` (RGZ still refuses a login whose
 * quota is used up; the NAS just cannot cut a session at the limit, the next Interim-Update/CoA has to).
 * `WISPr-Session-Terminate-Time` (an absolute time) is in the dictionary but not emitted: a dialect is pure, and
 * Session-Timeout says the same thing relative to the Accept.
 *
 * Which CoA session identification a given WISPr NAS honours is not known in general [?]: we send User-Name,
 * Acct-Session-Id and Calling-Station-Id (RFC 5176 §3). A NAS without CoA is configured with
 * `policyChange: 'disconnect'`, and plan changes then cut the session so the next login picks the plan up.
 */

import {
  coaEncoding,
  encodeSessionPolicy,
  integerAttribute,
  type NasSessionRef,
  type NasVendor,
  type PolicyDialect,
  type PolicyEncoding,
  RADIUS_UINT32_MAX,
  type RadiusVendorDictionary,
  type SessionPolicy,
  sessionIdentification,
} from '@rgz/core';

export const WISPR_VENDOR_ID = 14_122;

/** WISPr vendor attribute numbers (FreeRADIUS `dictionary.wispr`). */
export const WisprAttribute = {
  LocationId: 1,
  LocationName: 2,
  LogoffUrl: 3,
  RedirectionUrl: 4,
  BandwidthMinUp: 5,
  BandwidthMinDown: 6,
  BandwidthMaxUp: 7,
  BandwidthMaxDown: 8,
  SessionTerminateTime: 9,
  SessionTerminateEndOfDay: 10,
  BillingClassOfService: 11,
} as const;

const V = WISPR_VENDOR_ID;

export const wisprDictionary: RadiusVendorDictionary = {
  vendors: [{ id: V, name: 'WISPr' }],
  attributes: [
    { name: 'WISPr-Location-ID', vendorId: V, type: WisprAttribute.LocationId, dataType: 'string' },
    { name: 'WISPr-Location-Name', vendorId: V, type: WisprAttribute.LocationName, dataType: 'string' },
    { name: 'WISPr-Logoff-URL', vendorId: V, type: WisprAttribute.LogoffUrl, dataType: 'string' },
    { name: 'WISPr-Redirection-URL', vendorId: V, type: WisprAttribute.RedirectionUrl, dataType: 'string' },
    { name: 'WISPr-Bandwidth-Min-Up', vendorId: V, type: WisprAttribute.BandwidthMinUp, dataType: 'integer' },
    { name: 'WISPr-Bandwidth-Min-Down', vendorId: V, type: WisprAttribute.BandwidthMinDown, dataType: 'integer' },
    { name: 'WISPr-Bandwidth-Max-Up', vendorId: V, type: WisprAttribute.BandwidthMaxUp, dataType: 'integer' },
    { name: 'WISPr-Bandwidth-Max-Down', vendorId: V, type: WisprAttribute.BandwidthMaxDown, dataType: 'integer' },
    { name: 'WISPr-Session-Terminate-Time', vendorId: V, type: WisprAttribute.SessionTerminateTime, dataType: 'string' },
    { name: 'WISPr-Session-Terminate-End-Of-Day', vendorId: V, type: WisprAttribute.SessionTerminateEndOfDay, dataType: 'string' },
    { name: 'WISPr-Billing-Class-Of-Service', vendorId: V, type: WisprAttribute.BillingClassOfService, dataType: 'string' },
  ],
};

/** A bit/s value as the 32-bit integer WISPr carries (rates above ~4.29 Gbit/s are capped). */
function bps(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`rate must be a non-negative integer bit/s, got ${value}`);
  return Math.min(RADIUS_UINT32_MAX, value);
}

/** Bandwidth in bit/s; no quota attributes, so every quota is reported unsupported. */
const wisprPolicy: PolicyDialect = {
  rateLimit: (rate) => [
    integerAttribute('WISPr-Bandwidth-Max-Up', WisprAttribute.BandwidthMaxUp, bps(rate.upBps), V),
    integerAttribute('WISPr-Bandwidth-Max-Down', WisprAttribute.BandwidthMaxDown, bps(rate.downBps), V),
  ],
};

const encodePolicy = (policy: SessionPolicy) => encodeSessionPolicy(policy, wisprPolicy, false);
const identify = (session: NasSessionRef) => sessionIdentification(session, ['callingStationId']);

export interface WisprVendorOptions {
  /** Instance id (the `vendor` of a NAS row); default `wispr`. */
  id?: string;
  /** `coa` (default): new bandwidth by CoA-Request. `disconnect`: the NAS has no CoA; plan changes disconnect. */
  policyChange?: 'coa' | 'disconnect';
}

/** The WISPr dialect as a `NasVendor`. */
export function createWisprVendor(options: WisprVendorOptions = {}): NasVendor {
  const policyChange = options.policyChange ?? 'coa';
  const base = {
    id: options.id ?? 'wispr',
    provider: 'wispr',
    dictionary: wisprDictionary,
    capabilities: Object.freeze({ disconnect: true, policyChange, errorCauseInNak: true, quotaGigawords: false }),
    accessAccept: encodePolicy,
    disconnectRequest: identify,
  };
  if (policyChange === 'disconnect') return Object.freeze(base);
  return Object.freeze({
    ...base,
    coaRequest: (session: NasSessionRef, change: SessionPolicy): PolicyEncoding => coaEncoding(identify(session), encodePolicy(change)),
  });
}
