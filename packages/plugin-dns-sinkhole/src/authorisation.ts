/**
 * Which client IPs have a live session, as the sinkhole sees it: one KV key per address, `rgz:dns:auth:{ip}`, whose
 * TTL is the session's remaining lifetime, so expiry needs no job. Written by the portal's
 * `portal.client-authorised` event, by the NOC route, or by any code holding the Kv (`authoriseClient`). With Redis,
 * every replica of the sinkhole sees the same keys.
 */
import { type Kv, RgzError } from '@rgz/core';
import { normaliseIp } from './ip.js';

/** What the key holds. */
export interface ClientAuthorisation {
  subscriberId: string | null;
  /** ISO 8601, when it was written. */
  authorisedAt: string;
}

/** Longest authorisation accepted: 31 days (longer sessions re-authorise on renewal). */
export const MAX_AUTHORISATION_SECONDS = 31 * 24 * 3600;

/** The KV key for a client address (canonical form, see `normaliseIp`). */
export function dnsAuthKey(ip: string): string {
  return `rgz:dns:auth:${canonicalOrThrow(ip)}`;
}

/** Mark `ip` authorised for `ttlSeconds`: from then on its queries are forwarded upstream. Overwrites any earlier one. */
export async function authoriseClient(kv: Kv, ip: string, options: { ttlSeconds: number; subscriberId?: string | null }): Promise<void> {
  const ttl = Math.ceil(options.ttlSeconds);
  if (!Number.isFinite(ttl) || ttl < 1 || ttl > MAX_AUTHORISATION_SECONDS) {
    throw new RgzError('dns_auth_ttl_invalid', `ttlSeconds must be 1 to ${MAX_AUTHORISATION_SECONDS}, got ${options.ttlSeconds}`, { status: 400 });
  }
  const value: ClientAuthorisation = { subscriberId: options.subscriberId ?? null, authorisedAt: new Date().toISOString() };
  await kv.set(dnsAuthKey(ip), JSON.stringify(value), ttl);
}

/** Remove the authorisation of `ip`; true when there was one. */
export async function revokeClient(kv: Kv, ip: string): Promise<boolean> {
  return (await kv.del(dnsAuthKey(ip))) > 0;
}

/** The authorisation of `ip` and its seconds left, or null when it has none. */
export async function clientAuthorisation(kv: Kv, ip: string): Promise<(ClientAuthorisation & { ttlSeconds: number }) | null> {
  const key = dnsAuthKey(ip);
  const raw = await kv.get(key);
  if (raw === null) return null;
  const ttlSeconds = await kv.ttl(key);
  try {
    const parsed = JSON.parse(raw) as Partial<ClientAuthorisation>;
    return { subscriberId: parsed.subscriberId ?? null, authorisedAt: parsed.authorisedAt ?? '', ttlSeconds };
  } catch {
    // Written by hand (`SET rgz:dns:auth:10.0.0.5 1`): still an authorisation.
    return { subscriberId: null, authorisedAt: '', ttlSeconds };
  }
}

/** Whether `ip` is authorised: one KV read, on every query of a client. */
export async function isClientAuthorised(kv: Kv, ip: string): Promise<boolean> {
  return (await kv.get(dnsAuthKey(ip))) !== null;
}

function canonicalOrThrow(ip: string): string {
  const canonical = normaliseIp(ip);
  if (canonical === null) throw new RgzError('dns_auth_ip_invalid', `"${ip}" is not an IP address`, { status: 400 });
  return canonical;
}
