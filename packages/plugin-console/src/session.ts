/**
 * Console sessions: the browser holds a random session id in an HttpOnly, SameSite=Strict cookie; the bearer token it
 * stands for stays on the server, in KV, under the id's SHA-256 (a KV dump does not give usable cookies).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kv } from '@rgz/core';

export interface ConsoleUser {
  role: 'noc' | 'reseller';
  name: string;
  resellerId: string | null;
}

export interface Session {
  token: string;
  user: ConsoleUser;
}

export const SESSION_COOKIE = 'rgz_console';
export const LANG_COOKIE = 'rgz_console_lang';

const key = (id: string) => `console:session:${createHash('sha256').update(id).digest('hex')}`;

export async function createSession(kv: Kv, session: Session, ttlSeconds: number): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await kv.set(key(id), JSON.stringify(session), ttlSeconds);
  return id;
}

export async function readSession(kv: Kv, id: string | undefined): Promise<Session | null> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const raw = await kv.get(key(id));
  return raw ? (JSON.parse(raw) as Session) : null;
}

export async function deleteSession(kv: Kv, id: string | undefined): Promise<void> {
  if (id) await kv.del(key(id));
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    try {
      out[name] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a malformed cookie is ignored, as if absent
    }
  }
  return out;
}

export function cookie(name: string, value: string, opts: { secure: boolean; maxAge?: number; httpOnly?: boolean }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/console',
    'SameSite=Strict',
    ...(opts.httpOnly === false ? [] : ['HttpOnly']),
    ...(opts.secure ? ['Secure'] : []),
    ...(opts.maxAge === undefined ? [] : [`Max-Age=${opts.maxAge}`]),
  ].join('; ');
}
