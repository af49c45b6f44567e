/**
 * The poll run (seed flow 7, every 5 minutes): every enabled device of the inventory, `concurrency` at a time, each
 * with its own session and deadline; rates from the counters kept in snmp_device_state; rows written in batches while
 * the poll goes on; per-site metrics published at the end. Also used for "poll this device now" (API), without
 * touching the metrics.
 */
import { setMaxListeners } from 'node:events';
import type { CpeProfile, CpeSample, InventoryDevice, InventoryReader, InventorySite, Kysely, Logger } from '@rgz/core';
import { RgzError } from '@rgz/core';
import type { SnmpConfig } from './config.js';
import { type CounterState, computeRates, primaryInterface } from './counters.js';
import { type DeviceReading, publishSiteMetrics, type SnmpMetrics } from './metrics.js';
import { POLL_RESULTS, type PollOutcome, type PollResultKind, pollDevice, runPool } from './poller.js';
import type { SnmpDatabase } from './schema.js';
import { ensurePartitions } from './storage.js';

export interface SnmpContext {
  name: string;
  config: SnmpConfig;
  db: Kysely<SnmpDatabase>;
  log: Logger;
  metrics: SnmpMetrics;
  inventory(): InventoryReader | undefined;
  profiles(): ReadonlyMap<string, CpeProfile>;
  /** Partitions known to exist up to (exclusive) this time; spares the DDL check on most runs. */
  partitionsReadyUntil?: number;
}

export interface PollSummary {
  devices: number;
  results: Record<PollResultKind, number>;
  durationMs: number;
  /** Devices that had a throughput this run. */
  withRates: number;
  requests: number;
  sites: number;
  /** Where the time went: reading inventory and state, polling, and waiting for the last rows to be written. */
  phasesMs: { prepare: number; poll: number; storeTail: number; writing: number };
}

interface StateRow {
  device_id: string;
  detected_profile: string | null;
  detected_at: Date | null;
  consecutive_failures: number;
  last_ok_at: Date | null;
  counters: unknown;
}

const LOOPBACK = /^(lo\d*|loopback.*)$/i;
const DAY_MS = 86_400_000;

/** `items` with those matching `isRare` evenly interleaved among the others (stable within each group). */
export function spreadOut<T>(items: readonly T[], isRare: (item: T) => boolean): T[] {
  const rare = items.filter(isRare);
  const common = items.filter((i) => !isRare(i));
  if (rare.length === 0 || common.length === 0) return [...items];
  const out: T[] = [];
  let r = 0;
  for (let c = 0; c < common.length; c++) {
    // Emit rare items so that after common item c, about (c + 1) / common.length of them are out.
    while (r < rare.length && r < Math.round(((c + 1) * rare.length) / common.length)) out.push(rare[r++] as T);
    out.push(common[c] as T);
  }
  while (r < rare.length) out.push(rare[r++] as T);
  return out;
}

/** JSON with bigints as decimal strings (Counter64 values do not fit a double). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export async function runPoll(ctx: SnmpContext, options: { signal?: AbortSignal; deviceIds?: string[]; publish?: boolean } = {}): Promise<PollSummary> {
  const started = performance.now();
  const reader = ctx.inventory();
  if (!reader) throw new RgzError('inventory_missing', `plugin "${ctx.name}" needs the inventory plugin (@rgz/plugin-inventory) to know what to poll`);
  const { config } = ctx;
  const devices = await reader.listDevices({ enabled: true, kinds: config.kinds, ...(options.deviceIds ? { ids: options.deviceIds } : {}) });
  const sites = new Map((await reader.listSites()).map((s) => [s.id, s]));
  const slugs = new Map((await ctx.db.selectFrom('resellers').select(['id', 'slug']).execute()).map((r) => [r.id, r.slug]));

  const now = Date.now();
  // Today and tomorrow at least, so a run that crosses midnight UTC still has its partition.
  if (!ctx.partitionsReadyUntil || ctx.partitionsReadyUntil < now + DAY_MS) {
    await ensurePartitions(ctx.db, new Date(now), config.partitionsAhead + 1);
    ctx.partitionsReadyUntil = Math.floor(now / DAY_MS) * DAY_MS + (config.partitionsAhead + 1) * DAY_MS;
  }

  const states = new Map<string, StateRow>();
  const ids = devices.map((d) => d.id);
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await ctx.db
      .selectFrom('snmp_device_state')
      .select(['device_id', 'detected_profile', 'detected_at', 'consecutive_failures', 'last_ok_at', 'counters'])
      .where('device_id', 'in', ids.slice(i, i + 5000))
      .execute();
    for (const r of rows) states.set(r.device_id, r as StateRow);
  }

  const profiles = ctx.profiles();
  if (profiles.size === 0) ctx.log.warn('no CpeProfile is loaded: every device is reported no_profile (enable genericProfile or load a cpe-* plugin)');
  const writer = new BatchWriter(ctx.db);
  const readings: DeviceReading[] = [];
  const results = Object.fromEntries(POLL_RESULTS.map((r) => [r, 0])) as Record<PollResultKind, number>;
  let withRates = 0;
  let requests = 0;
  const redetectMs = config.redetectHours * 3_600_000;
  // Each in-flight poll listens for the abort (to close its session): up to `concurrency` listeners at once.
  if (options.signal) setMaxListeners(config.concurrency + 16, options.signal);

  // Devices that failed last time are spread evenly through the run: bunched together they would hold every worker
  // in a timeout at once while the answering ones wait; spread out, they wait alongside them (waiting costs no CPU).
  const pollStart = performance.now();
  const ordered = spreadOut(devices, (d) => (states.get(d.id)?.consecutive_failures ?? 0) > 0);
  await runPool(
    ordered,
    config.concurrency,
    async (device) => {
      const prev = states.get(device.id);
      const cached =
        device.profile === 'auto' && prev?.detected_profile && prev.detected_at && now - new Date(prev.detected_at).getTime() < redetectMs
          ? prev.detected_profile
          : undefined;
      const outcome = await pollDevice(
        { id: device.id, address: device.address, port: device.port, snmp: device.snmp, profile: device.profile },
        profiles,
        cached,
        {
          timeoutMs: config.timeoutMs,
          retries: (prev?.consecutive_failures ?? 0) > 0 ? Math.min(config.retriesWhenDown, config.retries) : config.retries,
          deviceTimeoutMs: config.deviceTimeoutSeconds * 1000,
          varbindsPerRequest: config.varbindsPerRequest,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      const site = device.siteId ? sites.get(device.siteId) : undefined;
      const built = buildRecords(outcome, device, site, prev, config);
      writer.push(built);
      readings.push({
        ...built.reading,
        site: site?.name ?? 'none',
        reseller: (device.resellerId && slugs.get(device.resellerId)) || 'none',
        kind: device.kind,
      });
      results[outcome.result]++;
      requests += outcome.requests;
      if (built.sample.rx_bps !== null || built.sample.tx_bps !== null) withRates++;
    },
    options.signal,
  );
  // Once per result kind rather than a labelled lookup per device.
  for (const kind of POLL_RESULTS) if (results[kind] > 0) ctx.metrics.polls.inc({ result: kind }, results[kind]);
  const polledAt = performance.now();
  await writer.close();
  const storedAt = performance.now();

  let groups = 0;
  if (options.publish !== false) {
    groups = publishSiteMetrics(ctx.metrics, readings);
    ctx.metrics.pollDevices.set(devices.length);
    ctx.metrics.pollDuration.set((performance.now() - started) / 1000);
  }
  const summary: PollSummary = {
    devices: devices.length,
    results,
    durationMs: Math.round(performance.now() - started),
    withRates,
    requests,
    sites: groups,
    phasesMs: {
      prepare: Math.round(pollStart - started),
      poll: Math.round(polledAt - pollStart),
      storeTail: Math.round(storedAt - polledAt),
      writing: Math.round(writer.busyMs),
    },
  };
  ctx.log.info(summary, 'snmp poll finished');
  return summary;
}

export interface BuiltRecords {
  sample: {
    device_id: string;
    polled_at: Date;
    site_id: string | null;
    reseller_id: string | null;
    kind: string;
    profile: string | null;
    result: string;
    error: string | null;
    duration_ms: number;
    uptime_seconds: number | null;
    signal_dbm: number | null;
    noise_dbm: number | null;
    snr_db: number | null;
    ccq_percent: number | null;
    capacity_percent: number | null;
    airtime_percent: number | null;
    tx_rate_bps: number | null;
    rx_rate_bps: number | null;
    station_count: number | null;
    if_index: number | null;
    rx_bps: number | null;
    tx_bps: number | null;
    cpu_percent: number | null;
    temperature_c: number | null;
    counter_reset: boolean;
  };
  interfaces: Array<{
    device_id: string;
    polled_at: Date;
    if_index: number;
    reseller_id: string | null;
    name: string | null;
    oper_status: string | null;
    counter_bits: number;
    in_octets: string | null;
    out_octets: string | null;
    in_bps: number | null;
    out_bps: number | null;
    in_errors: number | null;
    out_errors: number | null;
    in_discards: number | null;
    speed_bps: number | null;
  }>;
  state: {
    device_id: string;
    reseller_id: string | null;
    site_id: string | null;
    kind: string;
    profile: string | null;
    detected_profile: string | null;
    detected_at: Date | null;
    result: string;
    error: string | null;
    polled_at: Date;
    last_ok_at: Date | null;
    consecutive_failures: number;
    uptime_seconds: number | null;
    rx_bps: number | null;
    tx_bps: number | null;
    counters: string;
    sample: string | null;
  };
  reading: Omit<DeviceReading, 'site' | 'reseller' | 'kind'>;
}

const n = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

/** One poll outcome → the rows to write and the reading for the metrics. Pure. */
export function buildRecords(
  outcome: PollOutcome,
  device: InventoryDevice,
  site: InventorySite | undefined,
  prev: Pick<StateRow, 'detected_profile' | 'detected_at' | 'consecutive_failures' | 'last_ok_at' | 'counters'> | undefined,
  config: Pick<SnmpConfig, 'maxRateFactor' | 'maxGapSeconds32'> & { storeInterfaces?: SnmpConfig['storeInterfaces'] },
): BuiltRecords {
  const sample: CpeSample | undefined = outcome.result === 'ok' ? outcome.sample : undefined;
  const prevCounters =
    prev?.counters && typeof prev.counters === 'object' && 'polledAt' in (prev.counters as object) ? (prev.counters as CounterState) : undefined;
  const rates = sample ? computeRates(prevCounters, sample, { maxRateFactor: config.maxRateFactor, maxGapSeconds32: config.maxGapSeconds32 }) : undefined;
  const primary = sample ? primaryInterface(sample) : undefined;
  const rate = primary ? rates?.rates.get(primary.ifIndex) : undefined;
  const radio = sample?.radios.find((r) => r.signalDbm !== undefined) ?? sample?.radios[0];
  const ok = outcome.result === 'ok';
  const failures = ok ? 0 : (prev?.consecutive_failures ?? 0) + 1;
  // After three failures in a row a detected profile is forgotten: the next poll detects again (device replaced?).
  const keepDetection = outcome.result !== 'no_profile' && failures < 3;
  const detectedProfile = outcome.detected && outcome.profileId ? outcome.profileId : keepDetection ? (prev?.detected_profile ?? null) : null;
  const detectedAt = outcome.detected && outcome.profileId ? outcome.polledAt : keepDetection ? (prev?.detected_at ?? null) : null;

  const rx = n(rate?.inBps ?? undefined);
  const tx = n(rate?.outBps ?? undefined);
  return {
    sample: {
      device_id: device.id,
      polled_at: outcome.polledAt,
      site_id: device.siteId,
      reseller_id: device.resellerId ?? site?.resellerId ?? null,
      kind: device.kind,
      profile: outcome.profileId ?? null,
      result: outcome.result,
      error: outcome.error?.slice(0, 500) ?? null,
      duration_ms: outcome.durationMs,
      uptime_seconds: n(sample?.uptimeSeconds),
      signal_dbm: n(radio?.signalDbm),
      noise_dbm: n(radio?.noiseFloorDbm),
      snr_db: n(radio?.snrDb),
      ccq_percent: n(radio?.linkQualityPercent),
      capacity_percent: n(radio?.capacityPercent),
      airtime_percent: n(radio?.airtimePercent),
      tx_rate_bps: n(radio?.txRateBps),
      rx_rate_bps: n(radio?.rxRateBps),
      station_count: n(radio?.stationCount),
      if_index: primary?.ifIndex ?? null,
      rx_bps: rx,
      tx_bps: tx,
      cpu_percent: n(sample?.cpuLoadPercent),
      temperature_c: n(sample?.temperatureC),
      counter_reset: rates?.reset ?? false,
    },
    interfaces: (sample?.interfaces ?? [])
      .filter((i) =>
        config.storeInterfaces === 'none'
          ? false
          : config.storeInterfaces === 'all'
            ? !LOOPBACK.test(i.name ?? '') && (i.operStatus === undefined || i.operStatus === 'up' || i.operStatus === 'dormant')
            : i.ifIndex === primary?.ifIndex,
      )
      .map((i) => {
        const r = rates?.rates.get(i.ifIndex);
        return {
          device_id: device.id,
          polled_at: outcome.polledAt,
          if_index: i.ifIndex,
          reseller_id: device.resellerId ?? site?.resellerId ?? null,
          name: i.name ?? null,
          oper_status: i.operStatus ?? null,
          counter_bits: i.counterBits,
          in_octets: i.inOctets?.toString() ?? null,
          out_octets: i.outOctets?.toString() ?? null,
          in_bps: n(r?.inBps ?? undefined),
          out_bps: n(r?.outBps ?? undefined),
          in_errors: n(i.inErrors),
          out_errors: n(i.outErrors),
          in_discards: n(i.inDiscards),
          speed_bps: n(i.speedBps),
        };
      }),
    state: {
      device_id: device.id,
      reseller_id: device.resellerId ?? site?.resellerId ?? null,
      site_id: device.siteId,
      kind: device.kind,
      profile: outcome.profileId ?? null,
      detected_profile: detectedProfile,
      detected_at: detectedAt,
      result: outcome.result,
      error: outcome.error?.slice(0, 500) ?? null,
      polled_at: outcome.polledAt,
      last_ok_at: ok ? outcome.polledAt : (prev?.last_ok_at ?? null),
      consecutive_failures: failures,
      uptime_seconds: n(sample?.uptimeSeconds),
      rx_bps: rx,
      tx_bps: tx,
      // A failed poll keeps the previous counters: the next answer is compared with the last one known.
      counters: toJson(rates?.state ?? prevCounters ?? {}),
      sample: sample ? toJson(sample) : null,
    },
    reading: {
      up: ok,
      signalDbm: radio?.signalDbm,
      noiseDbm: radio?.noiseFloorDbm,
      snrDb: radio?.snrDb,
      ccqPercent: radio?.linkQualityPercent,
      ...(rx !== null ? { rxBps: rx } : {}),
      ...(tx !== null ? { txBps: tx } : {}),
    },
  };
}

/** Rows are written in batches while polling goes on; one flush at a time; the first error fails the run at `close`. */
class BatchWriter {
  private pending: BuiltRecords[] = [];
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** Time spent writing (concurrently with polling, except the tail). */
  busyMs = 0;

  constructor(
    private readonly db: Kysely<SnmpDatabase>,
    private readonly batch = 500,
  ) {}

  push(records: BuiltRecords): void {
    this.pending.push(records);
    if (this.pending.length >= this.batch) this.flush();
  }

  private flush(): void {
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return;
    this.chain = this.chain
      .then(() => this.write(rows))
      .catch((err) => {
        this.failure ??= err;
      });
  }

  async close(): Promise<void> {
    this.flush();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  private async write(rows: BuiltRecords[]): Promise<void> {
    const t0 = performance.now();
    try {
      await this.writeRows(rows);
    } finally {
      this.busyMs += performance.now() - t0;
    }
  }

  private async writeRows(rows: BuiltRecords[]): Promise<void> {
    await this.db
      .insertInto('snmp_samples')
      .values(rows.map((r) => r.sample))
      .onConflict((oc) => oc.columns(['device_id', 'polled_at']).doNothing())
      .execute();
    {
      const ifs = rows.flatMap((r) => r.interfaces);
      for (let i = 0; i < ifs.length; i += 1000) {
        await this.db
          .insertInto('snmp_interface_samples')
          .values(ifs.slice(i, i + 1000))
          .onConflict((oc) => oc.columns(['device_id', 'polled_at', 'if_index']).doNothing())
          .execute();
      }
    }
    await this.db
      .insertInto('snmp_device_state')
      .values(rows.map((r) => r.state))
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet((eb) => ({
          reseller_id: eb.ref('excluded.reseller_id'),
          site_id: eb.ref('excluded.site_id'),
          kind: eb.ref('excluded.kind'),
          profile: eb.ref('excluded.profile'),
          detected_profile: eb.ref('excluded.detected_profile'),
          detected_at: eb.ref('excluded.detected_at'),
          result: eb.ref('excluded.result'),
          error: eb.ref('excluded.error'),
          polled_at: eb.ref('excluded.polled_at'),
          last_ok_at: eb.ref('excluded.last_ok_at'),
          consecutive_failures: eb.ref('excluded.consecutive_failures'),
          uptime_seconds: eb.ref('excluded.uptime_seconds'),
          rx_bps: eb.ref('excluded.rx_bps'),
          tx_bps: eb.ref('excluded.tx_bps'),
          counters: eb.ref('excluded.counters'),
          sample: eb.ref('excluded.sample'),
        })),
      )
      .execute();
  }
}
