/**
 * @rgz/plugin-reports — the `reports` plugin (seed flow 9): on the 5th of each month, for the previous month, one
 * invoice per reseller built from the ledger alone (through core's `ledgerReader`): payments, gross, provider fees,
 * reseller fee, the split and the balance due either way, as a French (or English) PDF with the operator's legal
 * details. Each document gets a gap-free number, is signed with the operator's Ed25519 key (signature inside the PDF),
 * recorded in an append-only hash-chained log, archived and e-mailed. Corrections are credit notes. Resellers list and
 * download their own documents; anyone with the public key verifies a PDF offline (`rgz invoices verify`).
 * See README.md and docs/reports.md.
 */
import { BackupTargets, ConfigError, definePlugin, defineTask, ledgerReader, loadConfiguredSigningKey, type SigningKey } from '@rgz/core';
import { configSchema } from './config.js';
import { DeliveryService } from './delivery.js';
import { type DeliverPayload, InvoiceService } from './invoices.js';
import { parseMonth, previousMonth } from './period.js';
import { registerRoutes } from './routes.js';
import { type ReportsDatabase, reportsMigrations } from './schema.js';
import { runVerify, VERIFY_USAGE } from './verify.js';

export { readDocumentNumber, renderPdf } from '@rgz/pdf-documents';
export { configSchema, LANGUAGES, type Language, type OperatorDetails, type ReportsConfig } from './config.js';
export { balanceSentence, formatDate, formatFcfa, formatMonth, groupThousands, LABELS } from './format.js';
export { buildInvoiceDefinition, type InvoicePdfInput } from './invoice-pdf.js';
export { chainFieldsOf, type IssuedDocument, type LogEntryView, type MonthRun, toChainEntries } from './invoices.js';
export { type MonthPeriod, monthPeriod, parseMonth, previousMonth, zonedMidnight } from './period.js';
export { type ReportsDatabase, reportsMigrations, type StoredFigures } from './schema.js';
export { loadLog, parseVerifyArgs, runVerify, type VerifyResult, verifyInvoiceBytes } from './verify.js';

export default definePlugin({
  name: 'reports',
  version: '0.1.0',
  core: '^0.1.0',
  description: 'Monthly reseller invoices: PDF, gap-free numbers, hash-chained signed log, e-mail and archive',
  config: configSchema,
  deps: { ledger: ledgerReader },

  setup(ctx, { ledger }) {
    const { config } = ctx;
    const db = ctx.db as unknown as import('@rgz/core').Kysely<ReportsDatabase>;
    const timeZone = config.schedule.timezone ?? ctx.server.timezone;
    let key: SigningKey | undefined;
    const signingKey = () => {
      if (!key) throw new ConfigError(`plugins.${ctx.name}.config.signing`, 'the signing key is not loaded yet (the plugin has not started)');
      return key;
    };
    const deliverTask = defineTask<DeliverPayload>(`${ctx.name}.deliver`);
    const service = new InvoiceService({ db, config, ledger, log: ctx.log, tasks: ctx.tasks, deliverTask, timeZone, key: signingKey });
    const basePath = `/api/${ctx.name}`;
    const delivery = new DeliveryService({
      db,
      config,
      log: ctx.log,
      timeZone,
      targets: () => ctx.collect(BackupTargets),
      publicKeyUrl: `${ctx.server.publicUrl.replace(/\/+$/, '')}${basePath}/public-key`,
    });

    ctx.migrations(reportsMigrations);
    ctx.resellerOwned({ table: 'reports_invoices' });
    ctx.tasks.handle(deliverTask, (p) => delivery.deliver(p.invoiceId), {
      maxAttempts: config.delivery.maxAttempts,
      backoffSeconds: config.delivery.backoffSeconds,
      timeoutSeconds: 120,
    });

    if (config.schedule.enabled) {
      ctx.schedule({
        id: 'monthly-invoices',
        cron: config.schedule.cron,
        timezone: timeZone,
        scope: 'global',
        missed: 'run-once',
        timeoutSeconds: 3600,
        description: "Issue the previous month's reseller invoices (seed flow 9)",
        run: async (job) => {
          const run = await service.generateMonth(previousMonth(job.scheduledFor, timeZone), { signal: job.signal });
          if (run.failed.length)
            throw new Error(`${run.failed.length} invoice(s) of ${run.period} not issued: ${run.failed.map((f) => `${f.resellerId}: ${f.error}`).join('; ')}`);
          return { period: run.period, created: run.created.length, existing: run.existing.length };
        },
      });
    }

    registerRoutes(ctx.router(), { service, key: signingKey, basePath });

    ctx.command({
      name: 'invoices',
      summary: 'Reseller invoices: verify a PDF offline, issue a month, check the stored log',
      usage: `Usage: rgz invoices <verify|run|check> …

  verify FILE.pdf [--public-key KEY.pem] [--log URL|FILE.json] [--token T]
      check a document's signature and (with --log) its entry in the hash-chained log
  run --month YYYY-MM [--reseller ID]
      issue the invoices of a month now (already issued ones are left as they are)
  check
      verify the stored log's chain and every stored PDF against its entry

${VERIFY_USAGE}`,
      async run(argv, io) {
        const [sub, ...rest] = argv;
        if (sub === 'verify') return runVerify(rest, io, () => key);
        if (sub === 'run') {
          const month = rest[rest.indexOf('--month') + 1];
          const reseller = rest.includes('--reseller') ? rest[rest.indexOf('--reseller') + 1] : undefined;
          if (!rest.includes('--month') || !month) {
            io.err('usage: rgz invoices run --month YYYY-MM [--reseller ID]');
            return 2;
          }
          const run = await service.generateMonth(parseMonth(month, timeZone), { ...(reseller ? { resellerId: reseller } : {}) });
          for (const d of run.created) io.out(`issued   ${d.number}  reseller ${d.resellerId}  sha256 ${d.pdfSha256}`);
          for (const d of run.existing) io.out(`existing ${d.number}  reseller ${d.resellerId}`);
          for (const f of run.failed) io.err(`FAILED   reseller ${f.resellerId}: ${f.error}`);
          io.out(`${run.period}: ${run.created.length} issued, ${run.existing.length} already issued, ${run.failed.length} failed`);
          return run.failed.length ? 1 : 0;
        }
        if (sub === 'check') {
          const out = await service.checkStored();
          for (const m of out.messages) io.out(m);
          return out.ok ? 0 : 1;
        }
        io.err('usage: rgz invoices <verify|run|check> … (rgz invoices --help)');
        return 2;
      },
    });

    ctx.onStart(() => {
      key = loadConfiguredSigningKey(config.signing, `plugins.${ctx.name}.config.signing`);
      const targets = ctx.collect(BackupTargets);
      config.archive.targets.forEach((id, i) => {
        if (!targets.has(id))
          throw new ConfigError(
            `plugins.${ctx.name}.config.archive.targets.${i}`,
            `no BackupTarget "${id}"; loaded: ${[...targets.keys()].join(', ') || 'none'}`,
          );
      });
      if (!config.smtp) ctx.log.warn('smtp is not configured: invoices are archived but not e-mailed');
      ctx.log.info({ key_id: key.keyId }, 'invoice signing key loaded');
    });
    ctx.onStop(() => delivery.close());
  },
});
