/**
 * A `ReportExporter` that writes the period's figures as CSV (RFC 4180: comma or semicolon separated, CRLF line
 * ends, quoted where needed, UTF-8): `summary.csv` (one metric per line: subscribers, revenue, incidents),
 * `access-points.csv` and `incidents.csv` (one row each). Deterministic: the same input gives the same bytes, whatever
 * the clock and the process time zone (dates are written in UTC, ISO 8601). To produce another format (a
 * regulator's template, a PDF), keep the structure and change the rows.
 */
import type { CallOptions, Money, ReportExporter, ReportFile, ReportInput } from '@rgz/core';

export interface CsvExporterOptions {
  /** Instance id: the key in `ReportExporters`. */
  readonly id: string;
  /** Start of every file name: `<prefix>_<period label>_summary.csv`. */
  readonly filePrefix: string;
  /** `,` (RFC 4180) or `;` (what spreadsheets in a French locale expect). */
  readonly separator: ',' | ';';
  /** Start each file with a UTF-8 byte order mark, so spreadsheets detect the encoding. */
  readonly bom: boolean;
}

type Cell = string | number | bigint | boolean | Date | null | undefined;

const CONTENT_TYPE = 'text/csv; charset=utf-8';

export function createCsvExporter(options: CsvExporterOptions): ReportExporter {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'report';
  const cell = (value: Cell): string => {
    if (value === null || value === undefined) return '';
    const text = value instanceof Date ? value.toISOString() : String(value);
    return /[",;\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const csv = (rows: readonly (readonly Cell[])[]): Uint8Array =>
    new TextEncoder().encode(`${options.bom ? '\uFEFF' : ''}${rows.map((row) => row.map(cell).join(options.separator)).join('\r\n')}\r\n`);
  const money = (m: Money) => `${m.amountMinor} ${m.currency}`;

  return {
    id: options.id,
    provider: 'csv',
    title: 'CSV export',
    periodKinds: ['month', 'quarter', 'year', 'custom'],
    contentTypes: ['text/csv'],

    async export(input: ReportInput, call: CallOptions = {}): Promise<readonly ReportFile[]> {
      call.signal?.throwIfAborted();
      const name = (what: string) => `${safe(options.filePrefix)}_${safe(input.period.label)}_${what}.csv`;
      const { period, operator, subscribers, revenue } = input;
      const summary: Cell[][] = [
        ['metric', 'value'],
        ['period', period.label],
        ['period_from', period.from],
        ['period_to', period.to],
        ['time_zone', period.timeZone],
        ['operator', operator.legalName],
        ['country', operator.country],
        ['licence_number', operator.licenceNumber],
        ['generated_at', input.generatedAt],
        ['subscribers_active', subscribers.active],
        ['subscribers_new', subscribers.new],
        ['subscribers_identified', subscribers.identified],
        ['access_points', input.accessPoints.length],
        ['revenue_gross', money(revenue.gross)],
        ['revenue_refunds', money(revenue.refunds)],
        ['revenue_provider_fees', money(revenue.providerFees)],
        ...revenue.byMethod.map((m): Cell[] => [`revenue_method_${m.method}`, `${money(m.amount)} (${m.count})`]),
        ...revenue.byPlan.map((p): Cell[] => [`revenue_plan_${p.plan}`, `${money(p.amount)} (${p.count})`]),
        ['incidents', input.incidents.length],
      ];
      const accessPoints: Cell[][] = [
        [
          'id',
          'name',
          'registration_id',
          'latitude',
          'longitude',
          'address',
          'sessions',
          'distinct_subscribers',
          'bytes_up',
          'bytes_down',
          'session_seconds',
          'availability_percent',
        ],
        ...input.accessPoints.map((ap): Cell[] => [
          ap.id,
          ap.name,
          ap.registrationId,
          ap.location?.latitude,
          ap.location?.longitude,
          ap.location?.address,
          ap.sessions,
          ap.distinctSubscribers,
          ap.bytesUp,
          ap.bytesDown,
          ap.sessionSeconds,
          ap.availabilityPercent,
        ]),
      ];
      const incidents: Cell[][] = [
        ['id', 'priority', 'title', 'opened_at', 'resolved_at', 'access_points', 'affected_subscribers'],
        ...input.incidents.map((i): Cell[] => [i.id, i.priority, i.title, i.openedAt, i.resolvedAt, i.accessPointIds.join(' '), i.affectedSubscribers]),
      ];
      return [
        { name: name('summary'), contentType: CONTENT_TYPE, bytes: csv(summary) },
        { name: name('access-points'), contentType: CONTENT_TYPE, bytes: csv(accessPoints) },
        { name: name('incidents'), contentType: CONTENT_TYPE, bytes: csv(incidents) },
      ];
    },
  };
}
