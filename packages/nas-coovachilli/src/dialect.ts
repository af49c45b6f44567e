/**
 * The CoovaChilli / ChilliSpot dialect (vendor 14559): rate limits in kbit/s (`ChilliSpot-Bandwidth-Max-Up/Down`,
 * chilli multiplies by 1000), octet quotas (`ChilliSpot-Max-Input/Output/Total-Octets`) with the CoovaChilli
 * Gigawords attributes 21/22/23, the standard timeouts, and CoA/Disconnect identified by User-Name (chilli drops a
 * CoA/Disconnect without it) and Acct-Session-Id (restricts it to that session).
 *
 * Sources: ../shared/specs/radius.md §8, §10 and captive-portal.md §1 (coova-chilli @e0c7d7a `src/chilli.c`,
 * `src/radius_coovachilli.h`, `doc/attributes`; FreeRADIUS `dictionary.chillispot`). Input = from the client
 * (upload) unless chilli runs with `swapoctets`. Not verified against a running chilli here [?]: chilli only listens
 * for CoA when `coaport` is set and, unless `coanoipcheck`, only from the RADIUS server's address.
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

export const CHILLISPOT_VENDOR_ID = 14_559;

/** Vendor attribute numbers (FreeRADIUS `dictionary.chillispot` plus CoovaChilli's own 15 and 21-23). */
export const ChilliAttribute = {
  MaxInputOctets: 1,
  MaxOutputOctets: 2,
  MaxTotalOctets: 3,
  BandwidthMaxUp: 4,
  BandwidthMaxDown: 5,
  Config: 6,
  Lang: 7,
  Version: 8,
  OriginalUrl: 9,
  SessionState: 15,
  MaxInputGigawords: 21,
  MaxOutputGigawords: 22,
  MaxTotalGigawords: 23,
  UamAllowed: 100,
  MacAllowed: 101,
  Interval: 102,
} as const;

const V = CHILLISPOT_VENDOR_ID;

/**
 * The dictionary, FreeRADIUS names. 21/22/23 are missing from FreeRADIUS's `dictionary.chillispot`; they are named
 * `CoovaChilli-Max-*-Gigawords` here (radius.md §10), so radclient shows them as `Attr-26.14559.21` etc.
 */
export const chilliDictionary: RadiusVendorDictionary = {
  vendors: [{ id: V, name: 'ChilliSpot' }],
  attributes: [
    { name: 'ChilliSpot-Max-Input-Octets', vendorId: V, type: ChilliAttribute.MaxInputOctets, dataType: 'integer' },
    { name: 'ChilliSpot-Max-Output-Octets', vendorId: V, type: ChilliAttribute.MaxOutputOctets, dataType: 'integer' },
    { name: 'ChilliSpot-Max-Total-Octets', vendorId: V, type: ChilliAttribute.MaxTotalOctets, dataType: 'integer' },
    { name: 'ChilliSpot-Bandwidth-Max-Up', vendorId: V, type: ChilliAttribute.BandwidthMaxUp, dataType: 'integer' },
    { name: 'ChilliSpot-Bandwidth-Max-Down', vendorId: V, type: ChilliAttribute.BandwidthMaxDown, dataType: 'integer' },
    { name: 'ChilliSpot-Config', vendorId: V, type: ChilliAttribute.Config, dataType: 'string' },
    { name: 'ChilliSpot-Lang', vendorId: V, type: ChilliAttribute.Lang, dataType: 'string' },
    { name: 'ChilliSpot-Version', vendorId: V, type: ChilliAttribute.Version, dataType: 'string' },
    { name: 'ChilliSpot-OriginalURL', vendorId: V, type: ChilliAttribute.OriginalUrl, dataType: 'string' },
    { name: 'CoovaChilli-Session-State', vendorId: V, type: ChilliAttribute.SessionState, dataType: 'integer' },
    { name: 'CoovaChilli-Max-Input-Gigawords', vendorId: V, type: ChilliAttribute.MaxInputGigawords, dataType: 'integer' },
    { name: 'CoovaChilli-Max-Output-Gigawords', vendorId: V, type: ChilliAttribute.MaxOutputGigawords, dataType: 'integer' },
    { name: 'CoovaChilli-Max-Total-Gigawords', vendorId: V, type: ChilliAttribute.MaxTotalGigawords, dataType: 'integer' },
    { name: 'ChilliSpot-UAM-Allowed', vendorId: V, type: ChilliAttribute.UamAllowed, dataType: 'string' },
    { name: 'ChilliSpot-MAC-Allowed', vendorId: V, type: ChilliAttribute.MacAllowed, dataType: 'string' },
    { name: 'ChilliSpot-Interval', vendorId: V, type: ChilliAttribute.Interval, dataType: 'integer' },
  ],
};

/**
 * bit/s → the kbit/s chilli reads (it multiplies by 1000). Rounded up, so a rate is never cut below the plan; a
 * non-zero rate never becomes 0 (which chilli reads as "no limit").
 */
export function toKbps(bps: number): number {
  if (!Number.isSafeInteger(bps) || bps < 0) throw new RangeError(`rate must be a non-negative integer bit/s, got ${bps}`);
  return Math.min(RADIUS_UINT32_MAX, Math.ceil(bps / 1000));
}

/**
 * Bandwidth in kbit/s and the ChilliSpot octet limits with CoovaChilli's Gigawords. Acct-Interim-Interval is raised to
 * 60 s by core: chilli ignores lower values and falls back to its own default (radius.md §6).
 */
const chilliPolicy: PolicyDialect = {
  rateLimit: (rate) => [
    integerAttribute('ChilliSpot-Bandwidth-Max-Up', ChilliAttribute.BandwidthMaxUp, toKbps(rate.upBps), V),
    integerAttribute('ChilliSpot-Bandwidth-Max-Down', ChilliAttribute.BandwidthMaxDown, toKbps(rate.downBps), V),
  ],
  quota: {
    vendorId: V,
    total: [
      ['ChilliSpot-Max-Total-Octets', ChilliAttribute.MaxTotalOctets],
      ['CoovaChilli-Max-Total-Gigawords', ChilliAttribute.MaxTotalGigawords],
    ],
    up: [
      ['ChilliSpot-Max-Input-Octets', ChilliAttribute.MaxInputOctets],
      ['CoovaChilli-Max-Input-Gigawords', ChilliAttribute.MaxInputGigawords],
    ],
    down: [
      ['ChilliSpot-Max-Output-Octets', ChilliAttribute.MaxOutputOctets],
      ['CoovaChilli-Max-Output-Gigawords', ChilliAttribute.MaxOutputGigawords],
    ],
  },
};

/** User-Name (mandatory for chilli) and, when known, Acct-Session-Id (limits the request to that session). */
const identify = (session: NasSessionRef) => sessionIdentification(session);

export interface ChilliVendorOptions {
  /** Instance id (the `vendor` of a NAS row); default `coovachilli`. */
  id?: string;
}

/** The CoovaChilli dialect as a `NasVendor`. */
export function createChilliVendor(options: ChilliVendorOptions = {}): NasVendor {
  return Object.freeze({
    id: options.id ?? 'coovachilli',
    provider: 'coovachilli',
    dictionary: chilliDictionary,
    // chilli answers ACK/NAK without Error-Cause (radius.md §8).
    capabilities: Object.freeze({ disconnect: true, policyChange: 'coa', errorCauseInNak: false, quotaGigawords: true } as const),
    accessAccept: (policy: SessionPolicy) => encodeSessionPolicy(policy, chilliPolicy, false),
    coaRequest: (session: NasSessionRef, change: SessionPolicy): PolicyEncoding =>
      coaEncoding(identify(session), encodeSessionPolicy(change, chilliPolicy, true)),
    disconnectRequest: (session: NasSessionRef) => identify(session),
  });
}
