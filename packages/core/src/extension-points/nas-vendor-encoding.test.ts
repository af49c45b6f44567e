/**
 * The encoding the NAS dialects share. Expected hex written by hand from RFC 2865 §5/§5.26 (vendor 99 = 0x00000063),
 * not produced by running the code; the dialect packages pin their own vendors' bytes.
 */

import { describe, expect, it } from 'vitest';
import { radiusWire as wire } from '../testing/nas-wire.js';
import {
  coaEncoding,
  encodeSessionPolicy,
  integerAttribute,
  type PolicyDialect,
  type QuotaVsas,
  quotaAttributes,
  sessionIdentification,
  standardPolicyAttributes,
} from './nas-vendor-encoding.js';

const ACME = 99;
const GiB = 1024n ** 3n;
const total: QuotaVsas = [
  ['Acme-Total-Octets', 1],
  ['Acme-Total-Gigawords', 2],
];
const up: QuotaVsas = [
  ['Acme-Up-Octets', 3],
  ['Acme-Up-Gigawords', 4],
];

/** A vendor with a rate in bit/s and only two of the three quota directions. */
const acme: PolicyDialect = {
  rateLimit: (rate) => [integerAttribute('Acme-Rate-Up', 9, rate.upBps, ACME), integerAttribute('Acme-Rate-Down', 10, rate.downBps, ACME)],
  quota: { vendorId: ACME, total, up },
};

describe('integerAttribute', () => {
  it('is standard without a vendor and a VSA with one', () => {
    expect(integerAttribute('Session-Timeout', 27, 3600)).toEqual({ name: 'Session-Timeout', type: 27, dataType: 'integer', value: 3600 });
    expect(wire([integerAttribute('Session-Timeout', 27, 3600), integerAttribute('Acme-Rate-Up', 9, 1, ACME)])).toEqual([
      '1b0600000e10',
      '1a0c00000063090600000001',
    ]);
  });
});

describe('quotaAttributes', () => {
  it('sends Gigawords only when non-zero, unless asked to always (CoA)', () => {
    expect(wire(quotaAttributes(ACME, total, GiB, false))).toEqual(['1a0c00000063010640000000']);
    expect(wire(quotaAttributes(ACME, total, GiB, true))).toEqual(['1a0c00000063010640000000', '1a0c00000063020600000000']);
    // 5 GiB = 0x1_4000_0000
    expect(wire(quotaAttributes(ACME, total, 5n * GiB, false))).toEqual(['1a0c00000063010640000000', '1a0c00000063020600000001']);
  });

  it('refuses a negative quota', () => {
    expect(() => quotaAttributes(ACME, total, -1n, false)).toThrow(RangeError);
  });
});

describe('standardPolicyAttributes', () => {
  it('writes Session-Timeout, Idle-Timeout and Acct-Interim-Interval, raising the interval to 60 s', () => {
    expect(wire(standardPolicyAttributes({ sessionTimeoutSeconds: 3600, idleTimeoutSeconds: 600, interimIntervalSeconds: 59 }))).toEqual([
      '1b0600000e10',
      '1c0600000258',
      '55060000003c',
    ]);
    expect(standardPolicyAttributes({ rateLimit: { upBps: 1, downBps: 1 } })).toEqual([]);
  });
});

describe('encodeSessionPolicy', () => {
  it('orders rate limit, quotas (total, up, down), then timeouts, and reports a direction the vendor lacks', () => {
    const { attributes, unsupported } = encodeSessionPolicy(
      { sessionTimeoutSeconds: 60, quota: { downBytes: GiB, upBytes: GiB, totalBytes: GiB }, rateLimit: { upBps: 1, downBps: 2 } },
      acme,
      false,
    );
    expect(attributes.map((a) => a.name)).toEqual(['Acme-Rate-Up', 'Acme-Rate-Down', 'Acme-Total-Octets', 'Acme-Up-Octets', 'Session-Timeout']);
    expect(unsupported).toEqual(['quota.down']);
  });

  it('reports every quota unsupported for a vendor without quota attributes', () => {
    const { attributes, unsupported } = encodeSessionPolicy({ quota: { totalBytes: 1n, upBytes: 1n, downBytes: 1n } }, { rateLimit: acme.rateLimit }, false);
    expect(attributes).toEqual([]);
    expect(unsupported).toEqual(['quota.total', 'quota.up', 'quota.down']);
  });

  it('reports the rate limit unsupported for a vendor without rate attributes, and still encodes the timeouts', () => {
    const { attributes, unsupported } = encodeSessionPolicy({ rateLimit: { upBps: 1, downBps: 1 }, idleTimeoutSeconds: 600 }, {}, false);
    expect(wire(attributes)).toEqual(['1c0600000258']);
    expect(unsupported).toEqual(['rateLimit']);
  });

  it('sends zero Gigawords for a CoA', () => {
    expect(wire(encodeSessionPolicy({ quota: { upBytes: GiB } }, acme, true).attributes)).toEqual(['1a0c00000063030640000000', '1a0c00000063040600000000']);
  });
});

describe('sessionIdentification and coaEncoding', () => {
  const session = { userName: 'alice', acctSessionId: '80f00003', framedIpAddress: '10.5.50.23', callingStationId: 'AA', nasIpAddress: '10.0.0.1' };

  it('names the session by User-Name, Acct-Session-Id, then the asked fields that are known, in the order asked', () => {
    expect(wire(sessionIdentification({ userName: 'alice' }, ['framedIpAddress']))).toEqual(['0107616c696365']);
    expect(wire(sessionIdentification(session))).toEqual(['0107616c696365', '2c0a3830663030303033']);
    expect(wire(sessionIdentification(session, ['nasIpAddress', 'callingStationId', 'framedIpAddress', 'nasIdentifier']))).toEqual([
      '0107616c696365',
      '2c0a3830663030303033',
      '04060a000001', // NAS-IP-Address 10.0.0.1
      '1f044141', // Calling-Station-Id "AA"
      '08060a053217', // Framed-IP-Address 10.5.50.23
    ]);
  });

  it('puts the identification before the new policy in a CoA and keeps what is unsupported', () => {
    const coa = coaEncoding(
      sessionIdentification({ userName: 'alice' }),
      encodeSessionPolicy({ idleTimeoutSeconds: 600, quota: { downBytes: 1n } }, acme, true),
    );
    expect(wire(coa.attributes)).toEqual(['0107616c696365', '1c0600000258']);
    expect(coa.unsupported).toEqual(['quota.down']);
  });
});
