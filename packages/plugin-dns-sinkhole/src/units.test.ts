/**
 * The sinkhole's pure parts: address canonicalisation and subnets, name lists, upstream parsing, and the DNS
 * messages it reads and writes (checked by decoding them back with dns-packet).
 */
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { normaliseIp, parseCidr, SubnetSet } from './ip.js';
import { DomainSuffixSet, ExactNameSet } from './names.js';
import { parseUpstream } from './upstream.js';
import { errorReply, ipv6Bytes, parseQuery, portalReply, RCODE, truncatedReply } from './wire.js';

describe('addresses', () => {
  it('canonicalises IPv4, IPv6 and IPv4-mapped IPv6', () => {
    expect(normaliseIp('10.5.50.23')).toBe('10.5.50.23');
    expect(normaliseIp('::ffff:10.5.50.23')).toBe('10.5.50.23');
    expect(normaliseIp('::FFFF:a05:3217')).toBe('10.5.50.23');
    expect(normaliseIp('FD00:0000::0001')).toBe('fd00::1');
    expect(normaliseIp('[fe80::1%eth0]')).toBe('fe80::1');
    for (const bad of ['', 'x', '10.5.50', '10.5.50.256', 'fd00::1::2']) expect(normaliseIp(bad)).toBeNull();
  });

  it('matches subnets of both families', () => {
    const set = new SubnetSet(['10.0.0.0/8', '100.64.0.0/10', 'fd00::/8', '127.0.0.9']);
    expect(set.has('10.1.2.3')).toBe(true);
    expect(set.has('::ffff:10.1.2.3')).toBe(true);
    expect(set.has('100.127.255.255')).toBe(true);
    expect(set.has('100.128.0.0')).toBe(false);
    expect(set.has('fd00::5')).toBe(true);
    expect(set.has('127.0.0.9')).toBe(true);
    expect(set.has('127.0.0.1')).toBe(false);
    expect(set.has('8.8.8.8')).toBe(false);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('::/0')).toEqual({ network: '::', prefix: 0, family: 'ipv6' });
  });
});

describe('names', () => {
  it('matches walled-garden suffixes on label boundaries, case-insensitively', () => {
    const garden = new DomainSuffixSet(['kkiapay.me', 'Pay.Example.com.']);
    expect(garden.has('kkiapay.me')).toBe(true);
    expect(garden.has('API.kkiapay.me.')).toBe(true);
    expect(garden.has('evilkkiapay.me')).toBe(false);
    expect(garden.has('example.com')).toBe(false);
    expect(garden.has('x.pay.example.com')).toBe(true);
    expect(garden.has('')).toBe(false);
    const probes = new ExactNameSet(['captive.apple.com']);
    expect(probes.has('Captive.Apple.com.')).toBe(true);
    expect(probes.has('x.captive.apple.com')).toBe(false);
  });

  it('parses upstream addresses', () => {
    expect(parseUpstream('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 53, label: '10.0.0.1:53' });
    expect(parseUpstream('127.0.0.1:5300')).toMatchObject({ port: 5300 });
    expect(parseUpstream('[::1]:5300')).toEqual({ host: '::1', port: 5300, label: '[::1]:5300' });
    expect(parseUpstream('2001:db8::1')).toMatchObject({ host: '2001:db8::1', port: 53 });
    for (const bad of ['dns.google', '10.0.0.1:0', '10.0.0.1:70000', '']) expect(parseUpstream(bad)).toBeNull();
  });
});

describe('DNS messages', () => {
  const query = (name: string, type: 'A' | 'AAAA' | 'MX', edns = false) =>
    dnsPacket.encode({
      type: 'query',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
      additionals: edns ? [{ name: '.', type: 'OPT', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    });

  it('parses a query and keeps its question bytes', () => {
    const parsed = parseQuery(query('Example.COM', 'A', true));
    expect(parsed.kind).toBe('query');
    if (parsed.kind !== 'query') return;
    expect(parsed.query).toMatchObject({ id: 4242, rd: true, name: 'example.com', qtype: 1, qclass: 1, edns: { udpPayloadSize: 4096 } });
  });

  it('drops garbage and responses, answers FORMERR to several questions and NOTIMP to other opcodes', () => {
    expect(parseQuery(Buffer.from('hello'))).toMatchObject({ kind: 'drop' });
    expect(parseQuery(Buffer.alloc(30, 0xff))).toMatchObject({ kind: 'drop' });
    const response = Buffer.from(query('example.com', 'A'));
    response.writeUInt16BE(0x8180, 2);
    expect(parseQuery(response)).toMatchObject({ kind: 'drop', reason: 'a response, not a query' });
    const two = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [
        { type: 'A', name: 'a.test' },
        { type: 'A', name: 'b.test' },
      ],
    });
    const formerr = parseQuery(two);
    expect(formerr.kind).toBe('error');
    if (formerr.kind === 'error') expect(dnsPacket.decode(formerr.reply)).toMatchObject({ id: 7, rcode: 'FORMERR' });
    const notify = Buffer.from(query('example.com', 'A'));
    notify.writeUInt16BE(4 << 11, 2);
    const notimp = parseQuery(notify);
    if (notimp.kind === 'error') expect(dnsPacket.decode(notimp.reply)).toMatchObject({ rcode: 'NOTIMP' });
    else throw new Error('expected an error reply');
  });

  it('writes portal, error and truncated answers dns-packet can read', () => {
    const parsed = parseQuery(query('example.com', 'AAAA', true));
    if (parsed.kind !== 'query') throw new Error('not a query');
    const portal = dnsPacket.decode(portalReply(parsed.query, { ipv4: '10.5.50.1', ipv6: 'fd00:5:50::1', ttlSeconds: 5 }));
    expect(portal).toMatchObject({ id: 4242, type: 'response', flag_rd: true, flag_ra: true, rcode: 'NOERROR' });
    expect(portal.answers).toEqual([expect.objectContaining({ name: 'example.com', type: 'AAAA', ttl: 5, data: 'fd00:5:50::1' })]);
    expect(portal.additionals?.[0]).toMatchObject({ type: 'OPT', udpPayloadSize: 1232 });
    expect(dnsPacket.decode(errorReply(parsed.query, RCODE.REFUSED))).toMatchObject({ rcode: 'REFUSED', questions: [{ name: 'example.com', type: 'AAAA' }] });
    const cut = dnsPacket.decode(truncatedReply(parsed.query, Buffer.from([0, 0, 0x81, 0x80])));
    expect(cut).toMatchObject({ flag_tc: true, answers: [] });

    const noV6 = dnsPacket.decode(portalReply(parsed.query, { ipv4: '10.5.50.1', ipv6: null, ttlSeconds: 5 }));
    expect(noV6).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('encodes IPv6 addresses', () => {
    expect(ipv6Bytes('fd00::1').toString('hex')).toBe('fd000000000000000000000000000001');
    expect(ipv6Bytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipv6Bytes('2001:db8:0:0:1:0:0:1').toString('hex')).toBe('20010db8000000000001000000000001');
  });
});
