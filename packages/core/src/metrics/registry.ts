/**
 * One prom-client registry for the whole server: default process metrics, the HTTP metrics the seed names,
 * and plugin metrics created through it (so `/metrics` is one scrape). Metric names follow Prometheus naming.
 */
import client, { type Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  counter<L extends string>(config: client.CounterConfiguration<L>): client.Counter<L>;
  gauge<L extends string>(config: client.GaugeConfiguration<L>): client.Gauge<L>;
  histogram<L extends string>(config: client.HistogramConfiguration<L>): client.Histogram<L>;
  summary<L extends string>(config: client.SummaryConfiguration<L>): client.Summary<L>;
}

export interface CoreMetrics {
  apiRequests: client.Counter<'method' | 'route' | 'status'>;
  apiDuration: client.Histogram<'method' | 'route' | 'status'>;
  tasksProcessed: client.Counter<'task' | 'outcome'>;
  jobRuns: client.Counter<'job' | 'outcome'>;
}

/** Latency buckets chosen around the seed's budgets (100 ms OTP, 150 ms verify, 0.5 s / 1 s alerts). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2.5, 5, 10];

export function createMetrics(): { metrics: Metrics; core: CoreMetrics } {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    counter: (config) => getOrCreate(registry, config.name, () => new client.Counter({ ...config, registers: [registry] })),
    gauge: (config) => getOrCreate(registry, config.name, () => new client.Gauge({ ...config, registers: [registry] })),
    histogram: (config) => getOrCreate(registry, config.name, () => new client.Histogram({ ...config, registers: [registry] })),
    summary: (config) => getOrCreate(registry, config.name, () => new client.Summary({ ...config, registers: [registry] })),
  };
  const core: CoreMetrics = {
    apiRequests: metrics.counter({
      name: 'api_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
    }),
    apiDuration: metrics.histogram({
      name: 'api_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
    }),
    tasksProcessed: metrics.counter({
      name: 'rgz_tasks_processed_total',
      help: 'Background task attempts by task name and outcome (done, retry, dead)',
      labelNames: ['task', 'outcome'],
    }),
    jobRuns: metrics.counter({
      name: 'rgz_job_runs_total',
      help: 'Scheduled job runs on this replica by job id and outcome (succeeded, failed, timeout)',
      labelNames: ['job', 'outcome'],
    }),
  };
  return { metrics, core };
}

/** Plugins re-run setup in tests and two plugins may share a metric name (e.g. sms_sent_total): reuse, never throw. */
function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  const existing = registry.getSingleMetric(name);
  return (existing as T | undefined) ?? create();
}
