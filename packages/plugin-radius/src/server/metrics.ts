/**
 * The plugin's Prometheus metrics. `radius_auth_success_rate` is the seed's alerting gauge (warn 95 %, crit 90 %): the
 * share of Access-Requests answered Access-Accept among those answered Accept or Reject, over a sliding window
 * (default the last 5 minutes), on this replica. It is computed from the same increments as
 * `radius_requests_total{type="access"}`, bucketed per second; across replicas use the PromQL equivalent
 * `sum(rate(radius_requests_total{type="access",result="accept"}[5m])) / sum(rate(radius_requests_total{type="access",result=~"accept|reject"}[5m]))`.
 * With no authentication in the window it reads 1 (nothing failed), so an idle night does not page anyone.
 */

import type { Metrics } from '@rgz/core';

/** Why a packet was dropped without an answer. */
export type DropReason =
  | 'unknown_nas'
  | 'malformed'
  | 'unexpected_code'
  | 'bad_authenticator'
  | 'bad_message_authenticator'
  | 'missing_message_authenticator'
  | 'proxy_state_without_message_authenticator'
  | 'duplicate_in_progress'
  | 'invalid_accounting'
  | 'store_failed'
  | 'overloaded'
  | 'internal_error';

export type RequestType = 'access' | 'accounting' | 'status';
export type RequestResult = 'accept' | 'reject' | 'ok' | 'ignored' | 'duplicate';

/** Accept/total counts per second over a window, for the success-rate gauge. */
export class SlidingRate {
  readonly #accepts: Float64Array;
  readonly #totals: Float64Array;
  readonly #stamps: Float64Array;
  readonly #now: () => number;

  constructor(windowSeconds: number, now: () => number = Date.now) {
    this.#accepts = new Float64Array(windowSeconds);
    this.#totals = new Float64Array(windowSeconds);
    this.#stamps = new Float64Array(windowSeconds).fill(-1);
    this.#now = now;
  }

  record(accepted: boolean): void {
    const second = Math.floor(this.#now() / 1000);
    const i = second % this.#stamps.length;
    if (this.#stamps[i] !== second) {
      this.#stamps[i] = second;
      this.#accepts[i] = 0;
      this.#totals[i] = 0;
    }
    this.#totals[i] = (this.#totals[i] ?? 0) + 1;
    if (accepted) this.#accepts[i] = (this.#accepts[i] ?? 0) + 1;
  }

  /** Accepts / (accepts + rejects) over the window; 1 when there were none. */
  rate(): number {
    const second = Math.floor(this.#now() / 1000);
    let accepts = 0;
    let totals = 0;
    for (let i = 0; i < this.#stamps.length; i++) {
      const stamp = this.#stamps[i] ?? -1;
      if (stamp < 0 || second - stamp >= this.#stamps.length) continue;
      accepts += this.#accepts[i] ?? 0;
      totals += this.#totals[i] ?? 0;
    }
    return totals === 0 ? 1 : accepts / totals;
  }
}

export function createRadiusMetrics(metrics: Metrics, windowSeconds: number) {
  const window = new SlidingRate(windowSeconds);
  const requests = metrics.counter({
    name: 'radius_requests_total',
    help: 'RADIUS requests answered, by type (access, accounting, status) and result (accept, reject, ok, ignored, duplicate)',
    labelNames: ['type', 'result'],
  });
  const dropped = metrics.counter({
    name: 'radius_requests_dropped_total',
    help: 'RADIUS packets dropped without an answer, by reason (unknown_nas, malformed, bad_message_authenticator, …)',
    labelNames: ['reason'],
  });
  const duration = metrics.histogram({
    name: 'radius_request_duration_seconds',
    help: 'Time from receiving a RADIUS request to sending its answer, by type',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  metrics.gauge({
    name: 'radius_auth_success_rate',
    help: `Access-Accept / (Accept + Reject) over the last ${windowSeconds} s on this replica (1 when idle)`,
    collect() {
      this.set(window.rate());
    },
  });
  const coa = metrics.counter({
    name: 'radius_coa_total',
    help: 'CoA and Disconnect requests by NAS vendor and result (ack, nak, timeout, error, disconnect_ack, disconnect_nak, disconnect_timeout, disconnect_error, skipped)',
    labelNames: ['vendor', 'result'],
  });
  const stored = metrics.counter({
    name: 'radius_accounting_records_stored_total',
    help: 'Accounting records durably stored (one per Accounting-Request processed; duplicates are not stored again)',
    labelNames: ['status'],
  });
  const batch = metrics.histogram({
    name: 'radius_accounting_batch_size',
    help: 'Accounting records per group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
  });
  return {
    request(type: RequestType, result: RequestResult, seconds?: number): void {
      requests.inc({ type, result });
      if (seconds !== undefined) duration.observe({ type }, seconds);
      if (type === 'access' && (result === 'accept' || result === 'reject')) window.record(result === 'accept');
    },
    drop(reason: DropReason): void {
      dropped.inc({ reason });
    },
    coa(vendor: string, result: string): void {
      coa.inc({ vendor, result });
    },
    stored(status: string, count = 1): void {
      stored.inc({ status }, count);
    },
    batch(size: number): void {
      batch.observe(size);
    },
    successRate: () => window.rate(),
  };
}

export type RadiusMetrics = ReturnType<typeof createRadiusMetrics>;
