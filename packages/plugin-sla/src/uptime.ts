/**
 * Uptime = successful probes / probes, over a local calendar day or month (server time zone, DST-safe: the bounds
 * are computed by PostgreSQL from the local date), per target, per site (every probe of the site's targets pooled)
 * or per reseller (every probe of its targets pooled). Exact ratios, no smoothing, no weighting by target.
 * Queries go through the Kysely builder so a reseller's scoped handle only ever counts its own rows.
 */
import { type Kysely, sql } from '@rgz/core';
import type { SlaDatabase } from './schema.js';

export type Period = 'day' | 'month';
export type Group = 'target' | 'site' | 'reseller';

/** `YYYY-MM-DD` (day) or `YYYY-MM` (month) of `at` in `timeZone`. */
export function currentPeriodKey(period: Period, at: Date, timeZone: string): string {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
  return period === 'day' ? day : day.slice(0, 7);
}

export function validPeriodKey(period: Period, key: string): boolean {
  const m = period === 'day' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(key) : /^(\d{4})-(\d{2})$/.exec(key);
  if (!m) return false;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return false;
  if (period === 'month') return true;
  const day = Number(m[3]);
  return day >= 1 && day <= new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate();
}

/** The instants bounding a local day or month. */
export async function periodBounds(db: Kysely<any>, period: Period, key: string, timeZone: string): Promise<{ from: Date; to: Date }> {
  const start = period === 'day' ? key : `${key}-01`;
  const step = period === 'day' ? '1 day' : '1 month';
  const { rows } = await sql<{ from: Date; to: Date }>`
    select (${start}::date)::timestamp at time zone ${timeZone} as "from",
           ((${start}::date + ${step}::interval)::timestamp) at time zone ${timeZone} as "to"`.execute(db);
  const r = rows[0] as { from: Date; to: Date };
  return { from: new Date(r.from), to: new Date(r.to) };
}

export interface UptimeRow {
  /** Target id, site id or reseller id (null: probes with no site / no reseller). */
  key: string | null;
  successes: number;
  total: number;
  /** successes / total. */
  uptime: number;
}

export interface UptimeQuery {
  period: Period;
  key: string;
  timeZone: string;
  group: Group;
  targetIds?: readonly string[];
  siteId?: string;
  targetId?: string;
}

export async function uptime(db: Kysely<SlaDatabase>, q: UptimeQuery): Promise<UptimeRow[]> {
  const { from, to } = await periodBounds(db, q.period, q.key, q.timeZone);
  const column = q.group === 'target' ? 'target_id' : q.group === 'site' ? 'site_id' : 'reseller_id';
  let query = db
    .selectFrom('sla_probes')
    .select((eb) => [
      eb.ref(column).as('key'),
      eb.fn.countAll<number>().as('total'),
      eb.fn.countAll<number>().filterWhere('success', '=', true).as('successes'),
    ])
    .where('at', '>=', from)
    .where('at', '<', to);
  if (q.targetIds) query = q.targetIds.length ? query.where('target_id', 'in', [...q.targetIds]) : query.where(sql<boolean>`false`);
  if (q.siteId) query = query.where('site_id', '=', q.siteId);
  if (q.targetId) query = query.where('target_id', '=', q.targetId);
  const rows = await query.groupBy(column).orderBy(column).execute();
  return rows.map((r) => {
    const total = Number(r.total);
    const successes = Number(r.successes);
    return { key: (r.key as string | null) ?? null, successes, total, uptime: total === 0 ? 0 : successes / total };
  });
}
