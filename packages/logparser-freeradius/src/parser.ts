/**
 * FreeRADIUS authentication log lines → `LogRecord`s. Two shapes:
 *
 * 1. FreeRADIUS 3.2 `log { auth = yes }` lines (../shared/specs/logs-and-netflow.md §1, observed on 3.2.1):
 *    `[<ctime> : ]Auth: (<n>) Login OK|Login incorrect[ (<module>: <reason>)]|Invalid user[ (<reason>)]: [<user>[/<pass>]]
 *    (from client <shortname> port <NAS-Port>[ cli <Calling-Station-Id>][ via <…>])`. In a file the line starts with a
 *    ctime (no zone: the parser's `timeZone`, default UTC); with `destination = syslog` the syslog header replaces it.
 * 2. The seed's radius_logs shape, which RGZ's own RADIUS plugin writes as its log message:
 *    `[Auth] [Success] User=<user>, NAS-ID=<nas>` and `[Auth] [Failure] User=<user>, NAS-ID=<nas>, reason=<reason>`.
 *
 * Passwords (`auth_badpass` / `auth_goodpass` print `[user/password]`) are never copied: everything after the first
 * `/` inside the brackets is dropped, so a user name that itself contains `/` is cut there too (safe side).
 */

import type { LogParser, LogRecord, SyslogMessage, SyslogSeverity } from '@rgz/core';
import { zonedToUtc } from '@rgz/core';

export interface FreeradiusParserOptions {
  /** Instance id in `LogParsers` (default `freeradius`). */
  id?: string;
  /** Zone of the ctime written at the start of FreeRADIUS log-file lines (default UTC). */
  timeZone?: string;
  /** Syslog TAGs / APP-NAMEs routed to this parser (default `radiusd`, `freeradius`, `radius`). Raw lines always are. */
  appNames?: readonly string[];
}

export const FREERADIUS_APP_NAMES: readonly string[] = ['radiusd', 'freeradius', 'radius'];

/** Lines longer than this are not auth lines (they are a few hundred bytes); only the head is looked at. */
const MAX_SCAN = 8192;

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

// `Tue Nov 24 23:35:13 2026 : ` (ctime, day space-padded).
const CTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) : /;
// `Auth: (0) Login OK: [` / `Auth: (1) Login incorrect (pap: …): [` / `Auth: (2) Invalid user: [`.
const AUTH_HEAD = /^Auth: \((\d+)\) (Login OK|Login incorrect|Invalid user)(?: \((.*?)\))?: \[/;
// `] (from client localhost port 0 cli AA-BB-CC-DD-EE-FF)` — anchored on the last `] (from client ` of the line.
const AUTH_TAIL = /^\] \(from client (\S+) port (\S+?)(?: cli ([^\s)]+))?(?: via [^)]*)?\)/;
// `[Auth] [Success] User=alice, NAS-ID=access_tech_connect[, reason=…]`
const SEED = /^\[Auth\] \[(Success|Failure)\] User=(.*?), NAS-ID=(.*?)(?:, reason=(.*))?$/;

export function createFreeradiusParser(options: FreeradiusParserOptions = {}): LogParser {
  const id = options.id ?? 'freeradius';
  const timeZone = options.timeZone ?? 'UTC';
  const appNames = options.appNames ?? FREERADIUS_APP_NAMES;

  return {
    id,
    provider: 'freeradius',
    appNames,
    parse(message: SyslogMessage): LogRecord | null {
      try {
        const text = message.message.length > MAX_SCAN ? message.message.slice(0, MAX_SCAN) : message.message;
        return parseSeed(text, message) ?? parseAuth(text, message, timeZone);
      } catch {
        // Total by contract: a line that trips anything above is simply not ours.
        return null;
      }
    },
  };
}

function parseSeed(text: string, message: SyslogMessage): LogRecord | null {
  const m = SEED.exec(text.replace(/[\r\n]+$/, ''));
  if (!m) return null;
  const success = m[1] === 'Success';
  const user = m[2] as string;
  const nasId = m[3] as string;
  const fields: Record<string, string> = { result: success ? 'success' : 'failure', nas_id: nasId, source: 'rgz' };
  if (m[4] !== undefined) fields.reason = m[4];
  return {
    kind: success ? 'auth.login_ok' : 'auth.login_failed',
    time: message.timestamp ?? message.receivedAt,
    severity: message.severity ?? (success ? 6 : 5),
    ...host(message),
    ...(user ? { subject: { userName: user } } : {}),
    fields,
  };
}

function parseAuth(text: string, message: SyslogMessage, timeZone: string): LogRecord | null {
  let rest = text;
  let lineTime: Date | undefined;
  const ct = CTIME.exec(rest);
  if (ct) {
    const ms = zonedToUtc(Number(ct[6]), MONTHS[ct[1] as string] as number, Number(ct[2]), Number(ct[3]), Number(ct[4]), Number(ct[5]), timeZone);
    if (Number.isFinite(ms)) lineTime = new Date(ms);
    rest = rest.slice(ct[0].length);
  }
  const head = AUTH_HEAD.exec(rest);
  if (!head) return null;
  const afterHead = rest.slice(head[0].length);
  const close = afterHead.lastIndexOf('] (from client ');
  if (close < 0) return null;
  const tail = AUTH_TAIL.exec(afterHead.slice(close));
  if (!tail) return null;

  const inside = afterHead.slice(0, close);
  const slash = inside.indexOf('/');
  const user = slash >= 0 ? inside.slice(0, slash) : inside;

  const outcome = head[2] as string;
  const detail = head[3];
  const fields: Record<string, string | number> = {
    request: Number(head[1]),
    client: tail[1] as string,
    nas_port: /^\d{1,10}$/.test(tail[2] as string) ? Number(tail[2]) : (tail[2] as string),
    result: outcome === 'Login OK' ? 'success' : 'failure',
    source: 'freeradius',
  };
  if (detail !== undefined) {
    // `pap: Cleartext password does not match "known good" password` → module + reason.
    const colon = detail.indexOf(': ');
    if (colon > 0 && /^[A-Za-z0-9_.-]+$/.test(detail.slice(0, colon))) {
      fields.module = detail.slice(0, colon);
      fields.reason = detail.slice(colon + 2);
    } else {
      fields.reason = detail;
    }
  }
  const calling = tail[3];
  if (calling !== undefined) fields.calling_station_id = calling;
  const mac = calling === undefined ? undefined : normalizeMac(calling);

  const kind = outcome === 'Login OK' ? 'auth.login_ok' : outcome === 'Login incorrect' ? 'auth.login_failed' : 'auth.invalid_user';
  const severity: SyslogSeverity = message.severity ?? (kind === 'auth.login_ok' ? 6 : 5);
  const subject = { ...(user ? { userName: user } : {}), ...(mac ? { mac } : {}) };
  return {
    kind,
    time: message.timestamp ?? lineTime ?? message.receivedAt,
    severity,
    ...host(message),
    ...(Object.keys(subject).length ? { subject } : {}),
    fields,
  };
}

function host(message: SyslogMessage): { host?: string } {
  const h = message.hostname ?? message.sourceAddress;
  return h ? { host: h } : {};
}

/** `AA-BB-CC-DD-EE-FF`, `aa:bb:…`, `aabb.ccdd.eeff`, `aabbccddeeff` → `aa:bb:cc:dd:ee:ff`; anything else → undefined. */
export function normalizeMac(value: string): string | undefined {
  const hex = value.replace(/[:.-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  if (!/^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$|^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$/.test(value)) return undefined;
  return hex.match(/../g)?.join(':');
}
