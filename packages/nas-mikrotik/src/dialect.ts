/**
 * The MikroTik RouterOS dialect (vendor 14988): how a hotspot or PPPoE server on RouterOS is told a subscriber's rate
 * limit, data quota and timeouts in Access-Accept and CoA-Request, and how a session is named in CoA/Disconnect.
 *
 * Sources (see ../shared/specs/radius.md §8, §10 and captive-portal.md §2): FreeRADIUS `dictionary.mikrotik` (numbers
 * and types), the RouterOS manual for `Mikrotik-Rate-Limit` (router's view: rx = what the router receives from the
 * client = the subscriber's upload). Unverified against a real router [?]: the CoA matching rules on hotspot vs PPPoE
 * and RouterOS 6 vs 7, whether a CoA that omits `*-Gigawords` keeps the previous high word (we always send it in CoA),
 * and whether NAKs carry Error-Cause.
 */

import {
  coaEncoding,
  encodeSessionPolicy,
  type NasSessionRef,
  type NasVendor,
  type PolicyDialect,
  type PolicyEncoding,
  type RadiusVendorDictionary,
  type SessionPolicy,
  sessionIdentification,
} from '@rgz/core';

export const MIKROTIK_VENDOR_ID = 14_988;

/** MikroTik vendor attribute numbers (FreeRADIUS `dictionary.mikrotik`). */
export const MikrotikAttribute = {
  RecvLimit: 1,
  XmitLimit: 2,
  Group: 3,
  RateLimit: 8,
  Realm: 9,
  HostIp: 10,
  RecvLimitGigawords: 14,
  XmitLimitGigawords: 15,
  TotalLimit: 17,
  TotalLimitGigawords: 18,
  AddressList: 19,
} as const;

/**
 * The VSAs this dialect emits or reads. Recv = bytes the router receives from the client (upload), Xmit = bytes it
 * sends to the client (download); `*-Gigawords` carry the high 32 bits of a 64-bit byte count.
 */
export const mikrotikDictionary: RadiusVendorDictionary = {
  vendors: [{ id: MIKROTIK_VENDOR_ID, name: 'Mikrotik' }],
  attributes: [
    { name: 'Mikrotik-Recv-Limit', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.RecvLimit, dataType: 'integer' },
    { name: 'Mikrotik-Xmit-Limit', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.XmitLimit, dataType: 'integer' },
    { name: 'Mikrotik-Group', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.Group, dataType: 'string' },
    { name: 'Mikrotik-Rate-Limit', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.RateLimit, dataType: 'string' },
    { name: 'Mikrotik-Realm', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.Realm, dataType: 'string' },
    { name: 'Mikrotik-Host-IP', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.HostIp, dataType: 'ipaddr' },
    { name: 'Mikrotik-Recv-Limit-Gigawords', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.RecvLimitGigawords, dataType: 'integer' },
    { name: 'Mikrotik-Xmit-Limit-Gigawords', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.XmitLimitGigawords, dataType: 'integer' },
    { name: 'Mikrotik-Total-Limit', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.TotalLimit, dataType: 'integer' },
    { name: 'Mikrotik-Total-Limit-Gigawords', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.TotalLimitGigawords, dataType: 'integer' },
    { name: 'Mikrotik-Address-List', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.AddressList, dataType: 'string' },
  ],
};

/**
 * One rate in RouterOS notation: `M` when a whole number of Mbit/s, `k` when a whole number of kbit/s (RouterOS: k =
 * 1000, M = 1 000 000), else plain bit/s. 0 means "unlimited" to RouterOS.
 */
export function formatRate(bps: number): string {
  if (!Number.isSafeInteger(bps) || bps < 0) throw new RangeError(`rate must be a non-negative integer bit/s, got ${bps}`);
  if (bps !== 0 && bps % 1_000_000 === 0) return `${bps / 1_000_000}M`;
  if (bps !== 0 && bps % 1_000 === 0) return `${bps / 1_000}k`;
  return String(bps);
}

/** `Mikrotik-Rate-Limit` value `rx/tx` in the router's view: rx = the subscriber's upload, tx = download. */
export function rateLimitValue(rate: { upBps: number; downBps: number }): string {
  return `${formatRate(rate.upBps)}/${formatRate(rate.downBps)}`;
}

/** `Mikrotik-Rate-Limit` as one string; quotas in Recv (upload) / Xmit (download) / Total with their Gigawords. */
const mikrotikPolicy: PolicyDialect = {
  rateLimit: (rate) => [
    { name: 'Mikrotik-Rate-Limit', vendorId: MIKROTIK_VENDOR_ID, type: MikrotikAttribute.RateLimit, dataType: 'string', value: rateLimitValue(rate) },
  ],
  quota: {
    vendorId: MIKROTIK_VENDOR_ID,
    total: [
      ['Mikrotik-Total-Limit', MikrotikAttribute.TotalLimit],
      ['Mikrotik-Total-Limit-Gigawords', MikrotikAttribute.TotalLimitGigawords],
    ],
    up: [
      ['Mikrotik-Recv-Limit', MikrotikAttribute.RecvLimit],
      ['Mikrotik-Recv-Limit-Gigawords', MikrotikAttribute.RecvLimitGigawords],
    ],
    down: [
      ['Mikrotik-Xmit-Limit', MikrotikAttribute.XmitLimit],
      ['Mikrotik-Xmit-Limit-Gigawords', MikrotikAttribute.XmitLimitGigawords],
    ],
  },
};

/**
 * Session identification for CoA/Disconnect: User-Name, Acct-Session-Id and, when known, Framed-IP-Address (what
 * RouterOS is reported to match on; radius.md §8 [?]).
 */
const identify = (session: NasSessionRef) => sessionIdentification(session, ['framedIpAddress']);

export interface MikrotikVendorOptions {
  /** Instance id (the `vendor` of a NAS row); default `mikrotik`. */
  id?: string;
}

/** The MikroTik dialect as a `NasVendor`. */
export function createMikrotikVendor(options: MikrotikVendorOptions = {}): NasVendor {
  return Object.freeze({
    id: options.id ?? 'mikrotik',
    provider: 'mikrotik',
    dictionary: mikrotikDictionary,
    capabilities: Object.freeze({ disconnect: true, policyChange: 'coa', errorCauseInNak: true, quotaGigawords: true } as const),
    accessAccept: (policy: SessionPolicy) => encodeSessionPolicy(policy, mikrotikPolicy, false),
    // Gigawords always in a CoA: whether RouterOS keeps a previous high word when it is omitted is unverified.
    coaRequest: (session: NasSessionRef, change: SessionPolicy): PolicyEncoding =>
      coaEncoding(identify(session), encodeSessionPolicy(change, mikrotikPolicy, true)),
    disconnectRequest: (session: NasSessionRef) => identify(session),
  });
}
