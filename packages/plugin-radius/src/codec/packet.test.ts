/**
 * Packet codec unit tests: every strict-decoding error, authenticators recomputed independently per code,
 * Message-Authenticator placement (first, BlastRADIUS) and verification, password hiding, CHAP, VSAs, tags and
 * concat attributes, and assignability to `@rgz/core`'s attribute type.
 */

import { createHash, createHmac } from 'node:crypto';
import type { RadiusAttribute as CoreRadiusAttribute } from '@rgz/core';
import { describe, expect, it } from 'vitest';
import { decodeAttributes, encodeAttributes } from './attributes.js';
import { chapPassword, decodeUserPassword, encodeUserPassword, verifyChap } from './crypto.js';
import { createDictionary } from './dictionary.js';
import { RadiusDecodeError, type RadiusDecodeErrorCode, RadiusEncodeError, type RadiusEncodeErrorCode } from './errors.js';
import {
  type PacketCodeName,
  PacketCode,
  chapChallenge,
  decode,
  encode,
  encodeResponse,
  verifyMessageAuthenticator,
  verifyRequestAuthenticator,
  verifyResponseAuthenticator,
} from './packet.js';

const SECRET = 'xyzzy5461-long-enough';
const RA = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');

const md5 = (...parts: Uint8Array[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hmac = (data: Uint8Array) => createHmac('md5', SECRET).update(data).digest();

/** Header + attributes, built by hand so tests do not depend on the encoder. */
function packet(code: number, attrs: string, authenticator: Buffer = RA, id = 1, lengthOverride?: number): Buffer {
  const body = Buffer.from(attrs.replace(/\s+/g, ''), 'hex');
  const header = Buffer.alloc(4);
  header[0] = code;
  header[1] = id;
  header.writeUInt16BE(lengthOverride ?? 20 + body.length, 2);
  return Buffer.concat([header, authenticator, body]);
}

function flipLastBit(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(copy.length - 1) ^ 1, copy.length - 1);
  return copy;
}

function decodeError(fn: () => unknown): RadiusDecodeErrorCode {
  try {
    fn();
  } catch (error) {
    if (error instanceof RadiusDecodeError) return error.code;
    throw error;
  }
  throw new Error('expected a RadiusDecodeError');
}

function encodeError(fn: () => unknown): RadiusEncodeErrorCode {
  try {
    fn();
  } catch (error) {
    if (error instanceof RadiusEncodeError) return error.code;
    throw error;
  }
  throw new Error('expected a RadiusEncodeError');
}

const ACME = createDictionary({
  vendors: [{ id: 99_999, name: 'Acme' }],
  attributes: [
    { name: 'Acme-Rate-Limit', vendorId: 99_999, type: 1, dataType: 'string' },
    { name: 'Acme-Quota', vendorId: 99_999, type: 2, dataType: 'integer64' },
    { name: 'Acme-Level', vendorId: 99_999, type: 3, dataType: 'integer', values: { Bronze: 1, Silver: 2, Gold: 3 } },
    { name: 'Acme-Secret', vendorId: 99_999, type: 4, dataType: 'string', encrypt: 2 },
    { name: 'Acme-Group', vendorId: 99_999, type: 5, dataType: 'string', hasTag: true },
  ],
});

describe('strict decoding', () => {
  it.each<[string, Buffer, RadiusDecodeErrorCode]>([
    ['19 octets', Buffer.alloc(19, 1), 'packet_too_short'],
    ['unknown code 99', packet(99, ''), 'unknown_code'],
    ['Length field < 20', packet(1, '', RA, 1, 19), 'length_too_small'],
    ['Length field > received', packet(1, '', RA, 1, 100), 'length_exceeds_data'],
    ['Length field > 4096', Buffer.concat([packet(1, '', RA, 1, 5000), Buffer.alloc(4980)]), 'length_too_large'],
    ['one octet where a header should be', packet(1, 'ff'), 'attribute_header_overflow'],
    ['attribute type 0', packet(1, '0002'), 'attribute_type_zero'],
    ['attribute length 0', packet(1, '0100'), 'attribute_length_invalid'],
    ['attribute length 1', packet(1, '0104 6869 0201'), 'attribute_length_invalid'],
    ['attribute overrunning the packet', packet(1, '0104 6869 040a'), 'attribute_overflow'],
    ['integer of 3 octets', packet(1, '0505 000001'), 'attribute_value_size'],
    ['ipaddr of 5 octets', packet(1, '0407 c0a8000101'), 'attribute_value_size'],
    ['date of 2 octets', packet(4, '3704 0001'), 'attribute_value_size'],
    ['ipv6prefix /129', packet(1, '6114 0081 20010db80a0b12f00000000000000001'), 'attribute_value_invalid'],
    ['tag > 31 on Tunnel-Type', packet(2, '4006 20000001'), 'attribute_value_invalid'],
    ['User-Password of 17 octets', packet(1, '0213 0102030405060708090a0b0c0d0e0f1011'), 'attribute_value_invalid'],
    ['Vendor-Specific of 3 octets', packet(1, '1a05 000001'), 'vsa_truncated'],
    ['Message-Authenticator of 5 octets', packet(1, '5005 000000'), 'message_authenticator_length'],
    ['two Message-Authenticators', packet(1, `5012${'00'.repeat(16)}5012${'00'.repeat(16)}`), 'message_authenticator_duplicate'],
    ['Status-Server without Message-Authenticator', packet(12, '0105626f62'), 'message_authenticator_missing'],
    ['EAP-Message without Message-Authenticator', packet(1, '4f04 0101'), 'message_authenticator_missing'],
  ])('rejects %s', (_, bytes, code) => {
    expect(decodeError(() => decode(bytes, SECRET))).toBe(code);
  });

  it('rejects a truncated VSA of a known vendor', () => {
    // Acme sub-attribute claims 10 octets, 3 present.
    expect(decodeError(() => decode(packet(1, '1a0a 0001869f 010a 6162'), SECRET, { dictionary: ACME }))).toBe('vsa_truncated');
  });

  it('asks for the request authenticator to reveal hidden attributes of a reply', () => {
    const accept = encode(
      { code: 'Access-Accept', identifier: 3, requestAuthenticator: RA, attributes: [{ name: 'Tunnel-Password', value: 'pw' }] },
      SECRET,
    );
    expect(decodeError(() => decode(accept, SECRET))).toBe('request_authenticator_required');
    expect(decode(accept, SECRET, { requestAuthenticator: RA }).get('Tunnel-Password')).toBe('pw');
  });

  it('keeps malformed values as octets in raw mode', () => {
    const p = decode(packet(1, '0104 6869 0407 c0a8000101 4006 20000001'), SECRET, { invalidAttributes: 'raw' });
    expect(p.attributes.map((a) => [a.name, a.dataType, a.invalid !== undefined])).toEqual([
      ['User-Name', 'string', false],
      ['NAS-IP-Address', 'octets', true],
      ['Tunnel-Type', 'octets', true],
    ]);
    expect(p.find('NAS-IP-Address')?.value).toEqual(Buffer.from('c0a8000101', 'hex'));
  });

  it('ignores octets past the Length field and zero-length attributes', () => {
    const bytes = Buffer.concat([packet(1, '0102 0105626f62'), Buffer.from('deadbeef', 'hex')]);
    const p = decode(bytes, SECRET);
    expect(p.raw.length).toBe(27);
    expect(p.attributes.map((a) => a.name)).toEqual(['User-Name']);
    expect(p.get('User-Name')).toBe('bob');
  });

  it('decodes every data type', () => {
    const p = decode(
      packet(
        4,
        [
          '2806 00000003', // Acct-Status-Type = Interim-Update
          '0806 0a000001', // Framed-IP-Address
          '5f12 20010db8000000000000000000000001', // NAS-IPv6-Address
          '6108 0020 20010db8', // Framed-IPv6-Prefix /32
          '600a 0001020304050607', // Framed-Interface-Id
          '3706 5e0be100', // Event-Timestamp 2020-01-01
          '1906 636c6173', // Class (octets)
          '3406 00000002', // Acct-Input-Gigawords
        ].join(''),
      ),
      SECRET,
    );
    expect(p.find('Acct-Status-Type')).toMatchObject({ value: 3, valueName: 'Interim-Update', dataType: 'integer' });
    expect(p.get('Framed-IP-Address')).toBe('10.0.0.1');
    expect(p.get('NAS-IPv6-Address')).toBe('2001:db8::1');
    expect(p.get('Framed-IPv6-Prefix')).toBe('2001:db8::/32');
    expect(p.get('Framed-Interface-Id')).toEqual(Buffer.from('0001020304050607', 'hex'));
    expect(p.get('Event-Timestamp')).toBe(Date.UTC(2020, 0, 1) / 1000);
    expect(p.get('Class')).toEqual(Buffer.from('clas'));
    expect(p.getAll('Acct-Input-Gigawords')).toEqual([2]);
    expect(p.codeName).toBe('Accounting-Request');
  });
});

describe('authenticators', () => {
  const attrs = [
    { name: 'User-Name', value: 'alice' },
    { name: 'Acct-Session-Id', value: '80f00003' },
  ] as const;

  it.each<PacketCodeName>(['Accounting-Request', 'CoA-Request', 'Disconnect-Request'])(
    '%s: MD5(Code+Id+Length+16 zeros+Attributes+Secret)',
    (code) => {
      const out = encode({ code, identifier: 9, attributes: attrs }, SECRET);
      const zeroed = Buffer.from(out);
      zeroed.fill(0, 4, 20);
      expect(out.subarray(4, 20)).toEqual(md5(zeroed, Buffer.from(SECRET)));
      expect(verifyRequestAuthenticator(out, SECRET)).toBe(true);
      expect(verifyRequestAuthenticator(out, `${SECRET}x`)).toBe(false);
      const tampered = flipLastBit(out);
      expect(verifyRequestAuthenticator(tampered, SECRET)).toBe(false);
    },
  );

  it('Access-Request and Status-Server carry a random or given Request Authenticator', () => {
    const a = encode({ code: 'Access-Request', identifier: 1, attributes: attrs }, SECRET);
    const b = encode({ code: 'Access-Request', identifier: 1, attributes: attrs }, SECRET);
    expect(a.subarray(4, 20)).not.toEqual(b.subarray(4, 20));
    // Retransmission: same authenticator → identical packet (RFC 5080 §2.2.1).
    const c = encode({ code: 'Access-Request', identifier: 1, authenticator: RA, attributes: attrs }, SECRET);
    const d = encode({ code: 'Access-Request', identifier: 1, authenticator: RA, attributes: attrs }, SECRET);
    expect(c).toEqual(d);
    expect(c.subarray(4, 20)).toEqual(RA);
    expect(() => verifyRequestAuthenticator(c, SECRET)).toThrow(TypeError);
  });

  it.each<PacketCodeName>([
    'Access-Accept',
    'Access-Reject',
    'Access-Challenge',
    'Accounting-Response',
    'CoA-ACK',
    'CoA-NAK',
    'Disconnect-ACK',
    'Disconnect-NAK',
    'Protocol-Error',
  ])('%s: MD5(Code+Id+Length+Request Authenticator+Attributes+Secret)', (code) => {
    const out = encode({ code, identifier: 200, requestAuthenticator: RA, attributes: [{ name: 'Reply-Message', value: 'hi' }] }, SECRET);
    const withRequest = Buffer.from(out);
    RA.copy(withRequest, 4);
    expect(out.subarray(4, 20)).toEqual(md5(withRequest, Buffer.from(SECRET)));
    expect(verifyResponseAuthenticator(out, RA, SECRET)).toBe(true);
    expect(verifyResponseAuthenticator(out, Buffer.alloc(16), SECRET)).toBe(false);
    expect(verifyResponseAuthenticator(out, RA, 'other-secret')).toBe(false);
  });

  it('replies need the request authenticator', () => {
    expect(encodeError(() => encode({ code: 'Access-Accept', identifier: 1 }, SECRET))).toBe('request_authenticator_required');
  });

  it('verifiers answer "invalid" for unframeable input instead of throwing', () => {
    expect(verifyResponseAuthenticator(Buffer.alloc(5), RA, SECRET)).toBe(false);
    expect(verifyRequestAuthenticator(Buffer.alloc(5), SECRET)).toBe(false);
    expect(verifyMessageAuthenticator(Buffer.alloc(5), SECRET)).toBe('invalid');
  });
});

describe('Message-Authenticator', () => {
  /** HMAC-MD5 over the packet with M-A zeroed and the Authenticator field replaced as RFC 5176 §3.4 says. */
  function expectedHmac(out: Buffer, authenticatorField: Buffer): Buffer {
    const copy = Buffer.from(out);
    copy.fill(0, 22, 38);
    authenticatorField.copy(copy, 4);
    return hmac(copy);
  }

  it.each<PacketCodeName>(['Access-Accept', 'Access-Reject', 'Access-Challenge', 'Protocol-Error'])(
    '%s: always present, first, keyed with the request authenticator',
    (code) => {
      const out = encode(
        {
          code,
          identifier: 7,
          requestAuthenticator: RA,
          // Given last on purpose: the encoder moves it first.
          attributes: [{ name: 'Reply-Message', value: 'x' }, { name: 'Message-Authenticator', value: Buffer.alloc(16) }],
        },
        SECRET,
      );
      expect(out[20]).toBe(80);
      expect(out[21]).toBe(18);
      expect(out.subarray(22, 38)).toEqual(expectedHmac(out, RA));
      expect(verifyMessageAuthenticator(out, SECRET, RA)).toBe('valid');
      expect(verifyMessageAuthenticator(out, SECRET, Buffer.alloc(16))).toBe('invalid');
      expect(decode(out, SECRET).attributes.filter((a) => a.name === 'Message-Authenticator')).toHaveLength(1);
      expect(encodeError(() => encode({ code, identifier: 7, requestAuthenticator: RA, messageAuthenticator: false }, SECRET))).toBe(
        'message_authenticator_required',
      );
    },
  );

  it('is added to replies to requests that had none (BlastRADIUS)', () => {
    const request = decode(encode({ code: 'Access-Request', identifier: 5, messageAuthenticator: false, attributes: [{ name: 'User-Name', value: 'a' }] }, SECRET), SECRET);
    expect(request.has('Message-Authenticator')).toBe(false);
    const reply = encodeResponse(request, { code: 'Access-Reject' }, SECRET);
    expect(reply[20]).toBe(80);
    expect(verifyMessageAuthenticator(reply, SECRET, request.authenticator)).toBe('valid');
  });

  it('Access-Request / Status-Server: keyed with their own Request Authenticator; default on', () => {
    for (const code of ['Access-Request', 'Status-Server'] as const) {
      const out = encode({ code, identifier: 1, authenticator: RA }, SECRET);
      expect(out[20]).toBe(80);
      expect(out.subarray(22, 38)).toEqual(expectedHmac(out, RA));
      expect(verifyMessageAuthenticator(out, SECRET)).toBe('valid');
    }
    expect(encodeError(() => encode({ code: 'Status-Server', identifier: 1, messageAuthenticator: false }, SECRET))).toBe(
      'message_authenticator_required',
    );
    const legacy = encode({ code: 'Access-Request', identifier: 1, messageAuthenticator: false }, SECRET);
    expect(legacy.length).toBe(20);
    expect(verifyMessageAuthenticator(legacy, SECRET)).toBe('missing');
  });

  it('EAP-Message forces it', () => {
    const eap = [{ name: 'EAP-Message', value: Buffer.from('0201000501', 'hex') }];
    expect(encode({ code: 'Accounting-Request', identifier: 1, attributes: eap }, SECRET)[20]).toBe(80);
    expect(encodeError(() => encode({ code: 'Access-Request', identifier: 1, messageAuthenticator: false, attributes: eap }, SECRET))).toBe(
      'message_authenticator_required',
    );
  });

  it.each<PacketCodeName>(['Accounting-Request', 'CoA-Request', 'Disconnect-Request'])(
    '%s: optional, first, HMAC over 16 zero octets, then the Request Authenticator over the signed packet',
    (code) => {
      expect(encode({ code, identifier: 2 }, SECRET).length).toBe(20);
      const out = encode({ code, identifier: 2, messageAuthenticator: true, attributes: [{ name: 'User-Name', value: 'u' }] }, SECRET);
      expect(out[20]).toBe(80);
      expect(out.subarray(22, 38)).toEqual(expectedHmac(out, Buffer.alloc(16)));
      expect(verifyMessageAuthenticator(out, SECRET)).toBe('valid');
      expect(verifyRequestAuthenticator(out, SECRET)).toBe(true);
      const tampered = flipLastBit(out);
      expect(verifyMessageAuthenticator(tampered, SECRET)).toBe('invalid');
    },
  );

  it.each<PacketCodeName>(['Accounting-Response', 'CoA-ACK', 'CoA-NAK', 'Disconnect-ACK', 'Disconnect-NAK'])(
    '%s: keyed with the request authenticator when asked for',
    (code) => {
      const out = encode({ code, identifier: 2, requestAuthenticator: RA, messageAuthenticator: true }, SECRET);
      expect(out.subarray(22, 38)).toEqual(expectedHmac(out, RA));
      expect(verifyMessageAuthenticator(out, SECRET, RA)).toBe('valid');
      expect(verifyResponseAuthenticator(out, RA, SECRET)).toBe(true);
      expect(() => verifyMessageAuthenticator(out, SECRET)).toThrow(TypeError);
    },
  );

  it('is verified wherever it sits (position is not checked on input)', () => {
    const body = Buffer.from(`0105626f62 5012${'00'.repeat(16)}`.replace(/\s/g, ''), 'hex');
    const p = packet(1, body.toString('hex'));
    hmac(p).copy(p, 27);
    expect(verifyMessageAuthenticator(p, SECRET)).toBe('valid');
  });
});

describe('encodeResponse', () => {
  const request = decode(
    packet(4, `0105626f62 2105 616263 2806 00000001 2104 7879 5012${'00'.repeat(16)}`.replace(/\s/g, ''), Buffer.alloc(16), 77),
    SECRET,
  );

  it('echoes identifier and Proxy-State in order, signs with the request authenticator', () => {
    const reply = encodeResponse(request, { code: 'Accounting-Response' }, SECRET);
    const decoded = decode(reply, SECRET);
    expect(decoded.identifier).toBe(77);
    expect(decoded.getAll('Proxy-State')).toEqual([Buffer.from('abc'), Buffer.from('xy')]);
    expect(verifyResponseAuthenticator(reply, request.authenticator, SECRET)).toBe(true);
    const bare = encodeResponse(request, { code: 'Accounting-Response', proxyState: false }, SECRET);
    expect(bare.length).toBe(20);
  });

  it('leaves Message-Authenticator out of Accounting-Response unless asked, and keys it either way', () => {
    // The request had one, yet FreeRADIUS 3 and 4 disagree on how to key it in an Accounting-Response.
    expect(encodeResponse(request, { code: 'Accounting-Response' }, SECRET)[20]).not.toBe(80);
    for (const accountingResponseKey of ['request', 'zero'] as const) {
      const reply = encodeResponse(request, { code: 'Accounting-Response', messageAuthenticator: true }, SECRET, { accountingResponseKey });
      expect(reply[20]).toBe(80);
      const expected = Buffer.from(reply);
      expected.fill(0, 22, 38);
      (accountingResponseKey === 'zero' ? Buffer.alloc(16) : request.authenticator).copy(expected, 4);
      expect(reply.subarray(22, 38)).toEqual(hmac(expected));
      expect(verifyMessageAuthenticator(reply, SECRET, request.authenticator)).toBe('valid');
      expect(verifyResponseAuthenticator(reply, request.authenticator, SECRET)).toBe(true);
    }
  });

  it('answers Status-Server with Message-Authenticator keyed with its authenticator', () => {
    const status = decode(encode({ code: 'Status-Server', identifier: 9 }, SECRET), SECRET);
    const reply = encodeResponse(status, { code: 'Accounting-Response' }, SECRET, { accountingResponseKey: 'zero' });
    expect(reply[20]).toBe(80);
    const expected = Buffer.from(reply);
    expected.fill(0, 22, 38);
    status.authenticator.copy(expected, 4);
    expect(reply.subarray(22, 38)).toEqual(hmac(expected));
  });
});

describe('User-Password (RFC 2865 §5.2)', () => {
  it.each([16, 17, 128])('round-trips a %i-octet password', (size) => {
    const password = 'p'.repeat(size - 1) + 'Z';
    const out = encode({ code: 'Access-Request', identifier: 1, authenticator: RA, attributes: [{ name: 'User-Password', value: password }] }, SECRET);
    const hidden = decode(out, SECRET).find('User-Password')?.raw as Buffer;
    expect(hidden.length).toBe(Math.ceil(size / 16) * 16);
    // First block by the RFC formula, independently: c1 = p1 XOR MD5(S + RA).
    const p1 = Buffer.alloc(16);
    Buffer.from(password).copy(p1, 0, 0, 16);
    const key = md5(Buffer.from(SECRET), RA);
    expect(hidden.subarray(0, 16)).toEqual(Buffer.from(p1.map((b, i) => b ^ (key[i] ?? 0))));
    expect(decode(out, SECRET).get('User-Password')).toBe(password);
  });

  it('refuses more than 128 octets', () => {
    expect(
      encodeError(() => encode({ code: 'Access-Request', identifier: 1, attributes: [{ name: 'User-Password', value: 'x'.repeat(129) }] }, SECRET)),
    ).toBe('value_too_long');
    expect(() => encodeUserPassword('x'.repeat(129), SECRET, RA)).toThrow(RangeError);
    expect(() => decodeUserPassword(Buffer.alloc(144), SECRET, RA)).toThrow(RangeError);
  });

  it('is hidden with 16 zeros in an Accounting-Request, as FreeRADIUS/radclient do', () => {
    const out = encode({ code: 'Accounting-Request', identifier: 1, attributes: [{ name: 'User-Password', value: 'hello' }] }, SECRET);
    const hidden = decode(out, SECRET).find('User-Password')?.raw as Buffer;
    expect(decodeUserPassword(hidden, SECRET, Buffer.alloc(16)).toString()).toBe('hello');
    expect(decode(out, SECRET).get('User-Password')).toBe('hello');
  });
});

describe('Tunnel-Password and encrypt=2 VSAs (RFC 2868 §3.5)', () => {
  it('round-trips with tag and distinct salts having the high bit set', () => {
    const out = encode(
      {
        code: 'Access-Accept',
        identifier: 1,
        requestAuthenticator: RA,
        attributes: [
          { name: 'Tunnel-Password', value: 'first', tag: 1 },
          { name: 'Tunnel-Password', value: 'second', tag: 2 },
          { name: 'Acme-Secret', value: 'vendor-hidden' },
        ],
      },
      SECRET,
      { dictionary: ACME, random: () => Buffer.from([0x01, 0x02]) },
    );
    const p = decode(out, SECRET, { requestAuthenticator: RA, dictionary: ACME });
    expect(p.attributes.slice(1).map((a) => [a.name, a.value, a.tag])).toEqual([
      ['Tunnel-Password', 'first', 1],
      ['Tunnel-Password', 'second', 2],
      ['Acme-Secret', 'vendor-hidden', undefined],
    ]);
    // Same random bytes each time, yet the encoder made the salts unique; high bit set.
    const salts = p.attributes.slice(1, 3).map((a) => a.raw.subarray(1, 3).toString('hex'));
    expect(new Set(salts).size).toBe(2);
    for (const s of salts) expect(Number.parseInt(s.slice(0, 2), 16) & 0x80).toBe(0x80);
  });

  it('refuses passwords that cannot be padded within one attribute', () => {
    expect(
      encodeError(() =>
        encode({ code: 'Access-Accept', identifier: 1, requestAuthenticator: RA, attributes: [{ name: 'Tunnel-Password', value: 'x'.repeat(240) }] }, SECRET),
      ),
    ).toBe('value_too_long');
  });
});

describe('CHAP (RFC 2865 §2.2)', () => {
  it('uses CHAP-Challenge when present', () => {
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const value = chapPassword(0x57, 'topsecret', challenge);
    expect(value.toString('hex')).toBe('57b8930fe5ed789effe92f74441a85b9bd');
    const request = decode(
      encode({ code: 'Access-Request', identifier: 1, attributes: [{ name: 'CHAP-Challenge', value: challenge }, { name: 'CHAP-Password', value }] }, SECRET),
      SECRET,
    );
    expect(chapChallenge(request)).toEqual(challenge);
    expect(verifyChap(request.get('CHAP-Password') as Buffer, chapChallenge(request), 'topsecret')).toBe(true);
    expect(verifyChap(request.get('CHAP-Password') as Buffer, chapChallenge(request), 'wrong')).toBe(false);
  });

  it('falls back to the Request Authenticator', () => {
    const value = chapPassword(1, 'hello', RA);
    const request = decode(encode({ code: 'Access-Request', identifier: 1, authenticator: RA, attributes: [{ name: 'CHAP-Password', value }] }, SECRET), SECRET);
    expect(chapChallenge(request)).toEqual(RA);
    expect(verifyChap(value, chapChallenge(request), 'hello')).toBe(true);
    expect(verifyChap(value.subarray(0, 16), RA, 'hello')).toBe(false);
  });
});

describe('attributes', () => {
  const context = { secret: SECRET, vector: RA, dictionary: ACME };

  it('writes VSAs with the 32-bit vendor id and keeps it on decode', () => {
    const bytes = encodeAttributes(
      [
        { name: 'Acme-Rate-Limit', value: '2M/4M' },
        { name: 'Acme-Quota', value: 5n * 2n ** 32n + 7n },
        { name: 'Acme-Level', value: 'Gold' },
        { type: 7, vendorId: 0xfffffffe, raw: Buffer.from('zz') },
      ],
      context,
    );
    expect(bytes.subarray(0, 8).toString('hex')).toBe('1a0d0001869f0107');
    const attrs = decodeAttributes(bytes, context);
    expect(attrs.map((a) => [a.name, a.vendorId, a.type, a.value])).toEqual([
      ['Acme-Rate-Limit', 99_999, 1, '2M/4M'],
      ['Acme-Quota', 99_999, 2, 5n * 2n ** 32n + 7n],
      ['Acme-Level', 99_999, 3, 3],
      ['Attr-26.4294967294.7', 0xfffffffe, 7, Buffer.from('zz')],
    ]);
    expect(attrs[2]?.valueName).toBe('Gold');
  });

  it('decodes several sub-attributes packed in one Vendor-Specific', () => {
    const attrs = decodeAttributes(Buffer.from('1a110001869f 0105 6f6e65 0306 00000001'.replace(/\s/g, ''), 'hex'), context);
    expect(attrs.map((a) => [a.name, a.value])).toEqual([
      ['Acme-Rate-Limit', 'one'],
      ['Acme-Level', 1],
    ]);
  });

  it('accepts attributes typed like @rgz/core and gives back the same shape', () => {
    const core: CoreRadiusAttribute[] = [
      { name: 'Session-Timeout', type: 27, dataType: 'integer', value: 3600 },
      { name: 'Acme-Rate-Limit', vendorId: 99_999, type: 1, dataType: 'string', value: '1M/1M' },
      { name: 'Class', type: 25, dataType: 'octets', value: new Uint8Array([1, 2]) },
    ];
    const decoded = decodeAttributes(encodeAttributes(core, context), context);
    // Compile-time check: a decoded attribute is a core RadiusAttribute.
    const asCore: readonly CoreRadiusAttribute[] = decoded;
    expect(asCore.map((a) => [a.name, a.type, a.value])).toEqual([
      ['Session-Timeout', 27, 3600],
      ['Acme-Rate-Limit', 1, '1M/1M'],
      ['Class', 25, Buffer.from([1, 2])],
    ]);
  });

  it('splits EAP-Message over 253-octet attributes and joins it back', () => {
    const eap = Buffer.alloc(600, 0xab);
    const bytes = encodeAttributes([{ name: 'EAP-Message', value: eap }], context);
    expect([bytes[0], bytes[1], bytes[255], bytes[256], bytes[510], bytes[511]]).toEqual([79, 255, 79, 255, 79, 96]);
    expect(bytes.length).toBe(600 + 3 * 2);
    const attrs = decodeAttributes(bytes, context);
    expect(attrs).toHaveLength(1);
    expect(attrs[0]?.value).toEqual(eap);
  });

  it('refuses values longer than one attribute where concatenation is not allowed', () => {
    expect(encodeError(() => encodeAttributes([{ name: 'Reply-Message', value: 'x'.repeat(254) }], context))).toBe('value_too_long');
    expect(encodeError(() => encodeAttributes([{ name: 'Acme-Rate-Limit', value: 'x'.repeat(248) }], context))).toBe('value_too_long');
    expect(encodeAttributes([{ name: 'Acme-Rate-Limit', value: 'x'.repeat(247) }], context).length).toBe(255);
  });

  it('encodes tags: integers in the high octet (24-bit values), strings with a tag octet', () => {
    const bytes = encodeAttributes(
      [
        { name: 'Tunnel-Type', value: 'L2TP', tag: 3 },
        { name: 'Tunnel-Private-Group-Id', value: '42', tag: 1 },
        { name: 'Tunnel-Private-Group-Id', value: '\u0001abc' },
        { name: 'Acme-Group', value: 'g', tag: 2 },
      ],
      context,
    );
    expect(bytes.toString('hex')).toBe(['400603000003', '5105013432', '51070001616263', '1a0a0001869f05040267'].join(''));
    const attrs = decodeAttributes(bytes, context);
    expect(attrs.map((a) => [a.name, a.value, a.tag])).toEqual([
      ['Tunnel-Type', 3, 3],
      ['Tunnel-Private-Group-Id', '42', 1],
      ['Tunnel-Private-Group-Id', '\u0001abc', undefined],
      ['Acme-Group', 'g', 2],
    ]);
    expect(encodeError(() => encodeAttributes([{ name: 'Tunnel-Type', value: 0x1000000, tag: 1 }], context))).toBe('invalid_value');
    expect(encodeError(() => encodeAttributes([{ name: 'Tunnel-Type', value: 1, tag: 32 }], context))).toBe('invalid_tag');
    expect(encodeError(() => encodeAttributes([{ name: 'User-Name', value: 'a', tag: 1 }], context))).toBe('invalid_tag');
  });

  it('resolves value names and rejects unknown names, attributes and bad values', () => {
    expect(encodeAttributes([{ name: 'Acct-Status-Type', value: 'Alive' }], context).toString('hex')).toBe('280600000003');
    expect(encodeError(() => encodeAttributes([{ name: 'Acct-Status-Type', value: 'Sometimes' }], context))).toBe('invalid_value');
    expect(encodeError(() => encodeAttributes([{ name: 'No-Such-Attribute', value: 1 }], context))).toBe('unknown_attribute');
    expect(encodeError(() => encodeAttributes([{ name: 'NAS-IP-Address', value: '300.1.1.1' }], context))).toBe('invalid_value');
    expect(encodeError(() => encodeAttributes([{ name: 'Session-Timeout', value: -1 }], context))).toBe('invalid_value');
    expect(encodeError(() => encodeAttributes([{ name: 'Vendor-Specific', value: Buffer.from('00') }], context))).toBe('invalid_value');
  });

  it('skips empty text like FreeRADIUS, except where emptiness means something', () => {
    expect(encodeAttributes([{ name: 'Reply-Message', value: '' }], context).length).toBe(0);
    expect(encodeAttributes([{ name: 'Chargeable-User-Identity', value: Buffer.alloc(0) }], context).toString('hex')).toBe('5902');
  });
});

describe('packet limits', () => {
  it('refuses packets over 4096 octets and bad identifiers or codes', () => {
    const many = Array.from({ length: 17 }, () => ({ name: 'Reply-Message', value: 'x'.repeat(253) }));
    expect(encodeError(() => encode({ code: PacketCode.AccessAccept, identifier: 1, requestAuthenticator: RA, attributes: many }, SECRET))).toBe(
      'packet_too_large',
    );
    expect(encodeError(() => encode({ code: 'Access-Request', identifier: 256 }, SECRET))).toBe('invalid_identifier');
    expect(encodeError(() => encode({ code: 99, identifier: 1 }, SECRET))).toBe('unknown_code');
  });
});
