/**
 * The syslog envelope, parsed once per line into core's `SyslogMessage` before any vendor parser sees it.
 *
 * - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`, `-` for nil values, SD elements
 *   `[id name="value" …]` with `\"`, `\\`, `\]` escapes, an optional UTF-8 BOM before MSG.
 * - RFC 3164 (and what real devices send under that name): `<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG`. Tolerated:
 *   no HOST (busybox `syslogd` forwarding), a `Mmm dd yyyy hh:mm:ss` or RFC 3339 timestamp, a UniFi-style
 *   `("model,mac,version")` token after HOST, no TAG, no PRI at all (then PRI 13 is assumed, RFC 3164 §4.3.3).
 *   The timestamp has no year and no zone: the year of receipt and the configured zone of the sender (default UTC)
 *   complete it; a date more than a week in the future is taken from the previous year (Dec 31 sent, Jan 1 received).
 * - Anything else (no PRI, no timestamp, no tag): `raw`, the whole line as message.
 * Never throws: the parser is on every line of a flood.
 */

import type { SyslogMessage, SyslogSeverity } from '@rgz/core';
import { zonedToUtc } from '@rgz/core';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const BSD_TIME = /(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2})(?: (\d{4}))? (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?= |$)/y;
const ISO_TIME = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?(?= |$)/y;
const TAG = /([A-Za-z0-9_./@-]{1,64})(?:\[([^\]\s]{0,64})\])?:(?: |$)/y;
const UNIFI_TAG = /\("[^"\s]{0,128}"\) /y;
const FUTURE_SLACK_MS = 7 * 86_400_000;

export interface EnvelopeOptions {
  /** IANA zone of RFC 3164 timestamps from this sender (default UTC). */
  timeZone?: string;
}

export function parseSyslog(text: string, receivedAt: Date, sourceAddress?: string, options: EnvelopeOptions = {}): SyslogMessage {
  try {
    return parse(text, receivedAt, sourceAddress, options.timeZone ?? 'UTC');
  } catch {
    return raw(text, receivedAt, sourceAddress);
  }
}

function raw(text: string, receivedAt: Date, sourceAddress: string | undefined): SyslogMessage {
  return { format: 'raw', message: text, receivedAt, ...(sourceAddress ? { sourceAddress } : {}) };
}

function parse(text: string, receivedAt: Date, sourceAddress: string | undefined, timeZone: string): SyslogMessage {
  let pri: number | undefined;
  let pos = 0;
  if (text.charCodeAt(0) === 0x3c /* < */) {
    const close = text.indexOf('>', 1);
    if (close > 1 && close <= 4) {
      const digits = text.slice(1, close);
      if (/^\d{1,3}$/.test(digits) && Number(digits) <= 191) {
        pri = Number(digits);
        pos = close + 1;
      }
    }
  }
  if (pri !== undefined && isVersion(text, pos)) return parse5424(text, pos + 2, pri, receivedAt, sourceAddress);
  const bsd = parse3164(text, pos, pri ?? 13, receivedAt, sourceAddress, timeZone);
  if (pri === undefined && bsd.format === 'rfc3164' && bsd.timestamp === undefined && bsd.appName === undefined) return raw(text, receivedAt, sourceAddress);
  return bsd;
}

function isVersion(text: string, pos: number): boolean {
  return text.charCodeAt(pos) === 0x31 /* 1 */ && text.charCodeAt(pos + 1) === 0x20;
}

function pri2(pri: number): { facility: number; severity: SyslogSeverity } {
  return { facility: pri >> 3, severity: (pri & 7) as SyslogSeverity };
}

function parse5424(text: string, start: number, pri: number, receivedAt: Date, sourceAddress: string | undefined): SyslogMessage {
  let pos = start;
  const token = (): string | undefined => {
    if (pos > text.length) return undefined;
    let end = text.indexOf(' ', pos);
    if (end < 0) end = text.length;
    const t = text.slice(pos, end);
    pos = end + 1;
    return t === '-' || t === '' ? undefined : t;
  };
  const ts = token();
  const hostname = token();
  const appName = token();
  const procId = token();
  const msgId = token();
  let structuredData: Record<string, Record<string, string>> | undefined;
  if (pos < text.length) {
    if (text[pos] === '-') {
      pos += 1;
    } else if (text[pos] === '[') {
      const sd = parseStructuredData(text, pos);
      structuredData = sd.data;
      pos = sd.end;
    }
    if (text[pos] === ' ') pos++;
  }
  let message = pos < text.length ? text.slice(pos) : '';
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  const timestamp = ts === undefined ? undefined : parseIso(ts);
  return {
    format: 'rfc5424',
    ...pri2(pri),
    ...(timestamp ? { timestamp } : {}),
    ...(hostname ? { hostname } : {}),
    ...(appName ? { appName } : {}),
    ...(procId ? { procId } : {}),
    ...(msgId ? { msgId } : {}),
    ...(structuredData && Object.keys(structuredData).length ? { structuredData } : {}),
    message,
    receivedAt,
    ...(sourceAddress ? { sourceAddress } : {}),
  };
}

/** SD-ELEMENTs from `pos` (at `[`); on malformed input, what parsed so far and the position where it stopped. */
function parseStructuredData(text: string, start: number): { data: Record<string, Record<string, string>>; end: number } {
  const data: Record<string, Record<string, string>> = {};
  let pos = start;
  while (text[pos] === '[') {
    const elementStart = pos;
    pos++;
    let idEnd = pos;
    while (idEnd < text.length && text[idEnd] !== ' ' && text[idEnd] !== ']' && text[idEnd] !== '=' && text[idEnd] !== '"') idEnd++;
    const id = text.slice(pos, idEnd);
    if (!id) return { data, end: elementStart };
    pos = idEnd;
    const params: Record<string, string> = {};
    for (;;) {
      if (text[pos] === ']') {
        pos++;
        break;
      }
      if (text[pos] !== ' ') return { data, end: elementStart };
      pos++;
      const eq = text.indexOf('="', pos);
      if (eq < 0 || eq - pos > 32 || eq === pos) return { data, end: elementStart };
      const name = text.slice(pos, eq);
      pos = eq + 2;
      let value = '';
      let closed = false;
      while (pos < text.length) {
        const c = text[pos] as string;
        if (c === '\\' && pos + 1 < text.length && '"\\]'.includes(text[pos + 1] as string)) {
          value += text[pos + 1];
          pos += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          pos++;
          break;
        }
        value += c;
        pos++;
      }
      if (!closed) return { data, end: elementStart };
      params[name] = value;
    }
    data[id] = params;
  }
  return { data, end: pos };
}

function parseIso(ts: string): Date | undefined {
  ISO_TIME.lastIndex = 0;
  const m = ISO_TIME.exec(ts);
  if (!m || m[0].length !== ts.length) return undefined;
  return isoMatchToDate(m);
}

function isoMatchToDate(m: RegExpExecArray): Date | undefined {
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(t) ? new Date(t) : undefined;
}

function parse3164(text: string, start: number, pri: number, receivedAt: Date, sourceAddress: string | undefined, timeZone: string): SyslogMessage {
  let pos = start;
  let timestamp: Date | undefined;

  BSD_TIME.lastIndex = pos;
  const bsd = BSD_TIME.exec(text);
  if (bsd) {
    timestamp = bsdTime(bsd, receivedAt, timeZone);
    pos = BSD_TIME.lastIndex;
  } else {
    ISO_TIME.lastIndex = pos;
    const iso = ISO_TIME.exec(text);
    if (iso) {
      timestamp = isoMatchToDate(iso);
      pos = ISO_TIME.lastIndex;
    }
  }
  const hadTime = bsd !== null || timestamp !== undefined;
  if (hadTime && text[pos] === ' ') pos++;

  let hostname: string | undefined;
  let appName: string | undefined;
  let procId: string | undefined;

  TAG.lastIndex = pos;
  let tag = TAG.exec(text);
  if (!tag && hadTime) {
    // HOST, then maybe the UniFi tag, then TAG.
    let end = text.indexOf(' ', pos);
    if (end < 0) end = text.length;
    const candidate = text.slice(pos, end);
    if (candidate && candidate.length <= 255) {
      hostname = candidate;
      pos = Math.min(end + 1, text.length);
      UNIFI_TAG.lastIndex = pos;
      if (UNIFI_TAG.exec(text)) pos = UNIFI_TAG.lastIndex;
      TAG.lastIndex = pos;
      tag = TAG.exec(text);
    }
  }
  if (tag) {
    appName = tag[1];
    if (tag[2]) procId = tag[2];
    pos = TAG.lastIndex;
  }
  const message = text.slice(pos);
  return {
    format: 'rfc3164',
    ...pri2(pri),
    ...(timestamp ? { timestamp } : {}),
    ...(hostname ? { hostname } : {}),
    ...(appName ? { appName } : {}),
    ...(procId ? { procId } : {}),
    message,
    receivedAt,
    ...(sourceAddress ? { sourceAddress } : {}),
  };
}

function bsdTime(m: RegExpExecArray, receivedAt: Date, timeZone: string): Date | undefined {
  const month = MONTHS[m[1] as string] as number;
  const day = Number(m[2]);
  const explicitYear = m[3] ? Number(m[3]) : undefined;
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const year = explicitYear ?? receivedAt.getUTCFullYear();
  let t = zonedToUtc(year, month, day, h, mi, s, timeZone);
  if (explicitYear === undefined && t > receivedAt.getTime() + FUTURE_SLACK_MS) t = zonedToUtc(year - 1, month, day, h, mi, s, timeZone);
  return Number.isFinite(t) ? new Date(t) : undefined;
}
