/**
 * The CoovaChilli dialect, byte for byte. Expected hex written by hand from RFC 2865 §5/§5.26 with Vendor-Id
 * 14559 = 0x000038df and the dictionary numbers (radius.md §10), not produced by running the code.
 */

import { radiusWire as wire } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createChilliVendor, toKbps } from './dialect.js';

const GiB = 1024n ** 3n;
const MiB = 1024n ** 2n;
const vendor = createChilliVendor();

describe('bandwidth', () => {
  it('is in kbit/s (chilli multiplies by 1000), rounded up, never 0 for a real limit', () => {
    expect(toKbps(512_000)).toBe(512);
    expect(toKbps(1_500)).toBe(2);
    expect(toKbps(1)).toBe(1);
    expect(toKbps(0)).toBe(0);
  });

  it('writes Max-Up (4) for the upload and Max-Down (5) for the download', () => {
    const { attributes, unsupported } = vendor.accessAccept({ rateLimit: { upBps: 512_000, downBps: 1_024_000 } });
    expect(unsupported).toEqual([]);
    // 512 = 0x200, 1024 = 0x400
    expect(wire(attributes)).toEqual(['1a0c000038df040600000200', '1a0c000038df050600000400']);
  });
});

describe('quotas', () => {
  it('splits 5 GiB into Max-Total-Octets 2^30 and CoovaChilli-Max-Total-Gigawords (23) 1', () => {
    const { attributes } = vendor.accessAccept({ quota: { totalBytes: 5n * GiB } });
    expect(wire(attributes)).toEqual(['1a0c000038df030640000000', '1a0c000038df170600000001']);
  });

  it('has no Gigawords below 4 GiB in an Accept', () => {
    // 100 MiB = 104 857 600 = 0x06400000
    expect(wire(vendor.accessAccept({ quota: { totalBytes: 100n * MiB } }).attributes)).toEqual(['1a0c000038df030606400000']);
  });

  it('maps up to Max-Input (1, Gigawords 21) and down to Max-Output (2, Gigawords 22)', () => {
    const { attributes } = vendor.accessAccept({ quota: { upBytes: 4n * GiB + 5n, downBytes: GiB } });
    // 4 GiB + 5 = 0x1_0000_0005
    expect(wire(attributes)).toEqual(['1a0c000038df010600000005', '1a0c000038df150600000001', '1a0c000038df020640000000']);
  });
});

describe('timeouts', () => {
  it('uses Session-Timeout, Idle-Timeout and Acct-Interim-Interval (≥ 60)', () => {
    const { attributes } = vendor.accessAccept({ sessionTimeoutSeconds: 3600, idleTimeoutSeconds: 600, interimIntervalSeconds: 59 });
    expect(wire(attributes)).toEqual(['1b0600000e10', '1c0600000258', '55060000003c']);
  });
});

describe('CoA and Disconnect', () => {
  it('always carries User-Name (chilli drops a CoA without it) and Acct-Session-Id when known', () => {
    const { attributes } = vendor.coaRequest!(
      { userName: 'RGZ-7K2Q9M', acctSessionId: '5f2a0001', framedIpAddress: '10.1.0.9' },
      { rateLimit: { upBps: 1_000_000, downBps: 2_000_000 }, quota: { totalBytes: 10n * MiB } },
    );
    expect(wire(attributes)).toEqual([
      '010c52475a2d374b3251394d', // User-Name "RGZ-7K2Q9M"
      '2c0a3566326130303031', // Acct-Session-Id "5f2a0001"
      '1a0c000038df0406000003e8', // Bandwidth-Max-Up 1000 kbit/s
      '1a0c000038df0506000007d0', // Bandwidth-Max-Down 2000 kbit/s
      '1a0c000038df030600a00000', // Max-Total-Octets 10 MiB
      '1a0c000038df170600000000', // Gigawords 0, explicit in a CoA
    ]);
  });

  it('disconnects by User-Name and Acct-Session-Id', () => {
    expect(wire(vendor.disconnectRequest!({ userName: 'RGZ-7K2Q9M', acctSessionId: '5f2a0001' }))).toEqual([
      '010c52475a2d374b3251394d',
      '2c0a3566326130303031',
    ]);
  });
});
