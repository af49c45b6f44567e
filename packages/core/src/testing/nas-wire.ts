/**
 * A deliberately tiny, independent wire writer for NAS dialect tests: RFC 2865 §5 attributes and §5.26 Vendor-Specific
 * with the common 1-octet type / 1-octet length sub-header. It exists so dialect tests compare against bytes derived
 * by hand from the RFC, not against the RGZ codec (which has its own tests and is cross-checked in @rgz/plugin-radius).
 */

import type { RadiusAttribute } from '../extension-points/nas-vendor.js';

function valueBytes(a: RadiusAttribute): Buffer {
  switch (a.dataType) {
    case 'integer':
    case 'date': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(a.value);
      return b;
    }
    case 'string':
      return Buffer.from(a.value, 'utf8');
    case 'ipaddr':
      return Buffer.from(a.value.split('.').map(Number));
    case 'octets':
      return Buffer.from(a.value);
    default:
      throw new Error(`radiusWireHex does not write ${a.dataType}`);
  }
}

/** One attribute as hex, e.g. `1b0600000e10` for Session-Timeout = 3600. */
export function radiusWireHex(a: RadiusAttribute): string {
  const value = valueBytes(a);
  if (a.vendorId === undefined) return Buffer.concat([Buffer.from([a.type, value.length + 2]), value]).toString('hex');
  const vendor = Buffer.alloc(4);
  vendor.writeUInt32BE(a.vendorId);
  return Buffer.concat([Buffer.from([26, value.length + 8]), vendor, Buffer.from([a.type, value.length + 2]), value]).toString('hex');
}

/** Every attribute as hex, in order. */
export const radiusWire = (attributes: readonly RadiusAttribute[]): string[] => attributes.map(radiusWireHex);
