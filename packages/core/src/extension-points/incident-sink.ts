/**
 * Incident sink: receives the lifecycle of RGZ's incidents (opened → escalated → acknowledged → resolved, priority
 * P0/P1/P2) and forwards it somewhere — an on-call service, a ticket system, a chat room, an audit log. Core owns
 * incidents (made from Alertmanager alerts), the escalation ladder and who is paged; a sink only mirrors the events.
 * Delivery is at-least-once: core retries on failure, so a sink must treat a repeated `eventId` as already done.
 */

import { point } from '../plugin/tokens.js';
import { type CallOptions, type ExtensionIdentity, type FailureKind, OutboundError, type OutboundErrorOptions } from './common.js';

/** P0: service down for many subscribers, page now. P1: degraded or one site down. P2: needs attention in hours. */
export type IncidentPriority = 'P0' | 'P1' | 'P2';

/** The incident as it stands after the event. */
export interface IncidentSnapshot {
  /** RGZ's incident id, stable for the incident's life (sinks use it to update the same ticket/page). */
  readonly id: string;
  readonly title: string;
  readonly priority: IncidentPriority;
  readonly status: 'open' | 'acknowledged' | 'resolved';
  readonly openedAt: Date;
  /** What raised it (alert name, check id). */
  readonly source: string;
  /** Alert labels (site, nas, ap, severity) for routing and grouping. */
  readonly labels: Readonly<Record<string, string>>;
  readonly summary?: string;
  /** Link to the incident in RGZ's admin UI. */
  readonly url?: string;
}

/** One lifecycle step. */
export type IncidentEvent = {
  /** Unique per event; the same event redelivered has the same id. */
  readonly eventId: string;
  readonly at: Date;
  readonly incident: IncidentSnapshot;
} & (
  | { readonly type: 'opened' }
  /** No acknowledgement within the ladder step's delay: `level` 1 = first escalation. */
  | { readonly type: 'escalated'; readonly level: number; readonly notified: readonly string[] }
  /** `by` = the person (user id or name) who acknowledged. */
  | { readonly type: 'acknowledged'; readonly by: string }
  /** `by` absent when resolved automatically (alert resolved). */
  | { readonly type: 'resolved'; readonly by?: string }
);

export type IncidentEventType = IncidentEvent['type'];

/** An incident sink instance. `provider`: `webhook`, `log`, `ticket-…`. */
export interface IncidentSink extends ExtensionIdentity {
  /** Event types this sink wants; core does not call it for others. */
  readonly accepts: readonly IncidentEventType[];

  /**
   * Forward one event. Idempotent on `eventId`. Throws `IncidentSinkError`; core retries `retryable` and `ambiguous`
   * (idempotency makes that safe) with backoff and records `permanent`.
   */
  notify(event: IncidentEvent, options?: CallOptions): Promise<void>;
}

export class IncidentSinkError extends OutboundError {
  constructor(kind: FailureKind, message: string, options: OutboundErrorOptions = {}) {
    super(`incident_sink_${kind}`, kind, message, options);
    this.name = 'IncidentSinkError';
  }
}

/** Extension point: incident sinks, keyed by instance id. */
export const IncidentSinks = point<IncidentSink>('incident-sink', (s) => s.id);
