/**
 * End to end with the real Prometheus and Alertmanager (Debian packages), on loopback, with configs generated from
 * the shipped deploy/ files — only targets, ports, paths, intervals, the receiver URL and the token file differ, and
 * DatabaseDown's `for: 1m` becomes `for: 0s` in the test's copy of the rules (the shipped rules keep the seed's values).
 *
 * Two RGZ replicas share one real PostgreSQL database; replica A reaches it through a TCP proxy. Prometheus scrapes
 * both. The test cuts A from its database (a partition: A's connections hang), so A's pg_up goes to 0, DatabaseDown
 * fires, Alertmanager posts it to replica B's /hooks/alertmanager, B opens a P0 incident, the SMS lands in the example
 * SMS plugin's file (rgz-plugin-sms-file), the e-mail reaches a real SMTP server, nobody acknowledges so it escalates
 * (another phone, then chat), then the link comes back, the alert resolves and so does the incident. Every wait is
 * bounded (90 s).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKernel, type Kernel, openDatabase, parseServerConfig } from '@rgz/core';
import { createTestDatabase, type TestDatabase, waitFor } from '@rgz/core/testing';
import notify from '@rgz/plugin-notify';
import { type SmtpPeer, startSmtpPeer, startWebhookPeer, type WebhookPeer } from '@rgz/plugin-notify/testing';
import smsFile, { readLastMessages } from 'rgz-plugin-sms-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import incidents from './index.js';
import {
  ALERTMANAGER_CONFIG,
  BINARIES,
  type Daemon,
  freePort,
  GRAFANA_DIR,
  MISSING_TOOLS_MESSAGE,
  PROMETHEUS_CONFIG,
  RULES_FILE,
  run,
  startDaemon,
} from './test-support/deploy.js';
import { incidentsConfig, NOC_EMAIL, ONCALL_1, ONCALL_2, WEBHOOK_TOKEN } from './test-support/harness.js';
import { startTcpProxy, type TcpProxy } from './test-support/tcp-proxy.js';

const WAIT = 90_000;
const haveTools = !!(BINARIES.prometheus && BINARIES.alertmanager && BINARIES.promtool && BINARIES.amtool);

/** Replace `from` by `to` exactly `times` times (default: at least once), or fail naming what was not found. */
function substitute(text: string, from: string | RegExp, to: string, times?: number): string {
  const pattern =
    typeof from === 'string'
      ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g')
      : new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`);
  const count = [...text.matchAll(pattern)].length;
  if (count === 0 || (times !== undefined && count !== times))
    throw new Error(`expected ${times ?? 'at least one'} × ${from} in a shipped deploy file, found ${count}`);
  return text.replace(pattern, to);
}

describe.skipIf(!haveTools)(`end to end: Prometheus → Alertmanager → RGZ incidents${haveTools ? '' : ` — skipped: ${MISSING_TOOLS_MESSAGE}`}`, () => {
  let dir: string;
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  let smtp: SmtpPeer;
  let chat: WebhookPeer;
  let smsPath: string;
  const kernels: Kernel[] = [];
  const daemons: Daemon[] = [];
  let a: { kernel: Kernel; port: number };
  let b: { kernel: Kernel; port: number; nocToken: string };
  let promUrl: string;

  const plugins = () => [
    { plugin: smsFile, config: { id: 'file', path: smsPath, senderId: 'RGZ-NOC' } },
    {
      plugin: notify,
      config: {
        channels: [
          { id: 'noc-sms', kind: 'sms', senders: ['file'] },
          { id: 'noc-email', kind: 'email', host: smtp.host, port: smtp.port, from: 'RGZ NOC <noc-bot@rgz.test>', timeoutMs: 3000 },
          { id: 'noc-chat', kind: 'webhook', url: chat.url, timeoutMs: 3000 },
        ],
      },
    },
    { plugin: incidents, config: incidentsConfig({ escalationCron: '* * * * * *' }) },
  ];

  async function replica(url: string, options: { worker: boolean; scheduler: boolean }): Promise<{ kernel: Kernel; port: number }> {
    const database = await openDatabase({ url, poolMax: 5 });
    const kernel = await createKernel({
      config: parseServerConfig({ log: { level: 'silent' }, tasks: { pollIntervalMs: 100 } }, {}),
      database,
      plugins: plugins(),
    });
    kernels.push(kernel);
    await kernel.start(options);
    const { port } = await kernel.listen(0, '127.0.0.1');
    const close = kernel.stop.bind(kernel);
    (kernel as { stop: () => Promise<void> }).stop = async () => {
      await close();
      await database.close();
    };
    return { kernel, port };
  }

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${b.port}/api/incidents${path}`, { headers: { authorization: `Bearer ${b.nocToken}` } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const prom = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${promUrl}${path}`);
    return ((await res.json()) as { data: T }).data;
  };
  const smsTo = async (to: string) => readLastMessages(smsPath, { limit: 200, to }).catch(() => []);
  const daemonLogs = () => daemons.map((d) => d.output().slice(-2000)).join('\n---\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rgz-e2e-'));
    smsPath = join(dir, 'sms.jsonl');
    tdb = await createTestDatabase('real');
    const target = new URL(tdb.url as string);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    smtp = await startSmtpPeer();
    chat = await startWebhookPeer();

    // Replica A: the one that will lose its database (HTTP only, like a replica with tasks.worker=false).
    a = await replica(proxy.via(tdb.url as string), { worker: false, scheduler: false });
    // Replica B: reaches the database directly; Alertmanager posts here; runs the tasks and the escalation job.
    const rb = await replica(tdb.url as string, { worker: true, scheduler: true });
    b = { ...rb, nocToken: (await rb.kernel.tokens.issue({ role: 'noc', name: 'noc-e2e' })).token };

    const promPort = await freePort();
    const amPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const tokenFile = join(dir, 'rgz-alertmanager-token');
    await writeFile(tokenFile, `${WEBHOOK_TOKEN}\n`, { mode: 0o600 });

    // Rules: the shipped file, DatabaseDown's `for` shortened (the only rule this test waits for).
    const shippedRules = await readFile(RULES_FILE, 'utf8');
    const rules = substitute(shippedRules, /(- alert: DatabaseDown\n\s+expr: pg_up == 0\n\s+)for: 1m/, '$1for: 0s', 1);
    await writeFile(join(dir, 'rgz.rules.yml'), rules);
    await writeFile(join(dir, 'rgz-targets.yml'), `- targets:\n    - 127.0.0.1:${a.port}\n    - 127.0.0.1:${b.port}\n  labels:\n    env: e2e\n`);

    let promConfig = await readFile(PROMETHEUS_CONFIG, 'utf8');
    promConfig = substitute(promConfig, 'scrape_interval: 15s', 'scrape_interval: 2s', 2);
    promConfig = substitute(promConfig, 'scrape_timeout: 10s', 'scrape_timeout: 2s', 1);
    promConfig = substitute(promConfig, 'evaluation_interval: 15s', 'evaluation_interval: 1s', 1);
    promConfig = substitute(promConfig, '- rules/rgz.rules.yml', `- ${join(dir, 'rgz.rules.yml')}`, 1);
    promConfig = substitute(promConfig, '- targets/rgz.yml', `- ${join(dir, 'rgz-targets.yml')}`, 1);
    promConfig = substitute(promConfig, '127.0.0.1:9093', `127.0.0.1:${amPort}`, 1);
    promConfig = substitute(promConfig, '127.0.0.1:9090', `127.0.0.1:${promPort}`, 1);
    await writeFile(join(dir, 'prometheus.yml'), promConfig);

    let amConfig = await readFile(ALERTMANAGER_CONFIG, 'utf8');
    amConfig = substitute(amConfig, 'http://127.0.0.1:8080/hooks/alertmanager', `http://127.0.0.1:${b.port}/hooks/alertmanager`, 2);
    amConfig = substitute(amConfig, /credentials_file: \S+/, `credentials_file: ${tokenFile}`, 2);
    amConfig = substitute(amConfig, /group_wait: \d+s/, 'group_wait: 1s');
    amConfig = substitute(amConfig, /group_interval: \d+m/, 'group_interval: 1s');
    await writeFile(join(dir, 'alertmanager.yml'), amConfig);

    // The generated files are still valid for the tools.
    const pc = run(BINARIES.promtool as string, ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(pc.status, pc.out).toBe(0);
    const ac = run(BINARIES.amtool as string, ['check-config', join(dir, 'alertmanager.yml')]);
    expect(ac.status, ac.out).toBe(0);

    daemons.push(
      await startDaemon(
        BINARIES.alertmanager as string,
        [
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${join(dir, 'alertmanager')}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        `http://127.0.0.1:${amPort}/-/ready`,
      ),
    );
    daemons.push(
      await startDaemon(
        BINARIES.prometheus as string,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'prometheus')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--rules.alert.resend-delay=1s',
          '--log.level=warn',
        ],
        `${promUrl}/-/ready`,
      ),
    );
  }, 120_000);

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await proxy?.restore();
    for (const k of kernels) await k.stop().catch(() => {});
    await proxy?.close();
    await smtp?.close();
    await chat?.close();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('Prometheus scrapes both replicas’ /metrics and reads pg_up = 1', { timeout: 120_000 }, async () => {
    await waitFor(
      async () => {
        const result = await prom<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>('/api/v1/query?query=pg_up');
        return result.result.length === 2 && result.result.every((r) => r.value[1] === '1');
      },
      WAIT,
      { message: `pg_up from both replicas\n${daemonLogs()}` },
    );
    const targets = await prom<{ activeTargets: Array<{ labels: { job: string; instance: string }; health: string }> }>('/api/v1/targets');
    const rgz = targets.activeTargets.filter((t) => t.labels.job === 'rgz');
    expect(rgz.map((t) => t.labels.instance).sort()).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort());
    expect(rgz.every((t) => t.health === 'up')).toBe(true);
    // Prometheus loaded every shipped rule, DatabaseDown with the shortened `for`, APIHighLatency untouched.
    const rules = await prom<{ groups: Array<{ rules: Array<{ name: string; query: string; duration: number; labels: Record<string, string> }> }> }>(
      '/api/v1/rules?type=alert',
    );
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(23);
    expect(all.find((r) => r.name === 'APIHighLatency')).toMatchObject({ duration: 300, labels: { severity: 'warning' } });
    expect(all.find((r) => r.name === 'DatabaseDown')).toMatchObject({ query: 'pg_up == 0', duration: 0, labels: { severity: 'critical' } });
  });

  it('every Grafana panel query evaluates in this Prometheus', { timeout: 60_000 }, async () => {
    const dashboard = JSON.parse(await readFile(join(GRAFANA_DIR, 'dashboards', 'rgz-overview.json'), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        const expr = t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$instance/g, '.*');
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as { status: string; error?: string };
        expect(body.status, `${panel.title}: ${expr}: ${body.error ?? ''}`).toBe('success');
      }
    }
  });

  it('replica A loses its database: DatabaseDown fires, RGZ opens a P0, pages by SMS and e-mail, escalates, and resolves when the database is back', {
    timeout: 300_000,
  }, async () => {
    const instance = `127.0.0.1:${a.port}`;
    await proxy.blackhole();

    // Prometheus: pg_up 0 on A → DatabaseDown firing.
    await waitFor(
      async () => {
        const alerts = await prom<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('/api/v1/alerts');
        return alerts.alerts.some((x) => x.labels.alertname === 'DatabaseDown' && x.labels.instance === instance && x.state === 'firing');
      },
      WAIT,
      { message: `DatabaseDown firing in Prometheus\n${daemonLogs()}` },
    );

    // Alertmanager → B: one P0 incident for A's alert.
    const list = await waitFor(
      async () => {
        const got = await api<{ items: Array<{ number: number; alertname: string; priority: string; status: string; labels: Record<string, string> }> }>(
          '?status=active',
        );
        const mine = got.items.filter((i) => i.alertname === 'DatabaseDown' && i.labels.instance === instance);
        return mine.length ? mine : null;
      },
      WAIT,
      { message: `incident opened from Alertmanager's post\n${daemonLogs()}` },
    );
    expect(list).toHaveLength(1);
    const incident = list[0] as { number: number; priority: string; status: string; labels: Record<string, string> };
    expect(incident).toMatchObject({ priority: 'P0', status: 'open', labels: { severity: 'critical', job: 'rgz', env: 'e2e', check: 'database' } });
    const n = incident.number;

    // The SMS, through the example SMS plugin, to the on-call phone.
    const sms = await waitFor(async () => (await smsTo(ONCALL_1)).find((m) => m.text.includes(`#${n} DatabaseDown`)), WAIT, { message: 'the P0 SMS' });
    expect(sms.text).toContain(`Base de données injoignable depuis ${instance}`);
    expect(sms.senderId).toBe('RGZ-NOC');
    // The e-mail, through the real SMTP server.
    const mail = await waitFor(() => smtp.messages.find((m) => m.subject.includes(`#${n} DatabaseDown`)), WAIT, { message: 'the P0 e-mail' });
    expect(mail.to).toEqual([NOC_EMAIL]);
    expect(mail.subject).toBe(`[RGZ] [P0] #${n} DatabaseDown — Base de données injoignable depuis ${instance}`);
    expect(mail.text).toContain(`pg_up vaut 0 sur ${instance}`);

    // Nobody acknowledges: level 1 (the second phone), then level 2 (chat).
    await waitFor(async () => (await smsTo(ONCALL_2)).some((m) => m.text.includes(`#${n} ESCALADE niveau 1`)), WAIT, { message: 'escalation level 1' });
    await waitFor(() => chat.posts.some((p) => JSON.stringify(p.body).includes(`#${n} ESCALADE niveau 2`)), WAIT, { message: 'escalation level 2' });

    // The link comes back: pg_up 1, the alert resolves, Alertmanager posts the resolution, the incident resolves.
    await proxy.restore();
    const resolved = await waitFor(
      async () => {
        const got = await api<{
          incident: { status: string; resolvedBy: string };
          timeline: Array<{ kind: string; actor: string; detail: Record<string, unknown> }>;
        }>(`/${n}`);
        return got.incident.status === 'resolved' ? got : null;
      },
      WAIT,
      { message: `the incident resolved by the resolved alert\n${daemonLogs()}` },
    );
    expect(resolved.incident.resolvedBy).toBe('alertmanager');
    const kinds = resolved.timeline.map((t) => t.kind);
    expect(kinds[0]).toBe('opened');
    expect(resolved.timeline.filter((t) => t.kind === 'escalated').map((t) => t.detail.level)).toEqual([1, 2]);
    expect(kinds.at(-1) === 'resolved' || kinds.includes('resolved')).toBe(true);
    expect(resolved.timeline.find((t) => t.kind === 'resolved')?.actor).toBe('alertmanager');
    // Everyone paged hears it is over.
    await waitFor(async () => (await smsTo(ONCALL_1)).some((m) => m.text.includes(`#${n} RÉSOLU`)), WAIT, { message: 'resolution SMS' });
    // And the incident metric, scraped from B, went back to 0 for P0.
    await waitFor(
      async () => {
        const r = await prom<{ result: Array<{ value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent('max(incidents_open{priority="P0"})')}`);
        return r.result[0]?.value[1] === '0';
      },
      WAIT,
      { message: 'incidents_open{priority="P0"} back to 0' },
    );
  });
});
