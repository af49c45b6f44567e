/**
 * Where `GET /portal/me` gets data usage from. The portal does not measure traffic: RADIUS accounting does
 * (radius_sessions bytes_in/bytes_out in the seed). Whichever plugin owns accounting provides this token; until
 * one does, `usage` is null in the answer (never an invented number).
 * The quota window rule lives here too, so the portal's "what is left" and RADIUS's quota check agree.
 */
import { token } from '../plugin/tokens.js';

export interface UsageSource {
  /**
   * Octets the subscriber used since `since` (upload = from the client, download = to the client), over every
   * device and NAS; null when this source knows nothing about them.
   */
  usedSince(subscriberId: string, since: Date): Promise<{ uploadBytes: number; downloadBytes: number } | null>;
}

export const usageSource = token<UsageSource>('core.usage-source');

/** Start of the quota window containing `now`: the local day in `timeZone`, or the subscription for monthly plans. */
export function quotaWindowStart(period: 'day' | 'month' | null, subscriptionStart: Date, now: Date, timeZone: string): Date {
  if (period !== 'day') return subscriptionStart;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const sinceMidnight = (get('hour') * 3600 + get('minute') * 60 + get('second')) * 1000 + now.getMilliseconds();
  const start = new Date(now.getTime() - sinceMidnight);
  return start < subscriptionStart ? subscriptionStart : start;
}
