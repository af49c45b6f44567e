/**
 * The IncidentSink this plugin contributes, through the shared contract (the "peer" is the plugin's own timeline),
 * and as billing uses it: an incident opened by another plugin gets its priority's notifications and escalation.
 */
import { definePlugin, type IncidentEvent, IncidentSinks, sql } from '@rgz/core';
import { incidentSinkContract, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPayload, getIncident, type Harness, startHarness } from './test-support/harness.js';

incidentSinkContract('incidents (the plugin’s own store)', async () => {
  const h = await startHarness();
  const sink = h.server.collect(IncidentSinks).get('incidents');
  if (!sink) throw new Error('the incidents plugin contributes no sink');
  return {
    sink,
    async received() {
      const rows = await sql<{ event_id: string; kind: IncidentEvent['type']; external_id: string; priority: 'P0' | 'P1' | 'P2' }>`
        select t.event_id, t.kind, i.external_id, t.priority from incidents_timeline t join incidents_incidents i on i.id = t.incident_id
        where t.event_id is not null and t.detail->>'via' = 'sink' order by t.id`.execute(h.server.kernel.db);
      return rows.rows.map((r) => ({ eventId: r.event_id, type: r.kind, incidentId: r.external_id, priority: r.priority }));
    },
    close: () => h.close(),
  };
});

describe('an incident opened by another plugin (billing’s reconciliation P1)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  const opened = (id: string): IncidentEvent => ({
    eventId: `billing:${id}:opened`,
    at: new Date(),
    type: 'opened',
    incident: {
      id: `billing:${id}`,
      title: 'Écarts de réconciliation au-dessus de 1 % du chiffre du jour',
      priority: 'P1',
      status: 'open',
      openedAt: new Date(),
      source: 'billing.reconciliation_threshold',
      labels: { day: '2026-01-09', priority: 'P1' },
      summary: '3 écarts, 14 500 FCFA sur 1 020 000 FCFA (1,4 %)',
    },
  });

  it('is recorded once (redelivery and retries are harmless), notified per its priority, listed with source sink', async () => {
    const sink = h.server.collect(IncidentSinks).get('incidents');
    await sink?.notify(opened('a1'));
    await sink?.notify(opened('a1'));
    const list = (await (await h.api('?status=active')).json()) as { items: Array<{ number: number; source: string; externalId: string; priority: string }> };
    const mine = list.items.filter((i) => i.externalId === 'billing:a1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ source: 'sink', priority: 'P1' });
    const number = String(mine[0]?.number);
    await waitFor(() => h.chat.posts.some((p) => JSON.stringify(p.body).includes(`#${number} Écarts de réconciliation`)), 10_000);
    const got = await getIncident(h, number);
    expect(got.incident).toMatchObject({
      title: 'Écarts de réconciliation au-dessus de 1 % du chiffre du jour',
      alertname: 'billing.reconciliation_threshold',
    });
    expect(got.timeline.filter((t) => t.kind === 'opened')).toHaveLength(1);
  });

  it('a resolved event from the caller resolves it; an acknowledged event by a person acknowledges it', async () => {
    const sink = h.server.collect(IncidentSinks).get('incidents');
    const base = opened('a2');
    await sink?.notify(base);
    await sink?.notify({
      eventId: 'billing:a2:ack',
      at: new Date(),
      type: 'acknowledged',
      by: 'finance-1',
      incident: { ...base.incident, status: 'acknowledged' },
    });
    await sink?.notify({ eventId: 'billing:a2:resolved', at: new Date(), type: 'resolved', incident: { ...base.incident, status: 'resolved' } });
    const list = (await (await h.api('?status=resolved')).json()) as { items: Array<{ externalId: string; acknowledgedBy: string; resolvedBy: string }> };
    expect(list.items.find((i) => i.externalId === 'billing:a2')).toMatchObject({
      acknowledgedBy: 'finance-1',
      resolvedBy: 'sink:billing.reconciliation_threshold',
    });
  });
});

describe('the lifecycle of alert incidents, forwarded to the other IncidentSinks (an on-call service)', () => {
  const received: IncidentEvent[] = [];
  const oncall = definePlugin({
    name: 'test-oncall',
    version: '0.0.0',
    core: '^0.1.0',
    setup(ctx) {
      ctx.contribute(IncidentSinks, {
        id: 'oncall',
        provider: 'test',
        accepts: ['opened', 'acknowledged', 'resolved'],
        async notify(event: IncidentEvent) {
          received.push(event);
        },
      });
    },
  });
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ extraPlugins: [oncall] });
  });
  afterAll(() => h?.close());

  it('forwards opened, acknowledged and resolved with our incident id and stable event ids; not what other plugins opened', async () => {
    const alert = { labels: { alertname: 'DatabaseDown', severity: 'critical', instance: 'f:1' }, fingerprint: 'forward00000001' };
    const res = await h.post(alertPayload('firing', [alert]));
    const { number, incidentId } = ((await res.json()) as { incidents: Array<{ number: number; incidentId: string }> }).incidents[0] as {
      number: number;
      incidentId: string;
    };
    await h.api(`/${number}/acknowledge`, { method: 'POST' });
    await h.post(alertPayload('resolved', [alert]));
    await waitFor(() => received.filter((e) => e.incident.id === incidentId).length === 3, 10_000);
    const mine = received.filter((e) => e.incident.id === incidentId);
    expect(mine.map((e) => [e.type, e.incident.priority, e.incident.status])).toEqual([
      ['opened', 'P0', 'open'],
      ['acknowledged', 'P0', 'acknowledged'],
      ['resolved', 'P0', 'resolved'],
    ]);
    expect(mine[1]).toMatchObject({ type: 'acknowledged', by: 'test-admin' });
    expect(mine[2]).not.toHaveProperty('by');
    for (const e of mine) expect(e.eventId).toMatch(/^incidents:\d+$/);

    await h.server
      .collect(IncidentSinks)
      .get('incidents')
      ?.notify({
        eventId: 'billing:z:opened',
        at: new Date(),
        type: 'opened',
        incident: { id: 'billing:z', title: 't', priority: 'P1', status: 'open', openedAt: new Date(), source: 'billing.x', labels: {} },
      });
    await new Promise((r) => setTimeout(r, 500));
    expect(received.some((e) => e.incident.title === 't')).toBe(false);
  });
});
