/**
 * RADIUS attribute dictionary: the standard attributes (RFC 2865, 2866, 2867, 2868, 2869, 3162, 3576/5176, 4072,
 * 4372, 4675, 4818, 5904, 6911) with their data types and named values, and immutable extension with vendor
 * dictionaries (MikroTik, WISPr, ChilliSpot… ship as separate plugins in the `RadiusVendorDictionary` shape of
 * `@rgz/core`). Names follow the FreeRADIUS 3.2 dictionaries, because those are the names rlm_rest puts in the JSON
 * our HTTP backend receives.
 */

import type { RadiusDataType } from '@rgz/core';

/** Attribute data types, FreeRADIUS dictionary names: `@rgz/core`'s own union (a type-only import: no runtime tie). */
export type { RadiusDataType };

/**
 * One attribute definition. The first seven fields are `@rgz/core`'s `RadiusAttributeDef`; the rest are codec
 * details a vendor dictionary rarely needs.
 */
export interface RadiusAttributeDef {
  readonly name: string;
  /** IANA private enterprise number; 0 for standard attributes. */
  readonly vendorId: number;
  /** Attribute number (in the vendor's space for a VSA). */
  readonly type: number;
  /** `tlv` attributes are not interpreted by this codec: they decode as octets. */
  readonly dataType: RadiusDataType | 'tlv';
  /** Named integer values; when two names share a number the first one listed is the canonical name. */
  readonly values?: Readonly<Record<string, number>>;
  /** RFC 2868 tag octet. */
  readonly hasTag?: boolean;
  /** Value hiding: 1 = User-Password (RFC 2865 §5.2), 2 = Tunnel-Password with salt (RFC 2868 §3.5). */
  readonly encrypt?: 1 | 2;
  /** Value longer than one attribute is split over consecutive attributes and joined on decode (EAP-Message). */
  readonly concat?: boolean;
  /** Exact value length for fixed-size octets (Message-Authenticator = 16). */
  readonly size?: number;
  /** A zero-length value is meaningful and kept (Chargeable-User-Identity, RFC 4372 §2.1). */
  readonly allowEmpty?: boolean;
}

/** Layout of a vendor's sub-attribute header inside Vendor-Specific (FreeRADIUS `format=t,l`); default 1,1. */
export interface VsaFormat {
  readonly typeSize: 1 | 2 | 4;
  readonly lengthSize: 0 | 1 | 2;
}

export interface RadiusVendor {
  readonly id: number;
  readonly name: string;
  readonly format?: VsaFormat;
}

/** A vendor dictionary; the same shape as `@rgz/core`'s `RadiusVendorDictionary` (plus optional `format`). */
export interface RadiusVendorDictionary {
  readonly vendors: readonly RadiusVendor[];
  readonly attributes: readonly RadiusAttributeDef[];
}

export const DEFAULT_VSA_FORMAT: VsaFormat = { typeSize: 1, lengthSize: 1 };

/** Standard attribute numbers the codec itself relies on. */
export const Attr = {
  UserName: 1,
  UserPassword: 2,
  ChapPassword: 3,
  VendorSpecific: 26,
  ProxyState: 33,
  ChapChallenge: 60,
  EapMessage: 79,
  MessageAuthenticator: 80,
} as const;

const SERVICE_TYPE = {
  'Login-User': 1,
  'Framed-User': 2,
  'Callback-Login-User': 3,
  'Callback-Framed-User': 4,
  'Outbound-User': 5,
  'Administrative-User': 6,
  'NAS-Prompt-User': 7,
  'Authenticate-Only': 8,
  'Callback-NAS-Prompt': 9,
  'Call-Check': 10,
  'Callback-Administrative': 11,
  Voice: 12,
  Fax: 13,
  'Modem-Relay': 14,
  'IAPP-Register': 15,
  'IAPP-AP-Check': 16,
  'Authorize-Only': 17,
  'Framed-Management': 18,
};

const NAS_PORT_TYPE = {
  Async: 0,
  Sync: 1,
  ISDN: 2,
  'ISDN-V120': 3,
  'ISDN-V110': 4,
  Virtual: 5,
  PIAFS: 6,
  'HDLC-Clear-Channel': 7,
  'X.25': 8,
  'X.75': 9,
  'G.3-Fax': 10,
  SDSL: 11,
  'ADSL-CAP': 12,
  'ADSL-DMT': 13,
  IDSL: 14,
  Ethernet: 15,
  xDSL: 16,
  Cable: 17,
  'Wireless-Other': 18,
  'Wireless-802.11': 19,
  'Token-Ring': 20,
  FDDI: 21,
  'Wireless-CDMA2000': 22,
  'Wireless-UMTS': 23,
  'Wireless-1X-EV': 24,
  IAPP: 25,
  FTTP: 26,
  'Wireless-802.16': 27,
  'Wireless-802.20': 28,
  'Wireless-802.22': 29,
  PPPoA: 30,
  PPPoEoA: 31,
  PPPoEoE: 32,
  PPPoEoVLAN: 33,
  PPPoEoQinQ: 34,
  xPON: 35,
  'Wireless-XGP': 36,
};

const ACCT_STATUS_TYPE = {
  Start: 1,
  Stop: 2,
  'Interim-Update': 3,
  // FreeRADIUS reads "Alive" but prints Interim-Update: listed after it so Interim-Update stays canonical.
  Alive: 3,
  'Accounting-On': 7,
  'Accounting-Off': 8,
  'Tunnel-Start': 9,
  'Tunnel-Stop': 10,
  'Tunnel-Reject': 11,
  'Tunnel-Link-Start': 12,
  'Tunnel-Link-Stop': 13,
  'Tunnel-Link-Reject': 14,
  Failed: 15,
};

const ACCT_TERMINATE_CAUSE = {
  'User-Request': 1,
  'Lost-Carrier': 2,
  'Lost-Service': 3,
  'Idle-Timeout': 4,
  'Session-Timeout': 5,
  'Admin-Reset': 6,
  'Admin-Reboot': 7,
  'Port-Error': 8,
  'NAS-Error': 9,
  'NAS-Request': 10,
  'NAS-Reboot': 11,
  'Port-Unneeded': 12,
  'Port-Preempted': 13,
  'Port-Suspended': 14,
  'Service-Unavailable': 15,
  Callback: 16,
  'User-Error': 17,
  'Host-Request': 18,
  'Supplicant-Restart': 19,
  'Reauthentication-Failure': 20,
  'Port-Reinit': 21,
  'Port-Disabled': 22,
};

/**
 * Error-Cause (101). Canonical names are FreeRADIUS's (what rlm_rest sends); RFC 5176 §3.5 spellings that differ
 * follow as aliases so either is accepted on encode.
 */
const ERROR_CAUSE = {
  'Residual-Context-Removed': 201,
  'Invalid-EAP-Packet': 202,
  'Unsupported-Attribute': 401,
  'Missing-Attribute': 402,
  'NAS-Identification-Mismatch': 403,
  'Invalid-Request': 404,
  'Unsupported-Service': 405,
  'Unsupported-Extension': 406,
  'Invalid-Attribute-Value': 407,
  'Administratively-Prohibited': 501,
  'Proxy-Request-Not-Routable': 502,
  'Session-Context-Not-Found': 503,
  'Session-Context-Not-Removable': 504,
  'Proxy-Processing-Error': 505,
  'Resources-Unavailable': 506,
  'Request-Initiated': 507,
  'Multiple-Session-Selection-Unsupported': 508,
  // draft-ietf-radext-deprecating-radius (BlastRADIUS): debug-only reply to an Access-Request lacking M-A.
  // Not in the FreeRADIUS 3.2.1 dictionaries.
  'Missing-Message-Authenticator': 510,
  'Residual-Session-Context-Removed': 201,
  'Request-Not-Routable': 502,
  'Other-Proxy-Processing-Error': 505,
};

const TUNNEL_TYPE = {
  PPTP: 1,
  L2F: 2,
  L2TP: 3,
  ATMP: 4,
  VTP: 5,
  AH: 6,
  IP: 7,
  'MIN-IP': 8,
  ESP: 9,
  GRE: 10,
  DVS: 11,
  'IP-in-IP': 12,
  VLAN: 13,
};

const TUNNEL_MEDIUM_TYPE = {
  IPv4: 1,
  IP: 1,
  IPv6: 2,
  NSAP: 3,
  HDLC: 4,
  'BBN-1822': 5,
  'IEEE-802': 6,
  'E.163': 7,
  'E.164': 8,
  'F.69': 9,
  'X.121': 10,
  IPX: 11,
  Appletalk: 12,
  'DecNet-IV': 13,
  'Banyan-Vines': 14,
  'E.164-NSAP': 15,
};

type Row = [type: number, name: string, dataType: RadiusDataType, extra?: Partial<RadiusAttributeDef>];

const STANDARD_ROWS: readonly Row[] = [
  // RFC 2865
  [1, 'User-Name', 'string'],
  [2, 'User-Password', 'string', { encrypt: 1 }],
  [3, 'CHAP-Password', 'octets'],
  [4, 'NAS-IP-Address', 'ipaddr'],
  [5, 'NAS-Port', 'integer'],
  [6, 'Service-Type', 'integer', { values: SERVICE_TYPE }],
  [
    7,
    'Framed-Protocol',
    'integer',
    {
      values: {
        PPP: 1,
        SLIP: 2,
        ARAP: 3,
        'Gandalf-SLML': 4,
        'Xylogics-IPX-SLIP': 5,
        'X.75-Synchronous': 6,
        'GPRS-PDP-Context': 7,
        PPTP: 9,
      },
    },
  ],
  [8, 'Framed-IP-Address', 'ipaddr'],
  [9, 'Framed-IP-Netmask', 'ipaddr'],
  [10, 'Framed-Routing', 'integer', { values: { None: 0, Broadcast: 1, Listen: 2, 'Broadcast-Listen': 3 } }],
  [11, 'Filter-Id', 'string'],
  [12, 'Framed-MTU', 'integer'],
  [
    13,
    'Framed-Compression',
    'integer',
    { values: { None: 0, 'Van-Jacobson-TCP-IP': 1, 'IPX-Header-Compression': 2, 'Stac-LZS': 3 } },
  ],
  [14, 'Login-IP-Host', 'ipaddr'],
  [
    15,
    'Login-Service',
    'integer',
    {
      values: {
        Telnet: 0,
        Rlogin: 1,
        'TCP-Clear': 2,
        PortMaster: 3,
        LAT: 4,
        'X25-PAD': 5,
        'X25-T3POS': 6,
        'TCP-Clear-Quiet': 8,
      },
    },
  ],
  [16, 'Login-TCP-Port', 'integer', { values: { Telnet: 23, Rlogin: 513, Rsh: 514 } }],
  [18, 'Reply-Message', 'string'],
  [19, 'Callback-Number', 'string'],
  [20, 'Callback-Id', 'string'],
  [22, 'Framed-Route', 'string'],
  [23, 'Framed-IPX-Network', 'ipaddr'],
  [24, 'State', 'octets'],
  [25, 'Class', 'octets'],
  // The codec handles 26 itself (vendor id + sub-attributes); this row only gives it a name.
  [26, 'Vendor-Specific', 'octets'],
  [27, 'Session-Timeout', 'integer'],
  [28, 'Idle-Timeout', 'integer'],
  [29, 'Termination-Action', 'integer', { values: { Default: 0, 'RADIUS-Request': 1 } }],
  [30, 'Called-Station-Id', 'string'],
  [31, 'Calling-Station-Id', 'string'],
  [32, 'NAS-Identifier', 'string'],
  [33, 'Proxy-State', 'octets'],
  [34, 'Login-LAT-Service', 'string'],
  [35, 'Login-LAT-Node', 'string'],
  [36, 'Login-LAT-Group', 'octets'],
  [37, 'Framed-AppleTalk-Link', 'integer'],
  [38, 'Framed-AppleTalk-Network', 'integer'],
  [39, 'Framed-AppleTalk-Zone', 'string'],
  // RFC 2866
  [40, 'Acct-Status-Type', 'integer', { values: ACCT_STATUS_TYPE }],
  [41, 'Acct-Delay-Time', 'integer'],
  [42, 'Acct-Input-Octets', 'integer'],
  [43, 'Acct-Output-Octets', 'integer'],
  [44, 'Acct-Session-Id', 'string'],
  [45, 'Acct-Authentic', 'integer', { values: { RADIUS: 1, Local: 2, Remote: 3, Diameter: 4 } }],
  [46, 'Acct-Session-Time', 'integer'],
  [47, 'Acct-Input-Packets', 'integer'],
  [48, 'Acct-Output-Packets', 'integer'],
  [49, 'Acct-Terminate-Cause', 'integer', { values: ACCT_TERMINATE_CAUSE }],
  [50, 'Acct-Multi-Session-Id', 'string'],
  [51, 'Acct-Link-Count', 'integer'],
  // RFC 2869
  [52, 'Acct-Input-Gigawords', 'integer'],
  [53, 'Acct-Output-Gigawords', 'integer'],
  [55, 'Event-Timestamp', 'date'],
  // RFC 4675
  [56, 'Egress-VLANID', 'integer'],
  [57, 'Ingress-Filters', 'integer', { values: { Enabled: 1, Disabled: 2 } }],
  [58, 'Egress-VLAN-Name', 'string'],
  [59, 'User-Priority-Table', 'octets'],
  // RFC 2865
  [60, 'CHAP-Challenge', 'octets'],
  [61, 'NAS-Port-Type', 'integer', { values: NAS_PORT_TYPE }],
  [62, 'Port-Limit', 'integer'],
  [63, 'Login-LAT-Port', 'string'],
  // RFC 2868 (tagged) and RFC 2867
  [64, 'Tunnel-Type', 'integer', { hasTag: true, values: TUNNEL_TYPE }],
  [65, 'Tunnel-Medium-Type', 'integer', { hasTag: true, values: TUNNEL_MEDIUM_TYPE }],
  [66, 'Tunnel-Client-Endpoint', 'string', { hasTag: true }],
  [67, 'Tunnel-Server-Endpoint', 'string', { hasTag: true }],
  [68, 'Acct-Tunnel-Connection', 'string'],
  [69, 'Tunnel-Password', 'string', { hasTag: true, encrypt: 2 }],
  // RFC 2869
  [75, 'Password-Retry', 'integer'],
  [76, 'Prompt', 'integer', { values: { 'No-Echo': 0, Echo: 1 } }],
  [77, 'Connect-Info', 'string'],
  [78, 'Configuration-Token', 'string'],
  [79, 'EAP-Message', 'octets', { concat: true }],
  [80, 'Message-Authenticator', 'octets', { size: 16 }],
  [81, 'Tunnel-Private-Group-Id', 'string', { hasTag: true }],
  [82, 'Tunnel-Assignment-Id', 'string', { hasTag: true }],
  [83, 'Tunnel-Preference', 'integer', { hasTag: true }],
  [85, 'Acct-Interim-Interval', 'integer'],
  [86, 'Acct-Tunnel-Packets-Lost', 'integer'],
  [87, 'NAS-Port-Id', 'string'],
  [88, 'Framed-Pool', 'string'],
  // RFC 4372
  [89, 'Chargeable-User-Identity', 'octets', { allowEmpty: true }],
  // RFC 2868
  [90, 'Tunnel-Client-Auth-Id', 'string', { hasTag: true }],
  [91, 'Tunnel-Server-Auth-Id', 'string', { hasTag: true }],
  // RFC 3162
  [95, 'NAS-IPv6-Address', 'ipv6addr'],
  [96, 'Framed-Interface-Id', 'ifid'],
  [97, 'Framed-IPv6-Prefix', 'ipv6prefix'],
  [98, 'Login-IPv6-Host', 'ipv6addr'],
  [99, 'Framed-IPv6-Route', 'string'],
  [100, 'Framed-IPv6-Pool', 'string'],
  // RFC 3576 / RFC 5176
  [101, 'Error-Cause', 'integer', { values: ERROR_CAUSE }],
  // RFC 4072
  [102, 'EAP-Key-Name', 'octets'],
  // RFC 4818
  [123, 'Delegated-IPv6-Prefix', 'ipv6prefix'],
  // RFC 5904 (the only other "concat" attributes in the FreeRADIUS dictionaries)
  [137, 'PKM-SS-Cert', 'octets', { concat: true, allowEmpty: true }],
  [138, 'PKM-CA-Cert', 'octets', { concat: true, allowEmpty: true }],
  // RFC 6911
  [168, 'Framed-IPv6-Address', 'ipv6addr'],
  [169, 'DNS-Server-IPv6-Address', 'ipv6addr'],
  [170, 'Route-IPv6-Information', 'ipv6prefix'],
  [171, 'Delegated-IPv6-Prefix-Pool', 'string'],
  [172, 'Stateful-IPv6-Address-Pool', 'string'],
];

/** The standard attributes as a dictionary of vendor 0. */
export const STANDARD_ATTRIBUTES: readonly RadiusAttributeDef[] = Object.freeze(
  STANDARD_ROWS.map(([type, name, dataType, extra]) => Object.freeze({ name, vendorId: 0, type, dataType, ...extra })),
);

/** Definition plus the lookup tables the codec needs. */
interface Entry {
  readonly def: RadiusAttributeDef;
  readonly nameOf: ReadonlyMap<number, string>;
  readonly numberOf: ReadonlyMap<string, number>;
}

const MAX_TYPE: Record<VsaFormat['typeSize'], number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };

/**
 * An immutable dictionary. `extend()` returns a new one, so several servers (or tests) never share mutable
 * state, unlike the module-global dictionary of the `radius` npm package.
 */
export class RadiusDictionary {
  readonly #byName: Map<string, Entry>;
  readonly #byType: Map<number, Map<number, Entry>>;
  readonly #vendors: Map<number, RadiusVendor>;
  readonly #vendorsByName: Map<string, RadiusVendor>;

  private constructor(
    byName: Map<string, Entry>,
    byType: Map<number, Map<number, Entry>>,
    vendors: Map<number, RadiusVendor>,
    vendorsByName: Map<string, RadiusVendor>,
  ) {
    this.#byName = byName;
    this.#byType = byType;
    this.#vendors = vendors;
    this.#vendorsByName = vendorsByName;
  }

  /** The standard attributes only. */
  static standard(): RadiusDictionary {
    return new RadiusDictionary(new Map(), new Map(), new Map(), new Map()).extend({
      vendors: [],
      attributes: STANDARD_ATTRIBUTES,
    });
  }

  /**
   * A new dictionary with `dictionary` added. Throws on a duplicate vendor, name or (vendor, type), on an attribute
   * of an undeclared vendor, and on out-of-range numbers, so a broken vendor plugin fails at start-up.
   */
  extend(dictionary: RadiusVendorDictionary): RadiusDictionary {
    const byName = new Map(this.#byName);
    const byType = new Map([...this.#byType].map(([vendorId, m]) => [vendorId, new Map(m)] as const));
    const vendors = new Map(this.#vendors);
    const vendorsByName = new Map(this.#vendorsByName);

    for (const v of dictionary.vendors) {
      if (!Number.isInteger(v.id) || v.id < 1 || v.id > 0xffff_ffff) throw new RangeError(`vendor ${v.name}: bad id ${v.id}`);
      const existing = vendors.get(v.id);
      if (existing !== undefined) {
        // Several vendor plugins may declare the same vendor (e.g. two ChilliSpot dictionaries): same name is fine.
        if (existing.name !== v.name) throw new Error(`vendor id ${v.id} declared as ${existing.name} and ${v.name}`);
        continue;
      }
      if (vendorsByName.has(v.name)) throw new Error(`vendor name ${v.name} declared twice`);
      const format = v.format ?? DEFAULT_VSA_FORMAT;
      if (![1, 2, 4].includes(format.typeSize) || ![0, 1, 2].includes(format.lengthSize)) {
        throw new RangeError(`vendor ${v.name}: unsupported format ${format.typeSize},${format.lengthSize}`);
      }
      const frozen = Object.freeze({ id: v.id, name: v.name, format: Object.freeze({ ...format }) });
      vendors.set(v.id, frozen);
      vendorsByName.set(v.name, frozen);
    }

    for (const raw of dictionary.attributes) {
      const def: RadiusAttributeDef = Object.freeze({ ...raw });
      const maxType = def.vendorId === 0 ? 0xff : MAX_TYPE[vendors.get(def.vendorId)?.format?.typeSize ?? 1];
      if (def.vendorId !== 0 && !vendors.has(def.vendorId)) {
        throw new Error(`attribute ${def.name}: vendor ${def.vendorId} is not declared`);
      }
      if (!Number.isInteger(def.type) || def.type < (def.vendorId === 0 ? 1 : 0) || def.type > maxType) {
        throw new RangeError(`attribute ${def.name}: type ${def.type} out of range`);
      }
      if (byName.has(def.name)) throw new Error(`attribute name ${def.name} declared twice`);
      const inVendor = byType.get(def.vendorId) ?? new Map<number, Entry>();
      if (inVendor.has(def.type)) {
        throw new Error(`attribute ${def.name}: ${def.vendorId}/${def.type} already is ${inVendor.get(def.type)?.def.name}`);
      }
      const numberOf = new Map<string, number>();
      const nameOf = new Map<number, string>();
      for (const [valueName, n] of Object.entries(def.values ?? {})) {
        numberOf.set(valueName, n);
        if (!nameOf.has(n)) nameOf.set(n, valueName);
      }
      const entry: Entry = { def, nameOf, numberOf };
      byName.set(def.name, entry);
      inVendor.set(def.type, entry);
      byType.set(def.vendorId, inVendor);
    }
    return new RadiusDictionary(byName, byType, vendors, vendorsByName);
  }

  /** Definition by name (`User-Name`, `Mikrotik-Rate-Limit`). */
  attribute(name: string): RadiusAttributeDef | undefined {
    return this.#byName.get(name)?.def;
  }

  /** Definition by number; `vendorId` 0 (default) for standard attributes. */
  attributeByType(type: number, vendorId = 0): RadiusAttributeDef | undefined {
    return this.#byType.get(vendorId)?.get(type)?.def;
  }

  vendor(id: number): RadiusVendor | undefined {
    return this.#vendors.get(id);
  }

  vendorByName(name: string): RadiusVendor | undefined {
    return this.#vendorsByName.get(name);
  }

  /** Canonical name of an enumerated value, if it has one. */
  valueName(def: RadiusAttributeDef, value: number): string | undefined {
    return this.#entry(def)?.nameOf.get(value);
  }

  /** Number of a named value (any of its names), if defined. */
  valueNumber(def: RadiusAttributeDef, name: string): number | undefined {
    return this.#entry(def)?.numberOf.get(name);
  }

  /** Every definition, standard first, in registration order. */
  *attributes(): IterableIterator<RadiusAttributeDef> {
    for (const entry of this.#byName.values()) yield entry.def;
  }

  #entry(def: RadiusAttributeDef): Entry | undefined {
    return this.#byType.get(def.vendorId)?.get(def.type);
  }
}

/** Standard attributes only; shared safely because dictionaries are immutable. */
export const standardDictionary: RadiusDictionary = RadiusDictionary.standard();

/** Standard attributes plus the given vendor dictionaries. */
export function createDictionary(...vendorDictionaries: readonly RadiusVendorDictionary[]): RadiusDictionary {
  return vendorDictionaries.reduce((d, v) => d.extend(v), standardDictionary);
}
