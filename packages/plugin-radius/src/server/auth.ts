/**
 * Access-Request → Access-Accept or Access-Reject. Two ways in:
 * - portal login: User-Name = `subscriber_ref`, password (PAP User-Password or CHAP) = the token of the portal session
 *   `rgz:session:{subscriber_id}` (JSON {token, mac, issued_at});
 * - MAC authentication: User-Name = a MAC address (any common format) of a device in `subscriber_devices` whose
 *   subscriber has a live portal session; when Calling-Station-Id is a MAC too it must be the same one. The password is
 *   not checked (NAS send the MAC or a fixed string); the NAS's shared secret vouches for the request.
 * The password is checked before anything that tells the caller about the account (suspension, plan, quota).
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CoreDatabase,
  findActivePlan,
  type Kv,
  type Kysely,
  kvKeys,
  type NasVendor,
  RadiusAttributeType,
  readRateOverride,
  type SessionPolicy,
} from '@rgz/core';
import type { AttributeInput } from '../codec/index.js';
import { verifyChap } from '../codec/index.js';
import type { RadiusConfig } from '../config.js';
import type { NasEntry } from '../nas/registry.js';
import type { RadiusDatabase } from '../schema.js';
import { normalizeMac } from './mac.js';
import { planPolicy, quotaWindow, usage } from './policy.js';
import type { RequestAttributes } from './request.js';

/** Why an Access-Request was rejected; the code goes to logs and metrics, the French text to Reply-Message. */
export const REJECT_REASONS = {
  no_credentials: 'Mot de passe manquant',
  unknown_user: 'Identifiant inconnu',
  bad_password: 'Mot de passe incorrect',
  session_expired: 'Session expirée : reconnectez-vous sur le portail',
  unknown_device: 'Appareil inconnu : connectez-vous sur le portail',
  mac_mismatch: 'Adresse MAC incohérente',
  subscriber_suspended: 'Compte suspendu',
  reseller_mismatch: "Ce compte n'est pas valable sur ce point d'accès",
  no_active_plan: 'Aucun forfait actif : achetez un forfait sur le portail',
  quota_exhausted: 'Forfait épuisé : rechargez sur le portail',
  simultaneous_use: "Nombre maximal d'appareils connectés atteint",
} as const;

export type RejectReason = keyof typeof REJECT_REASONS;

export interface AuthDeps {
  db: Kysely<RadiusDatabase>;
  kv: Kv;
  config: RadiusConfig;
  timeZone: string;
  staleAfterSeconds: number;
  vendor(id: string): NasVendor | undefined;
}

export interface AuthOutcome {
  accepted: boolean;
  reason?: RejectReason;
  /** User-Name as sent (for the log line). */
  user: string;
  mode: 'subscriber' | 'mac';
  subscriberId?: string;
  /** Reply attributes (Accept: policy; Reject: Reply-Message). */
  attributes: AttributeInput[];
  /** Policy features the NAS dialect could not express (logged). */
  unsupported?: readonly string[];
  vendorMissing?: boolean;
}

interface PortalSession {
  token: string;
  mac?: string;
}

interface SubscriberRow {
  id: string;
  status: 'active' | 'suspended' | 'closed';
  reseller_id: string | null;
}

const digest = (text: string | Uint8Array) => createHash('sha256').update(text).digest();

/** Constant-time equality of two passwords of any lengths. */
function samePassword(given: string | Uint8Array, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

async function portalSession(kv: Kv, subscriberId: string): Promise<PortalSession | undefined> {
  const raw = await kv.get(kvKeys.session(subscriberId));
  if (raw === null) return undefined;
  try {
    const parsed = JSON.parse(raw) as { token?: unknown; mac?: unknown };
    if (typeof parsed.token !== 'string' || parsed.token.length === 0) return undefined;
    return { token: parsed.token, ...(typeof parsed.mac === 'string' ? { mac: parsed.mac } : {}) };
  } catch {
    return undefined;
  }
}

const reject = (user: string, mode: AuthOutcome['mode'], reason: RejectReason, subscriberId?: string): AuthOutcome => ({
  accepted: false,
  reason,
  user,
  mode,
  ...(subscriberId ? { subscriberId } : {}),
  attributes: [{ name: 'Reply-Message', value: REJECT_REASONS[reason] }],
});

/** Standard attributes only, for a NAS whose dialect is not loaded. */
function standardOnly(policy: SessionPolicy): AttributeInput[] {
  const out: AttributeInput[] = [];
  if (policy.sessionTimeoutSeconds !== undefined)
    out.push({ type: RadiusAttributeType.SessionTimeout, dataType: 'integer', value: policy.sessionTimeoutSeconds });
  if (policy.idleTimeoutSeconds !== undefined) out.push({ type: RadiusAttributeType.IdleTimeout, dataType: 'integer', value: policy.idleTimeoutSeconds });
  if (policy.interimIntervalSeconds !== undefined) {
    out.push({ type: RadiusAttributeType.AcctInterimInterval, dataType: 'integer', value: Math.max(60, policy.interimIntervalSeconds) });
  }
  return out;
}

/** The decision for one Access-Request, from a datagram or from FreeRADIUS (rlm_rest): the same checks in the same order. */
export async function authenticate(deps: AuthDeps, nas: NasEntry, request: RequestAttributes, now = new Date()): Promise<AuthOutcome> {
  const userValue = request.get('User-Name');
  const user = typeof userValue === 'string' ? userValue : '';
  const macUser = normalizeMac(user);
  const mode: AuthOutcome['mode'] = macUser !== undefined ? 'mac' : 'subscriber';

  const papAttr = request.find('User-Password');
  const chapAttr = request.find('CHAP-Password');
  if (papAttr === undefined && chapAttr === undefined) return reject(user, mode, 'no_credentials');
  if (user === '') return reject(user, mode, 'unknown_user');

  const callingValue = request.get('Calling-Station-Id');
  const callingMac = normalizeMac(typeof callingValue === 'string' ? callingValue : undefined);

  // Once the subscriber is known, what the decision needs besides the portal session (active plan, session key TTL,
  // DBA rate) is fetched at the same time as the session: one round trip instead of three in a row. Nothing of it is
  // used, or told, before the password has been checked.
  const prefetch = (subscriberId: string) => {
    const all = Promise.all([
      findActivePlan(deps.db as unknown as Kysely<CoreDatabase>, subscriberId, now),
      deps.kv.ttl(kvKeys.session(subscriberId)),
      readRateOverride(deps.kv, subscriberId),
    ]);
    // A request rejected before this settles must not leave an unhandled rejection behind.
    all.catch(() => {});
    return all;
  };

  let subscriber: SubscriberRow | undefined;
  let session: PortalSession | undefined;
  let context: ReturnType<typeof prefetch>;
  if (mode === 'subscriber') {
    subscriber = await deps.db.selectFrom('subscribers').select(['id', 'status', 'reseller_id']).where('subscriber_ref', '=', user).executeTakeFirst();
    if (subscriber === undefined) return reject(user, mode, 'unknown_user');
    context = prefetch(subscriber.id);
    session = await portalSession(deps.kv, subscriber.id);
    if (session === undefined) return reject(user, mode, 'session_expired', subscriber.id);
    let ok = false;
    if (papAttr !== undefined) {
      ok = papAttr.invalid === undefined && typeof papAttr.value === 'string' && samePassword(papAttr.value, session.token);
    } else if (chapAttr !== undefined) {
      const challenge = request.chapChallenge();
      ok = chapAttr.invalid === undefined && challenge !== undefined && verifyChap(chapAttr.raw, challenge, session.token);
    }
    if (!ok) return reject(user, mode, 'bad_password', subscriber.id);
  } else {
    if (!deps.config.macAuth.enabled) return reject(user, mode, 'unknown_user');
    if (callingMac !== undefined && callingMac !== macUser) return reject(user, mode, 'mac_mismatch');
    const candidates = await deps.db
      .selectFrom('subscriber_devices as d')
      .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
      .select(['s.id', 's.status', 's.reseller_id'])
      .where('d.mac_address', '=', macUser as string)
      .orderBy('d.last_seen_at', 'desc')
      .limit(5)
      .execute();
    if (candidates.length === 0) return reject(user, mode, 'unknown_device');
    for (const c of candidates) {
      const s = await portalSession(deps.kv, c.id);
      if (s !== undefined) {
        subscriber = c;
        session = s;
        break;
      }
    }
    if (subscriber === undefined) return reject(user, mode, 'session_expired', candidates[0]?.id);
    context = prefetch(subscriber.id);
  }

  const sub = subscriber as SubscriberRow;
  if (sub.status !== 'active') return reject(user, mode, 'subscriber_suspended', sub.id);
  if (nas.resellerId !== null && sub.reseller_id !== null && nas.resellerId !== sub.reseller_id) return reject(user, mode, 'reseller_mismatch', sub.id);

  const [active, ttl, rateOverride] = await context;
  if (active === null) return reject(user, mode, 'no_active_plan', sub.id);

  const window = quotaWindow(active, now, deps.timeZone);
  const acctSessionId = request.get('Acct-Session-Id');
  const deviceMac = macUser ?? callingMac;
  const used = await usage(deps.db, {
    subscriberId: sub.id,
    windowStart: window.start,
    onlineSince: new Date(now.getTime() - deps.staleAfterSeconds * 1000),
    exclude: {
      nasId: nas.id,
      ...(typeof acctSessionId === 'string' ? { acctSessionId } : {}),
      ...(deviceMac !== undefined ? { mac: deviceMac } : {}),
    },
  });
  const final = planPolicy({
    active,
    usedBytes: used.usedBytes,
    now,
    timeZone: deps.timeZone,
    interimIntervalSeconds: deps.config.interimIntervalSeconds,
    idleTimeoutSeconds: deps.config.idleTimeoutSeconds,
    sessionKeyTtlSeconds: ttl > 0 ? ttl : undefined,
    capAtWindowEnd: deps.config.capSessionAtQuotaWindow,
    rateOverride,
  });
  if (final.remainingBytes !== undefined && final.remainingBytes <= 0) return reject(user, mode, 'quota_exhausted', sub.id);

  const limit = deps.config.simultaneousUse.resellers[sub.reseller_id ?? ''] ?? deps.config.simultaneousUse.default;
  if (used.openSessions >= limit) return reject(user, mode, 'simultaneous_use', sub.id);

  const vendor = deps.vendor(nas.vendor);
  const encoded = vendor?.accessAccept(final.policy);
  const attributes: AttributeInput[] = encoded ? [...encoded.attributes] : standardOnly(final.policy);
  // Class (25) comes back in every accounting record of the session (RFC 2865 §5.25): the subscriber, unambiguously.
  attributes.push({ type: 25, dataType: 'octets', value: Buffer.from(`rgz:${sub.id}`) });
  return {
    accepted: true,
    user,
    mode,
    subscriberId: sub.id,
    attributes,
    ...(encoded && encoded.unsupported.length > 0 ? { unsupported: encoded.unsupported } : {}),
    ...(vendor === undefined ? { vendorMissing: true } : {}),
  };
}

/** `rgz:<uuid>` from a Class attribute we put in the Accept. */
export function subscriberFromClass(value: unknown): string | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  const m = /^rgz:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(Buffer.from(value).toString('latin1'));
  return m?.[1]?.toLowerCase();
}
