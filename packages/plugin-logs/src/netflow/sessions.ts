/**
 * Who was behind an IP address or a MAC at a given time: an in-memory copy of the RADIUS accounting sessions, refreshed
 * on a timer, so that attributing a flow or a CPE line costs a map lookup, never a query per record.
 *
 * The one query this plugin runs against another plugin's table (clearly optional; `attribution.enabled: false`
 * turns it off):
 *
 *   select r.subscriber_id, s.subscriber_ref, r.nas_id, r.mac_address, r.framed_ip, r.session_start, r.session_stop
 *   from radius_sessions r left join subscribers s on s.id = r.subscriber_id
 *   where r.session_stop is null or r.session_stop > now() - lookback
 *
 * `radius_sessions` is the seed's table as `@rgz/plugin-radius` creates it (with `framed_ip` from Framed-IP-Address
 * accounting). Without that plugin (table or column missing) attribution switches itself off and retries rarely.
 * Caveat from the spec: behind NAT, the flow exporter must see subscriber addresses (export inside the NAT), else
 * only the NAS's public address appears and nothing can be attributed.
 */

import { type Kysely, type Logger, sql } from '@rgz/core';
import { normalizeMac } from '../util/mac.js';

export interface SessionInfo {
  subscriberId: string | null;
  subscriberRef: string | null;
  nasId: string;
  mac: string | null;
  ip: string | null;
  start: number;
  stop: number | null;
}

export interface SessionDirectoryOptions {
  enabled: boolean;
  refreshMs: number;
  /** Closed sessions kept this long (a late flow or log line still finds its subscriber). */
  lookbackMs: number;
  /** Upper bound on rows held in memory. */
  maxSessions: number;
}

interface Row {
  subscriber_id: string | null;
  subscriber_ref: string | null;
  nas_id: string;
  mac_address: string | null;
  framed_ip: string | null;
  session_start: Date | string;
  session_stop: Date | string | null;
}

const RETRY_MISSING_MS = 10 * 60_000;

export class SessionDirectory {
  #byIp = new Map<string, SessionInfo[]>();
  #byMac = new Map<string, SessionInfo[]>();
  #timer: NodeJS.Timeout | undefined;
  #disabledUntil = 0;
  #refreshing: Promise<void> | undefined;
  #loaded = false;

  constructor(
    private readonly db: Kysely<any>,
    private readonly log: Logger,
    private readonly options: SessionDirectoryOptions,
  ) {}

  get size(): number {
    let n = 0;
    for (const list of this.#byIp.values()) n += list.length;
    return n;
  }

  /** True once a refresh succeeded (attribution is possible). */
  get available(): boolean {
    return this.#loaded;
  }

  start(): void {
    if (!this.options.enabled || this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  byIp(ip: string, at: number): SessionInfo | undefined {
    return pick(this.#byIp.get(ip), at);
  }

  byMac(mac: string, at: number): SessionInfo | undefined {
    return pick(this.#byMac.get(mac), at);
  }

  /** Re-read the sessions; `force` also retries a table found missing earlier. */
  refresh(force = false): Promise<void> {
    if (!this.options.enabled || (!force && Date.now() < this.#disabledUntil)) return Promise.resolve();
    this.#refreshing ??= this.#load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const since = new Date(Date.now() - this.options.lookbackMs);
    let rows: Row[];
    try {
      const result = await sql<Row>`
        select r.subscriber_id::text as subscriber_id, s.subscriber_ref, r.nas_id, r.mac_address, r.framed_ip, r.session_start, r.session_stop
        from radius_sessions r left join subscribers s on s.id = r.subscriber_id
        where r.session_stop is null or r.session_stop > ${since}
        order by r.session_start desc
        limit ${this.options.maxSessions}`.execute(this.db);
      rows = result.rows;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '42P01' || code === '42703') {
        if (this.#loaded || this.#disabledUntil === 0) {
          this.log.info(
            { code },
            'radius_sessions (with framed_ip) not found: NetFlow and CPE records are not attributed to subscribers (load @rgz/plugin-radius to enable)',
          );
        }
        this.#disabledUntil = Date.now() + RETRY_MISSING_MS;
        this.#byIp.clear();
        this.#byMac.clear();
        this.#loaded = false;
        return;
      }
      this.log.warn({ err }, 'session refresh for attribution failed; keeping the previous copy');
      return;
    }
    const byIp = new Map<string, SessionInfo[]>();
    const byMac = new Map<string, SessionInfo[]>();
    for (const row of rows) {
      const info: SessionInfo = {
        subscriberId: row.subscriber_id,
        subscriberRef: row.subscriber_ref,
        nasId: row.nas_id,
        mac: normalizeMac(row.mac_address ?? '') ?? null,
        ip: row.framed_ip,
        start: new Date(row.session_start).getTime(),
        stop: row.session_stop === null ? null : new Date(row.session_stop).getTime(),
      };
      if (info.ip) push(byIp, info.ip, info);
      if (info.mac) push(byMac, info.mac, info);
    }
    this.#byIp = byIp;
    this.#byMac = byMac;
    this.#loaded = true;
  }
}

function push(map: Map<string, SessionInfo[]>, key: string, info: SessionInfo): void {
  const list = map.get(key);
  if (list) list.push(info);
  else map.set(key, [info]);
}

/** The session covering `at` (latest start wins); else the latest one that started before it and is still open. */
function pick(list: SessionInfo[] | undefined, at: number): SessionInfo | undefined {
  if (!list) return undefined;
  let best: SessionInfo | undefined;
  for (const s of list) {
    // One minute of slack each side: accounting and exporters do not share a clock.
    if (s.start - 60_000 > at) continue;
    if (s.stop !== null && s.stop + 60_000 < at) continue;
    if (!best || s.start > best.start) best = s;
  }
  return best;
}
