/**
 * The incidents plugin in a real server (the real kernel on PGlite, the notify plugin, a real SMTP server, an HTTP
 * receiver, an in-test SMS gateway): the Alertmanager receiver (authentication, validation, the conformance
 * payloads, dedup, resolution), notifications per priority, escalation, the NOC API, a channel down, the metrics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { sleep, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import incidents from './index.js';
import { alertPayload, getIncident, type Harness, NOC_EMAIL, ONCALL_1, ONCALL_2, settled, startHarness, WEBHOOK_TOKEN } from './test-support/harness.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
/** The shared conformance kit, read in place (never copied into the repository). */
const CONFORMANCE = new URL('../../../../shared/conformance/alertmanager/', import.meta.url);
const hasConformance = existsSync(new URL('firing.json', CONFORMANCE)) && existsSync(new URL('resolved.json', CONFORMANCE));
const conformance = (file: string) => readFileSync(new URL(file, CONFORMANCE), 'utf8');

it("declares package.json's version and its name", () => {
  expect(incidents.version).toBe(pkg.version);
  expect(incidents.name).toBe('incidents');
  expect(pkg.name).toBe('@rgz/plugin-incidents');
});

describe('incidents in a server', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  describe('the Alertmanager receiver refuses', () => {
    const body = () => alertPayload('firing', [{ labels: { alertname: 'Probe', severity: 'warning' } }]);

    it('a request without a token, with a forged one, or with an RGZ API token: 401 problem+json, nothing recorded', async () => {
      const before = (await (await h.api('?limit=200')).json()) as { items: unknown[] };
      const variants: Array<Record<string, string>> = [
        { 'content-type': 'application/json' },
        { 'content-type': 'application/json', authorization: 'Bearer am-test-token-0123456789abcdeX' },
        { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}x` },
        { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`x:${WEBHOOK_TOKEN}`).toString('base64')}` },
        { 'content-type': 'application/json', authorization: `Bearer ${h.server.nocToken}` },
      ];
      for (const headers of variants) {
        const res = await h.post(body(), headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await res.json()).toMatchObject({ status: 401, code: 'unauthorized' });
      }
      const after = (await (await h.api('?limit=200')).json()) as { items: unknown[] };
      expect(after.items.length).toBe(before.items.length);
    });

    it('a body that is not JSON: 400 problem+json', async () => {
      const res = await h.post('{"version": "4", "alerts": [');
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ code: 'alertmanager_payload_malformed' });
    });

    it('a payload of another version, without alerts, or with a broken alert: 400 naming the field', async () => {
      const cases: Array<[unknown, string]> = [
        [{ ...body(), version: '3' }, 'body.version'],
        [{ ...body(), alerts: [] }, 'body.alerts'],
        [{ ...body(), alerts: [{ ...(body().alerts as object[])[0], fingerprint: '' }] }, 'body.alerts.0.fingerprint'],
        [{ ...body(), alerts: [{ ...(body().alerts as object[])[0], status: 'pending' }] }, 'body.alerts.0.status'],
        [{ ...body(), alerts: [{ ...(body().alerts as object[])[0], startsAt: 'yesterday' }] }, 'body.alerts.0.startsAt'],
        [{ ...body(), alerts: [{ ...(body().alerts as object[])[0], labels: { alertname: 1 } }] }, 'body.alerts.0.labels.alertname'],
      ];
      for (const [payload, path] of cases) {
        const res = await h.post(payload);
        expect(res.status, path).toBe(400);
        const problem = (await res.json()) as { code: string; issues: Array<{ path: string }> };
        expect(problem.code).toBe('alertmanager_payload_invalid');
        expect(problem.issues.map((i) => i.path)).toContain(path);
      }
    });

    it('counts deliveries by outcome', async () => {
      const text = await (await h.server.request('/metrics')).text();
      expect(text).toMatch(/^incidents_alertmanager_webhooks_total\{outcome="unauthenticated"\} 5$/m);
      expect(text).toMatch(/^incidents_alertmanager_webhooks_total\{outcome="malformed"\} 7$/m);
    });
  });

  describe.skipIf(!hasConformance)('the conformance payloads (shared kit, read in place)', () => {
    it('firing.json: one P2 incident per alert (fingerprint), each e-mailed; posted twice: still one each', async () => {
      const first = await h.post(conformance('firing.json'));
      expect(first.status).toBe(200);
      const got = (await first.json()) as { received: number; incidents: Array<{ fingerprint: string; action: string; priority: string; number: number }> };
      expect(got.received).toBe(2);
      expect(got.incidents.map((i) => [i.fingerprint, i.action, i.priority])).toEqual([
        ['3f1e0c7a9b2d4e61', 'opened', 'P2'],
        ['a07c55d2e81b9f34', 'opened', 'P2'],
      ]);
      const again = (await (await h.post(conformance('firing.json'))).json()) as typeof got;
      expect(again.incidents.map((i) => [i.action, i.number])).toEqual(got.incidents.map((i) => ['updated', i.number]));

      const one = await settled(h, String(got.incidents[0]?.number));
      expect(one.incident).toMatchObject({
        status: 'open',
        priority: 'P2',
        source: 'alertmanager',
        alertname: 'CpeSignalLow',
        severity: 'warning',
        title: 'CpeSignalLow — CPE signal below -80 dBm',
        description: 'Signal is -84 dBm on 10.20.0.17',
        occurrences: 2,
        labels: { instance: '10.20.0.17:161', site: 'tower-north' },
      });
      expect(one.notifications).toMatchObject([{ reason: 'opened', channel: 'noc-email', recipient: NOC_EMAIL, status: 'sent', attempts: 1 }]);
      expect(one.timeline.map((t) => t.kind)).toEqual(['opened', 'notified']);
      const mails = h.smtp.messages.filter((m) => m.subject.includes(`#${got.incidents[0]?.number} `));
      expect(mails).toHaveLength(1);
      expect(mails[0]?.to).toEqual([NOC_EMAIL]);
      expect(mails[0]?.subject).toBe(`[RGZ] [P2] #${got.incidents[0]?.number} CpeSignalLow — CPE signal below -80 dBm`);
      expect(mails[0]?.text).toContain('Signal is -84 dBm on 10.20.0.17');
    });

    it('resolved.json: both incidents resolved by the alert, everyone notified told so; resolving again changes nothing', async () => {
      const res = await h.post(conformance('resolved.json'));
      expect(res.status).toBe(200);
      const got = (await res.json()) as { incidents: Array<{ action: string; number: number }> };
      expect(got.incidents.map((i) => i.action)).toEqual(['resolved', 'resolved']);
      const one = await settled(h, String(got.incidents[0]?.number));
      expect(one.incident).toMatchObject({ status: 'resolved', resolvedBy: 'alertmanager', resolvedAt: '2025-03-01T09:02:45.500Z' });
      expect(one.notifications.map((n) => [n.reason, n.status])).toEqual([
        ['opened', 'sent'],
        ['resolved', 'sent'],
      ]);
      expect(h.smtp.messages.some((m) => m.subject === `[RGZ] [P2] #${got.incidents[0]?.number} RÉSOLU — CpeSignalLow`)).toBe(true);
      const again = (await (await h.post(conformance('resolved.json'))).json()) as typeof got;
      expect(again.incidents.map((i) => i.action)).toEqual(['ignored', 'ignored']);
      // A late redelivery of the same firing episode does not reopen it.
      const late = (await (await h.post(conformance('firing.json'))).json()) as typeof got;
      expect(late.incidents.map((i) => i.action)).toEqual(['ignored', 'ignored']);
    });
  });

  describe('DatabaseDown (critical) → P0: SMS + e-mail, escalation, acknowledgement', () => {
    let number: number;

    it('opens a P0 incident and pages the on-call phone by SMS and the NOC by e-mail', async () => {
      const res = await h.post(
        alertPayload('firing', [
          {
            labels: { alertname: 'DatabaseDown', severity: 'critical', instance: '10.0.0.5:8080', job: 'rgz' },
            annotations: { summary: 'Base de données injoignable depuis 10.0.0.5:8080', description: 'pg_up vaut 0 depuis 1 min.' },
          },
        ]),
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { incidents: Array<{ number: number; priority: string; action: string }> };
      expect(body.incidents[0]).toMatchObject({ priority: 'P0', action: 'opened' });
      number = body.incidents[0]?.number as number;
      const got = await settled(h, String(number));
      expect(got.notifications.map((n) => [n.channel, n.recipient, n.status])).toEqual([
        ['noc-sms', ONCALL_1, 'sent'],
        ['noc-email', NOC_EMAIL, 'sent'],
      ]);
      const sms = h.sms.messages.find((m) => m.to === ONCALL_1 && m.text.includes(`#${number} `));
      expect(sms?.text).toMatch(
        new RegExp(`^\\[P0\\] #${number} DatabaseDown — Base de données injoignable depuis 10\\.0\\.0\\.5:8080\\npg_up vaut 0 depuis 1 min\\.`),
      );
      expect(sms?.text).toContain(`POST /api/incidents/${number}/acknowledge`);
      const mail = h.smtp.messages.find((m) => m.subject.includes(`#${number} `));
      expect(mail?.subject).toBe(`[RGZ] [P0] #${number} DatabaseDown — Base de données injoignable depuis 10.0.0.5:8080`);
      expect(mail?.text).toContain('Graphe Prometheus: http://prometheus.test:9090/graph?g0.expr=pg_up+%3D%3D+0');
      expect(got.incident.nextEscalationAt).not.toBeNull();
    });

    it('not acknowledged: escalates level by level (another phone, then chat), then stops at the last level', async () => {
      await sleep(1100);
      expect((await h.server.kernel.scheduler.trigger('incidents.escalate')).result).toEqual({ escalated: 1 });
      // Level 2 is not due yet: running the job again does nothing.
      expect((await h.server.kernel.scheduler.trigger('incidents.escalate')).result).toEqual({ escalated: 0 });
      await waitFor(() => h.sms.messages.some((m) => m.to === ONCALL_2 && m.text.includes(`#${number} ESCALADE niveau 1`)), 10_000);
      let got = await getIncident(h, String(number));
      expect(got.incident.escalationLevel).toBe(1);
      await sleep(1100);
      expect((await h.server.kernel.scheduler.trigger('incidents.escalate')).result).toEqual({ escalated: 1 });
      await waitFor(() => h.chat.posts.some((p) => JSON.stringify(p.body).includes(`#${number} ESCALADE niveau 2`)), 10_000);
      got = await getIncident(h, String(number));
      expect(got.incident).toMatchObject({ escalationLevel: 2, nextEscalationAt: null });
      expect(got.timeline.filter((t) => t.kind === 'escalated').map((t) => t.detail)).toMatchObject([
        { level: 1, repeat: false, notified: [`noc-sms:${ONCALL_2}`] },
        { level: 2, repeat: false, notified: ['noc-chat'] },
      ]);
      await sleep(1100);
      expect((await h.server.kernel.scheduler.trigger('incidents.escalate')).result).toEqual({ escalated: 0 });
    });

    it('acknowledging twice is harmless: one timeline entry, the second call says nothing changed', async () => {
      const first = await h.api(`/${number}/acknowledge`, { method: 'POST', body: JSON.stringify({ comment: 'Je regarde' }) });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ changed: true, incident: { status: 'acknowledged', acknowledgedBy: 'test-admin' } });
      const second = await h.api(`/${number}/acknowledge`, { method: 'POST' });
      expect(second.status).toBe(200);
      expect(await second.json()).toMatchObject({ changed: false, incident: { status: 'acknowledged' } });
      const got = await getIncident(h, String(number));
      expect(got.timeline.filter((t) => t.kind === 'acknowledged')).toHaveLength(1);
      expect(got.timeline.find((t) => t.kind === 'acknowledged')).toMatchObject({ actor: 'test-admin', detail: { comment: 'Je regarde' } });
    });

    it('a repeated firing of the acknowledged alert updates last_seen and does not page again', async () => {
      const before = h.sms.messages.length;
      const got0 = await getIncident(h, String(number));
      const res = await h.post(
        alertPayload('firing', [
          { labels: { alertname: 'DatabaseDown', severity: 'critical', instance: '10.0.0.5:8080', job: 'rgz' }, fingerprint: got0.incident.fingerprint },
        ]),
      );
      expect(((await res.json()) as { incidents: Array<{ action: string }> }).incidents[0]?.action).toBe('updated');
      const got = await getIncident(h, String(number));
      expect(got.incident.status).toBe('acknowledged');
      expect(got.incident.occurrences).toBe(2);
      expect(new Date(got.incident.lastSeenAt).getTime()).toBeGreaterThan(new Date(got0.incident.lastSeenAt).getTime());
      await sleep(300);
      expect(h.sms.messages.length).toBe(before);
    });

    it('comment, resolve by hand (twice harmless); acknowledging a resolved incident is a 409', async () => {
      const c = await h.api(`/${number}/comments`, { method: 'POST', body: JSON.stringify({ text: 'PostgreSQL redémarré' }) });
      expect(c.status).toBe(201);
      expect(await c.json()).toMatchObject({ kind: 'commented', actor: 'test-admin', detail: { text: 'PostgreSQL redémarré' } });
      const r1 = await h.api(`/${number}/resolve`, { method: 'POST', body: JSON.stringify({ comment: 'OK' }) });
      expect(await r1.json()).toMatchObject({ changed: true, incident: { status: 'resolved', resolvedBy: 'test-admin' } });
      const r2 = await h.api(`/${number}/resolve`, { method: 'POST' });
      expect(await r2.json()).toMatchObject({ changed: false });
      const ack = await h.api(`/${number}/acknowledge`, { method: 'POST' });
      expect(ack.status).toBe(409);
      expect(await ack.json()).toMatchObject({ code: 'incident_resolved' });
      const got = await settled(h, String(number));
      // Everyone paged (opening + both levels) is told it is resolved.
      expect(got.notifications.filter((n) => n.reason === 'resolved').map((n) => `${n.channel}:${n.recipient}`)).toEqual([
        `noc-sms:${ONCALL_1}`,
        `noc-email:${NOC_EMAIL}`,
        `noc-sms:${ONCALL_2}`,
        'noc-chat:',
      ]);
      expect(got.timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['opened', 'escalated', 'acknowledged', 'commented', 'resolved', 'notified']));
      const audit = await h.server.kernel.db.selectFrom('audit_log').select(['action', 'target_id']).where('target_id', '=', got.incident.id).execute();
      expect(audit.map((a) => a.action).sort()).toEqual(['incident.acknowledge', 'incident.resolve']);
    });
  });

  describe('escalation stops on acknowledgement; P1 repeats its last level', () => {
    it('an acknowledged incident is not escalated', async () => {
      const res = await h.post(alertPayload('firing', [{ labels: { alertname: 'DatabaseDown', severity: 'critical', instance: '10.0.0.6:8080' } }]));
      const number = ((await res.json()) as { incidents: Array<{ number: number }> }).incidents[0]?.number as number;
      await h.api(`/${number}/acknowledge`, { method: 'POST' });
      await sleep(1100);
      await h.server.kernel.scheduler.trigger('incidents.escalate');
      const got = await getIncident(h, String(number));
      expect(got.incident.escalationLevel).toBe(0);
      expect(got.timeline.some((t) => t.kind === 'escalated')).toBe(false);
    });

    it('a P1 not acknowledged repeats its last level every repeatEvery', async () => {
      const res = await h.post(alertPayload('firing', [{ labels: { alertname: 'CPUUsageCritical', severity: 'critical', instance: 'a:8080' } }]));
      const number = ((await res.json()) as { incidents: Array<{ number: number; priority: string }> }).incidents[0]?.number as number;
      for (let i = 0; i < 3; i++) {
        await sleep(1100);
        await h.server.kernel.scheduler.trigger('incidents.escalate');
      }
      const got = await getIncident(h, String(number));
      expect(got.incident.priority).toBe('P1');
      expect(got.timeline.filter((t) => t.kind === 'escalated').map((t) => [t.detail.level, t.detail.repeat])).toEqual([
        [1, false],
        [1, true],
        [1, true],
      ]);
      await h.api(`/${number}/resolve`, { method: 'POST' });
    });
  });

  describe('a notification channel down', () => {
    it('records the incident at once, retries the SMS until the gateway is back, and sends the rest meanwhile', async () => {
      h.sms.setDown(true);
      try {
        const res = await h.post(alertPayload('firing', [{ labels: { alertname: 'DatabaseDown', severity: 'critical', instance: '10.0.0.7:8080' } }]));
        expect(res.status).toBe(200);
        const number = ((await res.json()) as { incidents: Array<{ number: number }> }).incidents[0]?.number as number;
        const pending = await waitFor(async () => {
          const got = await getIncident(h, String(number));
          const sms = got.notifications.find((n) => n.channel === 'noc-sms');
          const mail = got.notifications.find((n) => n.channel === 'noc-email');
          return sms?.attempts >= 2 && mail?.status === 'sent' ? got : null;
        }, 15_000);
        expect(pending.incident).toMatchObject({ status: 'open', priority: 'P0' });
        expect(pending.notifications.find((n) => n.channel === 'noc-sms')).toMatchObject({
          status: 'pending',
          lastError: expect.stringMatching(/unreachable/),
        });
        h.sms.setDown(false);
        const done = await settled(h, String(number));
        expect(done.notifications.find((n) => n.channel === 'noc-sms')).toMatchObject({ status: 'sent', lastError: null });
        expect(h.sms.messages.filter((m) => m.text.includes(`#${number} `) && m.to === ONCALL_1)).toHaveLength(1);
        const text = await (await h.server.request('/metrics')).text();
        expect(text).toMatch(/^incident_notifications_total\{channel="noc-sms",outcome="retry"\} [1-9]\d*$/m);
        await h.api(`/${number}/resolve`, { method: 'POST' });
      } finally {
        h.sms.setDown(false);
      }
    });

    it('a permanent refusal is recorded as failed in the timeline, not retried', async () => {
      h.sms.failNext('permanent');
      const res = await h.post(alertPayload('firing', [{ labels: { alertname: 'DatabaseDown', severity: 'critical', instance: '10.0.0.8:8080' } }]));
      const number = ((await res.json()) as { incidents: Array<{ number: number }> }).incidents[0]?.number as number;
      const got = await settled(h, String(number));
      expect(got.notifications.find((n) => n.channel === 'noc-sms')).toMatchObject({ status: 'failed', attempts: 1 });
      expect(got.timeline.find((t) => t.kind === 'notification_failed')).toMatchObject({ detail: { channel: 'noc-sms', status: 'failed' } });
      await h.api(`/${number}/resolve`, { method: 'POST' });
    });
  });

  describe('grouping and dedup', () => {
    it('a mixed group (one alert still firing, one resolved) updates each alert’s own incident', async () => {
      const a = { labels: { alertname: 'CPUUsageHigh', severity: 'warning', instance: 'x:1' }, fingerprint: 'mixed000000000a' };
      const b = { labels: { alertname: 'CPUUsageHigh', severity: 'warning', instance: 'x:2' }, fingerprint: 'mixed000000000b' };
      await h.post(alertPayload('firing', [a, b]));
      const res = await h.post(alertPayload('firing', [a, { ...b, status: 'resolved' as const }]));
      const got = (await res.json()) as { incidents: Array<{ fingerprint: string; action: string }> };
      expect(got.incidents.map((i) => [i.fingerprint, i.action])).toEqual([
        ['mixed000000000a', 'updated'],
        ['mixed000000000b', 'resolved'],
      ]);
    });

    it('the same alert posted twice at once (two Alertmanagers) opens one incident', async () => {
      const payload = alertPayload('firing', [{ labels: { alertname: 'RedisClientsHigh', severity: 'warning' }, fingerprint: 'race0000000000001' }]);
      const [r1, r2] = await Promise.all([h.post(payload), h.post(payload)]);
      const actions = [
        ((await r1.json()) as { incidents: Array<{ action: string; number: number }> }).incidents[0],
        ((await r2.json()) as { incidents: Array<{ action: string; number: number }> }).incidents[0],
      ];
      expect(actions.map((a) => a?.action).sort()).toEqual(['opened', 'updated']);
      expect(actions[0]?.number).toBe(actions[1]?.number);
    });

    it('a new firing episode (new startsAt) after resolution opens a new incident', async () => {
      const alert = { labels: { alertname: 'MemoryUsageHigh', severity: 'warning' }, fingerprint: 'episode00000001' };
      const first = ((await (await h.post(alertPayload('firing', [alert]))).json()) as { incidents: Array<{ number: number }> }).incidents[0]?.number;
      await h.post(alertPayload('resolved', [alert]));
      const second = (await (await h.post(alertPayload('firing', [{ ...alert, startsAt: '2026-01-10T10:00:00Z' }]))).json()) as {
        incidents: Array<{ number: number; action: string }>;
      };
      expect(second.incidents[0]?.action).toBe('opened');
      expect(second.incidents[0]?.number).not.toBe(first);
    });

    it('a priority label on the rule wins over the severity mapping', async () => {
      const res = await h.post(alertPayload('firing', [{ labels: { alertname: 'NasDown', severity: 'warning', priority: 'P0' } }]));
      expect(((await res.json()) as { incidents: Array<{ priority: string }> }).incidents[0]?.priority).toBe('P0');
    });
  });

  describe('the NOC API', () => {
    it('is in /openapi.json with the receiver', async () => {
      const doc = (await (await h.server.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/incidents') || p.startsWith('/hooks/alertmanager'))).toEqual([
        '/hooks/alertmanager',
        '/api/incidents/summary',
        '/api/incidents',
        '/api/incidents/{id}',
        '/api/incidents/{id}/acknowledge',
        '/api/incidents/{id}/resolve',
        '/api/incidents/{id}/comments',
      ]);
    });

    it('needs a NOC token', async () => {
      const res = await h.server.request('/api/incidents');
      expect(res.status).toBe(401);
    });

    it('lists newest first, filters by status and priority, pages with `before`', async () => {
      const all = (await (await h.api('?limit=200')).json()) as { items: Array<{ number: number; status: string; priority: string }> };
      expect(all.items.length).toBeGreaterThan(5);
      expect(all.items.map((i) => i.number)).toEqual([...all.items.map((i) => i.number)].sort((a, b) => b - a));
      const p0 = (await (await h.api('?priority=P0&status=resolved')).json()) as typeof all;
      expect(p0.items.length).toBeGreaterThan(0);
      expect(p0.items.every((i) => i.priority === 'P0' && i.status === 'resolved')).toBe(true);
      const active = (await (await h.api('?status=active')).json()) as typeof all;
      expect(active.items.every((i) => i.status !== 'resolved')).toBe(true);
      const page = (await (await h.api('?limit=2')).json()) as typeof all & { next: number };
      expect(page.items).toHaveLength(2);
      const nextPage = (await (await h.api(`?limit=2&before=${page.next}`)).json()) as typeof all;
      expect(nextPage.items[0]?.number).toBeLessThan(page.items[1]?.number as number);
      expect((await h.api('?status=bogus')).status).toBe(400);
    });

    it('gets by uuid or number; 404 otherwise', async () => {
      const all = (await (await h.api('?limit=1')).json()) as { items: Array<{ id: string; number: number }> };
      const item = all.items[0] as { id: string; number: number };
      expect((await getIncident(h, item.id)).incident.number).toBe(item.number);
      expect((await getIncident(h, String(item.number))).incident.id).toBe(item.id);
      for (const ref of ['999999', '00000000-0000-4000-8000-000000000000', 'nope']) {
        const res = await h.api(`/${ref}`);
        expect(res.status, ref).toBe(404);
        expect(await res.json()).toMatchObject({ code: 'incident_not_found' });
      }
      expect((await h.api('/999999/acknowledge', { method: 'POST' })).status).toBe(404);
    });

    it('reports incidents_open by priority from the database', async () => {
      const active = (await (await h.api('?status=active&limit=200')).json()) as { items: Array<{ priority: string }> };
      const count = (p: string) => active.items.filter((i) => i.priority === p).length;
      const text = await (await h.server.request('/metrics')).text();
      for (const p of ['P0', 'P1', 'P2']) expect(text).toMatch(new RegExp(`^incidents_open\\{priority="${p}"\\} ${count(p)}$`, 'm'));
      expect(text).toMatch(/^incident_notifications_total\{channel="noc-email",outcome="sent"\} [1-9]\d*$/m);
      expect(text).toMatch(/^incident_escalations_total\{priority="P0"\} 2$/m);
    });
  });
});
