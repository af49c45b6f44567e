/**
 * What the browser must send to the NAS so the NAS logs the device in with RADIUS, once the portal has verified
 * the subscriber. The RADIUS User-Name is the subscriber_ref; the password is the session password kept in
 * `rgz:session:{subscriber_id}`. Formulas from specs/captive-portal.md:
 *
 * CoovaChilli UAM (§1, verified in coova-chilli `src/redir.c`, `src/chilli.c`): the portal was opened with
 * `uamip`, `uamport`, `challenge` (32 hex) and `userurl`. With a `uamsecret`, newchal = MD5(challenge_bin ‖
 * uamsecret), otherwise newchal = challenge_bin.
 *   - CHAP: `response = hex(MD5(0x00 ‖ password ‖ newchal))` (CHAP ident 0)
 *   - PAP:  `password = hex(pad16(password) ⊕ newchal)` (chilli XORs it back and sends a normal User-Password)
 *   then GET `http://uamip:uamport/logon?username=…&response=…|password=…&userurl=…`.
 *
 * MikroTik Hotspot (§2, help.mikrotik.com "Hotspot customisation"): the external page receives
 * `link-login-only`, `chap-id`, `chap-challenge` (and `link-orig`); with http-chap the password field is
 * `hex(MD5(chap-id ‖ password ‖ chap-challenge))` as RouterOS's md5.js computes it, with http-pap the plain
 * password; then POST `username`, `password`, `dst`, `popup` to link-login-only.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

export interface UamParams {
  uamip: string;
  uamport: number;
  /** 32 hex digits as CoovaChilli sends it. */
  challenge: string;
  userurl?: string | undefined;
}

export interface MikrotikParams {
  link_login_only: string;
  /** As RouterOS renders `$(chap-id)`: octal escapes such as `\\316`; empty or absent with http-pap. */
  chap_id?: string | undefined;
  /** As RouterOS renders `$(chap-challenge)`: 16 octets as octal escapes. */
  chap_challenge?: string | undefined;
  link_orig?: string | undefined;
}

export interface NasLogin {
  kind: 'coovachilli' | 'mikrotik';
  /** How the browser goes there: GET (navigate to `url`) or POST (submit `fields` as a form to `url`). */
  method: 'GET' | 'POST';
  url: string;
  fields: Record<string, string>;
}

export class NasLoginError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();

export function coovaChilliLogin(
  params: UamParams,
  username: string,
  password: string,
  options: { uamSecret?: string | undefined; auth: 'chap' | 'pap' },
): NasLogin {
  if (!isIP(params.uamip)) throw new NasLoginError('invalid_uam', `uamip "${params.uamip}" is not an IP address`);
  if (!/^[0-9a-f]{32}$/i.test(params.challenge)) throw new NasLoginError('invalid_uam', 'challenge must be 32 hexadecimal digits');
  const challenge = Buffer.from(params.challenge, 'hex');
  const newchal = options.uamSecret ? md5(challenge, Buffer.from(options.uamSecret, 'utf8')) : challenge;
  const pw = Buffer.from(password, 'utf8');
  const host = params.uamip.includes(':') ? `[${params.uamip}]` : params.uamip;
  const url = new URL(`http://${host}:${params.uamport}/logon`);
  const fields: Record<string, string> = { username };
  if (options.auth === 'chap') {
    fields.response = md5(Buffer.from([0]), pw, newchal).toString('hex');
  } else {
    if (pw.length > 16) throw new NasLoginError('invalid_uam', 'UAM PAP carries at most 16 octets of password');
    const padded = Buffer.alloc(16);
    pw.copy(padded);
    for (let i = 0; i < 16; i++) padded[i] = (padded[i] as number) ^ (newchal[i] as number);
    fields.password = padded.toString('hex');
  }
  if (params.userurl) fields.userurl = params.userurl;
  for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
  return { kind: 'coovachilli', method: 'GET', url: url.toString(), fields };
}

/**
 * RouterOS writes `$(chap-id)` and `$(chap-challenge)` as JavaScript octal escapes (`\\001\\234…`) meant to be
 * pasted into a JS string literal; decode them (and plain characters) to the octets md5.js hashes.
 */
export function decodeRouterOsString(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const m = /^\\([0-7]{1,3})/.exec(s.slice(i));
    if (m) {
      out.push(Number.parseInt(m[1] as string, 8) & 0xff);
      i += m[0].length;
    } else if (s[i] === '\\' && i + 1 < s.length) {
      out.push(s.charCodeAt(i + 1) & 0xff);
      i += 2;
    } else {
      out.push(s.charCodeAt(i) & 0xff);
      i += 1;
    }
  }
  return Buffer.from(out);
}

export function mikrotikLogin(params: MikrotikParams, username: string, password: string): NasLogin {
  let target: URL;
  try {
    target = new URL(params.link_login_only);
  } catch {
    throw new NasLoginError('invalid_mikrotik', 'link_login_only is not a URL');
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new NasLoginError('invalid_mikrotik', 'link_login_only must be an http(s) URL');
  const fields: Record<string, string> = { username };
  if (params.chap_id && params.chap_challenge) {
    fields.password = md5(decodeRouterOsString(params.chap_id), Buffer.from(password, 'utf8'), decodeRouterOsString(params.chap_challenge)).toString('hex');
  } else {
    fields.password = password;
  }
  if (params.link_orig) fields.dst = params.link_orig;
  fields.popup = 'false';
  return { kind: 'mikrotik', method: 'POST', url: target.toString(), fields };
}
