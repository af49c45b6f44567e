import { readFileSync } from 'node:fs';
import { type CpeFixture, cpeProfileContract, librenms, parseSnmprec, simulatePoll, simulateProbe } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { createGenericProfile } from './generic-profile.js';

const { ALL_RECORDINGS, CONFORMANCE_AVAILABLE, expected, recording, report, SKIP_REASON } = librenms;
type Comparison = librenms.Comparison;

const fixture = (name: string) => parseSnmprec(readFileSync(new URL(`./test-support/fixtures/${name}`, import.meta.url), 'utf8'));

const wrapA: CpeFixture = {
  name: 'synthetic CPE without ifXTable (not from a device)',
  recording: fixture('wrap-a.snmprec'),
  expect: {
    sample: { uptimeSeconds: 1000, model: 'Linux synthetic-cpe 5.10.0 mips', cpuLoadPercent: 7 },
    interfaces: [
      { ifIndex: 3, name: 'wlan0', operStatus: 'up', counterBits: 32, inOctets: 4_294_000_000n, outOctets: 1_000_000n, inErrors: 1, speedBps: 300_000_000 },
      { ifIndex: 1, name: 'lo', counterBits: 32 },
    ],
  },
};

const libre = (): CpeFixture[] =>
  CONFORMANCE_AVAILABLE
    ? [
        {
          name: 'LibreNMS epmp.snmprec (ifXTable: Counter64)',
          recording: recording('epmp'),
          expect: {
            interfaces: [
              { ifIndex: 1, name: 'LAN interface 1', counterBits: 64, inOctets: 3_377_931_056_550n, outOctets: 258_804_512_221n, speedBps: 1_000_000_000 },
            ],
          },
        },
        {
          name: 'LibreNMS airos_airos8.snmprec (no ifXTable: Counter32)',
          recording: recording('airos_airos8'),
          expect: {
            sample: { uptimeSeconds: 9_644_501 },
            interfaces: [{ ifIndex: 2, name: 'eth0', counterBits: 32, inOctets: 2_055_946_673n, outOctets: 3_352_696_952n, speedBps: 100_000_000 }],
          },
        },
        {
          name: 'LibreNMS routeros_rblhgr.snmprec',
          recording: recording('routeros_rblhgr'),
          expect: { sample: { model: 'RouterOS RBLHGR', cpuLoadPercent: 6 } },
        },
        { name: 'LibreNMS airos-af-ltu.snmprec', recording: recording('airos-af-ltu'), expect: { sample: { cpuLoadPercent: 15.5 } } },
      ]
    : [];

cpeProfileContract('if-mib (generic)', () => ({ profile: createGenericProfile(), fixtures: [wrapA, ...libre()], foreign: [] }));

describe('if-mib profile', () => {
  it('scores 1 for any agent that answers sysObjectID or sysDescr, so vendor profiles win', () => {
    const p = createGenericProfile();
    expect(p.detect(simulateProbe(p.probeOids, wrapA.recording))).toBe(1);
    expect(p.detect({ sysObjectID: '', sysDescr: 'x', varbinds: [] })).toBe(1);
  });

  it('prefers ifHCInOctets over ifInOctets when both exist', () => {
    const p = createGenericProfile();
    const rec = parseSnmprec(['1.3.6.1.2.1.2.2.1.10.1|65|5', '1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615', '1.3.6.1.2.1.2.2.1.16.1|65|7'].join('\n'));
    const [itf] = p.parse(simulatePoll(p.plan, rec)).interfaces;
    expect(itf).toMatchObject({ ifIndex: 1, counterBits: 64, inOctets: 2n ** 64n - 1n });
    expect(itf?.outOctets).toBeUndefined();
  });
});

describe.skipIf(!CONFORMANCE_AVAILABLE)(`if-mib vs LibreNMS recorded walks${CONFORMANCE_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
  it('reads sysDescr and the HOST-RESOURCES processor load as LibreNMS does', () => {
    const p = createGenericProfile();
    const rows: Comparison[] = [];
    const skipped: Array<{ recording: string; what: string; why: string }> = [];
    for (const name of ALL_RECORDINGS) {
      const exp = expected(name);
      const rec = recording(name);
      const sample = p.parse(simulatePoll(p.plan, rec));
      const score = p.detect(simulateProbe(p.probeOids, rec));
      rows.push({ recording: name, field: 'LibreNMS knows it ⇔ detect > 0', librenms: exp.os.os, ours: score, match: !!exp.os.os === score > 0 });
      rows.push({ recording: name, field: 'os.sysDescr → model', librenms: exp.os.sysDescr, ours: sample.model, match: exp.os.sysDescr === sample.model });
      const hr = exp.sensors.filter((s) => s.kind === 'processor' && s.oid.startsWith('1.3.6.1.2.1.25.3.3.1.2.'));
      if (hr.length) {
        const mean = hr.reduce((a, s) => a + s.current, 0) / hr.length;
        rows.push({
          recording: name,
          field: `hrProcessorLoad ×${hr.length} (mean) → cpuLoadPercent`,
          librenms: mean,
          ours: sample.cpuLoadPercent,
          match: sample.cpuLoadPercent === Math.round(mean * 100) / 100,
        });
      }
      const vendorCpu = exp.sensors.filter((s) => s.kind === 'processor' && !s.oid.startsWith('1.3.6.1.2.1.25.3.3.1.2.'));
      for (const s of vendorCpu)
        skipped.push({ recording: name, what: `processor ${s.oid}`, why: 'a vendor MIB processor: read by that vendor profile, not the generic one' });
      const others = exp.sensors.filter((s) => s.kind !== 'processor').length;
      if (others)
        skipped.push({
          recording: name,
          what: `${others} wireless/sensor values`,
          why: "vendor MIB objects: the generic profile reads standard MIBs only (see the vendor profiles' conformance)",
        });
    }
    const { matched, compared } = report('if-mib values', rows, skipped);
    expect(rows.filter((r) => !r.match)).toEqual([]);
    expect(compared).toBe(21);
    expect(matched).toBe(compared);
  });
});
