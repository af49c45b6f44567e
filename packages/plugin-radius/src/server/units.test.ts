/** Unit tests of the server's pure parts: MAC formats, the duplicate cache, the success-rate window, quota windows,
 * accounting parsing and batching plans, and the merged dictionary. */

import { type ActivePlan, localMidnight, type Plan, type RateOverride, type Subscription } from '@rgz/core';
import { createChilliVendor } from '@rgz/nas-coovachilli';
import { createMikrotikVendor } from '@rgz/nas-mikrotik';
import { createWisprVendor } from '@rgz/nas-wispr';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeAttributes } from '../codec/index.js';
import type { NasEntry } from '../nas/registry.js';
import { canonicalAddress } from '../nas/registry.js';
import { parseAccounting, type SessionRecord } from './accounting.js';
import { plan } from './accounting-writer.js';
import { subscriberFromClass } from './auth.js';
import { buildDictionary } from './dictionary.js';
import { DuplicateCache } from './duplicate-cache.js';
import { normalizeMac } from './mac.js';
import { SlidingRate } from './metrics.js';
import { addMonths, planPolicy, quotaWindow, sessionRate } from './policy.js';

describe('normalizeMac', () => {
  it('reads the formats NAS use and writes aa:bb:cc:dd:ee:ff', () => {
    for (const text of ['30:39:26:86:CC:EA', '30-39-26-86-CC-EA', '3039.2686.ccea', '30392686CCEA', ' 30:39:26:86:cc:ea ']) {
      expect(normalizeMac(text), text).toBe('30:39:26:86:cc:ea');
    }
  });
  it('refuses what is not a MAC', () => {
    for (const text of ['RGZ-7K2Q9M', '30:39:26:86:CC', '30:39-26:86:CC:EA', 'zz:39:26:86:cc:ea', '', undefined, null])
      expect(normalizeMac(text), String(text)).toBeUndefined();
  });
});

describe('canonicalAddress', () => {
  it('unwraps IPv4-mapped IPv6 and compresses IPv6', () => {
    expect(canonicalAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('DuplicateCache (RFC 5080 §2.2.2)', () => {
  const a = Buffer.from('packet-a');
  const b = Buffer.from('packet-b');
  it('answers a byte-identical retransmission from the cache and drops one still in progress', () => {
    let now = 0;
    const cache = new DuplicateCache({ ttlMs: 30_000, now: () => now });
    const key = DuplicateCache.key('10.0.0.1', 1645, 7);
    expect(cache.lookup(key, a)).toEqual({ kind: 'new' });
    cache.begin(key, a);
    expect(cache.lookup(key, a)).toEqual({ kind: 'in_progress' });
    cache.finish(key, a, Buffer.from('reply'));
    expect(cache.lookup(key, a)).toEqual({ kind: 'answered', response: Buffer.from('reply') });
    // Same tuple, different bytes: a new request; it replaces the entry once begun.
    expect(cache.lookup(key, b)).toEqual({ kind: 'new' });
    cache.begin(key, b);
    expect(cache.lookup(key, a)).toEqual({ kind: 'new' });
    now = 30_001;
    cache.finish(key, b, Buffer.from('x'));
    expect(cache.lookup(key, b)).toEqual({ kind: 'new' });
    expect(cache.size).toBe(0);
  });
  it('forgets an abandoned request so the retransmission is processed', () => {
    const cache = new DuplicateCache({ ttlMs: 30_000 });
    const key = DuplicateCache.key('10.0.0.1', 1646, 9);
    cache.begin(key, a);
    cache.abandon(key, a);
    expect(cache.lookup(key, a)).toEqual({ kind: 'new' });
  });
  it('is bounded', () => {
    const cache = new DuplicateCache({ ttlMs: 30_000, maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.begin(DuplicateCache.key('10.0.0.1', 1, i), a);
    expect(cache.size).toBe(3);
  });
});

describe('SlidingRate', () => {
  it('is accepts / answered over the window, 1 when idle', () => {
    let now = 1_000_000;
    const rate = new SlidingRate(300, () => now);
    expect(rate.rate()).toBe(1);
    for (let i = 0; i < 9; i++) rate.record(true);
    rate.record(false);
    expect(rate.rate()).toBeCloseTo(0.9);
    now += 200_000;
    for (let i = 0; i < 10; i++) rate.record(false);
    expect(rate.rate()).toBeCloseTo(9 / 20);
    now += 150_000; // the first ten are now older than 300 s
    expect(rate.rate()).toBe(0);
    now += 400_000;
    expect(rate.rate()).toBe(1);
  });
});

const plan_ = (p: Partial<Plan>): Plan =>
  ({
    id: 'p',
    reseller_id: null,
    code: 'X',
    name: 'X',
    price_fcfa: 1,
    quota_bytes: null,
    quota_period: null,
    validity_seconds: 30 * 86_400,
    rate_down_kbps: null,
    rate_up_kbps: null,
    active: true,
    created_at: new Date(),
    ...p,
  }) as Plan;
const active = (p: Partial<Plan>, startsAt: string, expiresAt: string): ActivePlan => ({
  plan: plan_(p),
  subscription: {
    id: 's',
    subscriber_id: 'u',
    plan_id: 'p',
    reseller_id: null,
    starts_at: new Date(startsAt),
    expires_at: new Date(expiresAt),
    source: 'grant',
    source_ref: 'r',
    status: 'active',
    created_at: new Date(),
  } as Subscription,
});

describe('quota windows', () => {
  const TZ = 'Africa/Porto-Novo'; // UTC+1, no DST
  it('a daily plan counts from local midnight (never before the purchase) to the next', () => {
    expect(localMidnight(new Date('2026-11-25T23:30:00Z'), TZ).toISOString()).toBe('2026-11-25T23:00:00.000Z');
    expect(localMidnight(new Date('2026-11-25T22:59:59Z'), TZ).toISOString()).toBe('2026-11-24T23:00:00.000Z');
    const a = active({ quota_bytes: 10, quota_period: 'day' }, '2026-11-20T08:00:00Z', '2026-12-20T08:00:00Z');
    expect(quotaWindow(a, new Date('2026-11-25T12:00:00Z'), TZ)).toEqual({ start: new Date('2026-11-24T23:00:00Z'), end: new Date('2026-11-25T23:00:00Z') });
    expect(quotaWindow(a, new Date('2026-11-20T09:00:00Z'), TZ).start).toEqual(new Date('2026-11-20T08:00:00Z'));
  });
  it('a monthly plan counts calendar months from the purchase', () => {
    expect(addMonths(new Date('2026-01-31T10:00:00Z'), 1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    const a = active({ quota_bytes: 10, quota_period: 'month' }, '2026-01-31T10:00:00Z', '2026-06-01T00:00:00Z');
    expect(quotaWindow(a, new Date('2026-03-05T00:00:00Z'), TZ)).toEqual({ start: new Date('2026-02-28T10:00:00Z'), end: new Date('2026-03-31T10:00:00Z') });
    expect(quotaWindow(a, new Date('2026-01-31T10:00:00Z'), TZ).start).toEqual(new Date('2026-01-31T10:00:00Z'));
  });
  it('a plan without period counts the whole subscription', () => {
    const a = active({ quota_bytes: 10 }, '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
    expect(quotaWindow(a, new Date('2026-01-15T00:00:00Z'), TZ)).toEqual({ start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') });
  });
});

describe('planPolicy', () => {
  const TZ = 'Africa/Porto-Novo';
  const now = new Date('2026-11-25T12:00:00Z');
  const daily = active(
    { quota_bytes: 10 * 1024 * 1024, quota_period: 'day', rate_up_kbps: 512, rate_down_kbps: 1024 },
    '2026-11-20T00:00:00Z',
    '2026-12-20T00:00:00Z',
  );
  const base = { now, timeZone: TZ, interimIntervalSeconds: 300, capAtWindowEnd: true };
  it('gives rate in bit/s, the quota left, and Session-Timeout = the soonest of plan end, portal session, window end', () => {
    const { policy, remainingBytes } = planPolicy({ ...base, active: daily, usedBytes: 4 * 1024 * 1024 });
    expect(policy.rateLimit).toEqual({ upBps: 512_000, downBps: 1_024_000 });
    expect(remainingBytes).toBe(6 * 1024 * 1024);
    expect(policy.quota).toEqual({ totalBytes: BigInt(6 * 1024 * 1024) });
    expect(policy.sessionTimeoutSeconds).toBe(11 * 3600); // local midnight is 23:00Z
    expect(planPolicy({ ...base, active: daily, usedBytes: 0, sessionKeyTtlSeconds: 600 }).policy.sessionTimeoutSeconds).toBe(600);
    expect(planPolicy({ ...base, active: daily, usedBytes: 0, capAtWindowEnd: false }).policy.sessionTimeoutSeconds).toBe(24 * 86_400 + 12 * 3600);
  });
  it('for a live session (CoA) adds what the session already used, since the NAS counts from its start', () => {
    const { policy } = planPolicy({ ...base, active: daily, usedBytes: 4 * 1024 * 1024, sessionBytes: 3 * 1024 * 1024 });
    expect(policy.quota).toEqual({ totalBytes: BigInt(9 * 1024 * 1024) });
  });
  it('has no quota and no rate for an unlimited plan', () => {
    const unlimited = active({ quota_bytes: null, rate_up_kbps: null, rate_down_kbps: null }, '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z');
    const { policy, remainingBytes } = planPolicy({ ...base, active: unlimited, usedBytes: 123 });
    expect(remainingBytes).toBeUndefined();
    expect(policy).toEqual({ sessionTimeoutSeconds: 24 * 86_400 + 12 * 3600, interimIntervalSeconds: 300 });
  });
});

describe('planPolicy with a DBA rate override', () => {
  const TZ = 'Africa/Porto-Novo';
  const now = new Date('2026-11-25T12:00:00Z');
  const base = { now, timeZone: TZ, interimIntervalSeconds: 300, capAtWindowEnd: true, usedBytes: 0 };
  const capped = active({ rate_up_kbps: 1024, rate_down_kbps: 2048 }, '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z');
  const unlimited = active({ rate_up_kbps: null, rate_down_kbps: null }, '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z');
  const override = (down: number | null, up: number | null): RateOverride => ({ down_kbps: down, up_kbps: up, computed_at: now.toISOString() });
  const mikrotik = createMikrotikVendor();
  const chilli = createChilliVendor();
  const value = (attrs: readonly { name: string; value: unknown }[], name: string) => attrs.find((a) => a.name === name)?.value;

  it('lowers the plan per direction, never raises it; MikroTik gets rx/tx = up/down, CoovaChilli kbit/s', () => {
    const { policy } = planPolicy({ ...base, active: capped, rateOverride: { ...override(1500, 2000), burst_down_kbps: 500, source: 'dba' } });
    // Down lowered to 1500, up stays at the plan's 1024 (the override is above it).
    expect(policy.rateLimit).toEqual({ upBps: 1_024_000, downBps: 1_500_000 });
    expect(value(mikrotik.accessAccept(policy).attributes, 'Mikrotik-Rate-Limit')).toBe('1024k/1500k');
    const coa = chilli.coaRequest?.({ userName: 'RGZ-1', acctSessionId: 'a1' }, policy);
    expect(value(coa?.attributes ?? [], 'ChilliSpot-Bandwidth-Max-Up')).toBe(1024);
    expect(value(coa?.attributes ?? [], 'ChilliSpot-Bandwidth-Max-Down')).toBe(1500);
  });

  it('an unlimited plan takes the override as its limit', () => {
    const { policy } = planPolicy({ ...base, active: unlimited, rateOverride: override(1000, 500) });
    expect(policy.rateLimit).toEqual({ upBps: 500_000, downBps: 1_000_000 });
    expect(value(mikrotik.coaRequest?.({ userName: 'RGZ-1', acctSessionId: 'a1' }, policy).attributes ?? [], 'Mikrotik-Rate-Limit')).toBe('500k/1M');
    expect(value(chilli.accessAccept(policy).attributes, 'ChilliSpot-Bandwidth-Max-Down')).toBe(1000);
  });

  it('a direction limited on neither side is sent as 0 (no limit), and a 0 override still limits', () => {
    const downOnly = planPolicy({ ...base, active: unlimited, rateOverride: override(800, null) }).policy;
    expect(downOnly.rateLimit).toEqual({ upBps: 0, downBps: 800_000 });
    expect(value(mikrotik.accessAccept(downOnly).attributes, 'Mikrotik-Rate-Limit')).toBe('0/800k');
    expect(value(chilli.accessAccept(downOnly).attributes, 'ChilliSpot-Bandwidth-Max-Up')).toBe(0);
    // A plan limited upstream only, overridden downstream only: both directions limited.
    const upPlan = active({ rate_up_kbps: 256, rate_down_kbps: null }, '2026-11-20T00:00:00Z', '2026-12-20T00:00:00Z');
    expect(planPolicy({ ...base, active: upPlan, rateOverride: override(700, null) }).policy.rateLimit).toEqual({ upBps: 256_000, downBps: 700_000 });
    expect(planPolicy({ ...base, active: upPlan }).policy.rateLimit).toEqual({ upBps: 256_000, downBps: 0 });
    expect(sessionRate({ rate_down_kbps: 2048, rate_up_kbps: 1024 }, override(0, 0))).toEqual({ upBps: 1000, downBps: 1000 });
  });

  it('without an override (absent, null, or expired key) the plan rate applies; nothing limited → no rateLimit', () => {
    expect(planPolicy({ ...base, active: capped, rateOverride: null }).policy.rateLimit).toEqual({ upBps: 1_024_000, downBps: 2_048_000 });
    expect(planPolicy({ ...base, active: unlimited, rateOverride: override(null, null) }).policy.rateLimit).toBeUndefined();
  });
});

const NAS: NasEntry = {
  id: 'config:nas1',
  identifier: 'nas1',
  address: '10.0.0.1',
  vendor: 'mikrotik',
  resellerId: null,
  coaPort: 3799,
  secret: 's3cret-s3cret-s3cret',
  requireMessageAuthenticator: true,
  coaMessageAuthenticator: false,
  enabled: true,
  source: 'config',
};

function acct(attributes: Parameters<typeof encode>[0]['attributes']) {
  return decode(encode({ code: 'Accounting-Request', identifier: 1, attributes }, NAS.secret), NAS.secret, { invalidAttributes: 'raw' });
}

describe('parseAccounting', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  it('adds Gigawords·2^32 to the octets, input = upload, and dates events by Event-Timestamp − Acct-Delay-Time', () => {
    const parsed = parseAccounting(
      NAS,
      acct([
        { name: 'Acct-Status-Type', value: 'Interim-Update' },
        { name: 'Acct-Session-Id', value: '80f00003' },
        { name: 'User-Name', value: '30-39-26-86-CC-EA' },
        { name: 'Calling-Station-Id', value: '30-39-26-86-CC-EA' },
        { name: 'Acct-Input-Octets', value: 1234 },
        { name: 'Acct-Input-Gigawords', value: 1 },
        { name: 'Acct-Output-Octets', value: 10 },
        { name: 'Acct-Output-Gigawords', value: 3 },
        { name: 'Acct-Session-Time', value: 600 },
        { name: 'Event-Timestamp', value: Math.floor(now.getTime() / 1000) - 30 },
        { name: 'Acct-Delay-Time', value: 5 },
        { name: 'Framed-IP-Address', value: '10.5.50.23' },
      ]),
      now,
    );
    expect(parsed.ok).toBe(true);
    const r = (parsed as { record: SessionRecord }).record;
    expect(r).toMatchObject({
      kind: 'session',
      status: 'interim',
      bytesIn: 4_294_968_530n,
      bytesOut: 3n * 2n ** 32n + 10n,
      eventTime: new Date('2026-11-25T11:59:25Z'),
      sessionStart: new Date('2026-11-25T11:49:25Z'),
      macUser: '30:39:26:86:cc:ea',
      mac: '30:39:26:86:cc:ea',
      callingStationId: '30-39-26-86-CC-EA',
      framedIp: '10.5.50.23',
      nasIdentifier: 'nas1',
    });
  });
  it('never dates an event after its arrival (a NAS clock in the future)', () => {
    const parsed = parseAccounting(
      NAS,
      acct([
        { name: 'Acct-Status-Type', value: 'Start' },
        { name: 'Acct-Session-Id', value: 'x' },
        { name: 'Event-Timestamp', value: 4_000_000_000 },
      ]),
      now,
    );
    expect((parsed as { record: SessionRecord }).record.eventTime).toEqual(now);
  });
  it('names the terminate cause of a Stop, and maps Accounting-On/Off to a NAS reset', () => {
    const stop = parseAccounting(
      NAS,
      acct([
        { name: 'Acct-Status-Type', value: 'Stop' },
        { name: 'Acct-Session-Id', value: 'x' },
        { name: 'Acct-Terminate-Cause', value: 'Idle-Timeout' },
      ]),
      now,
    );
    expect((stop as { record: SessionRecord }).record.terminateCause).toBe('Idle-Timeout');
    expect(parseAccounting(NAS, acct([{ name: 'Acct-Status-Type', value: 'Accounting-On' }]), now)).toEqual({
      ok: true,
      record: { kind: 'nas-reset', nasId: NAS.id, eventTime: now, status: 'on' },
    });
  });
  it('refuses a record without Acct-Session-Id or with a malformed counter, ignores other status types', () => {
    expect(parseAccounting(NAS, acct([{ name: 'Acct-Status-Type', value: 'Start' }]), now)).toMatchObject({ ok: false });
    const bad = acct([
      { name: 'Acct-Status-Type', value: 'Start' },
      { name: 'Acct-Session-Id', value: 'x' },
      { type: 42, raw: Buffer.from([1, 2, 3]) },
    ]);
    expect(parseAccounting(NAS, bad, now)).toMatchObject({ ok: false, reason: 'Acct-Input-Octets invalid' });
    expect(parseAccounting(NAS, acct([{ name: 'Acct-Status-Type', value: 'Failed' }]), now)).toEqual({ ok: true, record: null });
  });
  it('reads the subscriber back from the Class we put in the Accept', () => {
    expect(subscriberFromClass(Buffer.from('rgz:C9E01C8D-BB9C-4646-8C73-65FA37DA522E'))).toBe('c9e01c8d-bb9c-4646-8c73-65fa37da522e');
    expect(subscriberFromClass(Buffer.from('rgz:nope'))).toBeUndefined();
    expect(subscriberFromClass('rgz:c9e01c8d-bb9c-4646-8c73-65fa37da522e')).toBeUndefined();
  });
});

describe('group-commit plan', () => {
  const rec = (nasId: string, id: string, status: SessionRecord['status'] = 'interim') =>
    ({ kind: 'session', nasId, acctSessionId: id, status }) as SessionRecord;
  it('keeps each (NAS, session) once per statement, in order, and NAS resets as barriers', () => {
    const steps = plan([
      rec('a', '2'),
      rec('a', '1'),
      rec('a', '2', 'stop'),
      { kind: 'nas-reset', nasId: 'a', eventTime: new Date(0), status: 'on' },
      rec('b', '1'),
    ]);
    expect(steps.map((s) => (s.kind === 'upsert' ? s.rows.map((r) => `${r.nasId}/${r.acctSessionId}/${r.status}`) : 'reset'))).toEqual([
      ['a/1/interim', 'a/2/interim'],
      ['a/2/stop'],
      'reset',
      ['b/1/interim'],
    ]);
  });
});

describe('merged dictionary', () => {
  it('holds every shipped dialect and encodes their VSAs as the dialect tests expect', () => {
    const dictionary = buildDictionary([createMikrotikVendor(), createChilliVendor(), createWisprVendor()]);
    expect(dictionary.attribute('Mikrotik-Rate-Limit')?.vendorId).toBe(14_988);
    expect(dictionary.attribute('CoovaChilli-Max-Total-Gigawords')?.type).toBe(23);
    // The codec writes the MikroTik 5 GiB quota exactly as nas-mikrotik's hand-derived bytes.
    const { attributes } = createMikrotikVendor().accessAccept({ quota: { totalBytes: 5n * 1024n ** 3n }, rateLimit: { upBps: 512_000, downBps: 1_024_000 } });
    expect(encodeAttributes(attributes, { secret: 'x', dictionary }).toString('hex')).toBe(
      '1a1200003a8c080c3531326b2f313032346b' + '1a0c00003a8c110640000000' + '1a0c00003a8c120600000001',
    );
  });
  it('accepts the same attribute from two dialects and rejects a conflict, naming both', () => {
    const a = createMikrotikVendor({ id: 'a' });
    const b = createMikrotikVendor({ id: 'b' });
    expect(() => buildDictionary([a, b])).not.toThrow();
    const clash = {
      ...b,
      dictionary: { vendors: b.dictionary.vendors, attributes: [{ name: 'Mikrotik-Rate-Limit', vendorId: 14_988, type: 8, dataType: 'integer' as const }] },
    };
    expect(() => buildDictionary([a, clash])).toThrow(/14988\/8 is Mikrotik-Rate-Limit \(string\) in dialect "a" but Mikrotik-Rate-Limit \(integer\) in "b"/);
  });
});
