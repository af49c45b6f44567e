/** Sample `ReportInput`s for the exporter's contract suite and unit tests (fixed data, fixed clock). */
import type { ReportInput } from '@rgz/core';
import { quarterPeriod } from '../period.js';

const TZ = 'Africa/Porto-Novo';
const money = (n: number) => ({ amountMinor: n, currency: 'XOF' as const });

export function sampleQuarter(): ReportInput {
  const period = quarterPeriod(2026, 3, TZ);
  return {
    period,
    operator: {
      legalName: 'RGZ Réseaux SARL',
      country: 'BJ',
      licenceNumber: 'ARCEP/BJ/2025/0042',
      taxId: '3202412345678',
      address: 'Cotonou',
      contactEmail: 'noc@rgz.bj',
    },
    generatedAt: new Date('2026-10-10T06:00:00Z'),
    subscribers: { active: 3, new: 2, identified: 3 },
    accessPoints: [
      {
        id: 'nas-b',
        name: 'Parakou-Marché; AP "2"',
        sessions: 1,
        distinctSubscribers: 1,
        bytesUp: 1_500_000_000n,
        bytesDown: 9_000_000_000n,
        sessionSeconds: 600,
      },
      {
        id: 'nas-a',
        name: 'Cotonou-Haie-Vive',
        site: { id: 'site-1', name: 'Tour Haie Vive' },
        registrationId: 'AP-2026-001',
        location: { latitude: 6.3654, longitude: 2.4183, address: 'Haie Vive' },
        sessions: 3,
        distinctSubscribers: 2,
        bytesUp: 12_345n,
        bytesDown: 2n ** 40n,
        sessionSeconds: 5400,
        availabilityPercent: 99.5,
      },
    ],
    revenue: {
      gross: money(61_000),
      refunds: money(5000),
      providerFees: money(840),
      byMethod: [{ method: 'kkiapay', amount: money(56_000), count: 4 }],
      byPlan: [
        { plan: 'DAY10MB', amount: money(1000), count: 1 },
        { plan: 'MONTH5GB', amount: money(50_000), count: 1 },
      ],
      byReseller: [
        { resellerId: 'r-1', reseller: 'Alpha Net', amount: money(6000), count: 2 },
        { resellerId: null, reseller: 'Ventes directes (sans revendeur)', amount: money(50_000), count: 2 },
      ],
    },
    incidents: [
      {
        id: 'INC-000002',
        priority: 'P1',
        title: 'Backhaul Parakou coupé',
        openedAt: new Date('2026-08-01T10:00:00Z'),
        resolvedAt: new Date('2026-08-01T12:30:00Z'),
        accessPointIds: ['nas-b'],
      },
      {
        id: 'INC-000001',
        priority: 'P0',
        title: 'Base de données injoignable',
        openedAt: new Date('2026-07-15T02:00:00Z'),
        resolvedAt: new Date('2026-07-15T02:20:00Z'),
        accessPointIds: [],
      },
      { id: 'INC-000003', priority: 'P2', title: 'Latence élevée', openedAt: new Date('2026-09-29T08:00:00Z'), accessPointIds: [], affectedSubscribers: 12 },
    ],
  };
}

export function emptyMonth(): ReportInput {
  return {
    period: { kind: 'month', from: new Date('2026-01-31T23:00:00Z'), to: new Date('2026-02-28T23:00:00Z'), timeZone: TZ, label: '2026-02' },
    operator: { legalName: 'RGZ Réseaux SARL', country: 'BJ' },
    generatedAt: new Date('2026-03-05T06:00:00Z'),
    subscribers: { active: 0, new: 0, identified: 0 },
    accessPoints: [],
    revenue: { gross: money(0), refunds: money(0), providerFees: money(0), byMethod: [], byPlan: [] },
    incidents: [],
  };
}
