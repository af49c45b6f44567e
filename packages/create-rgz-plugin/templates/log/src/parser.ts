/**
 * A `LogParser` driven by rules: each rule is a regular expression over the message text and the record kind it
 * yields. Named groups become the record: `mac`, `user` and `ip` fill `subject` (a MAC is normalised to lower-case
 * colon form, and dropped if it is not one), every other named group goes to `fields`. The first rule that matches
 * wins; a line no rule matches gives `null`. The default rules read hostapd's association lines.
 */
import type { LogParser, LogRecord, SyslogMessage, SyslogSeverity } from '@rgz/core';

export interface LogRule {
  /** Record kind, `area.event` (`wifi.associated`). */
  readonly kind: string;
  /** Regular expression (JavaScript syntax) with named groups, matched against the message text. */
  readonly pattern: string;
  /** Severity when the message carries none (raw lines); default 6 (informational). */
  readonly severity?: number;
}

/** hostapd's lines (`wlan0: STA 24:a4:3c:01:02:03 IEEE 802.11: associated (aid 1)`). */
export const DEFAULT_RULES: readonly LogRule[] = [
  { kind: 'wifi.associated', pattern: String.raw`^(?<interface>[\w.-]+): STA (?<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}) IEEE 802\.11: associated` },
  { kind: 'wifi.disassociated', pattern: String.raw`^(?<interface>[\w.-]+): STA (?<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}) IEEE 802\.11: disassociated` },
  { kind: 'wifi.deauthenticated', pattern: String.raw`^(?<interface>[\w.-]+): STA (?<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}) IEEE 802\.11: deauthenticated` },
  {
    kind: 'wifi.handshake_completed',
    pattern: String.raw`^(?<interface>[\w.-]+): STA (?<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}) WPA: pairwise key handshake completed`,
  },
];

/** Lines longer than this are not matched (a regular expression on a huge line can take very long). */
const MAX_LINE = 4096;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const SUBJECT_GROUPS = new Set(['mac', 'user', 'ip']);

export interface RegexLogParserOptions {
  /** Instance id: the key in `LogParsers`. */
  readonly id: string;
  /** Syslog TAG / APP-NAME this parser is offered (empty: every message). */
  readonly appNames: readonly string[];
  readonly rules: readonly LogRule[];
}

/** Throws a SyntaxError naming the rule when a pattern does not compile (the config schema checks it first). */
export function createRegexLogParser(options: RegexLogParserOptions): LogParser {
  const rules = options.rules.map((rule) => ({ ...rule, regex: new RegExp(rule.pattern) }));
  return {
    id: options.id,
    provider: 'regex',
    appNames: [...options.appNames],
    parse(message: SyslogMessage): LogRecord | null {
      const text = typeof message.message === 'string' ? message.message : '';
      if (text.length === 0 || text.length > MAX_LINE) return null;
      for (const rule of rules) {
        const match = rule.regex.exec(text);
        if (match === null) continue;
        return toRecord(message, rule, match.groups ?? {});
      }
      return null;
    },
  };
}

function toRecord(message: SyslogMessage, rule: LogRule, groups: Readonly<Record<string, string | undefined>>): LogRecord {
  const subject: { mac?: string; userName?: string; ip?: string } = {};
  const mac = groups.mac?.toLowerCase().replaceAll('-', ':');
  if (mac !== undefined && MAC.test(mac)) subject.mac = mac;
  if (groups.user) subject.userName = groups.user;
  if (groups.ip) subject.ip = groups.ip;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(groups)) if (value !== undefined && !SUBJECT_GROUPS.has(key)) fields[key] = value;
  const host = message.hostname ?? message.sourceAddress;
  return {
    kind: rule.kind,
    time: message.timestamp ?? message.receivedAt,
    severity: message.severity ?? ((rule.severity ?? 6) as SyslogSeverity),
    ...(host === undefined ? {} : { host }),
    ...(Object.keys(subject).length > 0 ? { subject } : {}),
    fields,
  };
}
