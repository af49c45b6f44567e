/**
 * The database side of a portal login: find or create the subscriber, record the device, work out the reseller,
 * read the plans on sale and the active plan.
 */
import { randomInt } from 'node:crypto';
import { type ActivePlan, type CoreDatabase, findActivePlan, type Kysely, type NasDirectory, type Plan, type Subscriber } from '@rgz/core';

/** No 0/O, 1/I/L: a reference read aloud over the phone or copied from a receipt is not misread. */
export const REF_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

export function newSubscriberRef(): string {
  let s = 'RGZ-';
  for (let i = 0; i < 6; i++) s += REF_ALPHABET[randomInt(0, REF_ALPHABET.length)];
  return s;
}

/**
 * The subscriber with this msisdn, created on first login. Concurrent first logins of one number create one row
 * (the msisdn is unique); a reference collision (1 in ~887 million per pair) just draws another.
 */
export async function findOrCreateSubscriber(
  db: Kysely<CoreDatabase>,
  msisdn: string,
  resellerId: string | null,
): Promise<{ subscriber: Subscriber; created: boolean }> {
  const existing = await db.selectFrom('subscribers').selectAll().where('msisdn', '=', msisdn).executeTakeFirst();
  if (existing) return { subscriber: existing, created: false };
  for (let i = 0; i < 10; i++) {
    const inserted = await db
      .insertInto('subscribers')
      .values({ subscriber_ref: newSubscriberRef(), msisdn, reseller_id: resellerId })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { subscriber: inserted, created: true };
    const raced = await db.selectFrom('subscribers').selectAll().where('msisdn', '=', msisdn).executeTakeFirst();
    if (raced) return { subscriber: raced, created: false };
  }
  throw new Error('could not draw a free subscriber reference in 10 tries');
}

export async function recordDevice(db: Kysely<CoreDatabase>, subscriberId: string, mac: string): Promise<void> {
  await db
    .insertInto('subscriber_devices')
    .values({ subscriber_id: subscriberId, mac_address: mac })
    .onConflict((oc) => oc.columns(['subscriber_id', 'mac_address']).doUpdateSet({ last_seen_at: new Date() }))
    .execute();
}

/**
 * The reseller a login belongs to: the NAS's (found by its NAS-Identifier through the RADIUS plugin's directory),
 * else the reseller named by slug in the portal link, else none (the operator's own). A known NAS is
 * authoritative: its operator is not overridden by a slug in the URL.
 */
export async function resolveReseller(
  db: Kysely<CoreDatabase>,
  directory: NasDirectory | undefined,
  input: { nasId?: string | undefined; slug?: string | undefined },
): Promise<string | null> {
  if (input.nasId && directory) {
    const nas = await directory.findByIdentifier(input.nasId);
    if (nas) return nas.resellerId;
  }
  if (input.slug) {
    const row = await db.selectFrom('resellers').select('id').where('slug', '=', input.slug).where('status', '=', 'active').executeTakeFirst();
    if (row) return row.id;
  }
  return null;
}

export interface PlanView {
  code: string;
  name: string;
  price_fcfa: number;
  quota_bytes: number | null;
  quota_period: 'day' | 'month' | null;
  validity_seconds: number;
  rate_down_kbps: number | null;
  rate_up_kbps: number | null;
}

export function planView(p: Plan): PlanView {
  return {
    code: p.code,
    name: p.name,
    price_fcfa: Number(p.price_fcfa),
    quota_bytes: p.quota_bytes === null ? null : Number(p.quota_bytes),
    quota_period: p.quota_period,
    validity_seconds: Number(p.validity_seconds),
    rate_down_kbps: p.rate_down_kbps,
    rate_up_kbps: p.rate_up_kbps,
  };
}

export interface ActivePlanView extends PlanView {
  starts_at: string;
  expires_at: string;
  /** Seconds until the subscription expires. */
  remaining_seconds: number;
}

export async function activePlanView(
  db: Kysely<CoreDatabase>,
  subscriberId: string,
  now = new Date(),
): Promise<{ view: ActivePlanView; active: ActivePlan } | null> {
  const active = await findActivePlan(db, subscriberId, now);
  if (!active) return null;
  const expires = new Date(active.subscription.expires_at);
  return {
    active,
    view: {
      ...planView(active.plan),
      starts_at: new Date(active.subscription.starts_at).toISOString(),
      expires_at: expires.toISOString(),
      remaining_seconds: Math.max(0, Math.floor((expires.getTime() - now.getTime()) / 1000)),
    },
  };
}
