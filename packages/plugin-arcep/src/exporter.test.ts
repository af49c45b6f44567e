/**
 * The ARCEP exporter: core's ReportExporter contract (reproducible bytes whatever the clock and time zone, safe names,
 * input untouched), and the CSV format itself — BOM, `;`, CRLF, quoting, columns, figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportFile, ReportInput } from '@rgz/core';
import { reportExporterContract } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import { ArcepExporter, decimalComma, incidentStats, isoInZone } from './exporter.js';
import { parseQuarter, previousQuarter } from './period.js';
import { parseCsv } from './test-support/csv.js';
import { emptyMonth, sampleQuarter } from './test-support/sample.js';

const byName = (files: readonly ReportFile[], suffix: string) => {
  const f = files.find((x) => x.name.endsWith(suffix));
  expect(f, suffix).toBeTruthy();
  return f as ReportFile;
};

function check(input: ReportInput, files: readonly ReportFile[]) {
  const prefix = `arcep-bj_${input.period.label}`;
  expect(files.map((f) => f.name)).toEqual([
    `${prefix}_synthese.csv`,
    `${prefix}_points-acces.csv`,
    `${prefix}_revenus.csv`,
    `${prefix}_incidents.csv`,
    `${prefix}_rapport.pdf`,
  ]);
  const synthese = new Map(
    parseCsv(byName(files, '_synthese.csv').bytes)
      .slice(1)
      .map((r) => [r[0], r[1]]),
  );
  expect(synthese.get('abonnes_actifs')).toBe(String(input.subscribers.active));
  expect(synthese.get('abonnes_identifies')).toBe(String(input.subscribers.identified));
  expect(synthese.get('sessions')).toBe(String(input.accessPoints.reduce((s, a) => s + a.sessions, 0)));
  expect(synthese.get('chiffre_affaires_brut')).toBe(String(input.revenue.gross.amountMinor));
  const aps = parseCsv(byName(files, '_points-acces.csv').bytes);
  expect(aps).toHaveLength(input.accessPoints.length + 1);
  const incidents = parseCsv(byName(files, '_incidents.csv').bytes);
  expect(incidents).toHaveLength(input.incidents.length + 1);
  expect(Buffer.from(byName(files, '_rapport.pdf').bytes).subarray(0, 5).toString()).toBe('%PDF-');
}

reportExporterContract('arcep-bj', () => ({ exporter: new ArcepExporter(), inputs: [sampleQuarter(), emptyMonth()], check }));

describe('ARCEP CSV and PDF', () => {
  it('writes the documented columns, quoting, decimal commas and local ISO dates', async () => {
    const input = sampleQuarter();
    const files = await new ArcepExporter().export(input);
    const aps = parseCsv(byName(files, '_points-acces.csv').bytes);
    expect(aps[0]).toEqual([
      'ap_id',
      'ap_nom',
      'site_id',
      'site_nom',
      'numero_enregistrement_arcep',
      'latitude',
      'longitude',
      'adresse',
      'sessions',
      'abonnes_distincts',
      'duree_totale_s',
      'octets_montants',
      'octets_descendants',
      'volume_total_go',
      'disponibilite_pct',
    ]);
    // Sorted by id; a name with ; and " survives quoting.
    expect(aps[1]).toEqual([
      'nas-a',
      'Cotonou-Haie-Vive',
      'site-1',
      'Tour Haie Vive',
      'AP-2026-001',
      '6,3654',
      '2,4183',
      'Haie Vive',
      '3',
      '2',
      '5400',
      '12345',
      '1099511627776',
      '1099,51',
      '99,50',
    ]);
    expect(aps[2]?.slice(0, 2)).toEqual(['nas-b', 'Parakou-Marché; AP "2"']);
    const raw = new TextDecoder().decode(byName(files, '_points-acces.csv').bytes);
    expect(raw).toContain('"Parakou-Marché; AP ""2"""');
    const inc = parseCsv(byName(files, '_incidents.csv').bytes);
    expect(inc[0]).toEqual(['incident_id', 'priorite', 'titre', 'ouvert_le', 'resolu_le', 'delai_resolution_s', 'points_acces', 'abonnes_affectes']);
    expect(inc[1]).toEqual(['INC-000001', 'P0', 'Base de données injoignable', '2026-07-15T03:00:00+01:00', '2026-07-15T03:20:00+01:00', '1200', '', '']);
    expect(inc[3]).toEqual(['INC-000003', 'P2', 'Latence élevée', '2026-09-29T09:00:00+01:00', '', '', '', '12']);
    const rev = parseCsv(byName(files, '_revenus.csv').bytes);
    expect(rev[0]).toEqual(['categorie', 'cle', 'libelle', 'operations', 'montant_fcfa']);
    expect(rev).toContainEqual(['revendeur', 'r-1', 'Alpha Net', '2', '6000']);
    expect(rev).toContainEqual(['total', 'remboursements', 'Remboursements', '', '5000']);
    const syn = new Map(parseCsv(byName(files, '_synthese.csv').bytes).map((r) => [r[0], r]));
    expect(syn.get('debut_periode')?.[1]).toBe('2026-07-01T00:00:00+01:00');
    expect(syn.get('fin_periode_exclue')?.[1]).toBe('2026-10-01T00:00:00+01:00');
    expect(syn.get('taux_identification')?.slice(1)).toEqual(['100,00', '%']);
    expect(syn.get('incidents_P1_delai_moyen_resolution')?.slice(1)).toEqual(['9000', 'secondes']);
    expect(syn.get('incidents_P2_resolus')?.[1]).toBe('0');
  });

  it('the PDF shows the figures (pdftotext)', async () => {
    const files = await new ArcepExporter().export(sampleQuarter());
    const dir = mkdtempSync(join(tmpdir(), 'rgz-arcep-'));
    writeFileSync(join(dir, 'r.pdf'), byName(files, '.pdf').bytes);
    const text = execFileSync('pdftotext', ['-layout', join(dir, 'r.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('ARCEP BÉNIN — RAPPORT TRIMESTRIEL');
    expect(text).toContain('du 01/07/2026 au 30/09/2026');
    expect(text).toMatch(/Abonnés actifs.*\s3\n/);
    expect(text).toMatch(/Chiffre d’affaires brut encaissé\s+61 000 FCFA/);
    expect(text).toMatch(/Alpha Net\s+2\s+6 000 FCFA/);
    expect(text).toMatch(/P1\s+1\s+1\s+2 h 30 min/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('quarters in the time zone; the job of 10 October reports July–September', () => {
    const q = parseQuarter('2026-T3', 'Africa/Porto-Novo');
    expect([q.from.toISOString(), q.to.toISOString(), q.kind]).toEqual(['2026-06-30T23:00:00.000Z', '2026-09-30T23:00:00.000Z', 'quarter']);
    expect(previousQuarter(new Date('2026-10-10T06:00:00Z'), 'Africa/Porto-Novo').label).toBe('2026-T3');
    expect(previousQuarter(new Date('2027-01-10T06:00:00Z'), 'Africa/Porto-Novo').label).toBe('2026-T4');
    expect(parseQuarter('2026-Q4', 'UTC').to.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(() => parseQuarter('2026-T5', 'UTC')).toThrow(/not a quarter/);
  });

  it('helpers', () => {
    expect(decimalComma(1n, 3n)).toBe('0,33');
    expect(decimalComma(2n, 3n)).toBe('0,67');
    expect(decimalComma(199n, 2n, 0)).toBe('100');
    expect(isoInZone(new Date('2026-12-31T23:30:00Z'), 'Africa/Porto-Novo')).toBe('2027-01-01T00:30:00+01:00');
    expect(isoInZone(new Date('2026-07-01T12:00:00Z'), 'Europe/Paris')).toBe('2026-07-01T14:00:00+02:00');
    const st = incidentStats(sampleQuarter().incidents);
    expect(st.map((s) => [s.priority, s.count, s.resolved, s.meanSeconds])).toEqual([
      ['P0', 1, 1, 1200],
      ['P1', 1, 1, 9000],
      ['P2', 1, 0, 0],
    ]);
  });
});
