/**
 * Conformance with LibreNMS: parse LibreNMS's recorded walks with this profile and compare with the values LibreNMS
 * computed from the same walks (tests/data/*.json), for every field both define. A LibreNMS value this profile does not
 * produce is listed with the reason; none is ignored silently.
 */
import type { CpeSample, RadioStats } from '@rgz/core';
import { librenms, simulatePoll, simulateProbe } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createAirMaxProfile } from './index.js';

const { ALL_RECORDINGS, CONFORMANCE_AVAILABLE, expected, recording, report, SKIP_REASON } = librenms;
type Comparison = librenms.Comparison;

const A = '1.3.6.1.4.1.41112.1.4';
/** LibreNMS OID (column) → the radio field holding the same quantity in the same unit. */
const RADIO_FIELDS: Record<string, keyof RadioStats> = {
  [`${A}.1.1.4`]: 'frequencyMHz',
  [`${A}.1.1.6`]: 'txPowerDbm',
  [`${A}.5.1.5`]: 'signalDbm',
  [`${A}.5.1.7`]: 'linkQualityPercent',
  [`${A}.5.1.8`]: 'noiseFloorDbm',
  [`${A}.5.1.9`]: 'txRateBps',
  [`${A}.5.1.10`]: 'rxRateBps',
  [`${A}.5.1.15`]: 'stationCount',
  [`${A}.6.1.4`]: 'capacityPercent',
  [`${A}.6.1.7`]: 'airtimePercent',
};
/** LibreNMS values with no RGZ counterpart, and why. */
const NOT_COMPARED: Record<string, string> = {
  [`${A}.6.1.3`]: 'airMAX Quality: RadioStats has one link-quality field, filled from CCQ when the radio reports it (both recordings do)',
  [`${A}.1.1.7`]: 'radio distance setting (ubntRadioDistance): RadioStats has no distance; StationStats.distanceMeters is per station',
  [`${A}.5.1.6`]: 'overall RSSI: a relative airOS value, not dBm; RGZ reports Signal (dBm) and SNR instead',
  [`${A}.2.1.2`]: 'per-chain RSSI: relative airOS values, not dBm, so not chainSignalDbm',
  [`${A}.9.2.0`]: 'GPS fix state: no field in CpeSample',
};

describe.skipIf(!CONFORMANCE_AVAILABLE)(`ubnt-airmax vs LibreNMS recorded walks${CONFORMANCE_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
  const profile = createAirMaxProfile();

  it('claims exactly the devices LibreNMS classifies as airos (airFiber, ePMP and MikroTik score 0)', () => {
    const rows: Comparison[] = ALL_RECORDINGS.map((name) => {
      const rec = recording(name);
      const score = profile.detect(simulateProbe(profile.probeOids, rec));
      const libre = expected(name).os.os;
      return { recording: name, field: 'os = airos ⇔ detect > 0', librenms: libre, ours: score, match: (libre === 'airos') === score > 0 };
    });
    const { matched, compared } = report('ubnt-airmax detection', rows, []);
    expect(matched).toBe(compared);
  });

  it('reads the same values as LibreNMS for every field both define', () => {
    const rows: Comparison[] = [];
    const skipped: Array<{ recording: string; what: string; why: string }> = [];
    for (const name of ['airos', 'airos_airos8']) {
      const exp = expected(name);
      const sample: CpeSample = profile.parse(simulatePoll(profile.plan, recording(name)));
      const radio = sample.radios[0];
      rows.push({
        recording: name,
        field: 'os.version → firmware',
        librenms: exp.os.version,
        ours: sample.firmware,
        match: exp.os.version === sample.firmware,
      });
      rows.push({ recording: name, field: 'os.hardware → model', librenms: exp.os.hardware, ours: sample.model, match: exp.os.hardware === sample.model });
      for (const s of exp.sensors) {
        const col = s.oid.startsWith(`${A}.2.1.2.`) ? `${A}.2.1.2` : s.oid.replace(/\.\d+$/, '');
        const field = RADIO_FIELDS[col];
        if (field) {
          const ours = radio?.[field] as number | undefined;
          rows.push({
            recording: name,
            field: `${s.class} "${s.descr}" → radio.${field}`,
            librenms: s.current,
            ours,
            match: ours !== undefined && Math.abs(ours - s.current) < 1e-9,
          });
        } else if (s.class === 'temperature') {
          rows.push({
            recording: name,
            field: `temperature → temperatureC`,
            librenms: s.current,
            ours: sample.temperatureC,
            match: sample.temperatureC === s.current,
          });
        } else if (s.kind === 'processor') {
          // LibreNMS stores processor usage as a whole percent; RGZ keeps the hundredths (606 → 6.06).
          const ours = sample.cpuLoadPercent;
          rows.push({
            recording: name,
            field: 'processor → cpuLoadPercent (rounded)',
            librenms: s.current,
            ours,
            match: ours !== undefined && Math.round(ours) === s.current,
          });
        } else {
          const why = NOT_COMPARED[col] ?? NOT_COMPARED[s.oid];
          expect(why, `LibreNMS ${name} ${s.class} ${s.oid} has neither a comparison nor a reason`).toBeDefined();
          skipped.push({ recording: name, what: `${s.class} "${s.descr}"`, why: why as string });
        }
      }
    }
    const { matched, compared } = report('ubnt-airmax values', rows, skipped);
    expect(rows.filter((r) => !r.match)).toEqual([]);
    // 2 os fields + 10 radio fields + temperature + processor per recording, minus what each walk lacks (airos has no airtime, airos8 no quality).
    expect(compared).toBeGreaterThanOrEqual(24);
    expect(matched).toBe(compared);
  });
});
