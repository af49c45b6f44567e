/**
 * The v2c codec on hand-made datagrams: what real agents send is covered by session.test.ts (snmpsim replaying
 * LibreNMS's recorded walks, Net-SNMP's snmpd), decoded to the same values net-snmp gave.
 */
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { compareOids, SnmpClient } from './session.js';
import { decodeResponse, encodeOid, encodeRequest, V2cWire } from './v2c.js';

/** BER: tag, definite length, content. */
function tlv(tag: number, ...content: Array<number[] | Buffer>): Buffer {
  const body = Buffer.concat(content.map((c) => Buffer.from(c)));
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const int = (...bytes: number[]) => tlv(0x02, bytes);
const response = (id: number[], status: number, index: number, varbinds: Buffer[]) =>
  tlv(0x30, int(1), tlv(0x04, Buffer.from('public')), tlv(0xa2, int(...id), int(status), int(index), tlv(0x30, ...varbinds)));
const vb = (oid: string, value: Buffer) => tlv(0x30, encodeOid(oid), value);
/** A request id as INTEGER content bytes. */
const idBytes = (id: number) => {
  const b: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) b.unshift(v & 0xff);
  if ((b[0] ?? 0) & 0x80) b.unshift(0);
  return b.length ? b : [0];
};

describe('v2c codec', () => {
  it('encodes OIDs as BER (first two arcs in one, base-128 arcs up to 2^32 - 1)', () => {
    expect([...encodeOid('1.3.6.1.2.1.1.3.0')]).toEqual([0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 3, 0]);
    expect([...encodeOid('1.3.6.1.4.1.41112')]).toEqual([0x06, 0x08, 0x2b, 6, 1, 4, 1, 0x82, 0xc1, 0x18]);
    expect([...encodeOid('1.3.4294967295')]).toEqual([0x06, 0x06, 0x2b, 0x8f, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => encodeOid('1.3.x')).toThrow(/not an OID/);
    expect(() => encodeOid('1')).toThrow(/not an OID/);
  });

  it('round-trips OIDs and request fields through a Response-shaped message', () => {
    const oids = ['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.2.2.1.2.4294967295', '2.999.3', '0.0', '1.3.6.1.4.1.41112.1.4.7.1.1.1.36.164.60.1.2.3'];
    const message = encodeRequest(Buffer.from('litebeam'), 0xa2, 2_000_000_000, 0, 0, oids);
    const r = decodeResponse(message);
    expect(r.requestId).toBe(2_000_000_000);
    expect(r.varbinds).toEqual(oids.map((oid) => ({ oid, type: 'Null', value: null })));
    // Long-form lengths: a request with many OIDs is longer than 255 bytes.
    const many = Array.from({ length: 60 }, (_, i) => `1.3.6.1.2.1.31.1.1.1.6.${i + 1}`);
    const big = encodeRequest(Buffer.from('public'), 0xa2, 7, 0, 0, many);
    expect(big.length).toBeGreaterThan(256);
    expect(decodeResponse(big).varbinds.map((v) => v.oid)).toEqual(many);
  });

  it('decodes every SNMPv2 value type as decodeVarbind decodes net-snmp’s', () => {
    const msg = response([0x01, 0x00], 0, 0, [
      vb('1.3.6.1.4.1.1.1.0', int(0xff, 0xc1)), // -63
      vb('1.3.6.1.4.1.1.2.0', tlv(0x41, [0x00, 0xff, 0xff, 0xff, 0xff])), // Counter32 2^32 - 1
      vb('1.3.6.1.4.1.1.3.0', tlv(0x42, [0x07, 0xbf, 0xa4, 0x80])), // Gauge32
      vb('1.3.6.1.4.1.1.4.0', tlv(0x43, [0x01, 0x86, 0xa0])), // TimeTicks 100000
      vb('1.3.6.1.4.1.1.5.0', tlv(0x46, [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), // Counter64 2^64 - 1
      vb('1.3.6.1.4.1.1.6.0', tlv(0x04, Buffer.from('ath0'))),
      vb('1.3.6.1.4.1.1.7.0', tlv(0x40, [10, 20, 0, 12])),
      vb('1.3.6.1.4.1.1.8.0', encodeOid('1.3.6.1.4.1.10002.1')),
      vb('1.3.6.1.4.1.1.9.0', tlv(0x44, [1, 2])),
      vb('1.3.6.1.4.1.1.10.0', tlv(0x80, [])),
      vb('1.3.6.1.4.1.1.11.0', tlv(0x81, [])),
      vb('1.3.6.1.4.1.1.12.0', tlv(0x82, [])),
      vb('1.3.6.1.4.1.1.13.0', tlv(0x05, [])),
      vb('1.3.6.1.4.1.1.14.0', int()), // an empty INTEGER reads as 0
    ]);
    const r = decodeResponse(msg);
    expect(r.requestId).toBe(256);
    expect(r.varbinds).toEqual([
      { oid: '1.3.6.1.4.1.1.1.0', type: 'Integer', value: -63 },
      { oid: '1.3.6.1.4.1.1.2.0', type: 'Counter32', value: 4_294_967_295 },
      { oid: '1.3.6.1.4.1.1.3.0', type: 'Gauge32', value: 130_000_000 },
      { oid: '1.3.6.1.4.1.1.4.0', type: 'TimeTicks', value: 100_000 },
      { oid: '1.3.6.1.4.1.1.5.0', type: 'Counter64', value: 18_446_744_073_709_551_615n },
      { oid: '1.3.6.1.4.1.1.6.0', type: 'OctetString', value: new TextEncoder().encode('ath0') },
      { oid: '1.3.6.1.4.1.1.7.0', type: 'IpAddress', value: '10.20.0.12' },
      { oid: '1.3.6.1.4.1.1.8.0', type: 'ObjectIdentifier', value: '1.3.6.1.4.1.10002.1' },
      { oid: '1.3.6.1.4.1.1.9.0', type: 'Opaque', value: new Uint8Array([1, 2]) },
      { oid: '1.3.6.1.4.1.1.10.0', type: 'NoSuchObject', value: null },
      { oid: '1.3.6.1.4.1.1.11.0', type: 'NoSuchInstance', value: null },
      { oid: '1.3.6.1.4.1.1.12.0', type: 'EndOfMibView', value: null },
      { oid: '1.3.6.1.4.1.1.13.0', type: 'Null', value: null },
      { oid: '1.3.6.1.4.1.1.14.0', type: 'Integer', value: 0 },
    ]);
    // Values are copies: the datagram's buffer can be reused.
    const octets = r.varbinds[5]?.value as Uint8Array;
    msg.fill(0);
    expect(new TextDecoder().decode(octets)).toBe('ath0');
  });

  it('refuses what is not a well-formed Response', () => {
    const ok = response([1], 0, 0, [vb('1.3.6.1.2.1.1.3.0', tlv(0x43, [1]))]);
    expect(() => decodeResponse(ok.subarray(0, ok.length - 1))).toThrow();
    expect(() => decodeResponse(Buffer.from('not snmp at all'))).toThrow();
    expect(() => decodeResponse(encodeRequest(Buffer.from('public'), 0xa0, 1, 0, 0, ['1.3.6.1.2.1.1.3.0']))).toThrow(/not a Response/);
    expect(() => decodeResponse(response([1], 0, 0, [vb('1.3.6.1.2.1.1.3.0', tlv(0x40, [10, 0, 0]))]))).toThrow(/IpAddress/);
  });
});

describe('V2cWire', () => {
  /** A UDP agent answering each request with `answer(request)`. */
  async function agent(answer: (req: Buffer) => Buffer | undefined) {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      const out = answer(msg);
      if (out) s.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return { port: s.address().port, close: () => s.close() };
  }
  /** The request id of a request datagram: its PDU tag made a Response's, then decoded. */
  const idOf = (req: Buffer) => {
    const copy = Buffer.from(req);
    // 30 L | 02 01 01 | 04 n community | PDU tag
    let at = (copy[1] as number) & 0x80 ? 2 + ((copy[1] as number) & 0x7f) : 2;
    at += 3;
    at += 2 + (copy[at + 1] as number);
    copy[at] = 0xa2;
    return decodeResponse(copy).requestId;
  };

  it('splits a GetBulk answer into non-repeaters and rows per repeater', async () => {
    const a = await agent((req) =>
      response(idBytes(idOf(req)), 0, 0, [
        vb('1.3.6.1.2.1.1.3.0', tlv(0x43, [0x64])),
        vb('1.3.6.1.2.1.2.2.1.2.1', tlv(0x04, Buffer.from('lo'))),
        vb('1.3.6.1.2.1.2.2.1.10.1', tlv(0x41, [5])),
        vb('1.3.6.1.2.1.2.2.1.2.2', tlv(0x04, Buffer.from('eth0'))),
        vb('1.3.6.1.2.1.2.2.1.10.2', tlv(0x41, [6])),
      ]),
    );
    const wire = new V2cWire('127.0.0.1', a.port, 'public', { timeoutMs: 1000, retries: 0, transport: 'udp4' });
    try {
      const r = await wire.getBulk(['1.3.6.1.2.1.1.3', '1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.2.2.1.10'], 1, 2);
      expect(r.scalars.map((v) => v.oid)).toEqual(['1.3.6.1.2.1.1.3.0']);
      expect(r.columns.map((c) => c.map((v) => v.oid))).toEqual([
        ['1.3.6.1.2.1.2.2.1.2.1', '1.3.6.1.2.1.2.2.1.2.2'],
        ['1.3.6.1.2.1.2.2.1.10.1', '1.3.6.1.2.1.2.2.1.10.2'],
      ]);
    } finally {
      wire.close();
      a.close();
    }
  });

  it('an error status fails the request with its name; a Get answer with another count is malformed; answers to other ids are ignored', async () => {
    let mode: 'tooBig' | 'short' | 'stray' = 'tooBig';
    const a = await agent((req) => {
      const id = idOf(req);
      if (mode === 'tooBig') return response(idBytes(id), 1, 0, []);
      if (mode === 'short') return response(idBytes(id), 0, 0, []);
      return response(idBytes(id + 1), 0, 0, [vb('1.3.6.1.2.1.1.3.0', tlv(0x43, [1]))]);
    });
    const wire = new V2cWire('127.0.0.1', a.port, 'public', { timeoutMs: 150, retries: 0, transport: 'udp4' });
    try {
      await expect(wire.getBulk(['1.3.6.1.2.1.2'], 0, 10)).rejects.toMatchObject({ kind: 'error', message: expect.stringMatching(/TooBig/) });
      mode = 'short';
      await expect(wire.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({ kind: 'malformed' });
      mode = 'stray';
      await expect(wire.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({ kind: 'timeout' });
    } finally {
      wire.close();
      a.close();
    }
  });

  it('close() fails what is pending as a timeout and later requests too', async () => {
    const a = await agent(() => undefined);
    const wire = new V2cWire('127.0.0.1', a.port, 'public', { timeoutMs: 5000, retries: 0, transport: 'udp4' });
    const pending = wire.get(['1.3.6.1.2.1.1.3.0']);
    wire.close();
    await expect(pending).rejects.toMatchObject({ kind: 'timeout', message: expect.stringMatching(/closed/) });
    await expect(wire.get(['1.3.6.1.2.1.1.3.0'])).rejects.toMatchObject({ kind: 'timeout' });
    a.close();
  });
});

describe('SnmpClient.fetch against a small agent that answers tooBig past 6 varbinds', () => {
  const ticks = (n: number) => tlv(0x43, [n]);
  const table: Array<[string, Buffer]> = [
    ['1.3.6.1.2.1.1.3.0', ticks(100)],
    ['1.3.6.1.2.1.1.5.0', tlv(0x04, Buffer.from('cpe'))],
    ['1.3.6.1.2.1.2.2.1.2.1', tlv(0x04, Buffer.from('lo'))],
    ['1.3.6.1.2.1.2.2.1.2.2', tlv(0x04, Buffer.from('eth0'))],
    ['1.3.6.1.2.1.2.2.1.2.3', tlv(0x04, Buffer.from('ath0'))],
    ['1.3.6.1.2.1.2.2.1.10.1', tlv(0x41, [1])],
    ['1.3.6.1.2.1.2.2.1.10.2', tlv(0x41, [2])],
    ['1.3.6.1.2.1.2.2.1.10.3', tlv(0x41, [3])],
  ];
  const next = (oid: string) => table.find(([o]) => compareOids(o, oid) > 0) ?? [oid, tlv(0x82, [])];

  it('drops the scalars from the GetBulk after a tooBig and Gets them instead: same answer', async () => {
    const seen: string[] = [];
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      // A request has a Response's layout: error status/index are non-repeaters/max-repetitions.
      const copy = Buffer.from(msg);
      let at = (copy[1] as number) & 0x80 ? 2 + ((copy[1] as number) & 0x7f) : 2;
      at += 3;
      at += 2 + (copy[at + 1] as number);
      const type = copy[at] as number;
      copy[at] = 0xa2;
      const req = decodeResponse(copy);
      const oids = req.varbinds.map((v) => v.oid);
      const answer = (status: number, vbs: Buffer[]) => s.send(response(idBytes(req.requestId), status, 0, vbs), rinfo.port, rinfo.address);
      if (type === 0xa0) {
        seen.push(`get ${oids.length}`);
        return answer(
          0,
          oids.map((o) => vb(o, table.find(([t]) => t === o)?.[1] ?? tlv(0x81, []))),
        );
      }
      const [nonRep, reps] = [req.errorStatus, req.errorIndex];
      const asked = nonRep + (oids.length - nonRep) * reps;
      seen.push(`bulk ${asked}`);
      if (asked > 6) return answer(1, []);
      const out = oids.slice(0, nonRep).map((o) => vb(...next(o)));
      const cursors = oids.slice(nonRep);
      for (let r = 0; r < reps; r++)
        cursors.forEach((c, i) => {
          const [o, v] = next(c);
          cursors[i] = o;
          out.push(vb(o, v));
        });
      return answer(0, out);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const client = new SnmpClient(
      { address: '127.0.0.1', port: s.address().port, snmp: { version: '2c', community: 'public' } },
      { timeoutMs: 1000, retries: 0, varbindsPerRequest: 8 },
    );
    try {
      const { got, walked } = await client.fetch(['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.5.0'], ['1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.2.2.1.10'], 10);
      expect(got).toEqual([
        { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 100 },
        { oid: '1.3.6.1.2.1.1.5.0', type: 'OctetString', value: new TextEncoder().encode('cpe') },
      ]);
      expect(walked.map((c) => c.map((v) => v.oid))).toEqual([
        ['1.3.6.1.2.1.2.2.1.2.1', '1.3.6.1.2.1.2.2.1.2.2', '1.3.6.1.2.1.2.2.1.2.3'],
        ['1.3.6.1.2.1.2.2.1.10.1', '1.3.6.1.2.1.2.2.1.10.2', '1.3.6.1.2.1.2.2.1.10.3'],
      ]);
      // 2 scalars + 2 columns × 3 rows = 8 > 6: tooBig; then 4 per request without the scalars, and one Get of them.
      expect(seen[0]).toBe('bulk 8');
      expect(seen.slice(1, -1).every((r) => r === 'bulk 4')).toBe(true);
      expect(seen.at(-1)).toBe('get 2');
    } finally {
      client.close();
      s.close();
    }
  });
});
