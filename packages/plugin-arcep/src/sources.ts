/**
 * Where the quarterly figures come from, aggregated into core's `ReportInput`:
 *
 * - revenue: core's `ledgerReader` (billing provides it) — the only money source;
 * - subscribers and sessions: the radius plugin's `radius_sessions` (and `radius_nas` for names), and incidents: the
 *   incidents plugin's `incidents_incidents`. No read contract exists for those yet, so they are read here by plain,
 *   clearly named SQL over those tables, each query guarded by `to_regclass(...)`: a missing table is reported as an
 *   absent source (and the report refused when that source is `required`), never a crash or a silent zero;
 * - sites: core's `inventoryReader` when the inventory plugin is loaded (an AP is matched to an inventory device by
 *   IP address).
 *
 * Rules (also in docs/arcep.md): a session belongs to the period it STARTED in (its whole duration and volume);
 * "active" = at least one session started in the period; "new" = active and no session before the period;
 * "identified" = active and the subscriber's phone number is a valid E.164 number (RGZ creates a subscriber only
 * after an SMS OTP to that number); an incident is listed when it was open at any time in the period.
 */
import {
  type AccessPointFigures,
  type IncidentFigures,
  type InventoryReader,
  type Kysely,
  type LedgerReader,
  type Money,
  type ReportInput,
  type ReportOperator,
  type ReportPeriod,
  RgzError,
  sql,
} from '@rgz/core';
import type { ArcepConfig } from './config.js';
import type { ArcepDatabase } from './schema.js';

export type SourceState = 'present' | 'absent';

export interface AggregatedInput {
  input: ReportInput;
  sources: { sessions: SourceState; incidents: SourceState; inventory: SourceState };
}

const fcfa = (n: bigint): Money => {
  const v = Number(n);
  if (!Number.isSafeInteger(v)) throw new RgzError('amount_too_large', `${n} FCFA is beyond 2^53`);
  return { amountMinor: v, currency: 'XOF' };
};

/** Whether a table exists (in the search path). */
export async function tableExists(db: Kysely<any>, table: string): Promise<boolean> {
  const r = await sql<{ present: boolean }>`select to_regclass(${table}) is not null as present`.execute(db);
  return r.rows[0]?.present === true;
}

const E164_SQL = '^\\+[1-9][0-9]{7,14}$';

/** Subscribers active in the period, per `radius_sessions`. */
async function subscriberFigures(db: Kysely<any>, period: ReportPeriod) {
  const r = await sql<{ active: string; new: string; identified: string }>`
    with active as (
      select distinct subscriber_id from radius_sessions
      where subscriber_id is not null and session_start >= ${period.from} and session_start < ${period.to}
    )
    select count(*)::text as active,
      count(*) filter (where not exists (
        select 1 from radius_sessions earlier where earlier.subscriber_id = a.subscriber_id and earlier.session_start < ${period.from}
      ))::text as new,
      count(*) filter (where s.msisdn ~ ${E164_SQL})::text as identified
    from active a join subscribers s on s.id = a.subscriber_id`.execute(db);
  const row = r.rows[0];
  return { active: Number(row?.active ?? 0), new: Number(row?.new ?? 0), identified: Number(row?.identified ?? 0) };
}

/** Sessions per access point (NAS), per `radius_sessions` (+ `radius_nas` for the name and address when present). */
async function accessPointFigures(db: Kysely<any>, period: ReportPeriod, withNasTable: boolean) {
  const nasJoin = withNasTable ? sql`left join radius_nas n on n.id::text = s.nas_id` : sql``;
  const nasName = withNasTable ? sql`max(n.identifier)` : sql`null::text`;
  const nasAddress = withNasTable ? sql`max(n.address)` : sql`null::text`;
  const r = await sql<{
    nas_id: string;
    nas_name: string | null;
    seen_identifier: string | null;
    address: string | null;
    seen_address: string | null;
    sessions: string;
    subscribers: string;
    seconds: string;
    bytes_up: string;
    bytes_down: string;
  }>`
    select s.nas_id, ${nasName} as nas_name, max(s.nas_identifier) as seen_identifier, ${nasAddress} as address,
      max(s.nas_ip_address) as seen_address, count(*)::text as sessions, count(distinct s.subscriber_id)::text as subscribers,
      coalesce(sum(s.session_time), 0)::text as seconds, coalesce(sum(s.bytes_in), 0)::text as bytes_up,
      coalesce(sum(s.bytes_out), 0)::text as bytes_down
    from radius_sessions s ${nasJoin}
    where s.session_start >= ${period.from} and s.session_start < ${period.to}
    group by s.nas_id order by s.nas_id`.execute(db);
  return r.rows.map((x) => ({
    id: x.nas_id,
    name: x.nas_name ?? x.seen_identifier ?? x.nas_id,
    address: x.address ?? x.seen_address,
    sessions: Number(x.sessions),
    distinctSubscribers: Number(x.subscribers),
    sessionSeconds: Number(x.seconds),
    bytesUp: BigInt(x.bytes_up),
    bytesDown: BigInt(x.bytes_down),
  }));
}

/** Incidents open at any time in the period, per `incidents_incidents`. */
async function incidentFigures(db: Kysely<any>, period: ReportPeriod): Promise<IncidentFigures[]> {
  const r = await sql<{ id: string; number: string; priority: 'P0' | 'P1' | 'P2'; title: string; opened_at: Date; resolved_at: Date | null; labels: unknown }>`
    select id::text as id, number::text as number, priority, title, opened_at, resolved_at, labels from incidents_incidents
    where opened_at < ${period.to} and (resolved_at is null or resolved_at >= ${period.from})
    order by number`.execute(db);
  return r.rows.map((x) => {
    const labels = (typeof x.labels === 'string' ? JSON.parse(x.labels) : (x.labels ?? {})) as Record<string, unknown>;
    const ap = ['nas_id', 'ap_id', 'access_point', 'nas'].map((k) => labels[k]).find((v) => typeof v === 'string') as string | undefined;
    return {
      id: `INC-${x.number.padStart(6, '0')}`,
      priority: x.priority,
      title: x.title,
      openedAt: new Date(x.opened_at),
      ...(x.resolved_at ? { resolvedAt: new Date(x.resolved_at) } : {}),
      accessPointIds: ap ? [ap] : [],
    };
  });
}

export async function aggregate(
  deps: { db: Kysely<ArcepDatabase>; ledger: LedgerReader; inventory: InventoryReader | undefined; config: ArcepConfig },
  period: ReportPeriod,
  generatedAt: Date,
): Promise<AggregatedInput> {
  const db = deps.db as unknown as Kysely<any>;
  const hasSessions = await tableExists(db, 'radius_sessions');
  const hasIncidents = await tableExists(db, 'incidents_incidents');
  if (!hasSessions && deps.config.sources.sessions === 'required') {
    throw new RgzError(
      'source_missing',
      'the ARCEP report needs the sessions of the radius plugin (table radius_sessions is absent): load @rgz/plugin-radius, or set sources.sessions: optional to report without sessions',
      { status: 422 },
    );
  }
  if (!hasIncidents && deps.config.sources.incidents === 'required') {
    throw new RgzError(
      'source_missing',
      'the ARCEP report needs the incidents of the incidents plugin (table incidents_incidents is absent): load @rgz/plugin-incidents, or set sources.incidents: optional',
      { status: 422 },
    );
  }

  const subscribers = hasSessions ? await subscriberFigures(db, period) : { active: 0, new: 0, identified: 0 };
  const rawAps = hasSessions ? await accessPointFigures(db, period, await tableExists(db, 'radius_nas')) : [];

  // Sites from the inventory, matched by the AP's address.
  const siteByAddress = new Map<string, { id: string; name: string }>();
  if (deps.inventory && rawAps.length) {
    const [devices, sites] = await Promise.all([deps.inventory.listDevices({ kinds: ['access_point', 'gateway'] }), deps.inventory.listSites()]);
    const siteName = new Map(sites.map((s) => [s.id, s.name]));
    for (const d of devices) if (d.siteId && siteName.has(d.siteId)) siteByAddress.set(d.address, { id: d.siteId, name: siteName.get(d.siteId) as string });
  }
  const accessPoints: AccessPointFigures[] = rawAps.map((a) => {
    const site = a.address ? siteByAddress.get(a.address) : undefined;
    return {
      id: a.id,
      name: a.name,
      ...(site ? { site } : {}),
      sessions: a.sessions,
      distinctSubscribers: a.distinctSubscribers,
      bytesUp: a.bytesUp,
      bytesDown: a.bytesDown,
      sessionSeconds: a.sessionSeconds,
    };
  });

  const incidents = hasIncidents ? await incidentFigures(db, period) : [];

  const rev = await deps.ledger.revenue(period.from, period.to);
  const refundsLine = rev.byKind.find((k) => k.key === 'refund');
  const refunds = refundsLine ? -refundsLine.gross : 0n;
  const resellerIds = rev.byReseller.map((l) => l.key).filter((k): k is string => k !== null);
  const names = new Map(
    resellerIds.length
      ? (await deps.db.selectFrom('resellers').select(['id', 'name']).where('id', 'in', resellerIds).execute()).map((r) => [r.id, r.name])
      : [],
  );
  const count = (l: { countsByKind: Readonly<Record<string, number>> }) =>
    Object.entries(l.countsByKind)
      .filter(([k]) => k !== 'refund')
      .reduce((s, [, n]) => s + n, 0);
  const byReseller = rev.byReseller
    .map((l) => ({
      resellerId: l.key,
      reseller: l.key ? (names.get(l.key) ?? l.key) : 'Ventes directes (sans revendeur)',
      amount: fcfa(l.gross),
      count: count(l),
    }))
    .sort((a, b) => (a.reseller < b.reseller ? -1 : a.reseller > b.reseller ? 1 : 0));
  const operator: ReportOperator = {
    legalName: deps.config.operator.legalName,
    country: deps.config.operator.country,
    ...(deps.config.operator.licenceNumber ? { licenceNumber: deps.config.operator.licenceNumber } : {}),
    ...(deps.config.operator.taxId ? { taxId: deps.config.operator.taxId } : {}),
    ...(deps.config.operator.address ? { address: deps.config.operator.address } : {}),
    ...(deps.config.operator.contactEmail ? { contactEmail: deps.config.operator.contactEmail } : {}),
  };
  const input: ReportInput = {
    period,
    operator,
    generatedAt,
    subscribers,
    accessPoints,
    revenue: {
      gross: fcfa(rev.total.gross + refunds),
      refunds: fcfa(refunds),
      providerFees: fcfa(rev.total.providerFee),
      byMethod: rev.byProvider.map((l) => ({ method: l.key ?? 'especes', amount: fcfa(l.gross), count: count(l) })),
      byPlan: rev.byPlan.map((l) => ({ plan: l.key ?? 'inconnu', amount: fcfa(l.gross), count: count(l) })),
      byReseller,
    },
    incidents,
  };
  return {
    input,
    sources: { sessions: hasSessions ? 'present' : 'absent', incidents: hasIncidents ? 'present' : 'absent', inventory: deps.inventory ? 'present' : 'absent' },
  };
}

/** `ReportInput` as JSON (bigints as strings, dates ISO), for the audit copy kept with each report. */
export function inputToJson(input: ReportInput): string {
  return JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
