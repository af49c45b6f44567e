/**
 * Log parser: turns one vendor's log lines (FreeRADIUS auth log, airOS hostapd/wpa_supplicant, Cambium, MikroTik)
 * into structured records: logins, associations, disconnections, with the subscriber's MAC/user/IP pulled out.
 * Core's syslog receiver (or a file tailer) parses the RFC 3164 / RFC 5424 envelope once into a `SyslogMessage`,
 * then offers it to each parser; a parser recognises its lines and returns a record, or `null` for lines that are
 * not its own or carry nothing worth keeping. Parsers are pure and synchronous: they run on every line.
 */

import { point } from '../plugin/tokens.js';
import type { ExtensionIdentity } from './common.js';

/** Syslog severity (RFC 5424 §6.2.1): 0 emergency … 7 debug. */
export type SyslogSeverity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** One received log line, envelope already parsed. Fields the format lacks are absent. */
export interface SyslogMessage {
  /**
   * `rfc3164`: BSD `<PRI>Mmm dd hh:mm:ss host prog[pid]: msg`. `rfc5424`: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
   * `raw`: a line without syslog envelope (a tailed file such as FreeRADIUS `radius.log`): only `message` is set.
   */
  readonly format: 'rfc3164' | 'rfc5424' | 'raw';
  /** Facility 0–23 (PRI div 8); absent for `raw`. */
  readonly facility?: number;
  /** Severity (PRI mod 8); absent for `raw`. */
  readonly severity?: SyslogSeverity;
  /**
   * Time stated by the sender. RFC 3164 has no year and no zone: the receiver completes them (year of receipt,
   * the source's configured zone, default UTC). Absent when unparseable.
   */
  readonly timestamp?: Date;
  readonly hostname?: string;
  /** RFC 3164 TAG without `[pid]` (`hostapd`), RFC 5424 APP-NAME. */
  readonly appName?: string;
  readonly procId?: string;
  /** RFC 5424 MSGID. */
  readonly msgId?: string;
  /** RFC 5424 STRUCTURED-DATA: SD-ID → parameters. */
  readonly structuredData?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The free-text part after the header (for `raw`: the whole line), without trailing newline. */
  readonly message: string;
  /** When core received it. */
  readonly receivedAt: Date;
  /** Sender address (UDP/TCP source IP), which identifies the device better than `hostname`. */
  readonly sourceAddress?: string;
}

/** Well-known record kinds; vendors may add their own (`vendor.event`). */
export type LogRecordKind =
  | 'auth.login_ok'
  | 'auth.login_failed'
  | 'auth.invalid_user'
  | 'wifi.associated'
  | 'wifi.disassociated'
  | 'wifi.deauthenticated'
  | 'wifi.handshake_completed'
  | 'wifi.connected'
  | 'wifi.disconnected'
  | 'admin.login'
  | 'admin.login_failed'
  | 'system.boot'
  | (string & {});

/** A structured record. Secrets (passwords in FreeRADIUS `auth_badpass` lines) are never copied into it. */
export interface LogRecord {
  /** What happened, dot-separated `area.event`. */
  readonly kind: LogRecordKind;
  /**
   * Event time: the message's `timestamp` when set; else the time written in the line itself (FreeRADIUS `raw` file
   * lines start with a ctime); else `receivedAt`.
   */
  readonly time: Date;
  readonly severity: SyslogSeverity;
  /** Device that logged it (hostname or source address). */
  readonly host?: string;
  /** Who it is about, normalised: MAC lower-case colon-separated, user as logged. */
  readonly subject?: {
    readonly mac?: string;
    readonly userName?: string;
    readonly ip?: string;
  };
  /** Further vendor fields (interface, reason code, NAS client name, BSSID, module, …). */
  readonly fields: Readonly<Record<string, string | number | boolean>>;
}

/** One vendor's log parser. `provider` names the family (`freeradius`, `airos`, `cambium-epmp`). */
export interface LogParser extends ExtensionIdentity {
  /**
   * RFC 3164 TAGs / RFC 5424 APP-NAMEs this parser handles (`hostapd`, `wpa_supplicant`, `radiusd`), so core can
   * route by name; empty = offer every message (e.g. `raw` lines from a file).
   */
  readonly appNames: readonly string[];

  /**
   * Parse one message. Pure, synchronous, total: never throws (garbage, truncated or huge lines → `null`), never
   * mutates `message`.
   */
  parse(message: SyslogMessage): LogRecord | null;
}

/** Extension point: log parsers, keyed by instance id. */
export const LogParsers = point<LogParser>('log-parser', (p) => p.id);
