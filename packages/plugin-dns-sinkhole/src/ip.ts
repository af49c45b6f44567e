/**
 * IP address helpers of the sinkhole: one canonical spelling per address (so `::ffff:10.0.0.5`, `10.0.0.5` and an
 * IPv6 written two ways hit the same authorisation key), and subnet lists for "who may use this resolver".
 */
import { BlockList, isIP } from 'node:net';

/**
 * Canonical form of an IP address, or null when `raw` is not one: IPv4 dotted quad; IPv6 lower-case and compressed
 * (RFC 5952, as the WHATWG URL parser writes it), without zone id; IPv4-mapped IPv6 becomes the IPv4 address.
 */
export function normaliseIp(raw: string): string | null {
  const bare = raw
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return new URL(`http://${bare}/`).hostname;
  if (family !== 6) return null;
  const v6 = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped) {
    const hi = Number.parseInt(mapped[1] as string, 16);
    const lo = Number.parseInt(mapped[2] as string, 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return v6;
}

/** `10.0.0.0/8`, `fc00::/7`, or a bare address (a /32 or /128). */
export interface Cidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parse a CIDR or bare address; null when it is neither. */
export function parseCidr(raw: string): Cidr | null {
  const [address = '', prefixText, ...rest] = raw.trim().split('/');
  if (rest.length > 0) return null;
  const network = normaliseIp(address);
  if (network === null) return null;
  const family = isIP(network) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { network, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { network, prefix, family } : null;
}

/** A set of subnets; `has(ip)` answers for canonical or raw addresses of either family. */
export class SubnetSet {
  private readonly list = new BlockList();
  readonly cidrs: readonly string[];

  constructor(cidrs: readonly string[]) {
    const parsed: string[] = [];
    for (const raw of cidrs) {
      const cidr = parseCidr(raw);
      if (!cidr) throw new Error(`"${raw}" is not an IP address or CIDR subnet`);
      this.list.addSubnet(cidr.network, cidr.prefix, cidr.family);
      parsed.push(`${cidr.network}/${cidr.prefix}`);
    }
    this.cidrs = parsed;
  }

  has(ip: string): boolean {
    const canonical = normaliseIp(ip);
    if (canonical === null) return false;
    return this.list.check(canonical, isIP(canonical) === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * Who may query by default: loopback, RFC 1918 private ranges, the shared address space (100.64.0.0/10, which
 * WISPs use for subscriber pools behind carrier-grade NAT), link-local, and IPv6 unique-local and link-local.
 */
export const DEFAULT_ALLOWED_CLIENTS: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];
