/**
 * LibreNMS's recorded SNMP walks and the values LibreNMS computed from them, for CPE profile conformance tests, read
 * IN PLACE from the checkout's `shared/conformance/snmp/` (GPL-3.0 data, see its PROVENANCE.md; never copied into a
 * repository). Tests skip when the folder is absent; RGZ_SNMP_CONFORMANCE_DIR overrides the location. Exported from
 * `@rgz/core/testing` as the namespace `librenms`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SnmpVarbind } from '../extension-points/cpe-profile.js';
import { parseSnmprec } from './contracts/cpe-profile.contract.js';

// packages/core/src/testing/ (and dist/testing/) lie as deep below the checkout as a package's src/test-support/.
export const CONFORMANCE_DIR = process.env.RGZ_SNMP_CONFORMANCE_DIR ?? fileURLToPath(new URL('../../../../../shared/conformance/snmp/', import.meta.url));
export const CONFORMANCE_AVAILABLE = existsSync(join(CONFORMANCE_DIR, 'snmprec')) && existsSync(join(CONFORMANCE_DIR, 'expected'));
export const SKIP_REASON = `LibreNMS conformance data not found at ${CONFORMANCE_DIR} (set RGZ_SNMP_CONFORMANCE_DIR)`;

export const ALL_RECORDINGS = [
  'airos',
  'airos_airos8',
  'airos-af',
  'airos-af-ltu',
  'airos-af60_airos-af60',
  'epmp',
  'routeros_rblhgr',
  'routeros_station',
  'routeros_wifi',
] as const;
export type RecordingName = (typeof ALL_RECORDINGS)[number];

export function snmprecPath(name: string): string {
  return join(CONFORMANCE_DIR, 'snmprec', `${name}.snmprec`);
}

export function recording(name: string): SnmpVarbind[] {
  return parseSnmprec(readFileSync(snmprecPath(name), 'utf8'));
}

export interface LibreSensor {
  kind: 'wireless' | 'sensor' | 'processor';
  class: string;
  descr: string;
  /** Numeric OID without the leading dot. */
  oid: string;
  /** The value LibreNMS computed (divisor and multiplier applied). */
  current: number;
}

export interface LibreExpected {
  os: { os: string; version: string | null; hardware: string | null; sysObjectID: string; sysDescr: string | null };
  sensors: LibreSensor[];
}

const strip = (oid: string) => oid.replace(/^\./, '');

export function expected(name: string): LibreExpected {
  const raw = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'expected', `${name}.json`), 'utf8')) as Record<string, any>;
  const device = raw.os?.discovery?.devices?.[0] ?? {};
  const sensors: LibreSensor[] = [];
  for (const s of raw.wireless?.discovery?.wireless_sensors ?? []) {
    // sensor_oids is a JSON-encoded array inside the JSON.
    const oids: string[] = typeof s.sensor_oids === 'string' ? JSON.parse(s.sensor_oids) : s.sensor_oids;
    for (const oid of oids)
      sensors.push({ kind: 'wireless', class: s.sensor_class, descr: s.sensor_descr, oid: strip(oid), current: Number(s.sensor_current) });
  }
  for (const s of raw.sensors?.discovery?.sensors ?? []) {
    sensors.push({ kind: 'sensor', class: s.sensor_class, descr: s.sensor_descr, oid: strip(s.sensor_oid), current: Number(s.sensor_current) });
  }
  for (const p of raw.processors?.discovery?.processors ?? []) {
    sensors.push({
      kind: 'processor',
      class: 'processor',
      descr: p.processor_descr ?? 'processor',
      oid: strip(p.processor_oid),
      current: Number(p.processor_usage),
    });
  }
  return {
    os: {
      os: device.os,
      version: device.version ?? null,
      hardware: device.hardware ?? null,
      sysObjectID: strip(device.sysObjectID ?? ''),
      sysDescr: device.sysDescr ?? null,
    },
    sensors,
  };
}

export interface Comparison {
  recording: string;
  field: string;
  librenms: number | string | null;
  ours: number | string | undefined;
  match: boolean;
}

/** Print the comparison as a table (visible with `vitest --reporter=verbose`) and return the counts. */
export function report(
  title: string,
  rows: Comparison[],
  notCompared: Array<{ recording: string; what: string; why: string }>,
): { matched: number; compared: number } {
  const matched = rows.filter((r) => r.match).length;
  const lines = [
    `${title}: ${matched}/${rows.length} values match LibreNMS`,
    ...rows.map(
      (r) => `  ${r.match ? 'ok  ' : 'DIFF'} ${r.recording.padEnd(22)} ${r.field.padEnd(34)} librenms=${String(r.librenms).padEnd(26)} ours=${String(r.ours)}`,
    ),
    ...notCompared.map((n) => `  --   ${n.recording.padEnd(22)} ${n.what.padEnd(34)} not compared: ${n.why}`),
  ];
  console.info(lines.join('\n'));
  return { matched, compared: rows.length };
}
