/**
 * Report exporter: renders one period's aggregated operating data into the files a recipient expects — first of all
 * the regulator (ARCEP Bénin: subscribers with identification, per-access-point sessions, revenue, incidents; CSV + PDF),
 * also accountants or investors. Core aggregates from its own tables and stores, signs and delivers the files; an
 * exporter only formats. Same input, same bytes: exports are archived and may be signed, so they must be reproducible.
 */

import { point } from '../plugin/tokens.js';
import type { CallOptions, ExtensionIdentity, Money } from './common.js';

/** The reporting period: `[from, to)`, both at midnight in `timeZone`. */
export interface ReportPeriod {
  readonly kind: 'month' | 'quarter' | 'year' | 'custom';
  readonly from: Date;
  readonly to: Date;
  /** IANA zone the period boundaries are in (`Africa/Porto-Novo`). */
  readonly timeZone: string;
  /** Human label, e.g. `2026-T4`, used in file names and headings. */
  readonly label: string;
}

/** Who reports. */
export interface ReportOperator {
  readonly legalName: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  /** Licence or authorisation number issued by the regulator. */
  readonly licenceNumber?: string;
  readonly taxId?: string;
  readonly address?: string;
  readonly contactEmail?: string;
}

/** Subscriber figures for the period. */
export interface SubscriberFigures {
  /** Distinct subscribers with at least one session in the period. */
  readonly active: number;
  /** First session in the period. */
  readonly new: number;
  /** Active subscribers whose identity was verified (SMS OTP to a phone number), for the user-identification rule. */
  readonly identified: number;
}

/** One access point and its use in the period (the regulator wants each AP registered individually). */
export interface AccessPointFigures {
  /** RGZ's id of the AP / NAS. */
  readonly id: string;
  readonly name: string;
  /** Registration number at the regulator, if any. */
  readonly registrationId?: string;
  readonly location?: { readonly latitude: number; readonly longitude: number; readonly address?: string };
  /** The site (tower, rooftop) the AP belongs to, when the inventory knows it. */
  readonly site?: { readonly id: string; readonly name: string };
  readonly sessions: number;
  readonly distinctSubscribers: number;
  /** Bytes in the subscriber's view: up = subscriber → Internet. */
  readonly bytesUp: bigint;
  readonly bytesDown: bigint;
  readonly sessionSeconds: number;
  /** Share of the period the AP was reachable, 0–100 %, if monitored. */
  readonly availabilityPercent?: number;
}

/** Revenue for the period, by payment method. */
export interface RevenueFigures {
  readonly gross: Money;
  readonly refunds: Money;
  /** Fees kept by payment providers. */
  readonly providerFees: Money;
  readonly byMethod: readonly { readonly method: string; readonly amount: Money; readonly count: number }[];
  readonly byPlan: readonly { readonly plan: string; readonly amount: Money; readonly count: number }[];
  /** Gross per reseller (`resellerId` null: sales without a reseller), when the source knows it. Sorted by reseller name. */
  readonly byReseller?: readonly { readonly resellerId: string | null; readonly reseller: string; readonly amount: Money; readonly count: number }[];
}

/** An incident that was open during the period. */
export interface IncidentFigures {
  readonly id: string;
  readonly priority: 'P0' | 'P1' | 'P2';
  readonly title: string;
  readonly openedAt: Date;
  readonly resolvedAt?: Date;
  /** AP ids affected. */
  readonly accessPointIds: readonly string[];
  readonly affectedSubscribers?: number;
}

/** Everything an exporter receives. Lists are sorted by id so output order is stable. */
export interface ReportInput {
  readonly period: ReportPeriod;
  readonly operator: ReportOperator;
  /** Fixed by core for the run, so output is reproducible (never read the clock in an exporter). */
  readonly generatedAt: Date;
  readonly subscribers: SubscriberFigures;
  readonly accessPoints: readonly AccessPointFigures[];
  readonly revenue: RevenueFigures;
  readonly incidents: readonly IncidentFigures[];
}

/** One output file. */
export interface ReportFile {
  /** File name only, no directory: `[A-Za-z0-9._-]`, unique within one export (`arcep-bj_2026-T4_sessions.csv`). */
  readonly name: string;
  /** MIME type, e.g. `text/csv; charset=utf-8`, `application/pdf`. */
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/** A report format. `provider` names it (`arcep-bj`). */
export interface ReportExporter extends ExtensionIdentity {
  /** Human title (`ARCEP Bénin — rapport trimestriel`). */
  readonly title: string;
  /** Period kinds this report is defined for. */
  readonly periodKinds: readonly ReportPeriod['kind'][];
  /** MIME types (without parameters) of the files it produces. */
  readonly contentTypes: readonly string[];

  /** Render the files. Deterministic: the same input gives the same names and bytes. No I/O other than CPU work. */
  export(input: ReportInput, options?: CallOptions): Promise<readonly ReportFile[]>;
}

/** Extension point: report exporters, keyed by instance id. */
export const ReportExporters = point<ReportExporter>('report-exporter', (e) => e.id);
