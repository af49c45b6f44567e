/**
 * Building the indexed documents: the field names shared with deploy/elasticsearch (mappings) and deploy/logstash.
 *
 * - api (the server's own pino lines): the line's fields as they are (`timestamp, level, message, service,
 *   request_id`, …) plus `@timestamp`.
 * - radius / cpe (syslog and raw lines): `@timestamp, message, host, sender_ip, app, severity, facility, kind, parser,
 *   user, mac, subscriber_id, nas_id, …`; parser fields are kept under `fields` and the known ones promoted.
 * - netflow: the seed's `source_ip, dest_ip, bytes, duration_ms, protocol` and the flow's other fields.
 * Every document goes through `sanitize`: a value that does not fit its mapped type (an empty `client_ip`, a text
 * `vlan`) moves to `invalid_fields` with the tag `_typefailure`, so known fields never cause a mapping rejection.
 */

import { isIP } from 'node:net';
import type { LogRecord, SyslogMessage } from '@rgz/core';
import type { IndexKind } from '../output/records.js';
import { FIELD_TYPES, PROMOTED } from '../output/templates.js';
import type { DecodedLine } from '../util/text.js';

export type Doc = Record<string, unknown>;

const PROMOTED_SET = new Set(PROMOTED);

/** Event times further than this from the receive time are device clock errors (CPEs booting in 1970). */
export const MAX_CLOCK_SKEW_MS = 2 * 86_400_000;

export function lineFlags(doc: Doc, line: DecodedLine): void {
  if (line.truncated) {
    doc.truncated = true;
    doc.original_bytes = line.bytes;
  }
  if (line.invalidUtf8) doc.invalid_utf8 = true;
}

let isoMs = Number.NaN;
let isoText = '';

/** ISO 8601 of a time; the last one is cached (lines of one second share their timestamp). */
export function iso(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** `@timestamp` from the event time, unless the sender's clock is obviously wrong (then receive time + `event_time`). */
export function setTimestamp(doc: Doc, eventMs: number, receivedMs: number): number {
  if (Number.isFinite(eventMs) && Math.abs(eventMs - receivedMs) <= MAX_CLOCK_SKEW_MS) {
    doc['@timestamp'] = iso(eventMs);
    return eventMs;
  }
  doc['@timestamp'] = iso(receivedMs);
  if (Number.isFinite(eventMs) && eventMs > -8.64e15 && eventMs < 8.64e15) {
    doc.event_time = new Date(eventMs).toISOString();
    doc.clock_skew = true;
  }
  return receivedMs;
}

export interface SyslogDocInput {
  message: SyslogMessage;
  record: LogRecord | null;
  parserId: string | undefined;
  line: DecodedLine;
  transport: 'udp' | 'tcp' | 'file';
}

export function syslogDoc(input: SyslogDocInput): { doc: Doc; time: number } {
  const { message: m, record: r } = input;
  const doc: Doc = {};
  const eventMs = (r?.time ?? m.timestamp ?? m.receivedAt).getTime();
  const time = setTimestamp(doc, eventMs, m.receivedAt.getTime());
  doc.message = m.message;
  const host = m.hostname ?? m.sourceAddress;
  if (host) doc.host = host;
  if (m.sourceAddress) doc.sender_ip = m.sourceAddress;
  if (m.appName) doc.app = m.appName;
  if (m.procId) doc.proc_id = m.procId;
  if (m.msgId) doc.msg_id = m.msgId;
  const severity = r?.severity ?? m.severity;
  if (severity !== undefined) doc.severity = severity;
  if (m.facility !== undefined) doc.facility = m.facility;
  doc.syslog_format = m.format;
  doc.transport = input.transport;
  doc.service = m.appName ?? 'syslog';
  if (m.structuredData) doc.structured_data = m.structuredData;
  if (r) {
    doc.kind = r.kind;
    if (input.parserId) doc.parser = input.parserId;
    if (r.subject?.userName !== undefined) doc.user = r.subject.userName;
    if (r.subject?.mac !== undefined) doc.mac = r.subject.mac;
    if (r.subject?.ip !== undefined) doc.subject_ip = r.subject.ip;
    // Known fields go to the top level (typed in the mapping); the others stay under `fields` (stored, not indexed).
    let rest: Record<string, string | number | boolean> | undefined;
    for (const key in r.fields) {
      const v = r.fields[key] as string | number | boolean;
      if (PROMOTED_SET.has(key)) doc[key] = v;
      else (rest ??= {})[key] = v;
    }
    if (rest) doc.fields = rest;
  }
  lineFlags(doc, input.line);
  return { doc, time };
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * One line of the server's own JSON log (pino, with the seed's fields), or a Docker json-file wrapper around one
 * (`{"log":"<line>\n","stream":"stdout","time":"…"}`). Returns the object and its time, or undefined when the line is
 * not JSON (then it is kept raw by the caller).
 */
export function apiObject(text: string): { obj: Doc; timeMs: number | undefined } | undefined {
  let obj = parseObject(text);
  if (!obj) return undefined;
  let dockerTime: number | undefined;
  if (typeof obj.log === 'string' && typeof obj.stream === 'string' && 'time' in obj) {
    dockerTime = typeof obj.time === 'string' ? Date.parse(obj.time) : undefined;
    const inner = parseObject(obj.log.trim());
    obj = inner ?? { message: obj.log.replace(/\n$/, ''), stream: obj.stream };
  }
  let timeMs: number | undefined;
  if (typeof obj.timestamp === 'string') timeMs = Date.parse(obj.timestamp);
  else if (typeof obj.time === 'number') timeMs = obj.time;
  else if (typeof obj.time === 'string') timeMs = Date.parse(obj.time);
  if (timeMs === undefined || Number.isNaN(timeMs)) timeMs = dockerTime;
  return { obj, timeMs };
}

function parseObject(text: string): Doc | undefined {
  if (text.charCodeAt(0) !== 0x7b) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : undefined;
  } catch {
    return undefined;
  }
}

export function apiDoc(obj: Doc, timeMs: number | undefined, receivedMs: number, line: DecodedLine): { doc: Doc; time: number } {
  const doc: Doc = {};
  const time = setTimestamp(doc, timeMs ?? receivedMs, receivedMs);
  for (const [k, v] of Object.entries(obj)) {
    if (k === '@timestamp' || k === '') continue;
    // Metadata names (`_id`, `_source`…) are refused inside a document; a dotted name would become an object path
    // and could collide with a mapped keyword (`mac.vendor` vs `mac`).
    const key = k.startsWith('_') ? `field${k}` : k.includes('.') ? k.replaceAll('.', '_') : k;
    doc[key] = v;
  }
  if (typeof doc.level === 'number') doc.level = LEVELS[doc.level] ?? String(doc.level);
  if (doc.message === undefined && typeof doc.msg === 'string') doc.message = doc.msg;
  lineFlags(doc, line);
  return { doc, time };
}

/** A line that is not what its source promised (not JSON, not a flow): kept, tagged, never dropped. */
export function rawDoc(text: string, receivedMs: number, tag: string, line: DecodedLine, service: string): { doc: Doc; time: number } {
  const doc: Doc = { '@timestamp': new Date(receivedMs).toISOString(), message: text, service, tags: [tag] };
  lineFlags(doc, line);
  return { doc, time: receivedMs };
}

/**
 * Move values that do not fit the mapped type of their field to `invalid_fields` (see module comment). `keys`: check
 * only these (the fields a document builder did not type itself); default every field.
 */
export function sanitize(kind: IndexKind, doc: Doc, keys?: Iterable<string>): Doc {
  const types = FIELD_TYPES[kind];
  let invalid: Record<string, string> | undefined;
  for (const key of keys ?? Object.keys(doc)) {
    const value = doc[key];
    const type = types[key];
    if (type === undefined || value === null || value === undefined) continue;
    const ok = fits(type, value);
    if (ok === true) continue;
    if (ok !== false) {
      doc[key] = ok.value;
      continue;
    }
    invalid ??= {};
    invalid[key] = typeof value === 'string' ? value.slice(0, 1024) : (JSON.stringify(value)?.slice(0, 1024) ?? String(value));
    delete doc[key];
  }
  if (invalid) {
    doc.invalid_fields = invalid;
    const tags = Array.isArray(doc.tags) ? doc.tags : typeof doc.tags === 'string' ? [doc.tags] : [];
    doc.tags = [...tags, '_typefailure'];
  }
  return doc;
}

const LIMITS: Record<string, [number, number]> = { byte: [-128, 127], short: [-32768, 32767], integer: [-2147483648, 2147483647] };

function fits(type: string, value: unknown): true | false | { value: unknown } {
  switch (type) {
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0;
    case 'date':
      return (typeof value === 'string' && !Number.isNaN(Date.parse(value))) || (typeof value === 'number' && Number.isFinite(value));
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'float': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(?:\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
      if (!Number.isFinite(n)) return false;
      if (type !== 'float' && !Number.isInteger(n)) return false;
      const lim = LIMITS[type];
      if (lim && (n < lim[0] || n > lim[1])) return false;
      if (type === 'long' && !Number.isSafeInteger(n)) return false;
      return typeof value === 'number' ? true : { value: n };
    }
    case 'boolean':
      return typeof value === 'boolean';
    case 'keyword':
      return (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean' ||
        (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      );
    case 'text':
      return typeof value === 'string' ? true : { value: JSON.stringify(value) };
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    default:
      return true;
  }
}
