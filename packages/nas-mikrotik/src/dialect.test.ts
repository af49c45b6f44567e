/**
 * The MikroTik dialect, byte for byte. Every expected hex string below was written by hand from RFC 2865 §5/§5.26
 * (Type, Length, then for a VSA Vendor-Id 14988 = 0x00003a8c, vendor type, vendor length, value) and the
 * FreeRADIUS dictionary numbers, not produced by running the code.
 */

import { radiusWire as wire } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createMikrotikVendor, formatRate, rateLimitValue } from './dialect.js';

const GiB = 1024n ** 3n;
const MiB = 1024n ** 2n;
const vendor = createMikrotikVendor();

describe('Mikrotik-Rate-Limit', () => {
  it('writes k and M the way RouterOS reads them (k = 1000, M = 1 000 000)', () => {
    expect(formatRate(512_000)).toBe('512k');
    expect(formatRate(1_024_000)).toBe('1024k');
    expect(formatRate(2_000_000)).toBe('2M');
    expect(formatRate(1_500)).toBe('1500');
    expect(formatRate(0)).toBe('0');
    expect(() => formatRate(-1)).toThrow(RangeError);
    expect(() => formatRate(1.5)).toThrow(RangeError);
  });

  it('is rx/tx in the router view: rx = subscriber upload, tx = subscriber download', () => {
    // The seed's 1000 FCFA plan: 512 kbit/s up, 1024 kbit/s down.
    expect(rateLimitValue({ upBps: 512_000, downBps: 1_024_000 })).toBe('512k/1024k');
    const { attributes, unsupported } = vendor.accessAccept({ rateLimit: { upBps: 512_000, downBps: 1_024_000 } });
    expect(unsupported).toEqual([]);
    // 26, len 18, vendor 14988, type 8, len 12, "512k/1024k"
    expect(wire(attributes)).toEqual(['1a1200003a8c080c3531326b2f313032346b']);
  });
});

describe('quotas', () => {
  it('splits 5 GiB into Total-Limit 2^30 and Total-Limit-Gigawords 1', () => {
    // 5 GiB = 5 368 709 120 = 0x1_4000_0000 → Gigawords 1, octets 0x40000000.
    const { attributes } = vendor.accessAccept({ quota: { totalBytes: 5n * GiB } });
    expect(wire(attributes)).toEqual(['1a0c00003a8c110640000000', '1a0c00003a8c120600000001']);
  });

  it('sends no Gigawords below 4 GiB in an Accept, and exactly 2^32 is 0 octets + 1 Gigaword', () => {
    // 10 MiB = 0x00a00000.
    expect(wire(vendor.accessAccept({ quota: { totalBytes: 10n * MiB } }).attributes)).toEqual(['1a0c00003a8c110600a00000']);
    expect(wire(vendor.accessAccept({ quota: { totalBytes: 2n ** 32n - 1n } }).attributes)).toEqual(['1a0c00003a8c1106ffffffff']);
    expect(wire(vendor.accessAccept({ quota: { totalBytes: 2n ** 32n } }).attributes)).toEqual(['1a0c00003a8c110600000000', '1a0c00003a8c120600000001']);
  });

  it('maps up to Recv (from the client) and down to Xmit (to the client)', () => {
    // up 1 GiB = 0x40000000 (Recv-Limit, type 1); down 6 GiB + 1 = 0x1_8000_0001 (Xmit-Limit 2, Xmit-Limit-Gigawords 15).
    const { attributes } = vendor.accessAccept({ quota: { upBytes: GiB, downBytes: 6n * GiB + 1n } });
    expect(wire(attributes)).toEqual(['1a0c00003a8c010640000000', '1a0c00003a8c020680000001', '1a0c00003a8c0f0600000001']);
  });
});

describe('Access-Accept', () => {
  it('puts the timeouts in the standard attributes, raising the interim interval to 60 s', () => {
    const { attributes } = vendor.accessAccept({ sessionTimeoutSeconds: 3600, idleTimeoutSeconds: 600, interimIntervalSeconds: 300 });
    // Session-Timeout (27) 3600 = 0x0e10, Idle-Timeout (28) 600 = 0x0258, Acct-Interim-Interval (85) 300 = 0x012c.
    expect(wire(attributes)).toEqual(['1b0600000e10', '1c0600000258', '55060000012c']);
    expect(wire(vendor.accessAccept({ interimIntervalSeconds: 10 }).attributes)).toEqual(['55060000003c']);
  });

  it('encodes the seed MONTH5GB plan as quota + timeouts, with no rate limit (unlimited MIR)', () => {
    const { attributes, unsupported } = vendor.accessAccept({ quota: { totalBytes: 5n * GiB }, sessionTimeoutSeconds: 86_400, interimIntervalSeconds: 300 });
    expect(unsupported).toEqual([]);
    expect(attributes.map((a) => a.name)).toEqual(['Mikrotik-Total-Limit', 'Mikrotik-Total-Limit-Gigawords', 'Session-Timeout', 'Acct-Interim-Interval']);
    // 86 400 = 0x00015180
    expect(wire(attributes)[2]).toBe('1b0600015180');
  });
});

describe('CoA and Disconnect', () => {
  const session = { userName: 'alice', acctSessionId: '80f00003', framedIpAddress: '10.5.50.23', callingStationId: '30:39:26:86:CC:EA' };

  it('identifies the session by User-Name, Acct-Session-Id and Framed-IP-Address, then the new limits', () => {
    const { attributes } = vendor.coaRequest!(session, { rateLimit: { upBps: 1_000_000, downBps: 2_000_000 }, quota: { totalBytes: GiB } });
    expect(wire(attributes)).toEqual([
      '0107616c696365', // User-Name "alice"
      '2c0a3830663030303033', // Acct-Session-Id "80f00003"
      '08060a053217', // Framed-IP-Address 10.5.50.23
      '1a0d00003a8c0807314d2f324d', // Mikrotik-Rate-Limit "1M/2M": 26, len 13, vendor, type 8, len 7
      '1a0c00003a8c110640000000', // Mikrotik-Total-Limit 2^30
      '1a0c00003a8c120600000000', // Gigawords 0, sent in CoA so a previous high word is overwritten
    ]);
  });

  it('leaves out what the session ref does not know', () => {
    expect(wire(vendor.disconnectRequest!({ userName: 'alice' }))).toEqual(['0107616c696365']);
    expect(wire(vendor.disconnectRequest!(session))).toEqual(['0107616c696365', '2c0a3830663030303033', '08060a053217']);
  });
});
