/**
 * Ubiquiti airOS (LiteBeam, NanoStation, PowerBeam…) syslog → `LogRecord`s. airOS is busybox Linux; its wireless
 * events come from the two standard daemons (../shared/specs/logs-and-netflow.md §2):
 *
 * - `hostapd` (AP mode): `<iface>: STA <mac> <module>: <event>` — `IEEE 802.11: associated|disassociated|
 *   deauthenticated …|authenticated`, `WPA: pairwise key handshake completed (RSN)`; control events
 *   `<iface>: AP-STA-CONNECTED <mac>` / `AP-STA-DISCONNECTED <mac>`.
 * - `wpa_supplicant` (station mode, the CPE side): `<iface>: CTRL-EVENT-CONNECTED - Connection to <bssid> completed …`,
 *   `CTRL-EVENT-DISCONNECTED bssid=<bssid> reason=<n>[ locally_generated=1]`, `CTRL-EVENT-SIGNAL-CHANGE above=<0|1>
 *   signal=<dBm> noise=<dBm> txrate=<kbit/s>`, `Associated with <bssid>`, `WPA: Key negotiation completed with <bssid>`,
 *   `CTRL-EVENT-ASSOC-REJECT bssid=<bssid> status_code=<n>`.
 *
 * Signal is taken where a line carries it (`signal=-61`, `signal -61`, `rssi=-61`). In AP mode the subject is the
 * station (the subscriber's CPE or device); in station mode the peer is the AP, kept as `fields.bssid`.
 * Whether airOS inserts a UniFi-style `("model,mac,version")` tag after the host is unknown [?]: the receiver strips it.
 */

import type { LogParser, LogRecord, SyslogMessage, SyslogSeverity } from '@rgz/core';

export interface AirosParserOptions {
  /** Instance id in `LogParsers` (default `airos`). */
  id?: string;
  /** Syslog TAGs routed to this parser (default `hostapd`, `wpa_supplicant`). Raw lines always are. */
  appNames?: readonly string[];
}

export const AIROS_APP_NAMES: readonly string[] = ['hostapd', 'wpa_supplicant'];

const MAX_SCAN = 4096;
const MAC = '([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})';

const STA = new RegExp(`^([A-Za-z0-9_.-]{1,32}): STA ${MAC} ([A-Za-z0-9 ._()-]{1,40}?): (.+)$`);
const AP_STA = new RegExp(`^([A-Za-z0-9_.-]{1,32}): (AP-STA-CONNECTED|AP-STA-DISCONNECTED) ${MAC}(.*)$`);
const IFACE = /^([A-Za-z0-9_.-]{1,32}): (.+)$/;
const CONNECTED = new RegExp(`^CTRL-EVENT-CONNECTED - Connection to ${MAC} completed(.*)$`);
const DISCONNECTED = new RegExp(`^CTRL-EVENT-DISCONNECTED bssid=${MAC}(?: reason=(\\d{1,5}))?(.*)$`);
const ASSOC_REJECT = new RegExp(`^CTRL-EVENT-ASSOC-REJECT bssid=${MAC}(?: status_code=(\\d{1,5}))?`);
const SIGNAL_CHANGE = /^CTRL-EVENT-SIGNAL-CHANGE above=([01]) signal=(-?\d{1,3}) noise=(-?\d{1,4}) txrate=(\d{1,9})/;
const ASSOCIATED_WITH = new RegExp(`^Associated with ${MAC}`);
const KEY_DONE = new RegExp(`^WPA: Key negotiation completed with ${MAC}(?: \\[PTK=(\\w+) GTK=(\\w+)\\])?`);
const SIGNAL = /\b(?:signal|rssi)[=: ]\s?(-\d{1,3})\b/i;

export function createAirosParser(options: AirosParserOptions = {}): LogParser {
  return {
    id: options.id ?? 'airos',
    provider: 'airos',
    appNames: options.appNames ?? AIROS_APP_NAMES,
    parse(message: SyslogMessage): LogRecord | null {
      try {
        const raw = message.message.length > MAX_SCAN ? message.message.slice(0, MAX_SCAN) : message.message;
        const text = raw.replace(/[\r\n]+$/, '');
        return parseHostapd(text, message) ?? parseSupplicant(text, message);
      } catch {
        return null;
      }
    },
  };
}

function parseHostapd(text: string, message: SyslogMessage): LogRecord | null {
  const sta = STA.exec(text);
  if (sta) {
    const [, iface, mac, module, event] = sta as unknown as [string, string, string, string, string];
    const fields: Record<string, string | number> = { interface: iface, module: module.trim(), event };
    let kind: string;
    let severity: SyslogSeverity = 6;
    if (/^associated\b/.test(event)) {
      kind = 'wifi.associated';
      const aid = /\baid (\d{1,4})\b/.exec(event);
      if (aid) fields.aid = Number(aid[1]);
    } else if (/^disassociated\b/.test(event)) kind = 'wifi.disassociated';
    else if (/^deauthenticated\b/.test(event)) {
      kind = 'wifi.deauthenticated';
      const due = /^deauthenticated due to (.+)$/.exec(event);
      if (due) fields.reason = due[1] as string;
      severity = 5;
    } else if (/^authenticated\b/.test(event)) kind = 'wifi.authenticated';
    else if (/pairwise key handshake completed/.test(event)) {
      kind = 'wifi.handshake_completed';
      const proto = /\((RSN|WPA)\)/.exec(event);
      if (proto) fields.proto = proto[1] as string;
    } else kind = 'wifi.station_event';
    addSignal(event, fields);
    return record(kind, message, severity, { mac: mac.toLowerCase() }, fields);
  }
  const ap = AP_STA.exec(text);
  if (ap) {
    const [, iface, event, mac, rest] = ap as unknown as [string, string, string, string, string];
    const fields: Record<string, string | number> = { interface: iface, event };
    addSignal(rest, fields);
    return record(event === 'AP-STA-CONNECTED' ? 'wifi.associated' : 'wifi.disassociated', message, 6, { mac: mac.toLowerCase() }, fields);
  }
  return null;
}

function parseSupplicant(text: string, message: SyslogMessage): LogRecord | null {
  const m = IFACE.exec(text);
  if (!m) return null;
  const iface = m[1] as string;
  const event = m[2] as string;
  let x: RegExpExecArray | null;
  if ((x = CONNECTED.exec(event))) {
    return record('wifi.connected', message, 6, undefined, { interface: iface, bssid: (x[1] as string).toLowerCase() });
  }
  if ((x = DISCONNECTED.exec(event))) {
    const fields: Record<string, string | number | boolean> = { interface: iface, bssid: (x[1] as string).toLowerCase() };
    if (x[2] !== undefined) fields.reason_code = Number(x[2]);
    if (/\blocally_generated=1\b/.test(x[3] ?? '')) fields.locally_generated = true;
    return record('wifi.disconnected', message, 5, undefined, fields);
  }
  if ((x = ASSOC_REJECT.exec(event))) {
    const fields: Record<string, string | number> = { interface: iface, bssid: (x[1] as string).toLowerCase() };
    if (x[2] !== undefined) fields.status_code = Number(x[2]);
    return record('wifi.assoc_rejected', message, 5, undefined, fields);
  }
  if ((x = SIGNAL_CHANGE.exec(event))) {
    return record('wifi.signal_changed', message, 6, undefined, {
      interface: iface,
      above_threshold: x[1] === '1',
      signal_dbm: Number(x[2]),
      noise_dbm: Number(x[3]),
      txrate_kbps: Number(x[4]),
    });
  }
  if ((x = ASSOCIATED_WITH.exec(event))) {
    return record('wifi.associated', message, 6, undefined, { interface: iface, bssid: (x[1] as string).toLowerCase() });
  }
  if ((x = KEY_DONE.exec(event))) {
    const fields: Record<string, string> = { interface: iface, bssid: (x[1] as string).toLowerCase() };
    if (x[2]) fields.pairwise_cipher = x[2];
    if (x[3]) fields.group_cipher = x[3];
    return record('wifi.handshake_completed', message, 6, undefined, fields);
  }
  return null;
}

function addSignal(text: string, fields: Record<string, string | number | boolean>): void {
  const s = SIGNAL.exec(text);
  if (s) fields.signal_dbm = Number(s[1]);
}

function record(
  kind: string,
  message: SyslogMessage,
  severity: SyslogSeverity,
  subject: { mac: string } | undefined,
  fields: Record<string, string | number | boolean>,
): LogRecord {
  const host = message.hostname ?? message.sourceAddress;
  return {
    kind,
    time: message.timestamp ?? message.receivedAt,
    severity: message.severity ?? severity,
    ...(host ? { host } : {}),
    ...(subject ? { subject } : {}),
    fields,
  };
}
