/**
 * Dictionary: standard definitions and named values, immutable extension with vendor dictionaries (the shape NAS
 * plugins export through `@rgz/core`), and the checks that make a broken vendor dictionary fail at start-up.
 */

import type { RadiusVendorDictionary as CoreVendorDictionary } from '@rgz/core';
import { describe, expect, it } from 'vitest';
import { decodeAttributes, encodeAttributes } from './attributes.js';
import { type RadiusVendorDictionary, RadiusDictionary, createDictionary, standardDictionary } from './dictionary.js';

/** A made-up vendor exercising every feature a vendor dictionary can use. */
const ACME: RadiusVendorDictionary = {
  vendors: [{ id: 99_999, name: 'Acme' }],
  attributes: [
    { name: 'Acme-Rate-Limit', vendorId: 99_999, type: 1, dataType: 'string' },
    { name: 'Acme-Quota', vendorId: 99_999, type: 2, dataType: 'integer64' },
    { name: 'Acme-Level', vendorId: 99_999, type: 3, dataType: 'integer', values: { Bronze: 1, Silver: 2, Gold: 3 } },
    { name: 'Acme-Secret', vendorId: 99_999, type: 4, dataType: 'string', encrypt: 2 },
    { name: 'Acme-Group', vendorId: 99_999, type: 5, dataType: 'string', hasTag: true },
  ],
};

describe('standard dictionary', () => {
  it('knows RFC attributes by name and number', () => {
    expect(standardDictionary.attribute('Acct-Input-Gigawords')).toMatchObject({ type: 52, dataType: 'integer', vendorId: 0 });
    expect(standardDictionary.attributeByType(80)?.name).toBe('Message-Authenticator');
    expect(standardDictionary.attribute('Framed-IPv6-Prefix')?.dataType).toBe('ipv6prefix');
    expect(standardDictionary.attribute('Event-Timestamp')?.dataType).toBe('date');
    expect(standardDictionary.attribute('Tunnel-Password')).toMatchObject({ hasTag: true, encrypt: 2 });
    expect(standardDictionary.attribute('User-Password')?.encrypt).toBe(1);
    expect(standardDictionary.attribute('EAP-Message')?.concat).toBe(true);
  });

  it('names enumerated values, the first name of a number being canonical', () => {
    const status = standardDictionary.attribute('Acct-Status-Type');
    const medium = standardDictionary.attribute('Tunnel-Medium-Type');
    const cause = standardDictionary.attribute('Error-Cause');
    if (!status || !medium || !cause) throw new Error('missing definitions');
    expect(standardDictionary.valueName(status, 3)).toBe('Interim-Update');
    expect(standardDictionary.valueNumber(status, 'Alive')).toBe(3);
    expect(standardDictionary.valueName(medium, 1)).toBe('IPv4');
    // FreeRADIUS spelling is canonical (rlm_rest sends it); the RFC 5176 spelling is accepted.
    expect(standardDictionary.valueName(cause, 201)).toBe('Residual-Context-Removed');
    expect(standardDictionary.valueNumber(cause, 'Residual-Session-Context-Removed')).toBe(201);
    expect(standardDictionary.valueNumber(cause, 'Session-Context-Not-Found')).toBe(503);
    const service = standardDictionary.attribute('Service-Type');
    if (!service) throw new Error('missing Service-Type');
    expect(standardDictionary.valueNumber(service, 'Authorize-Only')).toBe(17);
  });
});

describe('vendor dictionaries', () => {
  it('extend without changing the original', () => {
    const withAcme = createDictionary(ACME);
    expect(withAcme.attribute('Acme-Quota')).toMatchObject({ vendorId: 99_999, type: 2 });
    expect(withAcme.attributeByType(3, 99_999)?.name).toBe('Acme-Level');
    expect(withAcme.vendor(99_999)?.name).toBe('Acme');
    expect(withAcme.vendorByName('Acme')?.format).toEqual({ typeSize: 1, lengthSize: 1 });
    expect(standardDictionary.attribute('Acme-Quota')).toBeUndefined();
    expect(withAcme.attribute('User-Name')).toBeDefined();
  });

  it("accept @rgz/core's RadiusVendorDictionary as is", () => {
    const core: CoreVendorDictionary = {
      vendors: [{ id: 14_988, name: 'Mikrotik' }],
      attributes: [{ name: 'Mikrotik-Rate-Limit', vendorId: 14_988, type: 8, dataType: 'string' }],
    };
    const d = createDictionary(core);
    const bytes = encodeAttributes([{ name: 'Mikrotik-Rate-Limit', value: '2M/4M' }], { secret: 's', dictionary: d });
    expect(bytes.toString('hex')).toBe(`1a0d00003a8c0807${Buffer.from('2M/4M').toString('hex')}`);
    expect(decodeAttributes(bytes, { secret: 's', dictionary: d })[0]).toMatchObject({
      name: 'Mikrotik-Rate-Limit',
      vendorId: 14_988,
      type: 8,
      value: '2M/4M',
    });
  });

  it('let two dictionaries declare the same vendor', () => {
    const other: RadiusVendorDictionary = {
      vendors: [{ id: 99_999, name: 'Acme' }],
      attributes: [{ name: 'Acme-Extra', vendorId: 99_999, type: 9, dataType: 'octets' }],
    };
    expect(createDictionary(ACME, other).attribute('Acme-Extra')?.type).toBe(9);
  });

  it('reject conflicts and out-of-range numbers', () => {
    const attr = { vendorId: 99_999, dataType: 'string' } as const;
    expect(() => createDictionary(ACME, { vendors: [], attributes: [{ ...attr, name: 'Acme-Rate-Limit', type: 50 }] })).toThrow(
      /declared twice/,
    );
    expect(() => createDictionary(ACME, { vendors: [], attributes: [{ ...attr, name: 'Acme-Other', type: 1 }] })).toThrow(
      /already is Acme-Rate-Limit/,
    );
    expect(() => createDictionary({ vendors: [], attributes: [{ ...attr, name: 'Orphan', type: 1 }] })).toThrow(/not declared/);
    expect(() => createDictionary({ vendors: [{ id: 99_999, name: 'Acme' }], attributes: [{ ...attr, name: 'Big', type: 256 }] })).toThrow(
      /out of range/,
    );
    expect(() => createDictionary(ACME, { vendors: [{ id: 99_999, name: 'NotAcme' }], attributes: [] })).toThrow(/declared as/);
    expect(() => createDictionary({ vendors: [{ id: 0, name: 'Zero' }], attributes: [] })).toThrow(/bad id/);
    expect(() =>
      createDictionary({ vendors: [], attributes: [{ name: 'User-Name-2', vendorId: 0, type: 1, dataType: 'string' }] }),
    ).toThrow(/already is User-Name/);
  });

  it('support wider vendor type/length formats', () => {
    const usr = createDictionary({
      vendors: [{ id: 429, name: 'USR', format: { typeSize: 4, lengthSize: 0 } }],
      attributes: [{ name: 'USR-Event-Id', vendorId: 429, type: 0xbfbe, dataType: 'integer' }],
    });
    const bytes = encodeAttributes([{ name: 'USR-Event-Id', value: 1234 }], { secret: 's', dictionary: usr });
    expect(bytes.toString('hex')).toBe('1a0e000001ad0000bfbe000004d2');
    expect(() => RadiusDictionary.standard().extend({ vendors: [{ id: 1, name: 'Odd', format: { typeSize: 3 as 1, lengthSize: 1 } }], attributes: [] })).toThrow(
      /unsupported format/,
    );
  });
});
