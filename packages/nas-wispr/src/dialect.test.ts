/**
 * The WISPr dialect, byte for byte. Expected hex written by hand from RFC 2865 §5/§5.26 with Vendor-Id
 * 14122 = 0x0000372a and the dictionary numbers (radius.md §10), not produced by running the code.
 */

import { radiusWire as wire } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createWisprVendor } from './dialect.js';

const GiB = 1024n ** 3n;
const vendor = createWisprVendor();

it('writes bandwidth in bit/s: Max-Up (7) for the upload, Max-Down (8) for the download', () => {
  const { attributes, unsupported } = vendor.accessAccept({ rateLimit: { upBps: 512_000, downBps: 1_024_000 } });
  expect(unsupported).toEqual([]);
  // 512 000 = 0x0007d000, 1 024 000 = 0x000fa000
  expect(wire(attributes)).toEqual(['1a0c0000372a07060007d000', '1a0c0000372a0806000fa000']);
});

it('caps a rate above 2^32-1 bit/s', () => {
  expect(wire(vendor.accessAccept({ rateLimit: { upBps: 10_000_000_000, downBps: 1 } }).attributes)).toEqual([
    '1a0c0000372a0706ffffffff',
    '1a0c0000372a080600000001',
  ]);
});

it('reports every quota unsupported and still encodes the rest', () => {
  const { attributes, unsupported } = vendor.accessAccept({ quota: { totalBytes: 5n * GiB, upBytes: GiB, downBytes: GiB }, sessionTimeoutSeconds: 3600 });
  expect(unsupported).toEqual(['quota.total', 'quota.up', 'quota.down']);
  expect(wire(attributes)).toEqual(['1b0600000e10']);
  expect(vendor.capabilities.quotaGigawords).toBe(false);
});

it('puts timeouts in the standard attributes', () => {
  expect(wire(vendor.accessAccept({ sessionTimeoutSeconds: 3600, idleTimeoutSeconds: 600, interimIntervalSeconds: 300 }).attributes)).toEqual([
    '1b0600000e10',
    '1c0600000258',
    '55060000012c',
  ]);
});

describe('CoA and Disconnect', () => {
  const session = { userName: 'alice', acctSessionId: '80f00003', callingStationId: 'AA-BB-CC-DD-EE-FF' };

  it('identifies the session by User-Name, Acct-Session-Id and Calling-Station-Id', () => {
    const { attributes } = vendor.coaRequest!(session, { rateLimit: { upBps: 1_000_000, downBps: 4_000_000 } });
    expect(wire(attributes)).toEqual([
      '0107616c696365',
      '2c0a3830663030303033',
      '1f1341412d42422d43432d44442d45452d4646', // Calling-Station-Id (31) "AA-BB-CC-DD-EE-FF", 17 octets
      '1a0c0000372a0706000f4240', // 1 000 000 = 0x000f4240
      '1a0c0000372a0806003d0900', // 4 000 000 = 0x003d0900
    ]);
    expect(wire(vendor.disconnectRequest!(session))).toEqual(['0107616c696365', '2c0a3830663030303033', '1f1341412d42422d43432d44442d45452d4646']);
  });

  it('has no coaRequest when configured for NAS without CoA', () => {
    const noCoa = createWisprVendor({ policyChange: 'disconnect' });
    expect(noCoa.capabilities.policyChange).toBe('disconnect');
    expect(noCoa.coaRequest).toBeUndefined();
    expect(noCoa.disconnectRequest).toBeDefined();
  });
});
