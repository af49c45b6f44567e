/**
 * @rgz/plugin-logs: the `logs` plugin — the seed's Flux 5 (centralised logs) without Logstash in the path.
 * A syslog receiver (RFC 3164/5424, UDP and TCP) whose lines go through the `LogParsers` extension point (vendor
 * parsers are separate packages), goflow2 JSON flow ingest with subscriber attribution, and the server's own JSON log
 * followed from a file; records go to Elasticsearch/OpenSearch through `_bulk` (batching, back-pressure, retries, a
 * bounded on-disk spool, dead letters) into `logstash-{api,radius,cpe,netflow}-YYYY.MM.DD`, or — the embedded
 * default — to local rotating files that `rgz logs search` and `GET /api/logs/search` read. See docs/logs.md.
 */

import { definePlugin, LogParsers, token } from '@rgz/core';
import { logsCommand } from './cli.js';
import { configSchema } from './config.js';
import { registerRoutes } from './http/routes.js';
import { createLogsMetrics } from './metrics.js';
import { type LogsHandle, LogsService } from './service.js';

export { configSchema, type LogsConfig } from './config.js';
export { type Flow, nfdumpJsonRecords, normalizeFlow } from './netflow/flows.js';
export { INDEX_KINDS, type IndexKind, indexName } from './output/records.js';
export type { SearchHit, SearchQuery, SearchResult } from './output/search.js';
export { DAILY_POLICY, ilmPolicy, indexTemplate, ismPolicy, mappings, ROLLOVER_POLICY } from './output/templates.js';
export type { LogsHandle, LogsStatus } from './service.js';
export { parseSyslog } from './syslog/envelope.js';
export { SyslogFramer } from './syslog/framing.js';

/** The running service: status, flush, search, direct ingest (tests, benchmarks, other plugins). */
export const logsService = token<LogsHandle>('logs.service');

export default definePlugin({
  name: 'logs',
  version: '0.1.0',
  core: '^0.1.0',
  description:
    'Central logs: syslog receiver and vendor parsers, goflow2 NetFlow, the API log; Elasticsearch/OpenSearch bulk shipping with an on-disk spool, or local files',
  config: configSchema,
  provides: [logsService],
  setup(ctx) {
    const metrics = createLogsMetrics(ctx.metrics);
    // Registries are read after every setup: the service is built lazily, its parsers collected at start.
    const service = new LogsService({ config: ctx.config, log: ctx.log, db: ctx.db, metrics, parsers: () => ctx.collect(LogParsers) });
    ctx.provide(logsService, service);
    registerRoutes(ctx.router(), () => service, ctx.config.search.maxResults);
    ctx.command(logsCommand(() => service, ctx.config.search.maxResults));
    // Listeners, tailers and shipping only in a serving process: a CLI command beside the server searches without
    // binding its ports or writing its data directory.
    ctx.onServe(() => service.start());
    ctx.onStop(() => service.stop());
  },
});
