/**
 * The NAS login values against values derived here, independently, from the formulas in specs/captive-portal.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { coovaChilliLogin, decodeRouterOsString, mikrotikLogin } from './nas-login.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const password = 'Zq3vLm9XkP2rT7wB';
const challengeHex = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const challenge = Buffer.from(challengeHex, 'hex');

describe('CoovaChilli UAM (spec §1)', () => {
  it('CHAP without uamsecret: response = MD5(0x00 ‖ password ‖ challenge)', () => {
    const login = coovaChilliLogin({ uamip: '10.1.0.1', uamport: 3990, challenge: challengeHex, userurl: 'http://example.org/a?b=c' }, 'RGZ-7K2Q9M', password, {
      auth: 'chap',
    });
    const expected = md5(Buffer.concat([Buffer.from([0]), Buffer.from(password), challenge])).toString('hex');
    expect(login).toMatchObject({
      kind: 'coovachilli',
      method: 'GET',
      fields: { username: 'RGZ-7K2Q9M', response: expected, userurl: 'http://example.org/a?b=c' },
    });
    const url = new URL(login.url);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('http://10.1.0.1:3990/logon');
    expect(Object.fromEntries(url.searchParams)).toEqual({ username: 'RGZ-7K2Q9M', response: expected, userurl: 'http://example.org/a?b=c' });
  });

  it('CHAP with uamsecret: the challenge becomes MD5(challenge ‖ uamsecret)', () => {
    const login = coovaChilliLogin({ uamip: '10.1.0.1', uamport: 3990, challenge: challengeHex }, 'RGZ-7K2Q9M', password, {
      auth: 'chap',
      uamSecret: 'testing123',
    });
    const newchal = md5(Buffer.concat([challenge, Buffer.from('testing123')]));
    expect(login.fields.response).toBe(md5(Buffer.concat([Buffer.from([0]), Buffer.from(password), newchal])).toString('hex'));
    expect(login.fields.userurl).toBeUndefined();
  });

  it('PAP: password = hex(pad16(password) XOR newchal), which chilli XORs back', () => {
    for (const secret of [undefined, 'testing123']) {
      const login = coovaChilliLogin({ uamip: '10.1.0.1', uamport: 3990, challenge: challengeHex }, 'RGZ-7K2Q9M', 'short', { auth: 'pap', uamSecret: secret });
      const newchal = secret ? md5(Buffer.concat([challenge, Buffer.from(secret)])) : challenge;
      const padded = Buffer.alloc(16);
      Buffer.from('short').copy(padded);
      const expected = Buffer.from(padded.map((b, i) => b ^ (newchal[i] as number))).toString('hex');
      expect(login.fields.password).toBe(expected);
      expect(login.fields.response).toBeUndefined();
      // What chilli.c does on receipt: user_password[n] = password[n] ^ chap_challenge[n], C string.
      const back = Buffer.from(Buffer.from(expected, 'hex').map((b, i) => b ^ (newchal[i] as number)));
      expect(back.subarray(0, back.indexOf(0)).toString()).toBe('short');
    }
    expect(() => coovaChilliLogin({ uamip: '10.1.0.1', uamport: 3990, challenge: challengeHex }, 'u', 'x'.repeat(17), { auth: 'pap' })).toThrow(/16 octets/);
  });

  it('refuses a uamip that is not an IP address (no login URL to arbitrary hosts) and a malformed challenge', () => {
    expect(() => coovaChilliLogin({ uamip: 'evil.example', uamport: 3990, challenge: challengeHex }, 'u', password, { auth: 'chap' })).toThrow(/uamip/);
    expect(() => coovaChilliLogin({ uamip: '10.1.0.1', uamport: 3990, challenge: 'zz' }, 'u', password, { auth: 'chap' })).toThrow(/challenge/);
    expect(new URL(coovaChilliLogin({ uamip: 'fd00::1', uamport: 3990, challenge: challengeHex }, 'u', password, { auth: 'chap' }).url).hostname).toBe(
      '[fd00::1]',
    );
  });
});

describe('MikroTik hotspot (spec §2)', () => {
  const chapChallenge = randomBytes(16);
  // How RouterOS renders $(chap-id) / $(chap-challenge): every octet as a 3-digit octal escape.
  const octal = (b: Buffer) => [...b].map((x) => `\\${x.toString(8).padStart(3, '0')}`).join('');

  it('decodes RouterOS octal escapes to octets', () => {
    expect([...decodeRouterOsString('\\000\\316\\377a\\\\')]).toEqual([0, 0o316, 0o377, 0x61, 0x5c]);
    expect(decodeRouterOsString(octal(chapChallenge)).equals(chapChallenge)).toBe(true);
  });

  it('http-chap: password field = MD5(chap-id ‖ password ‖ chap-challenge), POSTed to link-login-only', () => {
    const login = mikrotikLogin(
      { link_login_only: 'http://10.5.50.1/login', chap_id: '\\316', chap_challenge: octal(chapChallenge), link_orig: 'http://neverssl.com/' },
      'RGZ-7K2Q9M',
      password,
    );
    const expected = md5(Buffer.concat([Buffer.from([0o316]), Buffer.from(password), chapChallenge])).toString('hex');
    expect(login).toEqual({
      kind: 'mikrotik',
      method: 'POST',
      url: 'http://10.5.50.1/login',
      fields: { username: 'RGZ-7K2Q9M', password: expected, dst: 'http://neverssl.com/', popup: 'false' },
    });
  });

  it('http-pap (no chap-id): the plain password', () => {
    expect(mikrotikLogin({ link_login_only: 'https://hotspot.example/login' }, 'RGZ-7K2Q9M', password).fields).toEqual({
      username: 'RGZ-7K2Q9M',
      password,
      popup: 'false',
    });
  });

  it('refuses a link-login-only that is not http(s)', () => {
    expect(() => mikrotikLogin({ link_login_only: 'javascript:alert(1)' }, 'u', password)).toThrow(/http/);
    expect(() => mikrotikLogin({ link_login_only: 'not a url' }, 'u', password)).toThrow(/URL/);
  });
});
