/**
 * Contract suite every `NasVendor` dialect runs. Pure: no peer needed. Checks that the dictionary is consistent, that
 * every emitted attribute is declared (VSA) or a known standard attribute with the right type and an encodable value,
 * that each policy feature is either expressed or reported unsupported, that directions and Gigawords matter, and that
 * CoA/Disconnect requests identify the session and leave Event-Timestamp / Message-Authenticator to the client.
 */

import { describe, expect, it } from 'vitest';
import {
  type NasVendor,
  type PolicyFeature,
  RADIUS_UINT32_MAX,
  type RadiusAttribute,
  RadiusAttributeType,
  type NasSessionRef,
  type SessionPolicy,
  SERVICE_TYPE_AUTHORIZE_ONLY,
} from '../../extension-points/nas-vendor.js';

/** Data types of the standard attributes a dialect may emit (RFC 2865/2866/2869/5176). */
const STANDARD_TYPES: Readonly<Record<number, RadiusAttribute['dataType']>> = {
  1: 'string',
  4: 'ipaddr',
  6: 'integer',
  8: 'ipaddr',
  11: 'string',
  25: 'octets',
  27: 'integer',
  28: 'integer',
  30: 'string',
  31: 'string',
  32: 'string',
  44: 'string',
  50: 'string',
  85: 'integer',
  87: 'string',
  89: 'string',
};

const GiB = 1024n ** 3n;

const session: NasSessionRef = {
  userName: 'alice',
  acctSessionId: '80f00003',
  framedIpAddress: '10.5.50.23',
  callingStationId: '30:39:26:86:CC:EA',
  nasIdentifier: 'hotspot-1',
  nasIpAddress: '10.0.0.1',
};

const byteLength = (text: string) => new TextEncoder().encode(text).length;

function expectEncodable(vendor: NasVendor, attributes: readonly RadiusAttribute[], context: string): void {
  for (const a of attributes) {
    const at = `${context}: ${a.name} (${a.vendorId ?? 'std'}/${a.type})`;
    expect(Number.isInteger(a.type) && a.type >= 1 && a.type <= 255, at).toBe(true);
    if (a.vendorId === undefined) {
      expect(a.type, `${at}: use a VSA, not Vendor-Specific (26) by hand`).not.toBe(26);
      const known = STANDARD_TYPES[a.type];
      if (known !== undefined) expect(a.dataType, at).toBe(known);
    } else {
      const def = vendor.dictionary.attributes.find((d) => d.vendorId === a.vendorId && d.type === a.type);
      expect(def, `${at}: declared in the dictionary`).toBeDefined();
      expect(a.dataType, at).toBe(def?.dataType);
      expect(a.name, at).toBe(def?.name);
    }
    switch (a.dataType) {
      case 'integer':
      case 'date':
        expect(Number.isInteger(a.value) && a.value >= 0 && a.value <= RADIUS_UINT32_MAX, at).toBe(true);
        break;
      case 'short':
        expect(Number.isInteger(a.value) && a.value >= 0 && a.value <= 0xffff, at).toBe(true);
        break;
      case 'byte':
        expect(Number.isInteger(a.value) && a.value >= 0 && a.value <= 0xff, at).toBe(true);
        break;
      case 'integer64':
        expect(a.value >= 0n && a.value < 1n << 64n, at).toBe(true);
        break;
      case 'string':
        expect(byteLength(a.value), at).toBeLessThanOrEqual(a.vendorId === undefined ? 253 : 247);
        break;
      case 'octets':
        expect(a.value.length, at).toBeLessThanOrEqual(a.vendorId === undefined ? 253 : 247);
        break;
      case 'ipaddr':
        expect(a.value, at).toMatch(/^(?:\d{1,3}\.){3}\d{1,3}$/);
        break;
      default:
        break;
    }
  }
}

const find = (attributes: readonly RadiusAttribute[], type: number) => attributes.find((a) => a.vendorId === undefined && a.type === type);

/** Comparable form of an attribute list (bigint and bytes made JSON-safe). */
const canonical = (attributes: readonly RadiusAttribute[]) =>
  JSON.stringify(attributes, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));

export function nasVendorContract(name: string, make: () => NasVendor | Promise<NasVendor>): void {
  describe(`NasVendor contract: ${name}`, () => {
    it('has an id, a provider and a consistent dictionary', async () => {
      const vendor = await make();
      expect(vendor.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(vendor.provider.length).toBeGreaterThan(0);
      const { vendors, attributes } = vendor.dictionary;
      const ids = vendors.map((v) => v.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(Number.isInteger(id) && id > 0 && id < 2 ** 24).toBe(true);
      const keys = attributes.map((a) => `${a.vendorId}/${a.type}`);
      expect(new Set(keys).size, 'unique (vendor, type)').toBe(keys.length);
      const names = attributes.map((a) => a.name);
      expect(new Set(names).size, 'unique names').toBe(names.length);
      for (const a of attributes) {
        expect(ids, `${a.name}: vendor declared`).toContain(a.vendorId);
        expect(Number.isInteger(a.type) && a.type >= 1 && a.type <= 255, a.name).toBe(true);
      }
    });

    it('has methods matching its capabilities', async () => {
      const vendor = await make();
      expect(typeof vendor.coaRequest === 'function').toBe(vendor.capabilities.policyChange !== 'disconnect');
      expect(typeof vendor.disconnectRequest === 'function').toBe(vendor.capabilities.disconnect);
    });

    it('encodes an empty policy as nothing', async () => {
      const vendor = await make();
      expect(vendor.accessAccept({})).toEqual({ attributes: [], unsupported: [] });
    });

    it('expresses each feature or reports it unsupported, with encodable attributes', async () => {
      const vendor = await make();
      const cases: [PolicyFeature, SessionPolicy][] = [
        ['rateLimit', { rateLimit: { upBps: 1_000_000, downBps: 4_000_000 } }],
        ['quota.total', { quota: { totalBytes: 2n * GiB } }],
        ['quota.up', { quota: { upBytes: GiB } }],
        ['quota.down', { quota: { downBytes: GiB } }],
        ['sessionTimeout', { sessionTimeoutSeconds: 3600 }],
        ['idleTimeout', { idleTimeoutSeconds: 600 }],
        ['interimInterval', { interimIntervalSeconds: 300 }],
      ];
      for (const [feature, policy] of cases) {
        const { attributes, unsupported } = vendor.accessAccept(policy);
        expectEncodable(vendor, attributes, feature);
        if (unsupported.includes(feature)) {
          expect(unsupported, feature).toEqual([feature]);
        } else {
          expect(attributes.length, `${feature}: expressed`).toBeGreaterThan(0);
          expect(unsupported, feature).toEqual([]);
        }
      }
    });

    it('uses the standard attributes for timeouts and clamps the interim interval to 60 s', async () => {
      const vendor = await make();
      const { attributes, unsupported } = vendor.accessAccept({
        sessionTimeoutSeconds: 3600,
        idleTimeoutSeconds: 600,
        interimIntervalSeconds: 30,
      });
      if (!unsupported.includes('sessionTimeout')) expect(find(attributes, RadiusAttributeType.SessionTimeout)?.value).toBe(3600);
      if (!unsupported.includes('idleTimeout')) expect(find(attributes, RadiusAttributeType.IdleTimeout)?.value).toBe(600);
      if (!unsupported.includes('interimInterval')) expect(find(attributes, RadiusAttributeType.AcctInterimInterval)?.value).toBe(60);
    });

    it('distinguishes up from down', async () => {
      const vendor = await make();
      const a = vendor.accessAccept({ rateLimit: { upBps: 1_000_000, downBps: 4_000_000 } });
      if (a.unsupported.includes('rateLimit')) return;
      const b = vendor.accessAccept({ rateLimit: { upBps: 4_000_000, downBps: 1_000_000 } });
      expect(canonical(a.attributes)).not.toBe(canonical(b.attributes));
    });

    it('carries quotas above 4 GiB with Gigawords, or reports them unsupported', async () => {
      const vendor = await make();
      const small = vendor.accessAccept({ quota: { totalBytes: GiB } });
      const large = vendor.accessAccept({ quota: { totalBytes: 5n * GiB + 123n } });
      expectEncodable(vendor, large.attributes, 'quota 5 GiB');
      if (small.unsupported.includes('quota.total')) return;
      if (vendor.capabilities.quotaGigawords) {
        expect(large.unsupported).toEqual([]);
        expect(large.attributes.length, 'octets + gigawords').toBeGreaterThan(small.attributes.length);
      } else {
        expect(large.unsupported).toContain('quota.total');
      }
    });

    it('builds CoA requests that identify the session and leave timestamps and signatures to the client', async (ctx) => {
      const vendor = await make();
      ctx.skip(vendor.coaRequest === undefined, 'policy changes by disconnect only');
      const change: SessionPolicy = { rateLimit: { upBps: 2_000_000, downBps: 8_000_000 } };
      const { attributes, unsupported } = vendor.coaRequest!(session, change);
      expectEncodable(vendor, attributes, 'coa');
      const user = find(attributes, RadiusAttributeType.UserName);
      const acct = find(attributes, RadiusAttributeType.AcctSessionId);
      expect(user !== undefined || acct !== undefined, 'User-Name or Acct-Session-Id').toBe(true);
      if (user !== undefined) expect(user.value).toBe(session.userName);
      if (acct !== undefined) expect(acct.value).toBe(session.acctSessionId);
      expect(find(attributes, RadiusAttributeType.EventTimestamp)).toBeUndefined();
      expect(find(attributes, 80)).toBeUndefined();
      if (vendor.capabilities.policyChange === 'reauthorize') {
        expect(find(attributes, RadiusAttributeType.ServiceType)?.value).toBe(SERVICE_TYPE_AUTHORIZE_ONLY);
      } else if (!unsupported.includes('rateLimit')) {
        const other = vendor.coaRequest!(session, { rateLimit: { upBps: 8_000_000, downBps: 2_000_000 } });
        expect(canonical(other.attributes), 'the new rate is in the CoA').not.toBe(canonical(attributes));
      }
    });

    it('builds Disconnect requests that identify the session', async (ctx) => {
      const vendor = await make();
      ctx.skip(vendor.disconnectRequest === undefined, 'no Disconnect-Request');
      const attributes = vendor.disconnectRequest!(session);
      expectEncodable(vendor, attributes, 'disconnect');
      const user = find(attributes, RadiusAttributeType.UserName);
      const acct = find(attributes, RadiusAttributeType.AcctSessionId);
      expect(user !== undefined || acct !== undefined, 'User-Name or Acct-Session-Id').toBe(true);
      expect(find(attributes, RadiusAttributeType.EventTimestamp)).toBeUndefined();
      expect(find(attributes, 80)).toBeUndefined();
    });

    it('is pure: same input, same attributes', async () => {
      const vendor = await make();
      const policy: SessionPolicy = {
        rateLimit: { upBps: 512_000, downBps: 2_048_000 },
        quota: { totalBytes: 10n * GiB },
        sessionTimeoutSeconds: 86_400,
      };
      expect(canonical(vendor.accessAccept(policy).attributes)).toBe(canonical(vendor.accessAccept(policy).attributes));
    });
  });
}
