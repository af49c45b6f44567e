/**
 * Accounting-Request → a record for `radius_sessions` (RFC 2866, RFC 2869 Gigawords, RFC 5080 §2.3).
 * Counters are totals for the session so far, so applying a record twice changes nothing: the writer keeps the
 * greatest value seen. Event time = Event-Timestamp (else the receive time) minus Acct-Delay-Time.
 */

import type { NasEntry } from '../nas/registry.js';
import { subscriberFromClass } from './auth.js';
import { normalizeMac } from './mac.js';
import type { RequestAttributes } from './request.js';

/** What accounting reads of a request (a decoded datagram fits as it is). */
type Attributes = Pick<RequestAttributes, 'get' | 'find'>;

export interface SessionRecord {
  readonly kind: 'session';
  readonly status: 'start' | 'interim' | 'stop';
  readonly nasId: string;
  readonly nasIdentifier: string;
  readonly nasIpAddress: string | null;
  readonly acctSessionId: string;
  readonly userName: string | null;
  /** From Class `rgz:<uuid>` (set by our Accept). */
  readonly classSubscriberId: string | null;
  /** User-Name as a MAC (MAC-auth sessions), to find the device's subscriber. */
  readonly macUser: string | null;
  readonly mac: string | null;
  readonly callingStationId: string | null;
  readonly framedIp: string | null;
  /** Acct-Input-Gigawords·2^32 + Acct-Input-Octets. */
  readonly bytesIn: bigint;
  readonly bytesOut: bigint;
  readonly sessionTime: number;
  readonly sessionStart: Date;
  readonly eventTime: Date;
  readonly terminateCause: string | null;
}

/** Accounting-On / Accounting-Off: the NAS (re)started or is going down; all its open sessions are over. */
export interface NasResetRecord {
  readonly kind: 'nas-reset';
  readonly nasId: string;
  readonly eventTime: Date;
  readonly status: 'on' | 'off';
}

export type AccountingRecord = SessionRecord | NasResetRecord;

export type ParsedAccounting =
  | { ok: true; record: AccountingRecord }
  /** A status type we acknowledge without storing (Tunnel-*, Failed). */
  | { ok: true; record: null }
  | { ok: false; reason: string };

const TWO_32 = 2n ** 32n;

function int(packet: Attributes, name: string): number | undefined | 'invalid' {
  const a = packet.find(name);
  if (a === undefined) return undefined;
  if (a.invalid !== undefined || typeof a.value !== 'number') return 'invalid';
  return a.value;
}

function text(packet: Attributes, name: string): string | null {
  const v = packet.get(name);
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export function parseAccounting(nas: NasEntry, packet: Attributes, receivedAt: Date): ParsedAccounting {
  const status = int(packet, 'Acct-Status-Type');
  if (status === undefined || status === 'invalid') return { ok: false, reason: 'Acct-Status-Type missing or invalid' };
  const eventStamp = int(packet, 'Event-Timestamp');
  const delay = int(packet, 'Acct-Delay-Time');
  if (eventStamp === 'invalid' || delay === 'invalid') return { ok: false, reason: 'Event-Timestamp or Acct-Delay-Time invalid' };
  const base = eventStamp !== undefined ? eventStamp * 1000 : receivedAt.getTime();
  // A NAS clock far in the future must not reopen sessions forever: never later than the receive time.
  const eventTime = new Date(Math.min(base, receivedAt.getTime()) - (delay ?? 0) * 1000);

  if (status === 7 || status === 8) {
    return { ok: true, record: { kind: 'nas-reset', nasId: nas.id, eventTime, status: status === 7 ? 'on' : 'off' } };
  }
  if (status !== 1 && status !== 2 && status !== 3) return { ok: true, record: null };

  const acctSessionId = text(packet, 'Acct-Session-Id');
  if (acctSessionId === null) return { ok: false, reason: 'Acct-Session-Id missing' };
  const counters: Record<string, number> = {};
  for (const name of ['Acct-Input-Octets', 'Acct-Output-Octets', 'Acct-Input-Gigawords', 'Acct-Output-Gigawords', 'Acct-Session-Time']) {
    const v = int(packet, name);
    if (v === 'invalid') return { ok: false, reason: `${name} invalid` };
    counters[name] = v ?? 0;
  }
  const bytes = (octets: string, giga: string) => BigInt(counters[giga] ?? 0) * TWO_32 + BigInt(counters[octets] ?? 0);
  const sessionTime = counters['Acct-Session-Time'] ?? 0;
  const kind = status === 1 ? 'start' : status === 2 ? 'stop' : 'interim';
  const userName = text(packet, 'User-Name');
  const callingStationId = text(packet, 'Calling-Station-Id');
  const cause = packet.find('Acct-Terminate-Cause');
  const framed = packet.get('Framed-IP-Address');
  const nasIp = packet.get('NAS-IP-Address');
  return {
    ok: true,
    record: {
      kind: 'session',
      status: kind,
      nasId: nas.id,
      nasIdentifier: text(packet, 'NAS-Identifier') ?? nas.identifier,
      nasIpAddress: typeof nasIp === 'string' ? nasIp : null,
      acctSessionId,
      userName,
      classSubscriberId: subscriberFromClass(packet.get('Class')) ?? null,
      macUser: normalizeMac(userName) ?? null,
      mac: normalizeMac(callingStationId) ?? null,
      callingStationId,
      framedIp: typeof framed === 'string' ? framed : null,
      bytesIn: bytes('Acct-Input-Octets', 'Acct-Input-Gigawords'),
      bytesOut: bytes('Acct-Output-Octets', 'Acct-Output-Gigawords'),
      sessionTime,
      sessionStart: kind === 'start' ? eventTime : new Date(eventTime.getTime() - sessionTime * 1000),
      eventTime,
      terminateCause: kind === 'stop' ? (cause?.valueName ?? (typeof cause?.value === 'number' ? String(cause.value) : 'Unknown')) : null,
    },
  };
}
