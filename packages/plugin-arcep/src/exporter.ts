/**
 * The ARCEP Bénin quarterly report format, as a core `ReportExporter` (`provider: arcep-bj`): four CSV files and a
 * PDF, from the `ReportInput` alone (no I/O, no clock: same input, same bytes).
 *
 * CSV (documented column by column in docs/arcep.md): UTF-8 with a byte-order mark, `;` between fields, CRLF line
 * ends, RFC 4180 quoting — what a French-locale spreadsheet opens correctly by double-click. Integers are written
 * without separators; the few decimal values use a decimal comma (`99,50`); dates are ISO 8601 with their offset in
 * the report's time zone (`2026-07-01T00:00:00+01:00`). Column names are French, ASCII, snake_case.
 *
 * The PDF carries `SIGNATURE_SLOT_PLACEHOLDER` in its metadata; the arcep plugin signs it after export.
 */
import { type AccessPointFigures, type IncidentFigures, type ReportExporter, type ReportFile, type ReportInput, SIGNATURE_SLOT_PLACEHOLDER } from '@rgz/core';
import { renderPdf } from '@rgz/pdf-documents';

export const CSV_TYPE = 'text/csv; charset=utf-8';
export const PDF_TYPE = 'application/pdf';
const BOM = '\uFEFF';
const PRIORITIES = ['P0', 'P1', 'P2'] as const;

/** One CSV field: quoted when it holds `;`, `"`, CR or LF. */
function field(v: string | number | bigint | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[;"\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | bigint | null | undefined>>): Uint8Array {
  const lines = [header.join(';'), ...rows.map((r) => r.map(field).join(';'))];
  return new TextEncoder().encode(`${BOM}${lines.join('\r\n')}\r\n`);
}

/** `2026-07-01T00:00:00+01:00` in the zone (deterministic: no process time zone involved). */
export function isoInZone(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  const wall = Date.UTC(Number(get('year')), Number(get('month')) - 1, Number(get('day')), Number(get('hour')), Number(get('minute')), Number(get('second')));
  const offsetMin = Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `n / d` with `digits` decimals and a decimal comma, exact (BigInt), rounded half-up. */
export function decimalComma(n: bigint, d: bigint, digits = 2): string {
  if (d === 0n) return '';
  const neg = n < 0n !== d < 0n && n !== 0n;
  const [an, ad] = [n < 0n ? -n : n, d < 0n ? -d : d];
  const scale = 10n ** BigInt(digits);
  const scaled = (an * scale * 2n + ad) / (ad * 2n);
  const int = scaled / scale;
  const frac = (scaled % scale).toString().padStart(digits, '0');
  return `${neg ? '-' : ''}${int}${digits ? `,${frac}` : ''}`;
}

/** `1 234 567` with plain spaces (the PDF). */
export function grouped(n: bigint | number): string {
  const b = typeof n === 'bigint' ? n : BigInt(n);
  const s = (b < 0n ? -b : b).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return b < 0n ? `-${s}` : s;
}

const GB = 1_000_000_000n;

/** Seconds → `12 h 05 min` (PDF). */
function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : m > 0 ? `${m} min ${String(seconds % 60).padStart(2, '0')} s` : `${seconds} s`;
}

export interface IncidentStats {
  priority: (typeof PRIORITIES)[number];
  count: number;
  resolved: number;
  /** Seconds from opening to resolution, over the resolved ones (0 when none). */
  meanSeconds: number;
  medianSeconds: number;
  maxSeconds: number;
}

export function incidentStats(incidents: readonly IncidentFigures[]): IncidentStats[] {
  return PRIORITIES.map((priority) => {
    const mine = incidents.filter((i) => i.priority === priority);
    const times = mine
      .filter((i) => i.resolvedAt)
      .map((i) => Math.max(0, Math.floor(((i.resolvedAt as Date).getTime() - i.openedAt.getTime()) / 1000)))
      .sort((a, b) => a - b);
    const n = times.length;
    const median = n === 0 ? 0 : n % 2 ? (times[(n - 1) / 2] as number) : Math.floor(((times[n / 2 - 1] as number) + (times[n / 2] as number)) / 2);
    return {
      priority,
      count: mine.length,
      resolved: n,
      meanSeconds: n ? Math.floor(times.reduce((s, t) => s + t, 0) / n) : 0,
      medianSeconds: median,
      maxSeconds: n ? (times[n - 1] as number) : 0,
    };
  });
}

export interface SessionTotals {
  sessions: number;
  seconds: number;
  bytesUp: bigint;
  bytesDown: bigint;
}

export function sessionTotals(aps: readonly AccessPointFigures[]): SessionTotals {
  return aps.reduce<SessionTotals>(
    (t, a) => ({
      sessions: t.sessions + a.sessions,
      seconds: t.seconds + a.sessionSeconds,
      bytesUp: t.bytesUp + a.bytesUp,
      bytesDown: t.bytesDown + a.bytesDown,
    }),
    { sessions: 0, seconds: 0, bytesUp: 0n, bytesDown: 0n },
  );
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');

export class ArcepExporter implements ReportExporter {
  readonly provider = 'arcep-bj';
  readonly title = 'ARCEP Bénin — rapport trimestriel';
  readonly periodKinds = ['quarter', 'month', 'year', 'custom'] as const;
  readonly contentTypes = ['text/csv', 'application/pdf'] as const;

  constructor(readonly id: string = 'arcep-bj') {}

  async export(input: ReportInput): Promise<readonly ReportFile[]> {
    const prefix = `arcep-bj_${safe(input.period.label)}`;
    const tz = input.period.timeZone;
    const iso = (d: Date) => isoInZone(d, tz);
    const totals = sessionTotals(input.accessPoints);
    const stats = incidentStats(input.incidents);
    const r = input.revenue;
    const s = input.subscribers;

    const synthese = toCsv(
      ['indicateur', 'valeur', 'unite'],
      [
        ['periode', input.period.label, ''],
        ['debut_periode', iso(input.period.from), 'ISO 8601'],
        ['fin_periode_exclue', iso(input.period.to), 'ISO 8601'],
        ['genere_le', iso(input.generatedAt), 'ISO 8601'],
        ['operateur', input.operator.legalName, ''],
        ['numero_licence', input.operator.licenceNumber ?? '', ''],
        ['ifu', input.operator.taxId ?? '', ''],
        ['abonnes_actifs', s.active, 'abonnes'],
        ['abonnes_nouveaux', s.new, 'abonnes'],
        ['abonnes_identifies', s.identified, 'abonnes'],
        ['taux_identification', decimalComma(BigInt(s.identified) * 100n, BigInt(s.active)), '%'],
        ['points_acces', input.accessPoints.length, 'points d’acces'],
        ['sessions', totals.sessions, 'sessions'],
        ['duree_sessions', totals.seconds, 'secondes'],
        ['volume_montant', totals.bytesUp, 'octets'],
        ['volume_descendant', totals.bytesDown, 'octets'],
        ['chiffre_affaires_brut', r.gross.amountMinor, 'FCFA'],
        ['remboursements', r.refunds.amountMinor, 'FCFA'],
        ['frais_prestataires_paiement', r.providerFees.amountMinor, 'FCFA'],
        ...stats.flatMap((st) => [
          [`incidents_${st.priority}`, st.count, 'incidents'],
          [`incidents_${st.priority}_resolus`, st.resolved, 'incidents'],
          [`incidents_${st.priority}_delai_moyen_resolution`, st.meanSeconds, 'secondes'],
          [`incidents_${st.priority}_delai_median_resolution`, st.medianSeconds, 'secondes'],
          [`incidents_${st.priority}_delai_max_resolution`, st.maxSeconds, 'secondes'],
        ]),
      ],
    );

    const aps = [...input.accessPoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const pointsAcces = toCsv(
      [
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
      ],
      aps.map((a) => [
        a.id,
        a.name,
        a.site?.id,
        a.site?.name,
        a.registrationId,
        a.location ? String(a.location.latitude).replace('.', ',') : null,
        a.location ? String(a.location.longitude).replace('.', ',') : null,
        a.location?.address,
        a.sessions,
        a.distinctSubscribers,
        a.sessionSeconds,
        a.bytesUp,
        a.bytesDown,
        decimalComma(a.bytesUp + a.bytesDown, GB),
        a.availabilityPercent === undefined ? null : decimalComma(BigInt(Math.round(a.availabilityPercent * 100)), 100n),
      ]),
    );

    const revenueRows: Array<Array<string | number>> = [
      ['total', 'brut', 'Chiffre d’affaires brut encaissé', '', r.gross.amountMinor],
      ['total', 'remboursements', 'Remboursements', '', r.refunds.amountMinor],
      ['total', 'frais_prestataires', 'Frais des prestataires de paiement', '', r.providerFees.amountMinor],
      ...r.byMethod.map((m) => ['moyen_paiement', m.method, m.method, m.count, m.amount.amountMinor]),
      ...r.byPlan.map((p) => ['forfait', p.plan, p.plan, p.count, p.amount.amountMinor]),
      ...(r.byReseller ?? []).map((x) => ['revendeur', x.resellerId ?? '', x.reseller, x.count, x.amount.amountMinor]),
    ];
    const revenus = toCsv(['categorie', 'cle', 'libelle', 'operations', 'montant_fcfa'], revenueRows);

    const incidents = [...input.incidents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const incidentsCsv = toCsv(
      ['incident_id', 'priorite', 'titre', 'ouvert_le', 'resolu_le', 'delai_resolution_s', 'points_acces', 'abonnes_affectes'],
      incidents.map((i) => [
        i.id,
        i.priority,
        i.title,
        iso(i.openedAt),
        i.resolvedAt ? iso(i.resolvedAt) : null,
        i.resolvedAt ? Math.max(0, Math.floor((i.resolvedAt.getTime() - i.openedAt.getTime()) / 1000)) : null,
        [...i.accessPointIds].join(','),
        i.affectedSubscribers,
      ]),
    );

    const pdf = await renderPdf(this.definition(input, { aps, totals, stats, incidents }));
    return [
      { name: `${prefix}_synthese.csv`, contentType: CSV_TYPE, bytes: synthese },
      { name: `${prefix}_points-acces.csv`, contentType: CSV_TYPE, bytes: pointsAcces },
      { name: `${prefix}_revenus.csv`, contentType: CSV_TYPE, bytes: revenus },
      { name: `${prefix}_incidents.csv`, contentType: CSV_TYPE, bytes: incidentsCsv },
      { name: `${prefix}_rapport.pdf`, contentType: PDF_TYPE, bytes: pdf },
    ];
  }

  private definition(
    input: ReportInput,
    d: { aps: AccessPointFigures[]; totals: SessionTotals; stats: IncidentStats[]; incidents: IncidentFigures[] },
  ): Record<string, unknown> & { content: unknown } {
    const tz = input.period.timeZone;
    const date = (at: Date) => isoInZone(at, tz).slice(0, 10).split('-').reverse().join('/');
    const dateTime = (at: Date) => `${date(at)} ${isoInZone(at, tz).slice(11, 16)}`;
    const last = new Date(input.period.to.getTime() - 1);
    const s = input.subscribers;
    const r = input.revenue;
    const fcfa = (n: number) => `${grouped(n)} FCFA`;
    const right = (text: string, extra: Record<string, unknown> = {}) => ({ text, alignment: 'right', noWrap: true, ...extra });
    const head = (cells: string[], rightFrom = 1) => cells.map((t, i) => ({ text: t, bold: true, alignment: i >= rightFrom ? 'right' : 'left' }));
    const layout = {
      hLineWidth: (i: number, node: { table: { body: unknown[] } }) => (i === 0 || i === 1 || i === node.table.body.length ? 0.6 : 0.2),
      vLineWidth: () => 0,
      hLineColor: () => '#bbbbbb',
      paddingLeft: () => 3,
      paddingRight: () => 3,
      paddingTop: () => 2,
      paddingBottom: () => 2,
    };
    const op = input.operator;
    const content: unknown[] = [
      { text: 'ARCEP BÉNIN — RAPPORT TRIMESTRIEL', style: 'title' },
      { text: `Période ${input.period.label} : du ${date(input.period.from)} au ${date(last)} (${tz})`, style: 'subtitle' },
      {
        stack: [
          { text: op.legalName, bold: true },
          ...(op.address ? [{ text: op.address }] : []),
          {
            text: [op.licenceNumber ? `Licence : ${op.licenceNumber}` : null, op.taxId ? `IFU : ${op.taxId}` : null, op.contactEmail ?? null]
              .filter(Boolean)
              .join(' — '),
          },
          { text: `Généré le ${dateTime(input.generatedAt)} — pays : ${op.country}`, color: '#555555' },
        ],
        margin: [0, 0, 0, 10],
      },
      { text: '1. Abonnés', style: 'section' },
      {
        table: {
          widths: ['*', 90],
          body: [
            head(['Indicateur', 'Valeur']),
            ['Abonnés actifs (au moins une session dans la période)', right(grouped(s.active))],
            ['Nouveaux abonnés (première session dans la période)', right(grouped(s.new))],
            ['Abonnés identifiés (numéro de téléphone vérifié par SMS)', right(grouped(s.identified))],
            ['Taux d’identification', right(s.active ? `${decimalComma(BigInt(s.identified) * 100n, BigInt(s.active))} %` : '—')],
          ],
        },
        layout,
      },
      { text: '2. Sessions par point d’accès', style: 'section' },
    ];
    if (d.aps.length === 0) content.push({ text: 'Aucune session enregistrée dans la période.', color: '#555555' });
    else
      content.push({
        table: {
          headerRows: 1,
          widths: ['*', 70, 44, 44, 56, 62, 62],
          body: [
            head(['Point d’accès', 'Site', 'Sessions', 'Abonnés', 'Durée', 'Montant (Go)', 'Descendant (Go)'], 2),
            ...d.aps.map((a) => [
              { text: `${a.name}\n${a.id}`, fontSize: 6.5 },
              a.site?.name ?? '—',
              right(grouped(a.sessions)),
              right(grouped(a.distinctSubscribers)),
              right(duration(a.sessionSeconds)),
              right(decimalComma(a.bytesUp, GB)),
              right(decimalComma(a.bytesDown, GB)),
            ]),
            [
              { text: 'Total', bold: true, colSpan: 2 },
              {},
              right(grouped(d.totals.sessions), { bold: true }),
              right(''),
              right(duration(d.totals.seconds), { bold: true }),
              right(decimalComma(d.totals.bytesUp, GB), { bold: true }),
              right(decimalComma(d.totals.bytesDown, GB), { bold: true }),
            ],
          ],
        },
        layout,
        fontSize: 7.5,
      });
    content.push(
      { text: '3. Chiffre d’affaires', style: 'section' },
      {
        table: {
          widths: ['*', 110],
          body: [
            head(['Poste', 'Montant']),
            ['Chiffre d’affaires brut encaissé', right(fcfa(r.gross.amountMinor), { bold: true })],
            ['Remboursements', right(fcfa(r.refunds.amountMinor))],
            ['Frais des prestataires de paiement', right(fcfa(r.providerFees.amountMinor))],
          ],
        },
        layout,
        margin: [0, 0, 0, 6],
      },
    );
    const breakdown = (title: string, rows: ReadonlyArray<{ label: string; count: number; amount: number }>) => {
      if (rows.length === 0) return;
      content.push({
        table: {
          headerRows: 1,
          widths: ['*', 60, 110],
          body: [head([title, 'Opérations', 'Montant net']), ...rows.map((x) => [x.label, right(grouped(x.count)), right(fcfa(x.amount))])],
        },
        layout,
        margin: [0, 0, 0, 6],
      });
    };
    breakdown(
      'Par revendeur',
      (r.byReseller ?? []).map((x) => ({ label: x.reseller, count: x.count, amount: x.amount.amountMinor })),
    );
    breakdown(
      'Par moyen de paiement',
      r.byMethod.map((x) => ({ label: x.method, count: x.count, amount: x.amount.amountMinor })),
    );
    breakdown(
      'Par forfait',
      r.byPlan.map((x) => ({ label: x.plan, count: x.count, amount: x.amount.amountMinor })),
    );
    content.push(
      { text: '4. Incidents', style: 'section' },
      {
        table: {
          widths: ['*', 50, 50, 70, 70, 70],
          body: [
            head(['Priorité', 'Nombre', 'Résolus', 'Délai moyen', 'Délai médian', 'Délai max'], 1),
            ...d.stats.map((st) => [
              st.priority,
              right(String(st.count)),
              right(String(st.resolved)),
              right(st.resolved ? duration(st.meanSeconds) : '—'),
              right(st.resolved ? duration(st.medianSeconds) : '—'),
              right(st.resolved ? duration(st.maxSeconds) : '—'),
            ]),
          ],
        },
        layout,
        margin: [0, 0, 0, 6],
      },
    );
    if (d.incidents.length)
      content.push({
        table: {
          headerRows: 1,
          widths: [22, '*', 70, 70],
          body: [
            head(['Prio.', 'Incident', 'Ouvert', 'Résolu'], 9),
            ...d.incidents.map((i) => [i.priority, { text: i.title }, dateTime(i.openedAt), i.resolvedAt ? dateTime(i.resolvedAt) : 'en cours']),
          ],
        },
        layout,
        fontSize: 7,
      });
    content.push({
      text: 'Les fichiers CSV joints (séparateur « ; », UTF-8) portent les mêmes chiffres en détail. Ce rapport et ses fichiers sont signés par l’opérateur (Ed25519) ; le manifeste joint donne l’empreinte SHA-256 et la signature de chacun.',
      color: '#555555',
      fontSize: 7,
      margin: [0, 10, 0, 0],
    });
    return {
      pageSize: 'A4',
      pageMargins: [40, 40, 40, 50],
      info: {
        // Metadata strings are stored uncompressed: keep the signature marker out of data-driven text.
        title: `ARCEP Bénin — rapport ${input.period.label} — ${op.legalName}`.replaceAll('rgzsig', 'rgz-sig'),
        author: op.legalName.replaceAll('rgzsig', 'rgz-sig'),
        subject: `Rapport trimestriel ${input.period.label}`,
        creator: 'RGZ',
        producer: 'RGZ (pdfmake)',
        creationDate: input.generatedAt,
        RGZDocument: `arcep-bj_${safe(input.period.label)}`,
        RGZSignature: SIGNATURE_SLOT_PLACEHOLDER,
      },
      footer: (current: number, count: number) => ({
        margin: [40, 16, 40, 0],
        columns: [
          { text: `${op.legalName} — ARCEP ${input.period.label} — document signé (Ed25519)`, fontSize: 6.5, color: '#555555' },
          { text: `Page ${current} / ${count}`, alignment: 'right', fontSize: 7, color: '#555555', width: 60 },
        ],
      }),
      content,
      styles: {
        title: { fontSize: 15, bold: true, margin: [0, 0, 0, 2] },
        subtitle: { fontSize: 10, margin: [0, 0, 0, 8] },
        section: { fontSize: 11, bold: true, margin: [0, 10, 0, 4] },
      },
      defaultStyle: { font: 'Roboto', fontSize: 8.5, lineHeight: 1.15 },
    };
  }
}
