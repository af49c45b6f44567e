/**
 * Several replicas on one real PostgreSQL database: the escalation state survives a restart (it lives in the
 * database), the escalation job fires once across replicas, and when a replica loses its database the webhook pages
 * directly, answers 503 so Alertmanager retries, and records the incident once the database is back (no second page).
 */
import { createKernel, type Kernel, openDatabase, parseServerConfig, sql } from '@rgz/core';
import { createTestDatabase, sleep, type TestDatabase, waitFor } from '@rgz/core/testing';
import notify from '@rgz/plugin-notify';
import { RecordingSmsSender, type SmtpPeer, startSmtpPeer, startWebhookPeer, type WebhookPeer } from '@rgz/plugin-notify/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import incidents from './index.js';
import { alertPayload, gatewayPlugin, incidentsConfig, NOC_EMAIL, notifyConfig, ONCALL_1, ONCALL_2, WEBHOOK_TOKEN } from './test-support/harness.js';
import { startTcpProxy, type TcpProxy } from './test-support/tcp-proxy.js';

interface Replica {
  kernel: Kernel;
  post(payload: unknown): Promise<Response>;
  close(): Promise<void>;
}

describe('incidents across replicas (real PostgreSQL)', () => {
  let tdb: TestDatabase;
  let smtp: SmtpPeer;
  let chat: WebhookPeer;
  const sms = new RecordingSmsSender('gw');
  const open: Replica[] = [];

  async function replica(url: string, options: { scheduler?: boolean; worker?: boolean; incidents?: Record<string, unknown> } = {}): Promise<Replica> {
    const database = await openDatabase({ url, poolMax: 4 });
    const kernel = await createKernel({
      config: parseServerConfig({ log: { level: 'silent' }, tasks: { pollIntervalMs: 50 } }, {}),
      database,
      plugins: [
        { plugin: gatewayPlugin(sms) },
        { plugin: notify, config: notifyConfig(smtp, chat) },
        { plugin: incidents, config: incidentsConfig(options.incidents) },
      ],
    });
    await kernel.start({ worker: options.worker ?? true, scheduler: options.scheduler ?? false });
    const r: Replica = {
      kernel,
      post: async (payload) =>
        kernel.app.request('/hooks/alertmanager', {
          method: 'POST',
          headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        }),
      async close() {
        const i = open.indexOf(r);
        if (i >= 0) open.splice(i, 1);
        await kernel.stop();
        await database.close();
      },
    };
    open.push(r);
    return r;
  }

  const incidentByFingerprint = async (fp: string) =>
    (
      await sql<{ id: string; number: number; status: string; escalation_level: number }>`select * from incidents_incidents where fingerprint = ${fp}`.execute(
        tdb.database.db,
      )
    ).rows;
  const timeline = async (id: string) =>
    (
      await sql<{ kind: string; detail: Record<string, unknown> }>`select kind, detail from incidents_timeline where incident_id = ${id} order by id`.execute(
        tdb.database.db,
      )
    ).rows;
  const notifications = async (id: string) =>
    (
      await sql<{
        channel: string;
        recipient: string;
        status: string;
        reason: string;
      }>`select * from incidents_notifications where incident_id = ${id} order by id`.execute(tdb.database.db)
    ).rows;

  beforeAll(async () => {
    tdb = await createTestDatabase('real');
    smtp = await startSmtpPeer();
    chat = await startWebhookPeer();
  });
  afterAll(async () => {
    for (const r of [...open]) await r.close();
    await tdb?.drop();
    await smtp?.close();
    await chat?.close();
  });

  it('escalation survives a restart: the next replica escalates what the stopped one opened', async () => {
    const first = await replica(tdb.url as string);
    const res = await first.post(
      alertPayload('firing', [{ labels: { alertname: 'DatabaseDown', severity: 'critical', instance: 'r:1' }, fingerprint: 'restart00000001' }]),
    );
    expect(res.status).toBe(200);
    const [incident] = await incidentByFingerprint('restart00000001');
    await waitFor(async () => (await notifications(incident?.id as string)).every((n) => n.status === 'sent'), 10_000);
    await first.close();

    await sleep(1100);
    const second = await replica(tdb.url as string);
    expect((await second.kernel.scheduler.trigger('incidents.escalate')).result).toEqual({ escalated: 1 });
    await waitFor(() => sms.messages.some((m) => m.to === ONCALL_2 && m.text.includes(`#${incident?.number} ESCALADE niveau 1`)), 10_000);
    await second.close();
  });

  it('with two replicas running the every-second job, each level fires once', async () => {
    const cfg = { escalationCron: '* * * * * *' };
    const a = await replica(tdb.url as string, { scheduler: true, incidents: cfg });
    const b = await replica(tdb.url as string, { scheduler: true, incidents: cfg });
    const res = await a.post(
      alertPayload('firing', [{ labels: { alertname: 'DatabaseDown', severity: 'critical', instance: 'r:2' }, fingerprint: 'replicas0000001' }]),
    );
    expect(res.status).toBe(200);
    const [incident] = await incidentByFingerprint('replicas0000001');
    const id = incident?.id as string;
    await waitFor(async () => (await incidentByFingerprint('replicas0000001'))[0]?.escalation_level === 2, 15_000);
    await sleep(2500);
    const escalated = (await timeline(id)).filter((t) => t.kind === 'escalated').map((t) => t.detail.level);
    expect(escalated).toEqual([1, 2]);
    await waitFor(async () => (await notifications(id)).every((n) => n.status === 'sent'), 10_000);
    expect(sms.messages.filter((m) => m.to === ONCALL_1 && m.text.includes(`#${incident?.number} `))).toHaveLength(1);
    expect(sms.messages.filter((m) => m.to === ONCALL_2 && m.text.includes(`#${incident?.number} `))).toHaveLength(1);
    expect(chat.posts.filter((p) => JSON.stringify(p.body).includes(`#${incident?.number} ESCALADE`))).toHaveLength(1);
    // No tick of the global job ran twice (both schedulers claimed ticks; one wins each).
    const runs = await sql<{ n: number }>`select count(*)::int as n from core_job_runs where job_id = 'incidents.escalate' and trigger = 'schedule'`.execute(
      tdb.database.db,
    );
    expect(runs.rows[0]?.n).toBeGreaterThan(3);
    const doubles =
      await sql`select scheduled_for from core_job_runs where job_id = 'incidents.escalate' and trigger = 'schedule' group by scheduled_for having count(*) > 1`.execute(
        tdb.database.db,
      );
    expect(doubles.rows).toEqual([]);
    await a.close();
    await b.close();
  });

  describe('a replica that loses its database', () => {
    let proxy: TcpProxy;

    beforeAll(async () => {
      const target = new URL(tdb.url as string);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    });
    afterAll(() => proxy?.close());

    it('pages the P0 directly, answers 503, then records the incident when Alertmanager retries — without paging twice', async () => {
      const r = await replica(proxy.via(tdb.url as string), { incidents: { degraded: { storageTimeout: '1s', cooldown: '15m' } } });
      const payload = alertPayload('firing', [
        {
          labels: { alertname: 'DatabaseDown', severity: 'critical', instance: 'r:3' },
          annotations: { summary: 'Base injoignable' },
          fingerprint: 'degraded0000001',
        },
      ]);
      const smsBefore = sms.messages.length;
      const mailBefore = smtp.messages.length;
      // A partition: the replica's connections hang (they are not reset), new ones are refused.
      await proxy.blackhole();

      const down = await r.post(payload);
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toBe('application/problem+json');
      expect(await down.json()).toMatchObject({ code: 'incidents_unavailable' });
      expect(sms.messages.slice(smsBefore).map((m) => m.to)).toEqual([ONCALL_1]);
      expect(sms.messages.at(-1)?.text).toMatch(/^\[P0\] DatabaseDown — Base injoignable\n/);
      expect(sms.messages.at(-1)?.text).toContain('Incident pas encore enregistré');
      expect(smtp.messages.slice(mailBefore).map((m) => m.to)).toEqual([[NOC_EMAIL]]);
      // Alertmanager retries while the database is still down: no second page (cooldown).
      expect((await r.post(payload)).status).toBe(503);
      expect(sms.messages.length).toBe(smsBefore + 1);

      await proxy.restore();
      const up = await waitFor(async () => {
        const res = await r.post(payload);
        return res.status === 200 ? ((await res.json()) as { incidents: Array<{ action: string; priority: string; number: number }> }) : null;
      }, 20_000);
      // The request that timed out resumes when the link is back and records the incident; the retry finds it.
      expect(up.incidents[0]).toMatchObject({ action: expect.stringMatching(/^(opened|updated)$/), priority: 'P0' });
      const [incident] = await incidentByFingerprint('degraded0000001');
      const rows = await notifications(incident?.id as string);
      expect(rows.map((n) => [n.channel, n.recipient, n.status])).toEqual([
        ['noc-sms', ONCALL_1, 'sent'],
        ['noc-email', NOC_EMAIL, 'sent'],
      ]);
      expect((await timeline(incident?.id as string)).filter((t) => t.kind === 'notified').map((t) => t.detail.degraded)).toEqual([true, true]);
      await sleep(500);
      expect(sms.messages.length).toBe(smsBefore + 1);
      await r.close();
    });
  });
});
