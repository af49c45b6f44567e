/**
 * The `IncidentSink` this plugin contributes: how other plugins open and update incidents (billing's reconciliation
 * opens a P1 when mismatches exceed 1 % of the day's revenue). Each event is applied once (its `eventId` is kept in
 * the timeline); the incident is keyed by the caller's incident id and gets this plugin's notifications and
 * escalation like an alert's.
 */
import { type CallOptions, type IncidentEvent, type IncidentEventType, type IncidentSink, IncidentSinkError, RgzError } from '@rgz/core';
import type { IncidentService } from './service.js';

export class IncidentStoreSink implements IncidentSink {
  readonly provider = 'rgz-incidents';
  readonly accepts: readonly IncidentEventType[] = ['opened', 'escalated', 'acknowledged', 'resolved'];

  constructor(
    readonly id: string,
    private readonly service: IncidentService,
  ) {}

  async notify(event: IncidentEvent, _options?: CallOptions): Promise<void> {
    try {
      await this.service.applySinkEvent(event);
    } catch (err) {
      if (err instanceof IncidentSinkError) throw err;
      if (err instanceof RgzError && err.status < 500) throw new IncidentSinkError('permanent', err.message, { cause: err });
      // The database: nothing was committed, so trying again is safe.
      throw new IncidentSinkError('retryable', `incident not recorded: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }
}
