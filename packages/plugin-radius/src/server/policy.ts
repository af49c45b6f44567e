/**
 * From a subscriber's active plan to a provider-neutral `SessionPolicy`: rate limit, what is left of the quota in the
 * current quota window, and the session timeout.
 *
 * Quota window (decision, see README): `day` = the local calendar day in the server's time zone; `month` = successive
 * calendar months counted from the subscription's start; no period = the whole subscription. The window never starts
 * before the subscription (a new purchase starts a fresh allowance). Usage in a window = bytes in + out of every session
 * of the subscriber (all devices, all NAS) that started in it; Session-Timeout is capped at the window's end so
 * sessions do not straddle windows (config `capSessionAtQuotaWindow`).
 *
 * Rate: the plan's MIR, lowered per direction by a DBA rate override when one is in force (core's
 * `applyRateOverride`, rate-override.ts). `SessionPolicy.rateLimit` carries both directions, so a direction without a
 * limit (an unlimited plan overridden in one direction only, or a plan with a rate in one direction) is sent as 0,
 * which every shipped dialect reads as "no limit" (RouterOS `0`, CoovaChilli and WISPr bandwidth 0).
 */

import type { ActivePlan, Kysely, RateOverride, SessionPolicy } from '@rgz/core';
import { applyRateOverride, localMidnight, sql } from '@rgz/core';
import type { RadiusDatabase } from '../schema.js';

export interface QuotaWindow {
  readonly start: Date;
  readonly end: Date;
}

/** `start` plus `months` calendar months (UTC fields), the day clamped to the month's length (Jan 31 + 1 → Feb 28/29). */
export function addMonths(start: Date, months: number): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(y, m, Math.min(start.getUTCDate(), lastDay), start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds(), start.getUTCMilliseconds()),
  );
}

export function quotaWindow(active: ActivePlan, now: Date, timeZone: string): QuotaWindow {
  const { subscription, plan } = active;
  const startsAt = new Date(subscription.starts_at);
  const expiresAt = new Date(subscription.expires_at);
  if (plan.quota_period === 'day') {
    const dayStart = localMidnight(now, timeZone);
    return { start: new Date(Math.max(dayStart.getTime(), startsAt.getTime())), end: localMidnight(now, timeZone, 1) };
  }
  if (plan.quota_period === 'month') {
    let k = (now.getUTCFullYear() - startsAt.getUTCFullYear()) * 12 + (now.getUTCMonth() - startsAt.getUTCMonth());
    while (k > 0 && addMonths(startsAt, k) > now) k--;
    while (addMonths(startsAt, k + 1) <= now) k++;
    return { start: addMonths(startsAt, Math.max(0, k)), end: addMonths(startsAt, Math.max(0, k) + 1) };
  }
  return { start: startsAt, end: expiresAt };
}

export interface UsageQuery {
  subscriberId: string;
  windowStart: Date;
  /** Sessions silent since before this are not counted as online (the stale job will close them). */
  onlineSince: Date;
  /** The request's own session and device never count against Simultaneous-Use. */
  exclude?: { nasId?: string; acctSessionId?: string; mac?: string };
}

export interface Usage {
  /** Bytes in + out in the window, all devices. */
  usedBytes: number;
  /** Other open sessions (Simultaneous-Use). */
  openSessions: number;
}

/** Usage in the quota window and open sessions, in one query. */
export async function usage(db: Kysely<RadiusDatabase>, q: UsageQuery): Promise<Usage> {
  const open = [sql`session_stop is null`, sql`last_update >= ${q.onlineSince.toISOString()}::timestamptz`];
  if (q.exclude?.nasId !== undefined && q.exclude.acctSessionId !== undefined) {
    open.push(sql`not (nas_id = ${q.exclude.nasId} and acct_session_id = ${q.exclude.acctSessionId})`);
  }
  if (q.exclude?.mac !== undefined) open.push(sql`mac_address is distinct from ${q.exclude.mac}`);
  const windowStart = q.windowStart.toISOString();
  const { rows } = await sql<{ used: number; open: number }>`
    select coalesce(sum(bytes_in + bytes_out) filter (where session_start >= ${windowStart}::timestamptz), 0)::bigint as used,
           count(*) filter (where ${sql.join(open, sql` and `)}) as open
    from radius_sessions
    where subscriber_id = ${q.subscriberId} and (session_start >= ${windowStart}::timestamptz or session_stop is null)`.execute(db);
  const row = rows[0];
  return { usedBytes: Number(row?.used ?? 0), openSessions: Number(row?.open ?? 0) };
}

export interface PolicyInput {
  active: ActivePlan;
  usedBytes: number;
  /** Bytes this session already used (CoA on a live session: the NAS counts the limit from the session start). */
  sessionBytes?: number;
  now: Date;
  timeZone: string;
  interimIntervalSeconds: number;
  idleTimeoutSeconds?: number | undefined;
  /** Seconds left on the portal session key (`rgz:session:{id}`), when it expires. */
  sessionKeyTtlSeconds?: number | undefined;
  capAtWindowEnd: boolean;
  /** DBA rate override in force for the subscriber (core's `readRateOverride`); null or absent = the plan's rate. */
  rateOverride?: RateOverride | null;
}

export interface PlanPolicy {
  policy: SessionPolicy;
  /** Quota left in the window (undefined: no quota). Zero or less: used up. */
  remainingBytes?: number;
  window: QuotaWindow;
}

/** Smallest rate sent for a limited direction: 0 means "no limit" to the NAS, so an override of 0 must not lift it. */
const MIN_LIMITED_KBPS = 1;

/** The plan's rate lowered by the override, in bit/s; undefined when neither direction is limited. */
export function sessionRate(
  plan: { readonly rate_down_kbps: number | null; readonly rate_up_kbps: number | null },
  override: RateOverride | null,
): SessionPolicy['rateLimit'] {
  const { downKbps, upKbps } = applyRateOverride({ downKbps: plan.rate_down_kbps, upKbps: plan.rate_up_kbps }, override);
  if (downKbps === null && upKbps === null) return undefined;
  const bps = (kbps: number | null) => (kbps === null ? 0 : Math.max(MIN_LIMITED_KBPS, kbps) * 1000);
  return { upBps: bps(upKbps), downBps: bps(downKbps) };
}

export function planPolicy(input: PolicyInput): PlanPolicy {
  const { plan, subscription } = input.active;
  const window = quotaWindow(input.active, input.now, input.timeZone);
  const candidates = [(new Date(subscription.expires_at).getTime() - input.now.getTime()) / 1000];
  if (input.sessionKeyTtlSeconds !== undefined && input.sessionKeyTtlSeconds > 0) candidates.push(input.sessionKeyTtlSeconds);
  if (input.capAtWindowEnd && plan.quota_period !== null) candidates.push((window.end.getTime() - input.now.getTime()) / 1000);
  const sessionTimeoutSeconds = Math.max(1, Math.floor(Math.min(...candidates)));

  let remainingBytes: number | undefined;
  let quota: SessionPolicy['quota'];
  if (plan.quota_bytes !== null) {
    remainingBytes = Number(plan.quota_bytes) - input.usedBytes;
    const forSession = Math.max(0, remainingBytes) + (input.sessionBytes ?? 0);
    quota = { totalBytes: BigInt(Math.floor(forSession)) };
  }
  const rateLimit = sessionRate(plan, input.rateOverride ?? null);
  const policy: SessionPolicy = {
    ...(rateLimit ? { rateLimit } : {}),
    ...(quota ? { quota } : {}),
    sessionTimeoutSeconds,
    ...(input.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: input.idleTimeoutSeconds } : {}),
    interimIntervalSeconds: input.interimIntervalSeconds,
  };
  return { policy, ...(remainingBytes === undefined ? {} : { remainingBytes }), window };
}
