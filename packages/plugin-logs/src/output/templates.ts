/**
 * Index templates, explicit mappings and lifecycle policies for the four indices — the single source of truth.
 * `deploy/elasticsearch/` holds these objects rendered as JSON files for operators (a test keeps them equal), and the
 * plugin installs them at start when `cluster.installTemplates` is on.
 *
 * Lifecycle (seed, Flux 5): hot 0–30 days with rollover at 60 GB, warm 30–300 days read-only + force merge +
 * compression, optional cold from 300 days, delete at 365 days.
 * - `rgz-logs` is that policy exactly, rollover included. Rollover only works on a write alias or a data stream.
 * - `rgz-logs-daily` is the same phases and ages without the rollover action, for the seed's daily indices
 *   `logstash-<kind>-YYYY.MM.DD` that the plugin (and deploy/logstash) writes: Elasticsearch refuses to roll over an
 *   index that has no rollover alias ("setting [index.lifecycle.rollover_alias] for index [...] is empty or not
 *   defined") and the index would sit in the hot phase's error step forever, never reaching warm or delete. A daily
 *   index is already "rolled over" by its date; at the seed's volume (40–60 GB a year) one day is far below 60 GB.
 * Mappings are `dynamic: false`: known fields are typed (ip, keyword, date, numbers), unknown ones are kept in
 * `_source` but not indexed, so a surprising field never causes a mapping conflict.
 */

import type { IndexKind } from './records.js';
import { INDEX_KINDS } from './records.js';

export type FieldType = 'date' | 'keyword' | 'text' | 'ip' | 'long' | 'integer' | 'short' | 'byte' | 'float' | 'boolean' | 'object';

const KW = 'keyword';

/** Fields every syslog-derived document (radius, cpe) may carry. */
const SYSLOG_FIELDS: Record<string, FieldType> = {
  '@timestamp': 'date',
  event_time: 'date',
  clock_skew: 'boolean',
  message: 'text',
  kind: KW,
  severity: 'byte',
  facility: 'byte',
  host: KW,
  sender_ip: 'ip',
  app: KW,
  proc_id: KW,
  msg_id: KW,
  syslog_format: KW,
  transport: KW,
  parser: KW,
  service: KW,
  user: KW,
  mac: KW,
  subject_ip: 'ip',
  subscriber_id: KW,
  subscriber_ref: KW,
  nas_id: KW,
  nas: KW,
  request_id: KW,
  truncated: 'boolean',
  original_bytes: 'long',
  invalid_utf8: 'boolean',
  tags: KW,
  fields: 'object',
  structured_data: 'object',
  invalid_fields: 'object',
  // Promoted from parser fields (see PROMOTED).
  result: KW,
  reason: KW,
  module: KW,
  client: KW,
  nas_port: KW,
  calling_station_id: KW,
  interface: KW,
  bssid: KW,
  event: KW,
  role: KW,
  vlan: 'integer',
  signal_dbm: 'short',
  noise_dbm: 'short',
  txrate_kbps: 'long',
  reason_code: 'integer',
  status_code: 'integer',
  aid: 'integer',
};

export const FIELD_TYPES: Record<IndexKind, Record<string, FieldType>> = {
  api: {
    '@timestamp': 'date',
    timestamp: 'date',
    level: KW,
    message: 'text',
    service: KW,
    request_id: KW,
    plugin: KW,
    component: KW,
    event: KW,
    method: KW,
    route: KW,
    status: KW,
    duration_ms: 'float',
    client_ip: 'ip',
    subscriber_id: KW,
    subscriber_ref: KW,
    user: KW,
    mac: KW,
    nas_id: KW,
    nas: KW,
    result: KW,
    reason: KW,
    hostname: KW,
    pid: 'long',
    err: 'object',
    tags: KW,
    truncated: 'boolean',
    original_bytes: 'long',
    invalid_utf8: 'boolean',
    invalid_fields: 'object',
    log_file: KW,
  },
  radius: { ...SYSLOG_FIELDS, level: KW, method: KW, mode: KW, nas_address: 'ip', plugin: KW },
  cpe: { ...SYSLOG_FIELDS },
  netflow: {
    '@timestamp': 'date',
    source_ip: 'ip',
    dest_ip: 'ip',
    bytes: 'long',
    packets: 'long',
    bytes_raw: 'long',
    packets_raw: 'long',
    sampling_rate: 'long',
    duration_ms: 'long',
    protocol: KW,
    source_port: 'integer',
    dest_port: 'integer',
    flow_type: KW,
    input_format: KW,
    etype: KW,
    sampler_address: 'ip',
    src_mac: KW,
    dst_mac: KW,
    in_if: 'long',
    out_if: 'long',
    tcp_flags: 'integer',
    src_as: 'long',
    dst_as: 'long',
    flow_start: 'date',
    flow_end: 'date',
    time_received: 'date',
    subscriber_id: KW,
    subscriber_ref: KW,
    subscriber_ip: 'ip',
    direction: KW,
    mac: KW,
    nas_id: KW,
    service: KW,
    message: 'text',
    tags: KW,
    truncated: 'boolean',
    original_bytes: 'long',
    invalid_utf8: 'boolean',
    invalid_fields: 'object',
  },
};

/** Parser `fields` copied to the top level of radius/cpe documents (typed in the mapping). */
export const PROMOTED: readonly string[] = [
  'result',
  'reason',
  'module',
  'client',
  'nas_port',
  'calling_station_id',
  'nas_id',
  'interface',
  'bssid',
  'event',
  'role',
  'vlan',
  'signal_dbm',
  'noise_dbm',
  'txrate_kbps',
  'reason_code',
  'status_code',
  'aid',
];

function property(type: FieldType): Record<string, unknown> {
  switch (type) {
    case 'object':
      return { type: 'object', enabled: false };
    case 'text':
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
    case 'keyword':
      return { type: 'keyword', ignore_above: 1024 };
    default:
      return { type };
  }
}

export function mappings(kind: IndexKind): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(FIELD_TYPES[kind]).sort(([a], [b]) => a.localeCompare(b))) properties[name] = property(type);
  return { dynamic: false, date_detection: false, properties };
}

export type TemplateFlavor = 'elasticsearch' | 'opensearch';

export const DAILY_POLICY = 'rgz-logs-daily';
export const ROLLOVER_POLICY = 'rgz-logs';
export const TEMPLATE_VERSION = 1;

export function indexTemplate(kind: IndexKind, flavor: TemplateFlavor): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    number_of_shards: 1,
    // The seed's "full replicas (future HA)": 0 on one node, 1 as soon as a second node joins.
    auto_expand_replicas: '0-1',
    refresh_interval: '5s',
    ...(flavor === 'elasticsearch' ? { lifecycle: { name: DAILY_POLICY } } : {}),
  };
  return {
    index_patterns: [`logstash-${kind}-*`],
    priority: 200,
    version: TEMPLATE_VERSION,
    _meta: { managed_by: '@rgz/plugin-logs', description: `RGZ ${kind} logs, one index per UTC day (logstash-${kind}-YYYY.MM.DD)` },
    template: { settings: { index: settings }, mappings: mappings(kind) },
  };
}

/** ILM policy; `rollover: true` is the seed's policy exactly (for aliases / data streams), false the daily variant. */
export function ilmPolicy(rollover: boolean): Record<string, unknown> {
  return {
    policy: {
      _meta: {
        managed_by: '@rgz/plugin-logs',
        description: rollover
          ? 'Seed Flux 5 lifecycle: hot 0-30 d (rollover at 60 GB), warm 30-300 d read-only + force merge + best_compression, optional cold from 300 d, delete at 365 d. Needs a rollover alias or a data stream.'
          : 'Seed Flux 5 lifecycle for daily indices logstash-*-YYYY.MM.DD: hot 0-30 d, warm 30-300 d read-only + force merge + best_compression, optional cold from 300 d, delete at 365 d (no rollover: each day is its own index).',
      },
      phases: {
        hot: {
          min_age: '0ms',
          actions: {
            ...(rollover ? { rollover: { max_size: '60gb' } } : {}),
            set_priority: { priority: 100 },
          },
        },
        warm: {
          min_age: '30d',
          actions: {
            readonly: {},
            forcemerge: { max_num_segments: 1, index_codec: 'best_compression' },
            set_priority: { priority: 50 },
          },
        },
        // Optional in the seed ("searchable snapshot (future)"): add `searchable_snapshot` here once a snapshot
        // repository exists; until then cold only lowers recovery priority.
        cold: { min_age: '300d', actions: { set_priority: { priority: 0 } } },
        delete: { min_age: '365d', actions: { delete: {} } },
      },
    },
  };
}

/** OpenSearch ISM equivalent. ISM has no codec change on force merge (compression needs a reindex): read-only + merge. */
export function ismPolicy(rollover: boolean): Record<string, unknown> {
  return {
    policy: {
      description: rollover
        ? 'Seed Flux 5 lifecycle (ISM): hot 0-30 d (rollover at 60 GB; needs plugins.index_state_management.rollover_alias), warm 30-300 d read-only + force merge, cold from 300 d, delete at 365 d.'
        : 'Seed Flux 5 lifecycle (ISM) for daily indices logstash-*-YYYY.MM.DD: hot 0-30 d, warm 30-300 d read-only + force merge, cold from 300 d, delete at 365 d.',
      default_state: 'hot',
      states: [
        {
          name: 'hot',
          actions: rollover ? [{ rollover: { min_size: '60gb' } }, { index_priority: { priority: 100 } }] : [{ index_priority: { priority: 100 } }],
          transitions: [{ state_name: 'warm', conditions: { min_index_age: '30d' } }],
        },
        {
          name: 'warm',
          actions: [{ read_only: {} }, { force_merge: { max_num_segments: 1 } }, { index_priority: { priority: 50 } }],
          transitions: [{ state_name: 'cold', conditions: { min_index_age: '300d' } }],
        },
        {
          name: 'cold',
          actions: [{ index_priority: { priority: 0 } }],
          transitions: [{ state_name: 'delete', conditions: { min_index_age: '365d' } }],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ...(rollover ? {} : { ism_template: [{ index_patterns: INDEX_KINDS.map((k) => `logstash-${k}-*`), priority: 100 }] }),
    },
  };
}
