/** The varbind readers and the IF-MIB reader CPE profiles share: total (never throw), typed, and bounded. */
import { describe, expect, it } from 'vitest';
import { type SnmpVarbind, StandardOid } from './cpe-profile.js';
import { compactFields, macFromText, parseIfMibInterfaces, Varbinds, varbindMac, varbindNumber, varbindText, withinRange } from './cpe-profile-readers.js';

const text = (oid: string, s: string): SnmpVarbind => ({ oid, type: 'OctetString', value: new TextEncoder().encode(s) });

describe('Varbinds', () => {
  const vb = new Varbinds([
    { oid: '1.1', type: 'Integer', value: -61 },
    { oid: '1.1', type: 'Integer', value: 99 },
    { oid: '1.2', type: 'Counter64', value: 2n ** 60n },
    { oid: '1.3', type: 'Counter64', value: 12_345n },
    text('1.4', ' 5.8 \0\0'),
    { oid: '1.5', type: 'NoSuchInstance', value: null },
    text('2.1.7', 'a'),
    { oid: '2.1.8', type: 'NoSuchObject', value: null },
    text('2.10.1', 'other column'),
  ]);

  it('keeps the first varbind of an OID and reads numbers, text and numeric text', () => {
    expect(vb.num('1.1')).toBe(-61);
    expect(vb.num('1.2')).toBeUndefined();
    expect(vb.num('1.3')).toBe(12_345);
    expect(vb.str('1.4')).toBe('5.8');
    expect(vb.numeric('1.4')).toBe(5.8);
    expect(vb.num('1.5')).toBeUndefined();
    expect(vb.str('1.1')).toBeUndefined();
    expect(vb.num('9.9')).toBeUndefined();
  });

  it('a column is its rows without error entries, not a longer column sharing the prefix', () => {
    expect([...vb.column('2.1').keys()]).toEqual(['7']);
  });

  it('gives a column its rows in the order the poll returned them, whatever the string order of the OIDs', () => {
    // Walk order is numeric: .2 before .10, and a multi-arc index (a station MAC) after a shorter one.
    const walk = new Varbinds([
      text('3.1.2', 'b'),
      text('3.1.10', 'c'),
      text('3.1.10.5', 'd'),
      text('3', 'the column itself is no row'),
      text('3.10.1', 'another column'),
      text('3.1.1', 'a, returned last'),
      { oid: '3.1.2', type: 'Integer', value: 0 },
    ]);
    expect([...walk.column('3.1')].map(([k, v]) => [k, varbindText(v)])).toEqual([
      ['2', 'b'],
      ['10', 'c'],
      ['10.5', 'd'],
      ['1', 'a, returned last'],
    ]);
    expect([...walk.column('3.10').keys()]).toEqual(['1']);
    expect(walk.column('4').size).toBe(0);
    expect(walk.column('3.1')).toEqual(walk.column('3.1'));
  });

  it('free readers: MACs from bytes or text, ranges, compact objects', () => {
    expect(varbindMac({ oid: 'x', type: 'OctetString', value: Uint8Array.from([0x24, 0xa4, 0x3c, 1, 2, 3]) })).toBe('24:a4:3c:01:02:03');
    expect(varbindMac(text('x', '24-A4-3C-01-02-03'))).toBe('24:a4:3c:01:02:03');
    expect(macFromText('24a4.3c01.0203')).toBe('24:a4:3c:01:02:03');
    expect(macFromText('not a mac')).toBeUndefined();
    expect(varbindNumber({ oid: 'x', type: 'Gauge32', value: 7 })).toBe(7);
    expect(varbindText(text('x', '   '))).toBeUndefined();
    expect(withinRange(0, -130, -1)).toBeUndefined();
    expect(withinRange(-70, -130, 0)).toBe(-70);
    expect(compactFields({ a: 1, b: undefined })).toEqual({ a: 1 });
  });
});

describe('parseIfMibInterfaces', () => {
  it('prefers Counter64 octets per interface, falls back to Counter32, and reads speed in Mbit/s or bit/s', () => {
    const rows = parseIfMibInterfaces(
      new Varbinds([
        text(`${StandardOid.ifDescr}.1`, 'eth0'),
        text(`${StandardOid.ifName}.1`, 'LAN'),
        { oid: `${StandardOid.ifOperStatus}.1`, type: 'Integer', value: 1 },
        { oid: `${StandardOid.ifInOctets}.1`, type: 'Counter32', value: 10 },
        { oid: `${StandardOid.ifHCInOctets}.1`, type: 'Counter64', value: 2n ** 40n },
        { oid: `${StandardOid.ifHCOutOctets}.1`, type: 'Counter64', value: 5n },
        { oid: `${StandardOid.ifHighSpeed}.1`, type: 'Gauge32', value: 1000 },
        text(`${StandardOid.ifDescr}.2`, 'ath0'),
        { oid: `${StandardOid.ifOperStatus}.2`, type: 'Integer', value: 2 },
        { oid: `${StandardOid.ifInOctets}.2`, type: 'Counter32', value: 4_000_000_000 },
        { oid: `${StandardOid.ifOutOctets}.2`, type: 'Counter32', value: 3 },
        { oid: `${StandardOid.ifInErrors}.2`, type: 'Counter32', value: 4 },
        { oid: `${StandardOid.ifHighSpeed}.2`, type: 'Gauge32', value: 1_000_000_000 },
      ]),
    );
    expect(rows).toEqual([
      { ifIndex: 1, name: 'LAN', operStatus: 'up', inOctets: 2n ** 40n, outOctets: 5n, counterBits: 64, speedBps: 1_000_000_000 },
      { ifIndex: 2, name: 'ath0', operStatus: 'down', inOctets: 4_000_000_000n, outOctets: 3n, counterBits: 32, inErrors: 4, speedBps: 1_000_000_000 },
    ]);
  });
});
