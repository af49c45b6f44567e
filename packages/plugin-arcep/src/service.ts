/**
 * Producing, signing, logging and delivering the quarterly report.
 *
 * Produce: aggregate the period's `ReportInput` (sources.ts), let the configured `ReportExporter` render the files,
 * then sign: a PDF carrying the signature placeholder gets its signature inside; EVERY file gets a detached signature
 * of its SHA-256 (listed in the manifest); the manifest (JSON: period, operator, generation time, key id, every file's
 * name, type, size, SHA-256 and signature) is signed as a whole, its signature shipped next to it
 * (`…_manifest.json.sig`) and recorded in the append-only hash-chained report log. All of it is written in ONE
 * transaction with the delivery task (outbox). A period is produced once per exporter: asking again returns the
 * stored report unchanged.
 *
 * Deliver: to each configured target — an HTTPS multipart upload and/or a folder the operator sends from — every
 * attempt recorded in `arcep_deliveries`; a target that succeeded is not sent again when the task is retried.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type ChainEntry,
  chainEntryHash,
  GENESIS_HASH,
  type InventoryReader,
  type Kysely,
  type LedgerReader,
  type Logger,
  type ReportExporter,
  type ReportFile,
  type ReportPeriod,
  RgzError,
  SIGNATURE_SLOT_PLACEHOLDER,
  type SigningKey,
  sha256Hex,
  signDigest,
  signDocument,
  type TaskQueue,
  type TaskType,
  verifyChain,
} from '@rgz/core';
import type { ArcepConfig } from './config.js';
import type { ArcepDatabase } from './schema.js';
import { aggregate, inputToJson } from './sources.js';

export interface DeliverPayload {
  reportId: string;
}

export interface ManifestFile {
  name: string;
  content_type: string;
  bytes: number;
  sha256: string;
  signature: string;
  /** PDFs: the hash the signature embedded in the file covers. */
  embedded_content_sha256?: string;
}

export interface Manifest {
  format: 'rgz-arcep-manifest/v1';
  exporter: string;
  period: { kind: string; label: string; from: string; to: string; time_zone: string };
  operator: { legal_name: string; country: string; licence_number: string | null; tax_id: string | null };
  generated_at: string;
  key_id: string;
  signed_message: string;
  files: ManifestFile[];
}

export interface StoredReport {
  id: string;
  periodLabel: string;
  exporter: string;
  generatedAt: Date;
  manifestSha256: string;
  created: boolean;
}

export interface LogEntryView {
  seq: number;
  period_label: string;
  exporter: string;
  manifest_sha256: string;
  signature: string;
  key_id: string;
  generated_at: string;
  created_at: string;
  prev_hash: string;
  entry_hash: string;
}

const chainFields = (e: Omit<LogEntryView, 'prev_hash' | 'entry_hash'>) => ({
  seq: e.seq,
  period_label: e.period_label,
  exporter: e.exporter,
  manifest_sha256: e.manifest_sha256,
  signature: e.signature,
  key_id: e.key_id,
  generated_at: e.generated_at,
  created_at: e.created_at,
});

export function toChainEntries(entries: readonly LogEntryView[]): ChainEntry[] {
  return entries.map((e) => ({ seq: e.seq, prevHash: e.prev_hash, entryHash: e.entry_hash, fields: chainFields(e) }));
}

export const manifestName = (label: string) => `arcep-bj_${label.replace(/[^A-Za-z0-9._-]+/g, '-')}_manifest.json`;

export interface ServiceDeps {
  db: Kysely<ArcepDatabase>;
  config: ArcepConfig;
  ledger: LedgerReader;
  inventory(): InventoryReader | undefined;
  exporters(): ReadonlyMap<string, ReportExporter>;
  log: Logger;
  tasks: TaskQueue;
  deliverTask: TaskType<DeliverPayload>;
  key(): SigningKey;
  timeZone: string;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}

export class ArcepService {
  constructor(private readonly d: ServiceDeps) {}

  get timeZone(): string {
    return this.d.timeZone;
  }

  private async existing(exporter: string, label: string): Promise<StoredReport | null> {
    const row = await this.d.db
      .selectFrom('arcep_reports')
      .select(['id', 'period_label', 'exporter', 'generated_at', 'manifest_sha256'])
      .where('exporter', '=', exporter)
      .where('period_label', '=', label)
      .executeTakeFirst();
    return row
      ? {
          id: row.id,
          periodLabel: row.period_label,
          exporter: row.exporter,
          generatedAt: new Date(row.generated_at),
          manifestSha256: row.manifest_sha256,
          created: false,
        }
      : null;
  }

  /** The report of a period: produced now unless it exists. `generatedAt` is fixed for the whole run. */
  async produce(period: ReportPeriod, options: { generatedAt?: Date; actor?: string | null } = {}): Promise<StoredReport> {
    const exporterId = this.d.config.exporter;
    const found = await this.existing(exporterId, period.label);
    if (found) return found;
    const exporter = this.d.exporters().get(exporterId);
    if (!exporter) throw new RgzError('exporter_missing', `no ReportExporter "${exporterId}"; loaded: ${[...this.d.exporters().keys()].join(', ') || 'none'}`);
    if (!exporter.periodKinds.includes(period.kind)) throw new RgzError('period_unsupported', `exporter "${exporterId}" does not do ${period.kind} reports`);
    // Whole seconds: the timestamp printed, hashed and stored is the same everywhere.
    const generatedAt = new Date(Math.floor((options.generatedAt ?? new Date()).getTime() / 1000) * 1000);
    const { input, sources } = await aggregate(
      { db: this.d.db, ledger: this.d.ledger, inventory: this.d.inventory(), config: this.d.config },
      period,
      generatedAt,
    );
    const files = await exporter.export(input);
    const key = this.d.key();

    const signed = files.map((f) => this.signFile(f, key));
    const manifest: Manifest = {
      format: 'rgz-arcep-manifest/v1',
      exporter: exporterId,
      period: { kind: period.kind, label: period.label, from: period.from.toISOString(), to: period.to.toISOString(), time_zone: period.timeZone },
      operator: {
        legal_name: input.operator.legalName,
        country: input.operator.country,
        licence_number: input.operator.licenceNumber ?? null,
        tax_id: input.operator.taxId ?? null,
      },
      generated_at: generatedAt.toISOString(),
      key_id: key.keyId,
      signed_message: 'rgz-signed-document/v1 <sha256>',
      files: signed.map((s) => s.entry),
    };
    const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
    const manifestSha256 = sha256Hex(manifestBytes);
    const manifestSignature = signDigest(key, manifestSha256);
    const mName = manifestName(period.label);
    const all = [
      ...signed.map((s) => ({
        name: s.entry.name,
        contentType: s.entry.content_type,
        bytes: s.bytes,
        sha256: s.entry.sha256,
        signature: s.entry.signature,
        embedded: s.entry.embedded_content_sha256 ?? null,
      })),
      { name: mName, contentType: 'application/json', bytes: manifestBytes, sha256: manifestSha256, signature: manifestSignature, embedded: null },
      {
        name: `${mName}.sig`,
        contentType: 'text/plain; charset=utf-8',
        bytes: new TextEncoder().encode(`${manifestSignature}\n`),
        sha256: '',
        signature: '',
        embedded: null,
      },
    ];
    const sig = all[all.length - 1] as (typeof all)[number];
    sig.sha256 = sha256Hex(sig.bytes);
    sig.signature = signDigest(key, sig.sha256);

    try {
      return await this.d.db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('arcep_reports')
          .values({
            exporter: exporterId,
            period_kind: period.kind,
            period_label: period.label,
            period_start: period.from,
            period_end: period.to,
            time_zone: period.timeZone,
            generated_at: generatedAt,
            input: inputToJson(input),
            sources: JSON.stringify(sources),
            manifest_sha256: manifestSha256,
            manifest_signature: manifestSignature,
            key_id: key.keyId,
            created_by: options.actor ?? null,
          })
          .returning(['id'])
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('arcep_report_files')
          .values(
            all.map((f) => ({
              report_id: row.id,
              name: f.name,
              content_type: f.contentType,
              bytes: Buffer.from(f.bytes),
              sha256: f.sha256,
              signature: f.signature,
              embedded_content_sha256: f.embedded,
            })),
          )
          .execute();
        // The log's sequence: a counter row locked until commit (no gap, one writer at a time).
        await trx
          .insertInto('arcep_counters')
          .values({ name: 'log', value: 0 })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        const counter = await trx.selectFrom('arcep_counters').select('value').where('name', '=', 'log').forUpdate().executeTakeFirstOrThrow();
        const seq = Number(counter.value) + 1;
        await trx.updateTable('arcep_counters').set({ value: seq }).where('name', '=', 'log').execute();
        const prev =
          seq === 1
            ? GENESIS_HASH
            : (
                await trx
                  .selectFrom('arcep_report_log')
                  .select('entry_hash')
                  .where('seq', '=', seq - 1)
                  .executeTakeFirstOrThrow()
              ).entry_hash;
        const createdAt = new Date();
        const fields = chainFields({
          seq,
          period_label: period.label,
          exporter: exporterId,
          manifest_sha256: manifestSha256,
          signature: manifestSignature,
          key_id: key.keyId,
          generated_at: generatedAt.toISOString(),
          created_at: createdAt.toISOString(),
        });
        await trx
          .insertInto('arcep_report_log')
          .values({ ...fields, report_id: row.id, prev_hash: prev, entry_hash: chainEntryHash(prev, fields), created_at: createdAt })
          .execute();
        await this.d.tasks.enqueue(this.d.deliverTask, { reportId: row.id }, { trx, dedupeKey: `${this.d.deliverTask.name}:${row.id}` });
        this.d.log.info({ period: period.label, report_id: row.id, files: all.length, sources }, 'ARCEP report produced');
        return { id: row.id, periodLabel: period.label, exporter: exporterId, generatedAt, manifestSha256, created: true };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        const raced = await this.existing(exporterId, period.label);
        if (raced) return raced;
      }
      throw err;
    }
  }

  private signFile(f: ReportFile, key: SigningKey): { entry: ManifestFile; bytes: Uint8Array } {
    let bytes = f.bytes;
    let embedded: string | undefined;
    const placeholder = Buffer.from(bytes).includes(SIGNATURE_SLOT_PLACEHOLDER);
    if (placeholder) {
      const s = signDocument(bytes, key);
      bytes = s.bytes;
      embedded = s.contentSha256;
    }
    const sha256 = sha256Hex(bytes);
    return {
      bytes,
      entry: {
        name: f.name,
        content_type: f.contentType,
        bytes: bytes.length,
        sha256,
        signature: signDigest(key, sha256),
        ...(embedded ? { embedded_content_sha256: embedded } : {}),
      },
    };
  }

  async files(reportId: string) {
    return this.d.db.selectFrom('arcep_report_files').selectAll().where('report_id', '=', reportId).orderBy('name').execute();
  }

  /** Queue delivery again (after a failure, or to a target added since). */
  async redeliver(reportId: string): Promise<void> {
    await this.d.tasks.enqueue(this.d.deliverTask, { reportId }, { dedupeKey: `${this.d.deliverTask.name}:${reportId}:${Date.now()}` });
  }

  async deliver(reportId: string, signal?: AbortSignal): Promise<void> {
    const report = await this.d.db.selectFrom('arcep_reports').selectAll().where('id', '=', reportId).executeTakeFirst();
    if (!report) return;
    const files = await this.files(reportId);
    const done = new Set(
      (await this.d.db.selectFrom('arcep_deliveries').select('target').where('report_id', '=', reportId).where('status', '=', 'sent').execute()).map(
        (r) => r.target,
      ),
    );
    const errors: string[] = [];
    const record = (target: string, status: 'sent' | 'failed', httpStatus: number | null, detail: string | null) =>
      this.d.db
        .insertInto('arcep_deliveries')
        .values({ report_id: reportId, target, status, http_status: httpStatus, detail: detail?.slice(0, 2000) ?? null })
        .execute();

    const { folder, http } = this.d.config.delivery;
    if (folder) {
      const dir = join(resolve(folder), report.period_label.replace(/[^A-Za-z0-9._-]+/g, '-'));
      const target = `folder:${dir}`;
      if (!done.has(target)) {
        try {
          await writeFolder(dir, files);
          await record(target, 'sent', null, `${files.length} files in ${dir}`);
        } catch (err) {
          errors.push(`${target}: ${(err as Error).message}`);
          await record(target, 'failed', null, (err as Error).message);
        }
      }
    }
    if (http) {
      const target = `http:${http.url}`;
      if (!done.has(target)) {
        const form = new FormData();
        form.set('period', report.period_label);
        form.set('exporter', report.exporter);
        form.set('operator', this.d.config.operator.legalName);
        form.set('generated_at', new Date(report.generated_at).toISOString());
        form.set('manifest_sha256', report.manifest_sha256);
        form.set('signature', report.manifest_signature);
        form.set('key_id', report.key_id);
        for (const f of files) form.append(http.fileField, new Blob([Buffer.from(f.bytes)], { type: f.content_type }), f.name);
        const timeout = AbortSignal.timeout(http.timeoutMs);
        try {
          const res = await fetch(http.url, {
            method: 'POST',
            body: form,
            headers: { ...http.headers, 'idempotency-key': `rgz-arcep-${report.id}`, 'x-rgz-report': report.period_label },
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          });
          const text = (await res.text().catch(() => '')).slice(0, 500);
          if (res.ok) await record(target, 'sent', res.status, text || null);
          else {
            errors.push(`${target}: HTTP ${res.status}`);
            await record(target, 'failed', res.status, text || `HTTP ${res.status}`);
          }
        } catch (err) {
          const message =
            (err as Error).name === 'TimeoutError' ? `no answer within ${http.timeoutMs} ms (the upload may or may not have arrived)` : (err as Error).message;
          errors.push(`${target}: ${message}`);
          await record(target, 'failed', null, message);
        }
      }
    }
    if (errors.length) throw new Error(`ARCEP report ${report.period_label} not delivered everywhere: ${errors.join('; ')}`);
  }

  async logEntries(): Promise<LogEntryView[]> {
    const rows = await this.d.db.selectFrom('arcep_report_log').selectAll().orderBy('seq').execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      period_label: r.period_label,
      exporter: r.exporter,
      manifest_sha256: r.manifest_sha256,
      signature: r.signature,
      key_id: r.key_id,
      generated_at: r.generated_at,
      created_at: new Date(r.created_at).toISOString(),
      prev_hash: r.prev_hash,
      entry_hash: r.entry_hash,
    }));
  }

  async checkLog(): Promise<{ ok: boolean; message: string }> {
    const chain = verifyChain(toChainEntries(await this.logEntries()));
    return chain.ok
      ? { ok: true, message: `report log: ${chain.entries} entries, chain intact (head ${chain.head})` }
      : { ok: false, message: `report log: BROKEN at entry ${chain.seq}: ${chain.message}` };
  }
}

/** Write every file into `dir`, atomically as a whole (a temp folder renamed); an identical folder is left as is. */
async function writeFolder(dir: string, files: ReadonlyArray<{ name: string; bytes: Uint8Array }>): Promise<void> {
  const existing = await readdir(dir).catch(() => null);
  if (existing) {
    for (const f of files) {
      const have = await readFile(join(dir, f.name)).catch(() => null);
      if (!have?.equals(Buffer.from(f.bytes))) throw new Error(`${dir} exists with other content; not overwritten`);
    }
    return;
  }
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const f of files) await writeFile(join(tmp, f.name), Buffer.from(f.bytes));
  await rename(tmp, dir);
}
