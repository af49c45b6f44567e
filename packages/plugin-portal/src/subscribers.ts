/**
 * The database side of a portal login: find or create the subscriber, record the device, work out the reseller,
 * read the plans on sale and the active plan. A login waits on these round trips one after another, so each does as
 * much as one statement can.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { type ActivePlan, type CoreDatabase, findActivePlan, type Kysely, type NasDirectory, type PlanOffer, planOffer, type Subscriber, sql } from '@rgz/core';

/** No 0/O, 1/I/L: a reference read aloud over the phone or copied from a receipt is not misread. */
export const REF_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

export function newSubscriberRef(): string {
  let s = 'RGZ-';
  for (let i = 0; i < 6; i++) s += REF_ALPHABET[randomInt(0, REF_ALPHABET.length)];
  return s;
}

/** What a login needs of its subscriber. */
export type LoginSubscriber = Pick<Subscriber, 'id' | 'subscriber_ref' | 'reseller_id' | 'status'>;

/**
 * The subscriber with this msisdn, created on first login, and the login's writes (`writes`: token, device, audit
 * entries), all in one statement (`inOneStatement`): a known subscriber is read (one round trip), then its writes
 * run (a second); a new one is inserted by the writes' own statement, so the row, its creation and the login commit
 * together or not at all. `alongside` (work that needs the subscriber but not the writes: KV, reads) runs while the
 * writes do; after a lost race (below) it has also run for a new row that was never created, so its effects must be
 * harmless then (a KV key nobody reads, expiring). Nothing is written or run for a subscriber who is not active (the
 * caller refuses the login).
 * Concurrent first logins of one number create one row: the msisdn is unique, the loser's statement fails whole and
 * it reads the winner's row. A reference collision (1 in ~887 million per pair) fails the same way and draws another.
 * `resellerId` is asked only when the subscriber is new.
 */
export async function loginSubscriber<T>(
  db: Kysely<CoreDatabase>,
  msisdn: string,
  steps: {
    resellerId: () => Promise<string | null>;
    writes: (subscriber: LoginSubscriber, created: boolean) => ReadonlyArray<WriteQuery | null>;
    alongside: (subscriber: LoginSubscriber, created: boolean) => Promise<T>;
  },
): Promise<{ subscriber: LoginSubscriber; created: boolean; alongside: T | null }> {
  for (let i = 0; i < 10; i++) {
    const existing = await db
      .selectFrom('subscribers')
      .select(['id', 'subscriber_ref', 'reseller_id', 'status'])
      .where('msisdn', '=', msisdn)
      .executeTakeFirst();
    if (existing && existing.status !== 'active') return { subscriber: existing, created: false, alongside: null };
    const created = !existing;
    const subscriber: LoginSubscriber = existing ?? {
      id: randomUUID(),
      subscriber_ref: newSubscriberRef(),
      reseller_id: await steps.resellerId(),
      status: 'active',
    };
    const writes = steps.writes(subscriber, created);
    const [written, beside] = await Promise.allSettled([
      inOneStatement(db, created ? [db.insertInto('subscribers').values({ ...subscriber, msisdn }), ...writes] : writes),
      steps.alongside(subscriber, created),
    ]);
    if (written.status === 'rejected') {
      const e = written.reason as { code?: string; table?: string };
      if (created && e.code === '23505' && e.table === 'subscribers') continue;
      throw written.reason;
    }
    if (beside.status === 'rejected') throw beside.reason;
    return { subscriber, created, alongside: beside.value };
  }
  throw new Error('could not draw a free subscriber reference in 10 tries');
}

/** Insert the device, or move its last_seen_at to now when the subscriber already used it; not yet run. */
export function deviceUpsert(db: Kysely<CoreDatabase>, subscriberId: string, mac: string) {
  return db
    .insertInto('subscriber_devices')
    .values({ subscriber_id: subscriberId, mac_address: mac })
    .onConflict((oc) => oc.columns(['subscriber_id', 'mac_address']).doUpdateSet({ last_seen_at: new Date() }));
}

/** A Kysely query builder, not yet run (what `sql` inlines). */
type WriteQuery = { toOperationNode(): unknown };

/**
 * Run writes (Kysely INSERT/UPDATE/DELETE builders; null entries skipped) as one statement, each a data-modifying
 * CTE: PostgreSQL runs every one to completion and commits them together or not at all, in one round trip and one
 * pool checkout, where a transaction takes two more (BEGIN, COMMIT) and one per write. The writes see the database
 * as it was before the statement (not each other's rows), but foreign keys are checked at its end: a device or a
 * token may reference a subscriber inserted by the same statement.
 */
export async function inOneStatement(db: Kysely<CoreDatabase>, writes: ReadonlyArray<WriteQuery | null>): Promise<void> {
  const ctes = writes.filter((w): w is WriteQuery => w !== null).map((w, i) => sql`${sql.id(`w${i}`)} as (${w})`);
  if (ctes.length === 0) return;
  await sql`with ${sql.join(ctes)} select 1`.execute(db);
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

export interface ActivePlanView extends PlanOffer {
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
      ...planOffer(active.plan),
      starts_at: new Date(active.subscription.starts_at).toISOString(),
      expires_at: expires.toISOString(),
      remaining_seconds: Math.max(0, Math.floor((expires.getTime() - now.getTime()) / 1000)),
    },
  };
}
