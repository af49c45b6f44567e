/** The plugin's Prometheus metrics (one registry with the rest of the server: `/metrics`). */
import type { Metrics } from '@rgz/core';

export function createLogsMetrics(metrics: Metrics) {
  return {
    records: metrics.counter({
      name: 'logs_records_total',
      help: 'Log records by index kind (api, radius, cpe, netflow; `syslog` before parsing) and outcome: shipped (accepted by the cluster), spooled (written to the on-disk spool), stored (local files), dead_lettered (refused by the cluster for good), dropped',
      labelNames: ['index', 'outcome'],
    }),
    dropped: metrics.counter({
      name: 'logs_records_dropped_total',
      help: 'Log records dropped, by reason: queue_full (ingest queue full under a flood), spool_full, spool_corrupt, spool_error, dead_letter_error, local_write_error, closed',
      labelNames: ['reason'],
    }),
    lines: metrics.counter({
      name: 'logs_lines_received_total',
      help: 'Lines received, by source (syslog_udp, syslog_tcp, file, netflow_tcp, netflow_udp)',
      labelNames: ['source'],
    }),
    truncated: metrics.counter({ name: 'logs_lines_truncated_total', help: 'Lines cut at the size limit, by source', labelNames: ['source'] }),
    invalidUtf8: metrics.counter({
      name: 'logs_lines_invalid_utf8_total',
      help: 'Lines with invalid UTF-8 (replaced by U+FFFD), by source',
      labelNames: ['source'],
    }),
    parsed: metrics.counter({
      name: 'logs_parsed_total',
      help: 'Syslog/raw lines by the parser that claimed them (`none`: kept raw)',
      labelNames: ['parser'],
    }),
    parserErrors: metrics.counter({
      name: 'logs_parser_errors_total',
      help: 'Parsers that threw (a parser bug; the line is kept raw)',
      labelNames: ['parser'],
    }),
    attributed: metrics.counter({
      name: 'logs_netflow_attributed_total',
      help: 'Flows by attribution result: subscriber (found in the session table), none',
      labelNames: ['result'],
    }),
    bulkRequests: metrics.counter({
      name: 'logs_bulk_requests_total',
      help: 'Bulk requests to the cluster by outcome: ok, partial (some items failed), retryable (429, 5xx, connection), rejected, too_large',
      labelNames: ['outcome'],
    }),
    bulkDuration: metrics.histogram({
      name: 'logs_bulk_duration_seconds',
      help: 'Bulk request duration in seconds',
      labelNames: [],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    clusterUp: metrics.gauge({ name: 'logs_cluster_up', help: '1 when the cluster takes bulk requests, 0 while records are spooled' }),
    queueDepth: metrics.gauge({ name: 'logs_queue_depth', help: 'Records waiting in the ingest queue' }),
    spoolBytes: metrics.gauge({ name: 'logs_spool_bytes', help: 'Bytes in the on-disk spool' }),
    spoolRecords: metrics.gauge({ name: 'logs_spool_records', help: 'Records waiting in the on-disk spool' }),
    localEvicted: metrics.counter({
      name: 'logs_local_evicted_bytes_total',
      help: 'Bytes of local log files deleted before their retention age because of the size cap',
    }),
    kernelDrops: metrics.gauge({
      name: 'logs_udp_kernel_drops',
      help: 'Datagrams dropped by the kernel before the receiver read them (receive buffer full; Linux /proc/net/udp), by listener; raise recvBufferSize / net.core.rmem_max when it grows',
      labelNames: ['listener'],
    }),
    connections: metrics.gauge({ name: 'logs_tcp_connections', help: 'Open TCP connections (syslog and flow line sockets)' }),
  };
}

export type LogsMetrics = ReturnType<typeof createLogsMetrics>;
