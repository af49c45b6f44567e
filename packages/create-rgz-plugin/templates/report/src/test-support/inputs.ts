/** Sample report inputs for the ReportExporter contract: a month with figures (and a comma in a name), an empty quarter. */
import type { ReportInput } from '@rgz/core';

const xof = (amountMinor: number) => ({ amountMinor, currency: 'XOF' as const });
const operator = { legalName: 'Démo WiFi SARL', country: 'BJ', licenceNumber: 'ARCEP-BJ-0000' };

export const month: ReportInput = {
  period: { kind: 'month', from: new Date('2026-09-30T23:00:00Z'), to: new Date('2026-10-31T23:00:00Z'), timeZone: 'Africa/Porto-Novo', label: '2026-10' },
  operator,
  generatedAt: new Date('2026-11-01T06:00:00Z'),
  subscribers: { active: 412, new: 57, identified: 412 },
  accessPoints: [
    {
      id: 'ap-1',
      name: 'Cotonou, marché Dantokpa',
      location: { latitude: 6.3703, longitude: 2.4333, address: 'Toit "Dantokpa", Cotonou' },
      sessions: 5231,
      distinctSubscribers: 301,
      bytesUp: 120_000_000_000n,
      bytesDown: 9_876_543_210_123n,
      sessionSeconds: 4_200_000,
      availabilityPercent: 99.4,
    },
    { id: 'ap-2', name: 'Porto-Novo', sessions: 0, distinctSubscribers: 0, bytesUp: 0n, bytesDown: 0n, sessionSeconds: 0 },
  ],
  revenue: {
    gross: xof(1_250_000),
    refunds: xof(5_000),
    providerFees: xof(23_750),
    byMethod: [{ method: 'mobile_money', amount: xof(1_250_000), count: 980 }],
    byPlan: [{ plan: 'JOUR-500', amount: xof(490_000), count: 980 }],
  },
  incidents: [
    {
      id: 'inc-1',
      priority: 'P1',
      title: 'Coupure fibre, Akpakpa',
      openedAt: new Date('2026-10-12T08:00:00Z'),
      resolvedAt: new Date('2026-10-12T11:30:00Z'),
      accessPointIds: ['ap-1'],
    },
  ],
};

export const emptyQuarter: ReportInput = {
  period: { kind: 'quarter', from: new Date('2026-06-30T23:00:00Z'), to: new Date('2026-09-30T23:00:00Z'), timeZone: 'Africa/Porto-Novo', label: '2026-T3' },
  operator,
  generatedAt: new Date('2026-10-01T06:00:00Z'),
  subscribers: { active: 0, new: 0, identified: 0 },
  accessPoints: [],
  revenue: { gross: xof(0), refunds: xof(0), providerFees: xof(0), byMethod: [], byPlan: [] },
  incidents: [],
};

/** Split CSV text into rows of cells (RFC 4180 quoting), for checks. */
export function parseCsv(text: string, separator: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}
