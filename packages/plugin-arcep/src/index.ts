/**
 * @rgz/plugin-arcep — the `arcep` plugin (seed flow 10): the quarterly report to ARCEP Bénin. It contributes the
 * `arcep-bj` `ReportExporter` (CSV + PDF, reproducible) and, each quarter (10th of the following month, 07:00),
 * aggregates subscribers, per-access-point sessions, revenue (from the ledger, through core's `ledgerReader`) and
 * incidents, signs every file and a manifest with the operator's Ed25519 key, records the report in an append-only
 * hash-chained log, and delivers it to an HTTPS upload URL and/or a folder the operator sends from, recording every
 * attempt. What is and is not automated: docs/arcep.md.
 */
import { ConfigError, definePlugin, defineTask, inventoryReader, type Kysely, ledgerReader, loadConfiguredSigningKey, ReportExporters, type SigningKey } from '@rgz/core';
import { configSchema } from './config.js';
import { ArcepExporter } from './exporter.js';
import { parseQuarter, previousQuarter } from './period.js';
import { registerRoutes } from './routes.js';
import { type ArcepDatabase, arcepMigrations } from './schema.js';
import { ArcepService, type DeliverPayload } from './service.js';
import { runVerify } from './verify.js';

export { type ArcepConfig, configSchema } from './config.js';
export { ArcepExporter, decimalComma, incidentStats, isoInZone, toCsv } from './exporter.js';
export { parseQuarter, previousQuarter, quarterPeriod } from './period.js';
export { type ArcepDatabase, arcepMigrations } from './schema.js';
export { type LogEntryView, type Manifest, manifestName, toChainEntries } from './service.js';
export { aggregate, tableExists } from './sources.js';
export { verifyReportPath } from './verify.js';

export default definePlugin({
  name: 'arcep',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Quarterly ARCEP Bénin report (CSV + PDF), signed and timestamped, delivered to an upload target',
  config: configSchema,
  deps: { ledger: ledgerReader },
  provides: [ReportExporters],

  setup(ctx, { ledger }) {
    const { config } = ctx;
    const db = ctx.db as unknown as Kysely<ArcepDatabase>;
    const timeZone = config.schedule.timezone ?? ctx.server.timezone;
    let key: SigningKey | undefined;
    const signingKey = () => {
      if (!key) throw new ConfigError(`plugins.${ctx.name}.config.signing`, 'the signing key is not loaded yet (the plugin has not started)');
      return key;
    };
    const deliverTask = defineTask<DeliverPayload>(`${ctx.name}.deliver`);
    const service = new ArcepService({
      db,
      config,
      ledger,
      inventory: () => ctx.lookup(inventoryReader),
      exporters: () => ctx.collect(ReportExporters),
      log: ctx.log,
      tasks: ctx.tasks,
      deliverTask,
      key: signingKey,
      timeZone,
    });

    ctx.migrations(arcepMigrations);
    ctx.contribute(ReportExporters, new ArcepExporter(config.exporterId));
    ctx.tasks.handle(deliverTask, (p, task) => service.deliver(p.reportId, task.signal), {
      maxAttempts: config.delivery.maxAttempts,
      backoffSeconds: config.delivery.backoffSeconds,
      timeoutSeconds: Math.ceil((config.delivery.http?.timeoutMs ?? 60_000) / 1000) + 30,
    });
    if (config.schedule.enabled) {
      ctx.schedule({
        id: 'quarterly-report',
        cron: config.schedule.cron,
        timezone: timeZone,
        scope: 'global',
        missed: 'run-once',
        timeoutSeconds: 1800,
        description: 'Produce and deliver the previous quarter’s ARCEP report (seed flow 10)',
        run: async (job) => {
          const out = await service.produce(previousQuarter(job.scheduledFor, timeZone));
          return { period: out.periodLabel, report_id: out.id, created: out.created };
        },
      });
    }
    registerRoutes(ctx.router(), { service, key: signingKey, basePath: `/api/${ctx.name}` });

    ctx.command({
      name: 'arcep',
      summary: 'ARCEP report: produce a quarter, verify delivered files offline, check the report log',
      usage: `Usage: rgz arcep <run|verify|check> …
  run --quarter YYYY-Tn               produce (or show) the report of a quarter and queue its delivery
  verify FOLDER|FILE.pdf [--public-key KEY.pem] [--log LOG.json]
                                      check a delivered report's signatures offline
  check                               verify the stored report log's hash chain`,
      async run(argv, io) {
        const [sub, ...rest] = argv;
        if (sub === 'verify') return runVerify(rest, io, () => key);
        if (sub === 'run') {
          const q = rest[rest.indexOf('--quarter') + 1];
          if (!rest.includes('--quarter') || !q) {
            io.err('usage: rgz arcep run --quarter YYYY-Tn');
            return 2;
          }
          const out = await service.produce(parseQuarter(q, timeZone));
          io.out(`${out.created ? 'produced' : 'already produced'} ${out.periodLabel} (report ${out.id}, manifest SHA-256 ${out.manifestSha256})`);
          for (const f of await service.files(out.id)) io.out(`  ${f.name}  ${f.sha256}`);
          return 0;
        }
        if (sub === 'check') {
          const c = await service.checkLog();
          io.out(c.message);
          return c.ok ? 0 : 1;
        }
        io.err('usage: rgz arcep <run|verify|check> …');
        return 2;
      },
    });

    ctx.onStart(() => {
      key = loadConfiguredSigningKey(config.signing, `plugins.${ctx.name}.config.signing`);
      const exporters = ctx.collect(ReportExporters);
      if (!exporters.has(config.exporter)) {
        throw new ConfigError(
          `plugins.${ctx.name}.config.exporter`,
          `no ReportExporter "${config.exporter}"; loaded: ${[...exporters.keys()].join(', ') || 'none'}`,
        );
      }
      if (!config.delivery.http && !config.delivery.folder) ctx.log.warn('delivery has neither http nor folder: reports are produced and kept, not delivered');
    });
  },
});
