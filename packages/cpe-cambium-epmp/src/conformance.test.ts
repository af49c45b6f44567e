/**
 * Conformance with LibreNMS: parse LibreNMS's recorded ePMP walk with this profile and compare with the values LibreNMS
 * computed from it (tests/data/epmp.json), for every field both define; the others are listed with the reason.
 */
import { librenms, simulatePoll, simulateProbe } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createEpmpProfile } from './index.js';

const { ALL_RECORDINGS, CONFORMANCE_AVAILABLE, expected, recording, report, SKIP_REASON } = librenms;
type Comparison = librenms.Comparison;

const C = '1.3.6.1.4.1.17713.21';
const NOT_COMPARED: Record<string, string> = {
  [`${C}.2.1.36.0`]: 'DFS detected count: no field in CpeSample',
  [`${C}.1.1.6.0`]: 'DFS status: no field in CpeSample',
};

describe.skipIf(!CONFORMANCE_AVAILABLE)(`cambium-epmp vs LibreNMS recorded walks${CONFORMANCE_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
  const profile = createEpmpProfile();

  it('claims exactly the devices LibreNMS classifies as epmp', () => {
    const rows: Comparison[] = ALL_RECORDINGS.map((name) => {
      const score = profile.detect(simulateProbe(profile.probeOids, recording(name)));
      const libre = expected(name).os.os;
      return { recording: name, field: 'os = epmp ⇔ detect > 0', librenms: libre, ours: score, match: (libre === 'epmp') === score > 0 };
    });
    const { matched, compared } = report('cambium-epmp detection', rows, []);
    expect(matched).toBe(compared);
  });

  it('reads the same values as LibreNMS for every field both define', () => {
    const exp = expected('epmp');
    const sample = profile.parse(simulatePoll(profile.plan, recording('epmp')));
    const radio = sample.radios[0];
    const rows: Comparison[] = [
      { recording: 'epmp', field: 'os.version → firmware', librenms: exp.os.version, ours: sample.firmware, match: exp.os.version === sample.firmware },
    ];
    const skipped = [
      {
        recording: 'epmp',
        what: `os.hardware "${exp.os.hardware}"`,
        why: 'LibreNMS names the hardware after cambiumSubModeType (5 = ePTP Master); RGZ reports that as radio.role = ptp, and leaves model empty (no model OID in this walk)',
      },
    ];
    rows.push({
      recording: 'epmp',
      field: 'submode 5 (ePTP Master) → radio.role',
      librenms: exp.os.hardware,
      ours: radio?.role,
      match: exp.os.hardware === 'ePTP Master' && radio?.role === 'ptp',
    });
    const byOid: Record<string, [string, number | undefined]> = {
      [`${C}.1.2.1.0`]: ['radio.frequencyMHz', radio?.frequencyMHz],
      [`${C}.1.2.18.0`]: ['radio.snrDb', radio?.snrDb],
      [`${C}.1.2.10.0`]: ['radio.stationCount', radio?.stationCount],
      [`${C}.1.2.3.0`]: ['radio.signalDbm', radio?.signalDbm],
      [`${C}.2.1.64.0`]: ['cpuLoadPercent', sample.cpuLoadPercent],
    };
    for (const s of exp.sensors) {
      const mapped = byOid[s.oid];
      if (mapped)
        rows.push({ recording: 'epmp', field: `${s.class} "${s.descr}" → ${mapped[0]}`, librenms: s.current, ours: mapped[1], match: mapped[1] === s.current });
      else {
        expect(NOT_COMPARED[s.oid], `LibreNMS epmp ${s.class} ${s.oid} has neither a comparison nor a reason`).toBeDefined();
        skipped.push({ recording: 'epmp', what: `${s.class} "${s.descr}"`, why: NOT_COMPARED[s.oid] as string });
      }
    }
    const { matched, compared } = report('cambium-epmp values', rows, skipped);
    expect(rows.filter((r) => !r.match)).toEqual([]);
    expect(compared).toBe(6);
    expect(matched).toBe(compared);
  });
});
