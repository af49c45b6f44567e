/**
 * deploy/ checked by the real tools: `promtool check config`, `promtool check rules`, `promtool test rules`
 * (deploy/prometheus/rules/rgz.rules.test.yml: every rule firing and not firing), `amtool check-config`; the seed's
 * two rules and thresholds as the seed words them; and the Grafana dashboard, whose every query reads only metrics
 * the rules or a running RGZ server (core + incidents + notify) know.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import dba from '@rgz/plugin-dba';
import inventory from '@rgz/plugin-inventory';
import notify from '@rgz/plugin-notify';
import sla from '@rgz/plugin-sla';
import snmp from '@rgz/plugin-snmp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import incidents from './index.js';
import {
  ALERTMANAGER_CONFIG,
  BINARIES,
  GRAFANA_DIR,
  MISSING_TOOLS_MESSAGE,
  metricNames,
  PROMETHEUS_CONFIG,
  RULES_FILE,
  RULES_TEST_FILE,
  ruleExpressions,
  run,
} from './test-support/deploy.js';
import { WEBHOOK_TOKEN } from './test-support/harness.js';

const rules = ruleExpressions(RULES_FILE);
const byName = (name: string) => rules.find((r) => r.alert === name);

describe.skipIf(!BINARIES.promtool)(`Prometheus files (promtool)${BINARIES.promtool ? '' : ` — skipped: ${MISSING_TOOLS_MESSAGE}`}`, () => {
  it('promtool check config: prometheus.yml and the rule file it names are valid', () => {
    const r = run(BINARIES.promtool as string, ['check', 'config', PROMETHEUS_CONFIG]);
    expect(r.out).toMatch(/SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
    expect(r.status, r.out).toBe(0);
  });

  it('promtool check rules', () => {
    const r = run(BINARIES.promtool as string, ['check', 'rules', RULES_FILE]);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status, r.out).toBe(0);
  });

  it('promtool test rules: every rule fires and stays quiet as rgz.rules.test.yml expects', () => {
    const r = run(BINARIES.promtool as string, ['test', 'rules', RULES_TEST_FILE]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
    // Every rule of the file appears in at least one test case.
    const tests = readFileSync(RULES_TEST_FILE, 'utf8');
    for (const rule of rules) expect(tests, rule.alert).toMatch(new RegExp(`alertname: ${rule.alert}\\b`));
  });
});

describe('the rules say what the seed says', () => {
  it('APIHighLatency and DatabaseDown, with the seed’s threshold, for and severity (the quantile from the histogram)', () => {
    expect(byName('APIHighLatency')).toEqual({
      alert: 'APIHighLatency',
      expr: 'histogram_quantile(0.95, sum by (le) (rate(api_request_duration_seconds_bucket[5m]))) > 0.5',
      for: '5m',
      severity: 'warning',
    });
    expect(byName('DatabaseDown')).toEqual({ alert: 'DatabaseDown', expr: 'pg_up == 0', for: '1m', severity: 'critical' });
  });

  it('a warning and a critical rule for every threshold of the seed’s table', () => {
    const table: Array<[string, string, string]> = [
      ['cpu_usage_percent', '> 60', '> 80'],
      ['memory_usage_mb', '> 6144', '> 7680'],
      ['api_request_duration_seconds', '> 0.5', '> 1'],
      ['db_connections_active', '> 40', '> 50'],
      ['redis_connected_clients', '> 20', '> 30'],
      ['radius_auth_success_rate', '< 0.95', '< 0.90'],
    ];
    for (const [metric, warn, crit] of table) {
      const reading = rules.filter((r) => metricNames(r.expr).some((n) => n === metric || n === `${metric}_bucket`));
      expect(
        reading.find((r) => r.severity === 'warning' && r.expr.endsWith(warn)),
        `${metric} warning ${warn}`,
      ).toBeDefined();
      expect(
        reading.find((r) => r.severity === 'critical' && r.expr.endsWith(crit)),
        `${metric} critical ${crit}`,
      ).toBeDefined();
    }
  });

  it('rules for the flows’ own signals, under the metric names the flow plugins export', () => {
    const read = new Set(rules.flatMap((r) => metricNames(r.expr)));
    for (const metric of [
      'payments_total',
      'payment_webhooks_total',
      'sms_sent_total',
      'reconciliation_mismatches_total',
      'radius_coa_total',
      'incident_notifications_total',
    ]) {
      expect(read.has(metric), metric).toBe(true);
    }
  });

  it('every rule has a severity Alertmanager routes on (warning or critical)', () => {
    for (const rule of rules) expect(['warning', 'critical'], rule.alert).toContain(rule.severity);
  });
});

describe.skipIf(!BINARIES.amtool)(`Alertmanager file (amtool)${BINARIES.amtool ? '' : ` — skipped: ${MISSING_TOOLS_MESSAGE}`}`, () => {
  it('amtool check-config', () => {
    const r = run(BINARIES.amtool as string, ['check-config', ALERTMANAGER_CONFIG]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
  });

  it('routes critical and warning to RGZ’s receiver with a bearer token from a file, resolved alerts included', () => {
    const text = readFileSync(ALERTMANAGER_CONFIG, 'utf8');
    expect(text).toMatch(/matchers:\s*\n\s*- severity="critical"/);
    expect(text).toMatch(/matchers:\s*\n\s*- severity="warning"/);
    const urls = [...text.matchAll(/url: (\S+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(new URL(url as string).pathname).toBe('/hooks/alertmanager');
    expect([...text.matchAll(/send_resolved: true/g)].length).toBe(urls.length);
    expect([...text.matchAll(/type: Bearer\s*\n\s*credentials_file: \S+/g)].length).toBe(urls.length);
    expect(text).not.toMatch(/credentials: /);
  });
});

describe('the Grafana dashboard and provisioning', () => {
  let server: TestServer;
  let known: Set<string>;
  const dashboards = readdirSync(join(GRAFANA_DIR, 'dashboards')).filter((f) => f.endsWith('.json'));
  const dashboard = JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', 'rgz-overview.json'), 'utf8')) as {
    uid: string;
    panels: Array<{ id: number; type: string; title: string; datasource?: { uid: string }; gridPos: object; targets?: Array<{ expr: string; refId: string }> }>;
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  beforeAll(async () => {
    // The metric names a real server registers: core's, and those of the plugins loaded here.
    server = await startTestServer({
      plugins: [
        { plugin: notify, config: { channels: [{ id: 'chat', kind: 'webhook', url: 'http://127.0.0.1:9/hook' }] } },
        { plugin: incidents, config: { webhookToken: WEBHOOK_TOKEN } },
        // The network row reads the SNMP, SLA and DBA plugins' metrics: load them so their names are known.
        inventory,
        snmp,
        { plugin: sla, config: { portalHealth: false } },
        dba,
      ],
    });
    const registered = (await server.kernel.metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    known = new Set([...registered, ...rules.flatMap((r) => metricNames(r.expr)), 'up', 'ALERTS']);
  });
  afterAll(() => server?.close());

  it('is valid JSON with unique panel ids, a position for every panel, and the provisioned datasource', () => {
    expect(dashboards).toEqual(['rgz-overview.json']);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const provisioned = readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'rgz-prometheus.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(provisioned)?.[1];
    expect(uid).toBe('rgz-prometheus');
    for (const p of panels) {
      expect(p.gridPos, p.title).toBeDefined();
      expect(p.datasource?.uid, p.title).toBe(uid);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    const provider = readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'rgz.yml'), 'utf8');
    expect(provider).toMatch(/type: file/);
    expect(provider).toMatch(/path: \S+/);
  });

  it('every query reads only metrics that exist (in the rules’ vocabulary or in a running server)', () => {
    for (const { panel, expr } of exprs) {
      for (const name of metricNames(expr)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        expect(known.has(name) || known.has(base), `panel "${panel}": ${name} in ${expr}`).toBe(true);
      }
    }
  });

  it('has a panel for every metric of the seed and of the flows, network ones included', () => {
    const shown = new Set(exprs.flatMap((e) => metricNames(e.expr).map((n) => n.replace(/_bucket$/, ''))));
    for (const metric of [
      'cpu_usage_percent',
      'memory_usage_mb',
      'api_requests_total',
      'api_request_duration_seconds',
      'db_connections_active',
      'redis_connected_clients',
      'radius_auth_success_rate',
      'pg_up',
      'payments_total',
      'payment_webhooks_total',
      'sms_sent_total',
      'radius_coa_total',
      'reconciliation_mismatches_total',
      'incidents_open',
      'incident_notifications_total',
      'cpe_signal_dbm',
      'cpe_snr_db',
      'cpe_up',
      'cpe_devices',
      'cpe_rx_bps',
      'cpe_tx_bps',
      'snmp_polls_total',
      'snmp_poll_duration_seconds',
      'sla_uptime_ratio',
      'sla_probe_latency_seconds',
      'sla_probe_loss_ratio',
      'sla_probe_success',
      'dba_subscribers',
      'dba_congested_sites',
      'dba_rate_changes_total',
      'dba_runs_total',
      'dba_last_run_duration_seconds',
    ]) {
      expect(shown.has(metric), metric).toBe(true);
    }
  });
});
