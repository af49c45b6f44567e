/**
 * The rlm_rest JSON layer on its own: request bodies as FreeRADIUS 3.2 writes them (radius.md §11) read into the same
 * values the codec gives the UDP server, replies in rlm_rest's flat `list:Attr` form, the bearer check, the config
 * keys, and that every attribute a shipped dialect may put in a reply is known to FreeRADIUS (its dictionaries plus
 * the shipped dictionary.rgz), or FreeRADIUS would drop it from the Accept.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '@rgz/core/testing';
import { createChilliVendor } from '@rgz/nas-coovachilli';
import mikrotik, { createMikrotikVendor } from '@rgz/nas-mikrotik';
import { createWisprVendor } from '@rgz/nas-wispr';
import { describe, expect, it } from 'vitest';
import { chapPassword, verifyChap } from '../codec/index.js';
import radius, { configSchema } from '../index.js';
import { SHIPPED } from '../test-support/freeradius.js';
import { DEFAULT_NAS, DICTIONARY } from '../test-support/world.js';
import { RestBodyError, restAttributes, restReply } from './json.js';
import { bearerMatches } from './routes.js';

describe('rlm_rest request bodies', () => {
  // Shapes observed from FreeRADIUS 3.2.1 (radius.md §11), accounting with enum names and Gigawords.
  const body = {
    'User-Name': { type: 'string', value: ['RGZ-7K2Q9M'] },
    'User-Password': { type: 'string', value: ['s3cret'] },
    'NAS-IP-Address': { type: 'ipaddr', value: ['127.0.0.1'] },
    'Calling-Station-Id': { type: 'string', value: ['AA-BB-CC-DD-EE-FF'] },
    'Event-Timestamp': { type: 'date', value: ['Nov 24 2026 23:34:42 UTC'] },
    'Acct-Status-Type': { type: 'integer', value: ['Interim-Update'] },
    'Acct-Terminate-Cause': { type: 'integer', value: ['User-Request'] },
    'Acct-Input-Octets': { type: 'integer', value: [1234] },
    'Acct-Input-Gigawords': { type: 'integer', value: [1] },
    Class: { type: 'octets', value: ['0x72677a3a41'] },
    'Message-Authenticator': { type: 'octets', value: ['0xfa3c8b73d2c88140fc3d5196be36c9f8'] },
    'Mikrotik-Host-IP': { type: 'ipaddr', value: ['10.5.50.1'] },
    'Some-Unknown-Attr': { type: 'integer', value: [7] },
  };

  it('reads values as the codec types them: enum names to numbers with their name, dates to Unix seconds, octets from hex', () => {
    const a = restAttributes(body, DICTIONARY);
    expect(a.get('User-Name')).toBe('RGZ-7K2Q9M');
    expect(a.find('User-Password')).toMatchObject({ value: 's3cret', raw: Buffer.from('s3cret') });
    expect(a.find('Acct-Status-Type')).toMatchObject({ value: 3, valueName: 'Interim-Update' });
    expect(a.find('Acct-Terminate-Cause')).toMatchObject({ value: 1, valueName: 'User-Request' });
    expect(a.get('Acct-Input-Gigawords')).toBe(1);
    expect(a.get('Event-Timestamp')).toBe(Date.UTC(2026, 10, 24, 23, 34, 42) / 1000);
    expect(a.get('Class')).toEqual(Buffer.from('rgz:A'));
    expect(a.get('NAS-IP-Address')).toBe('127.0.0.1');
    expect(a.get('Mikrotik-Host-IP')).toBe('10.5.50.1');
    expect(a.get('Some-Unknown-Attr')).toBe(7);
    expect(a.has('CHAP-Password')).toBe(false);
    // raw_value = yes sends numbers; also accepted.
    expect(restAttributes({ 'Acct-Status-Type': { type: 'integer', value: [2] } }, DICTIONARY).get('Acct-Status-Type')).toBe(2);
  });

  it('marks malformed values invalid instead of guessing, and refuses a body that is not an attribute object', () => {
    const a = restAttributes(
      { 'Acct-Status-Type': { type: 'integer', value: ['Sideways'] }, 'Acct-Input-Octets': { type: 'integer', value: [-1] } },
      DICTIONARY,
    );
    expect(a.find('Acct-Status-Type')?.invalid).toMatch(/unknown value name/);
    expect(a.find('Acct-Input-Octets')?.invalid).toMatch(/unsigned/);
    for (const bad of [null, [], 'x', 3]) expect(() => restAttributes(bad, DICTIONARY)).toThrow(RestBodyError);
  });

  it('CHAP: the challenge is CHAP-Challenge, else the Packet-Authentication-Vector the site adds, else unknown', () => {
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const response = chapPassword(5, 'tok', challenge);
    const withChallenge = restAttributes(
      {
        'CHAP-Password': { type: 'octets', value: [`0x${response.toString('hex')}`] },
        'CHAP-Challenge': { type: 'octets', value: [`0x${challenge.toString('hex')}`] },
      },
      DICTIONARY,
    );
    expect(verifyChap(withChallenge.find('CHAP-Password')?.raw as Buffer, withChallenge.chapChallenge() as Buffer, 'tok')).toBe(true);
    const vector = restAttributes({ 'Packet-Authentication-Vector': { type: 'octets', value: [`0x${challenge.toString('hex')}`] } }, DICTIONARY);
    expect(vector.chapChallenge()).toEqual(challenge);
    expect(restAttributes({}, DICTIONARY).chapChallenge()).toBeUndefined();
  });
});

describe('rlm_rest replies', () => {
  it('names every attribute, hex-encodes octets, uses += for repeats and turns xlat off for strings with %', () => {
    const mikrotikAccept = createMikrotikVendor().accessAccept({
      rateLimit: { upBps: 512_000, downBps: 1_024_000 },
      quota: { totalBytes: 5n * 1024n ** 3n },
      sessionTimeoutSeconds: 3600,
    });
    const { body, skipped } = restReply(
      [
        ...mikrotikAccept.attributes,
        { type: 25, dataType: 'octets', value: Buffer.from('rgz:x') },
        { name: 'Reply-Message', value: '100% used' },
        { name: 'Mikrotik-Address-List', value: 'a' },
        { name: 'Mikrotik-Address-List', value: 'b' },
        { type: 241, raw: Buffer.from([1]) },
      ],
      DICTIONARY,
    );
    expect(body).toEqual({
      'reply:Mikrotik-Rate-Limit': '512k/1024k',
      'reply:Mikrotik-Total-Limit': 1024 ** 3,
      'reply:Mikrotik-Total-Limit-Gigawords': 1,
      'reply:Session-Timeout': 3600,
      'reply:Class': `0x${Buffer.from('rgz:x').toString('hex')}`,
      'reply:Reply-Message': { do_xlat: false, value: ['100% used'] },
      'reply:Mikrotik-Address-List': { op: '+=', value: ['a', 'b'] },
    });
    expect(skipped).toBe(1);
  });
});

describe('rlm_rest bearer token and config', () => {
  it('compares the token exactly, whatever the length presented', () => {
    const token = 'a'.repeat(40);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}  `, token)).toBe(true);
    for (const h of [undefined, '', token, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${token}`, 'Bearer '])
      expect(bearerMatches(h, token)).toBe(false);
  });

  it('is off by default; enabling it without a token fails naming the key and how to make one', async () => {
    expect(configSchema.parse({}).rest).toEqual({ enabled: false });
    expect(() => configSchema.parse({ rest: { enabled: true, token: 'short' } })).toThrow(/at least 32 characters/);
    await expect(startTestServer({ plugins: [mikrotik, { plugin: radius, config: { listen: false, rest: { enabled: true } } }] })).rejects.toThrow(
      /plugins\.radius\.config\.rest\.token: required when rest\.enabled is true.*openssl rand -hex 32/,
    );
  });

  it('serves /radius/rest/* only when enabled', async () => {
    const off = await startTestServer({ plugins: [mikrotik, { plugin: radius, config: { listen: false, nas: [DEFAULT_NAS] } }] });
    try {
      expect((await off.request('/radius/rest/authorize', { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      await off.close();
    }
    const token = 't'.repeat(32);
    const on = await startTestServer({
      plugins: [mikrotik, { plugin: radius, config: { listen: false, nas: [DEFAULT_NAS], rest: { enabled: true, token } } }],
    });
    try {
      const res = await on.request('/radius/rest/authorize', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${token}` } });
      // The NAS (127.0.0.1 from NAS-IP-Address or ?nas=) is missing: the route is there and refuses it.
      expect(res.status).toBe(403);
      const spec = (await (await on.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/radius/rest/authorize', '/radius/rest/accounting', '/radius/rest/post-auth']));
    } finally {
      await on.close();
    }
  });
});

const FREERADIUS_DICTIONARIES = '/usr/share/freeradius';

describe.skipIf(!existsSync(FREERADIUS_DICTIONARIES))('FreeRADIUS knows every reply attribute of the shipped dialects', () => {
  it('each name is in /usr/share/freeradius or in the shipped dictionary.rgz, with the same vendor number', () => {
    const defined = new Map<string, number>();
    const files = [
      ...readdirSync(FREERADIUS_DICTIONARIES)
        .filter((f) => f.startsWith('dictionary'))
        .map((f) => join(FREERADIUS_DICTIONARIES, f)),
      join(SHIPPED, 'dictionary.rgz'),
    ];
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^ATTRIBUTE\s+(\S+)\s+(\d+)\s/gm)) defined.set(m[1] as string, Number(m[2]));
    }
    for (const vendor of [createMikrotikVendor(), createChilliVendor(), createWisprVendor()]) {
      for (const a of vendor.dictionary.attributes) expect(defined.get(a.name), `${vendor.id}: ${a.name}`).toBe(a.type);
    }
  });
});
