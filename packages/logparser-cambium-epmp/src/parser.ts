/**
 * Cambium ePMP syslog → `LogRecord`s: the subscriber's MAC, its VLAN and authentication/registration events, as the
 * seed's cpe_syslog pipeline asks ("Cambium: MAC, VLAN, authentication").
 *
 * No ePMP remote-syslog sample is known (../shared/specs/logs-and-netflow.md §2: [?]). This parser is therefore
 * deliberately vocabulary-based and tolerant rather than built on an exact line format: it claims a line only when it
 * carries a MAC address AND one of the event words below, and extracts what it can. Every fixture is synthetic and
 * marked so; narrow it (`appNames`) once real captures exist.
 *
 * - registration: `SM <mac> registered` / `deregistered|de-registered|unregistered` (ePMP's AP/SM vocabulary)
 * - authentication: `auth…` + `success|accept|ok` or `Access-Accept` → ok; `auth…` + `fail|reject|denied|timeout` or
 *   `Access-Reject` → failed
 * - VLAN: `VLAN 100`, `VLAN ID: 100`, `vlan=100`, `vlan_id=100` (1–4094)
 */

import type { LogParser, LogRecord, SyslogMessage, SyslogSeverity } from '@rgz/core';

export interface CambiumParserOptions {
  /** Instance id in `LogParsers` (default `cambium-epmp`). */
  id?: string;
  /**
   * Syslog TAGs routed to this parser. Default empty = offered every message that no TAG-specific parser claimed
   * first (the program names ePMP uses are not known).
   */
  appNames?: readonly string[];
}

const MAX_SCAN = 4096;
const MAC = /(?<![0-9A-Fa-f:-])([0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\2[0-9A-Fa-f]{2}){4})(?![0-9A-Fa-f:-])/;
const VLAN = /\bvlan(?:[ _-]?id)?\s*[:=]?\s*(\d{1,4})\b/i;
const DEREGISTERED = /\b(?:de-?registered|unregistered|de-?registration)\b/i;
const REGISTERED = /\bregist(?:ered|ration)\b/i;
const AUTH_FAILED = /\bAccess-Reject\b|\bauth\w*\b.{0,80}?\b(?:fail(?:ed|ure)?|reject(?:ed)?|denied|timeout|timed out)\b/i;
const AUTH_OK = /\bAccess-Accept\b|\bauth\w*\b.{0,80}?\b(?:success(?:ful(?:ly)?)?|accept(?:ed)?|ok|passed)\b|\bauthenticated\b/i;
const ROLE = /\b(SM|AP|subscriber module|access point)\b/i;
const NAS_USER = /\b(?:user(?:name)?|identity)\s*[=:]\s*"?([^\s",;]{1,128})/i;

export function createCambiumParser(options: CambiumParserOptions = {}): LogParser {
  return {
    id: options.id ?? 'cambium-epmp',
    provider: 'cambium-epmp',
    appNames: options.appNames ?? [],
    parse(message: SyslogMessage): LogRecord | null {
      try {
        const text = message.message.length > MAX_SCAN ? message.message.slice(0, MAX_SCAN) : message.message;
        return parse(text, message);
      } catch {
        return null;
      }
    },
  };
}

function parse(text: string, message: SyslogMessage): LogRecord | null {
  const mac = MAC.exec(text);
  if (!mac) return null;
  const vlanMatch = VLAN.exec(text);
  const vlan = vlanMatch ? Number(vlanMatch[1]) : undefined;
  const validVlan = vlan !== undefined && vlan >= 1 && vlan <= 4094 ? vlan : undefined;

  let kind: string | undefined;
  let severity: SyslogSeverity = 6;
  if (AUTH_FAILED.test(text)) {
    kind = 'auth.login_failed';
    severity = 5;
  } else if (AUTH_OK.test(text)) kind = 'auth.login_ok';
  else if (DEREGISTERED.test(text)) {
    kind = 'wifi.deregistered';
    severity = 5;
  } else if (REGISTERED.test(text)) kind = 'wifi.registered';
  else if (validVlan !== undefined) kind = 'net.vlan_assigned';
  if (kind === undefined) return null;

  const fields: Record<string, string | number> = {};
  if (validVlan !== undefined) fields.vlan = validVlan;
  const role = ROLE.exec(text);
  if (role) fields.role = /^s/i.test(role[1] as string) ? 'sm' : 'ap';
  const user = NAS_USER.exec(text);
  const host = message.hostname ?? message.sourceAddress;
  return {
    kind,
    time: message.timestamp ?? message.receivedAt,
    severity: message.severity ?? severity,
    ...(host ? { host } : {}),
    subject: { mac: (mac[1] as string).toLowerCase().replace(/-/g, ':'), ...(user ? { userName: user[1] as string } : {}) },
    fields,
  };
}
