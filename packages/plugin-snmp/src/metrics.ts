/**
 * What the SNMP plugin puts on /metrics. Radio and throughput gauges are aggregated per site, reseller and device
 * kind — never per CPE — so the series count grows with sites, not subscribers (README: cardinality). Each poll run
 * replaces the previous values (`reset()` then set), so a removed site's series disappear.
 */
import type { Metrics } from '@rgz/core';

type Gauge = ReturnType<Metrics['gauge']>;
type Counter = ReturnType<Metrics['counter']>;

export interface DeviceReading {
  site: string;
  reseller: string;
  kind: string;
  up: boolean;
  signalDbm?: number | undefined;
  noiseDbm?: number | undefined;
  snrDb?: number | undefined;
  ccqPercent?: number | undefined;
  rxBps?: number | undefined;
  txBps?: number | undefined;
}

export interface SnmpMetrics {
  signal: Gauge;
  noise: Gauge;
  snr: Gauge;
  ccq: Gauge;
  rx: Gauge;
  tx: Gauge;
  up: Gauge;
  devices: Gauge;
  pollDuration: Gauge;
  pollDevices: Gauge;
  polls: Counter;
}

const SITE_LABELS = ['site', 'reseller', 'kind', 'stat'] as const;

export function createSnmpMetrics(metrics: Metrics): SnmpMetrics {
  const gauge = (name: string, help: string, labelNames: readonly string[] = SITE_LABELS) => metrics.gauge({ name, help, labelNames: [...labelNames] });
  return {
    signal: gauge('cpe_signal_dbm', 'Received signal of the devices of a site, dBm, last poll; stat = min | avg | max over the devices that answered'),
    noise: gauge('cpe_noise_dbm', 'Noise floor of the devices of a site, dBm, last poll; stat = min | avg | max'),
    snr: gauge('cpe_snr_db', 'Signal-to-noise ratio of the devices of a site, dB, last poll; stat = min | avg | max'),
    ccq: gauge('cpe_ccq_percent', 'Link quality (CCQ or the vendor equivalent) of the devices of a site, %, last poll; stat = min | avg | max'),
    rx: gauge('cpe_rx_bps', "Received throughput on the devices' primary interface, bit/s, over the last poll interval; stat = sum | avg | max"),
    tx: gauge('cpe_tx_bps', "Sent throughput on the devices' primary interface, bit/s, over the last poll interval; stat = sum | avg | max"),
    up: gauge('cpe_up', 'Devices of a site that answered the last poll', ['site', 'reseller', 'kind']),
    devices: gauge('cpe_devices', 'Devices of a site polled in the last run', ['site', 'reseller', 'kind']),
    pollDuration: gauge('snmp_poll_duration_seconds', 'Duration of the last complete poll run (request, parse, store, metrics), seconds', []),
    pollDevices: gauge('snmp_poll_devices', 'Devices polled by the last run', []),
    polls: metrics.counter({
      name: 'snmp_polls_total',
      help: 'Device polls by result (ok, timeout, malformed, auth, error, no_profile)',
      labelNames: ['result'],
    }),
  };
}

interface Acc {
  count: number;
  sum: number;
  min: number;
  max: number;
}

const add = (acc: Acc | undefined, v: number | undefined): Acc | undefined =>
  v === undefined || !Number.isFinite(v)
    ? acc
    : acc
      ? { count: acc.count + 1, sum: acc.sum + v, min: Math.min(acc.min, v), max: Math.max(acc.max, v) }
      : { count: 1, sum: v, min: v, max: v };

/** Replace the per-site gauges with the aggregate of this run's readings. */
export function publishSiteMetrics(m: SnmpMetrics, readings: readonly DeviceReading[]): number {
  const groups = new Map<
    string,
    { labels: { site: string; reseller: string; kind: string }; up: number; devices: number; acc: Record<string, Acc | undefined> }
  >();
  for (const r of readings) {
    const key = `${r.site}\u0000${r.reseller}\u0000${r.kind}`;
    let g = groups.get(key);
    if (!g) {
      g = { labels: { site: r.site, reseller: r.reseller, kind: r.kind }, up: 0, devices: 0, acc: {} };
      groups.set(key, g);
    }
    g.devices++;
    if (!r.up) continue;
    g.up++;
    g.acc.signal = add(g.acc.signal, r.signalDbm);
    g.acc.noise = add(g.acc.noise, r.noiseDbm);
    g.acc.snr = add(g.acc.snr, r.snrDb);
    g.acc.ccq = add(g.acc.ccq, r.ccqPercent);
    g.acc.rx = add(g.acc.rx, r.rxBps);
    g.acc.tx = add(g.acc.tx, r.txBps);
  }
  for (const gauge of [m.signal, m.noise, m.snr, m.ccq, m.rx, m.tx, m.up, m.devices]) gauge.reset();
  for (const g of groups.values()) {
    m.up.set(g.labels, g.up);
    m.devices.set(g.labels, g.devices);
    const quality: Array<[Gauge, Acc | undefined]> = [
      [m.signal, g.acc.signal],
      [m.noise, g.acc.noise],
      [m.snr, g.acc.snr],
      [m.ccq, g.acc.ccq],
    ];
    for (const [gauge, acc] of quality) {
      if (!acc) continue;
      gauge.set({ ...g.labels, stat: 'min' }, acc.min);
      gauge.set({ ...g.labels, stat: 'avg' }, Math.round((acc.sum / acc.count) * 100) / 100);
      gauge.set({ ...g.labels, stat: 'max' }, acc.max);
    }
    for (const [gauge, acc] of [
      [m.rx, g.acc.rx],
      [m.tx, g.acc.tx],
    ] as Array<[Gauge, Acc | undefined]>) {
      if (!acc) continue;
      gauge.set({ ...g.labels, stat: 'sum' }, Math.round(acc.sum));
      gauge.set({ ...g.labels, stat: 'avg' }, Math.round(acc.sum / acc.count));
      gauge.set({ ...g.labels, stat: 'max' }, Math.round(acc.max));
    }
  }
  return groups.size;
}
