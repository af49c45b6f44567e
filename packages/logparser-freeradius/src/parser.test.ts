import { describe, expect, it } from 'vitest';
import { createFreeradiusParser, normalizeMac } from './parser.js';

const receivedAt = new Date('2026-11-25T08:00:00Z');
const parse = (message: string, timeZone?: string) => createFreeradiusParser(timeZone ? { timeZone } : {}).parse({ format: 'raw', message, receivedAt });

describe('freeradius parser', () => {
  it('reads the ctime of file lines in the configured zone', () => {
    const line = 'Tue Nov 24 23:35:13 2026 : Auth: (0) Login OK: [alice] (from client localhost port 0 cli AA-BB-CC-DD-EE-FF)';
    expect(parse(line)?.time.toISOString()).toBe('2026-11-24T23:35:13.000Z');
    // Benin is UTC+1 all year.
    expect(parse(line, 'Africa/Porto-Novo')?.time.toISOString()).toBe('2026-11-24T22:35:13.000Z');
  });

  it('keeps space-padded days and proxied `via` tails', () => {
    const r = parse('Sun Mar  1 01:02:03 2026 : Auth: (9) Login OK: [carol] (from client nas-2 port 4 cli 24a4.3c01.0203 via TLS tunnel)');
    expect(r?.kind).toBe('auth.login_ok');
    expect(r?.time.toISOString()).toBe('2026-03-01T01:02:03.000Z');
    expect(r?.subject).toEqual({ userName: 'carol', mac: '24:a4:3c:01:02:03' });
  });

  it('never copies a password, even one with slashes or brackets', () => {
    const r = parse('Auth: (3) Login incorrect: [dave/pa/ss]w0rd] (from client nas-1 port 0 cli AA-BB-CC-DD-EE-01)');
    expect(r?.subject?.userName).toBe('dave');
    expect(JSON.stringify(r)).not.toContain('pa/ss');
    expect(JSON.stringify(r)).not.toContain('w0rd');
  });

  it('keeps a Calling-Station-Id that is not a MAC as a field only', () => {
    const r = parse('Auth: (4) Login OK: [eve] (from client nas-1 port 0 cli 10.0.0.9)');
    expect(r?.subject).toEqual({ userName: 'eve' });
    expect(r?.fields.calling_station_id).toBe('10.0.0.9');
  });

  it('normalises MAC spellings', () => {
    expect(normalizeMac('AA-BB-CC-DD-EE-FF')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normalizeMac('aabbccddeeff')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normalizeMac('aabb.ccdd.eeff')).toBe('aa:bb:cc:dd:ee:ff');
    expect(normalizeMac('aa:bb-cc:dd:ee:ff')).toBeUndefined();
    expect(normalizeMac('zz:bb:cc:dd:ee:ff')).toBeUndefined();
  });

  it('is fast enough to sit on every line (best of 3 runs ≥ 20k lines/s even on a loaded CI machine)', () => {
    const p = createFreeradiusParser();
    const msg = { format: 'raw' as const, message: 'Auth: (0) Login OK: [alice] (from client localhost port 0 cli AA-BB-CC-DD-EE-FF)', receivedAt };
    const other = { format: 'raw' as const, message: 'hostapd: ath0: STA 24:a4:3c:01:02:03 IEEE 802.11: associated', receivedAt };
    const n = 20_000;
    let best = 0;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      for (let i = 0; i < n; i++) p.parse(i % 2 ? msg : other);
      best = Math.max(best, n / ((performance.now() - started) / 1000));
    }
    expect(best).toBeGreaterThan(20_000);
  });
});
