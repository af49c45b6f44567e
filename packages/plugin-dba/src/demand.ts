/**
 * Where a subscriber's demand over the last interval comes from. A `DemandSource` returns kbit/s per subscriber; the
 * engine asks every configured source and keeps the larger reading per direction (two views of the same traffic: the
 * fresher one wins, a silent one cannot hide demand).
 *
 * The RADIUS source turns the cumulative byte counters of open sessions (`radius_sessions.bytes_in/out`, updated by
 * Interim-Update records) into rates: between two runs, Δbytes / Δ(last_update) — the NAS's own timestamps, so the
 * rate is right whatever the interim interval and the run times are. A session whose counters did not move since the
 * previous run (no interim yet) keeps its previous rate; a session seen for the first time is averaged over its life
 * (bytes / (last_update − session_start)). Directions: bytes_in = received from the subscriber = up, bytes_out = down.
 */
import { type Kysely, sql } from '@rgz/core';
import type { DbaDatabase } from './schema.js';

export interface DemandSample {
  readonly downKbps: number;
  readonly upKbps: number;
}

/** An open RADIUS accounting session, as the engine reads it from `radius_sessions`. */
export interface OpenSession {
  readonly id: number;
  readonly subscriberId: string;
  readonly nasId: string;
  readonly nasIdentifier: string | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly sessionStart: Date;
  readonly lastUpdate: Date;
}

export interface DemandContext {
  readonly now: Date;
  /** Open sessions (empty without the RADIUS plugin). */
  readonly sessions: readonly OpenSession[];
  /** Enabled CPEs of the inventory that serve a known subscriber. */
  readonly cpes: readonly { readonly deviceId: string; readonly subscriberId: string }[];
  /** Readings older than this many seconds are ignored. */
  readonly staleSeconds: number;
}

export interface DemandSource {
  readonly id: string;
  /** Demand per subscriber id; subscribers this source knows nothing about are absent. */
  measure(context: DemandContext): Promise<ReadonlyMap<string, DemandSample>>;
}

/** Per subscriber and direction, the larger of the readings. */
export function combineDemand(readings: readonly ReadonlyMap<string, DemandSample>[]): Map<string, DemandSample> {
  const out = new Map<string, DemandSample>();
  for (const reading of readings) {
    for (const [id, s] of reading) {
      const seen = out.get(id);
      out.set(id, seen ? { downKbps: Math.max(seen.downKbps, s.downKbps), upKbps: Math.max(seen.upKbps, s.upKbps) } : s);
    }
  }
  return out;
}

export interface SessionSnapshot {
  readonly sessionId: number;
  readonly subscriberId: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly lastUpdate: Date;
  readonly rateDownKbps: number;
  readonly rateUpKbps: number;
}

/** bytes over seconds → kbit/s, rounded to the nearest integer; 0 for non-positive spans. */
export function kbps(bytes: number, seconds: number): number {
  return seconds > 0 && bytes > 0 ? Math.round((bytes * 8) / 1000 / seconds) : 0;
}

/**
 * Pure part of the RADIUS source: rates per session from the previous snapshots, the new snapshots, and the demand per
 * subscriber (sum over its open sessions).
 */
export function sessionRates(
  sessions: readonly OpenSession[],
  previous: ReadonlyMap<number, SessionSnapshot>,
): { snapshots: SessionSnapshot[]; demand: Map<string, DemandSample> } {
  const snapshots: SessionSnapshot[] = [];
  const demand = new Map<string, { downKbps: number; upKbps: number }>();
  for (const s of sessions) {
    const prev = previous.get(s.id);
    let down: number;
    let up: number;
    if (prev && s.lastUpdate.getTime() > prev.lastUpdate.getTime()) {
      const seconds = (s.lastUpdate.getTime() - prev.lastUpdate.getTime()) / 1000;
      // A counter that went down (NAS reset the session's counters) restarts from zero.
      down = kbps(s.bytesOut >= prev.bytesOut ? s.bytesOut - prev.bytesOut : s.bytesOut, seconds);
      up = kbps(s.bytesIn >= prev.bytesIn ? s.bytesIn - prev.bytesIn : s.bytesIn, seconds);
    } else if (prev) {
      down = prev.rateDownKbps;
      up = prev.rateUpKbps;
    } else {
      const seconds = (s.lastUpdate.getTime() - s.sessionStart.getTime()) / 1000;
      down = kbps(s.bytesOut, seconds);
      up = kbps(s.bytesIn, seconds);
    }
    snapshots.push({
      sessionId: s.id,
      subscriberId: s.subscriberId,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      lastUpdate: s.lastUpdate,
      rateDownKbps: down,
      rateUpKbps: up,
    });
    const d = demand.get(s.subscriberId) ?? { downKbps: 0, upKbps: 0 };
    d.downKbps += down;
    d.upKbps += up;
    demand.set(s.subscriberId, d);
  }
  return { snapshots, demand };
}

/** The RADIUS interim-usage source, keeping its snapshots in `dba_session_snapshots`. */
export function radiusDemandSource(db: Kysely<DbaDatabase>): DemandSource {
  return {
    id: 'radius',
    async measure({ sessions }) {
      const previous = new Map<number, SessionSnapshot>();
      const rows = await db.selectFrom('dba_session_snapshots').selectAll().execute();
      for (const r of rows) {
        previous.set(Number(r.session_id), {
          sessionId: Number(r.session_id),
          subscriberId: r.subscriber_id,
          bytesIn: Number(r.bytes_in),
          bytesOut: Number(r.bytes_out),
          lastUpdate: new Date(r.last_update),
          rateDownKbps: r.rate_down_kbps,
          rateUpKbps: r.rate_up_kbps,
        });
      }
      const { snapshots, demand } = sessionRates(sessions, previous);
      await db.transaction().execute(async (trx) => {
        // Only open sessions are kept: a closed one never comes back.
        await trx.deleteFrom('dba_session_snapshots').execute();
        for (let i = 0; i < snapshots.length; i += 1000) {
          await trx
            .insertInto('dba_session_snapshots')
            .values(
              snapshots.slice(i, i + 1000).map((s) => ({
                session_id: s.sessionId,
                subscriber_id: s.subscriberId,
                bytes_in: s.bytesIn,
                bytes_out: s.bytesOut,
                last_update: s.lastUpdate,
                rate_down_kbps: s.rateDownKbps,
                rate_up_kbps: s.rateUpKbps,
              })),
            )
            .execute();
        }
      });
      return demand;
    },
  };
}

/** Whether a table exists (plugins are optional: the RADIUS or SNMP plugin may not be loaded). */
export async function tableExists(db: Kysely<any>, table: string): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass(${table})::text as t`.execute(db);
  return rows[0]?.t != null;
}

/** Open sessions with a subscriber, heard from within `staleSeconds`. */
export async function readOpenSessions(db: Kysely<DbaDatabase>, now: Date, staleSeconds: number): Promise<OpenSession[]> {
  const since = new Date(now.getTime() - staleSeconds * 1000);
  const { rows } = await sql<{
    id: number;
    subscriber_id: string;
    nas_id: string;
    nas_identifier: string | null;
    bytes_in: number;
    bytes_out: number;
    session_start: Date;
    last_update: Date;
  }>`select id, subscriber_id, nas_id, nas_identifier, bytes_in, bytes_out, session_start, last_update
     from radius_sessions
     where session_stop is null and subscriber_id is not null and last_update >= ${since.toISOString()}::timestamptz
     order by id`.execute(db);
  return rows.map((r) => ({
    id: Number(r.id),
    subscriberId: r.subscriber_id,
    nasId: r.nas_id,
    nasIdentifier: r.nas_identifier,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    sessionStart: new Date(r.session_start),
    lastUpdate: new Date(r.last_update),
  }));
}
