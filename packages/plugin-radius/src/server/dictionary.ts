/**
 * One codec dictionary for the whole server: the standard attributes plus every contributed NasVendor's dictionary.
 * Two dialects may declare the same attribute (same vendor, number, name and type: fine, kept once); a real conflict
 * (same number, different name or type) fails at start-up naming both dialects.
 */

import type { NasVendor } from '@rgz/core';
import { createDictionary, type RadiusAttributeDef, type RadiusDictionary, type RadiusVendorDictionary } from '../codec/index.js';

export function buildDictionary(vendors: Iterable<NasVendor>): RadiusDictionary {
  const byType = new Map<string, { def: RadiusAttributeDef; by: string }>();
  const byName = new Map<string, { def: RadiusAttributeDef; by: string }>();
  const vendorsById = new Map<number, { name: string; by: string }>();
  const merged: { vendors: { id: number; name: string }[]; attributes: RadiusAttributeDef[] } = { vendors: [], attributes: [] };

  for (const dialect of vendors) {
    const dictionary = dialect.dictionary as RadiusVendorDictionary;
    for (const v of dictionary.vendors) {
      const seen = vendorsById.get(v.id);
      if (seen !== undefined) {
        if (seen.name !== v.name) throw new Error(`vendor ${v.id} is "${seen.name}" in dialect "${seen.by}" but "${v.name}" in "${dialect.id}"`);
        continue;
      }
      vendorsById.set(v.id, { name: v.name, by: dialect.id });
      merged.vendors.push(v);
    }
    for (const def of dictionary.attributes) {
      const key = `${def.vendorId}/${def.type}`;
      const same = byType.get(key);
      if (same !== undefined) {
        if (same.def.name !== def.name || same.def.dataType !== def.dataType) {
          throw new Error(
            `attribute ${key} is ${same.def.name} (${same.def.dataType}) in dialect "${same.by}" but ${def.name} (${def.dataType}) in "${dialect.id}"`,
          );
        }
        continue;
      }
      const named = byName.get(def.name);
      if (named !== undefined)
        throw new Error(`attribute name ${def.name} is ${named.def.vendorId}/${named.def.type} in "${named.by}" and ${key} in "${dialect.id}"`);
      byType.set(key, { def, by: dialect.id });
      byName.set(def.name, { def, by: dialect.id });
      merged.attributes.push(def);
    }
  }
  return createDictionary(merged);
}
