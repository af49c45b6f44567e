/**
 * Contract suite every `IncidentSink` runs against a test peer that records what it received. Checks that each
 * lifecycle step it accepts reaches the peer with the incident id, priority and step, in order, and that a
 * redelivered event carries the same event id so the far end can deduplicate.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEvent, IncidentSink, IncidentSnapshot } from '../../extension-points/incident-sink.js';

/** An event as the peer saw it, decoded by the harness. */
export interface ReceivedIncidentEvent {
  readonly eventId: string;
  readonly type: IncidentEvent['type'];
  readonly incidentId: string;
  readonly priority: IncidentSnapshot['priority'];
}

export interface IncidentSinkHarness {
  readonly sink: IncidentSink;
  /** Everything the peer received so far, oldest first. */
  received(): Promise<readonly ReceivedIncidentEvent[]>;
  close(): Promise<void>;
}

export function incidentSinkContract(name: string, make: () => Promise<IncidentSinkHarness>): void {
  describe(`IncidentSink contract: ${name}`, () => {
    let harness: IncidentSinkHarness | undefined;
    let h: IncidentSinkHarness;
    let sink: IncidentSink;

    beforeAll(async () => {
      harness = await make();
      h = harness;
      sink = harness.sink;
    });
    afterAll(async () => {
      await harness?.close();
    });

    const incident = (): IncidentSnapshot => ({
      id: `inc_${randomUUID()}`,
      title: 'NAS hotspot-1 unreachable',
      priority: 'P1',
      status: 'open',
      openedAt: new Date('2026-11-24T10:00:00Z'),
      source: 'NasDown',
      labels: { site: 'cotonou-akpakpa', nas: 'hotspot-1' },
      summary: 'No RADIUS accounting from hotspot-1 for 5 minutes',
    });

    const lifecycle = (base: IncidentSnapshot): IncidentEvent[] => [
      { eventId: randomUUID(), at: new Date('2026-11-24T10:00:00Z'), incident: base, type: 'opened' },
      {
        eventId: randomUUID(),
        at: new Date('2026-11-24T10:15:00Z'),
        incident: { ...base, priority: 'P0' },
        type: 'escalated',
        level: 1,
        notified: ['oncall-2'],
      },
      {
        eventId: randomUUID(),
        at: new Date('2026-11-24T10:20:00Z'),
        incident: { ...base, priority: 'P0', status: 'acknowledged' },
        type: 'acknowledged',
        by: 'oncall-2',
      },
      { eventId: randomUUID(), at: new Date('2026-11-24T10:40:00Z'), incident: { ...base, priority: 'P0', status: 'resolved' }, type: 'resolved' },
    ];

    it('has an id, a provider and accepted event types', () => {
      expect(sink.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(sink.provider.length).toBeGreaterThan(0);
      expect(sink.accepts.length).toBeGreaterThan(0);
      for (const type of sink.accepts) expect(['opened', 'escalated', 'acknowledged', 'resolved']).toContain(type);
    });

    it('forwards each accepted lifecycle step, in order, with incident id, priority and step', async () => {
      const base = incident();
      const events = lifecycle(base).filter((e) => sink.accepts.includes(e.type));
      for (const event of events) await sink.notify(event);
      const got = (await h.received()).filter((r) => r.incidentId === base.id);
      expect(got.map((r) => r.type)).toEqual(events.map((e) => e.type));
      expect(got.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
      expect(got.map((r) => r.priority)).toEqual(events.map((e) => e.incident.priority));
    });

    it('redelivers an event with the same event id', async () => {
      const base = incident();
      const [first] = lifecycle(base).filter((e) => sink.accepts.includes(e.type));
      if (first === undefined) return;
      await sink.notify(first);
      await sink.notify(first);
      const got = (await h.received()).filter((r) => r.incidentId === base.id);
      expect(got.length).toBeGreaterThanOrEqual(1);
      for (const r of got) expect(r.eventId).toBe(first.eventId);
    });
  });
}
