/**
 * Issuing invoices and credit notes. Each document is written in ONE transaction: the number is taken from a counter
 * row locked FOR UPDATE (gap-free per prefix and year of issue: a failure rolls the counter back with the document),
 * the PDF is rendered and signed, the invoice row inserted, the log entry appended (its own counter row locked too,
 * chained to the previous entry), and the delivery task queued (outbox). Re-running a month changes nothing: an
 * invoice already issued for (reseller, month) is returned as it is.
 */
import {
  type ChainEntry,
  chainEntryHash,
  GENESIS_HASH,
  type Kysely,
  type LedgerReader,
  type Logger,
  RgzError,
  type SigningKey,
  signDocument,
  sql,
  type TaskQueue,
  type TaskType,
  type Transaction,
  verifyChain,
} from '@rgz/core';
import { renderPdf } from '@rgz/pdf-documents';
import type { Language, ReportsConfig } from './config.js';
import { buildInvoiceDefinition, type DocumentReseller } from './invoice-pdf.js';
import { localYearMonth, type MonthPeriod, monthPeriod } from './period.js';
import type { DocumentKind, ReportsDatabase, StoredFigures } from './schema.js';

export interface DeliverPayload {
  invoiceId: string;
}

export interface InvoiceServiceDeps {
  db: Kysely<ReportsDatabase>;
  config: ReportsConfig;
  ledger: LedgerReader;
  log: Logger;
  tasks: TaskQueue;
  deliverTask: TaskType<DeliverPayload>;
  timeZone: string;
  /** The operator's key, loaded at start. */
  key(): SigningKey;
}

export interface IssuedDocument {
  id: string;
  kind: DocumentKind;
  number: string;
  resellerId: string;
  periodLabel: string;
  revision: number;
  pdfSha256: string;
  signature: string;
  issuedAt: Date;
}

export interface MonthRun {
  period: string;
  created: IssuedDocument[];
  existing: IssuedDocument[];
  failed: Array<{ resellerId: string; error: string }>;
}

/** The log's own fields, in the form the entry hash covers. */
export interface LogEntryView {
  seq: number;
  kind: DocumentKind;
  number: string;
  pdf_sha256: string;
  content_sha256: string;
  signature: string;
  key_id: string;
  created_at: string;
  prev_hash: string;
  entry_hash: string;
}

export function chainFieldsOf(e: Omit<LogEntryView, 'prev_hash' | 'entry_hash'>) {
  return {
    seq: e.seq,
    kind: e.kind,
    number: e.number,
    pdf_sha256: e.pdf_sha256,
    content_sha256: e.content_sha256,
    signature: e.signature,
    key_id: e.key_id,
    created_at: e.created_at,
  };
}

export function toChainEntries(entries: readonly LogEntryView[]): ChainEntry[] {
  return entries.map((e) => ({ seq: e.seq, prevHash: e.prev_hash, entryHash: e.entry_hash, fields: chainFieldsOf(e) }));
}

const LOG_COUNTER = '__log__';

type Trx = Transaction<ReportsDatabase>;

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}

function view(row: {
  id: string;
  kind: DocumentKind;
  number: string;
  reseller_id: string;
  period_label: string;
  revision: number;
  pdf_sha256: string;
  signature: string;
  issued_at: Date;
}): IssuedDocument {
  return {
    id: row.id,
    kind: row.kind,
    number: row.number,
    resellerId: row.reseller_id,
    periodLabel: row.period_label,
    revision: row.revision,
    pdfSha256: row.pdf_sha256,
    signature: row.signature,
    issuedAt: new Date(row.issued_at),
  };
}

export class InvoiceService {
  constructor(private readonly d: InvoiceServiceDeps) {}

  /** The zone of month boundaries and dates. */
  get timeZone(): string {
    return this.d.timeZone;
  }

  /** Invoices for every reseller with postings in the month or a balance at its end (or just one reseller). */
  async generateMonth(period: MonthPeriod, options: { resellerId?: string; actor?: string | null; signal?: AbortSignal } = {}): Promise<MonthRun> {
    const ids = options.resellerId ? [options.resellerId] : await this.d.ledger.resellersToInvoice(period.from, period.to);
    const run: MonthRun = { period: period.label, created: [], existing: [], failed: [] };
    for (const resellerId of ids) {
      if (options.signal?.aborted) throw new RgzError('aborted', `stopped after ${run.created.length} invoices of ${period.label}`);
      try {
        const out = await this.issueInvoice(resellerId, period, { actor: options.actor ?? null });
        (out.status === 'created' ? run.created : run.existing).push(out.document);
      } catch (err) {
        // One reseller's problem (a missing row, an inconsistent ledger) must not stop the others; the job reports it.
        this.d.log.error({ err, reseller_id: resellerId, period: period.label }, 'invoice not issued');
        run.failed.push({ resellerId, error: (err as Error).message });
      }
    }
    this.d.log.info({ period: period.label, created: run.created.length, existing: run.existing.length, failed: run.failed.length }, 'monthly invoices');
    return run;
  }

  private async reseller(resellerId: string) {
    const r = await this.d.db
      .selectFrom('resellers as r')
      .leftJoin('reports_reseller_prefs as p', 'p.reseller_id', 'r.id')
      .select(['r.id', 'r.name', 'r.slug', 'r.phone', 'r.email', 'r.fee_percent', 'r.share_percent', 'p.language'])
      .where('r.id', '=', resellerId)
      .executeTakeFirst();
    if (!r) throw new RgzError('reseller_not_found', `no reseller ${resellerId}`, { status: 404 });
    const reseller: DocumentReseller = { id: r.id, name: r.name, slug: r.slug, phone: r.phone, email: r.email };
    return { reseller, language: (r.language ?? this.d.config.language) as Language, feePercent: String(r.fee_percent), sharePercent: String(r.share_percent) };
  }

  /** The invoice of (reseller, month); issued now unless it exists. `revision` > 0: a re-issue after a credit note. */
  async issueInvoice(
    resellerId: string,
    period: MonthPeriod,
    options: { revision?: number; actor?: string | null } = {},
  ): Promise<{ status: 'created' | 'exists'; document: IssuedDocument }> {
    const revision = options.revision ?? 0;
    const existing = () =>
      this.d.db
        .selectFrom('reports_invoices')
        .select(['id', 'kind', 'number', 'reseller_id', 'period_label', 'revision', 'pdf_sha256', 'signature', 'issued_at'])
        .where('kind', '=', 'invoice')
        .where('reseller_id', '=', resellerId)
        .where('period_start', '=', period.from)
        .where('revision', options.revision === undefined ? '>=' : '=', revision)
        .orderBy('revision', 'desc')
        .executeTakeFirst();
    const found = await existing();
    if (found) return { status: 'exists', document: view(found) };

    const { reseller, language, feePercent, sharePercent } = await this.reseller(resellerId);
    const st = await this.d.ledger.resellerStatement(resellerId, period.from, period.to);
    const t = st.totals;
    const movements = t.resellerFee + t.resellerShare + t.settlement;
    if (st.openingBalance + movements !== st.closingBalance) {
      throw new RgzError(
        'ledger_inconsistent',
        `reseller ${resellerId} ${period.label}: opening ${st.openingBalance} + movements ${movements} ≠ closing ${st.closingBalance}`,
      );
    }
    const figures: StoredFigures = {
      payments: t.payments,
      refunds: t.refunds,
      countsByKind: { ...t.countsByKind },
      gross: t.gross.toString(),
      providerFee: t.providerFee.toString(),
      resellerFee: t.resellerFee.toString(),
      resellerShare: t.resellerShare.toString(),
      rgzShare: t.rgzShare.toString(),
      settlement: t.settlement.toString(),
      openingBalance: st.openingBalance.toString(),
      closingBalance: st.closingBalance.toString(),
      feePercent,
      sharePercent,
    };
    try {
      const document = await this.d.db.transaction().execute(async (trx) => {
        const issuedAt = new Date();
        const number = await this.nextNumber(trx, this.d.config.numbering.prefix, localYearMonth(issuedAt, this.d.timeZone).year);
        const key = this.d.key();
        const bytes = await renderPdf(
          buildInvoiceDefinition({
            kind: 'invoice',
            number,
            issuedAt,
            language,
            timeZone: this.d.timeZone,
            period,
            operator: this.d.config.operator,
            reseller,
            figures,
            postings: st.postings,
            keyId: key.keyId,
          }),
        );
        return this.store(trx, {
          kind: 'invoice',
          number,
          resellerId,
          period,
          revision,
          originalId: null,
          reason: null,
          language,
          figures,
          bytes,
          issuedAt,
          actor: options.actor ?? null,
        });
      });
      return { status: 'created', document };
    } catch (err) {
      if (isUniqueViolation(err)) {
        const raced = await existing();
        if (raced) return { status: 'exists', document: view(raced) };
      }
      throw err;
    }
  }

  /** Cancel an invoice with a credit note (a new numbered document); optionally issue the month again from the ledger. */
  async creditNote(
    invoiceId: string,
    input: { reason: string; reissue?: boolean; actor?: string | null },
  ): Promise<{ creditNote: IssuedDocument; reissued: IssuedDocument | null }> {
    const original = await this.d.db.selectFrom('reports_invoices').selectAll().where('id', '=', invoiceId).executeTakeFirst();
    if (!original) throw new RgzError('invoice_not_found', `no invoice ${invoiceId}`, { status: 404 });
    if (original.kind !== 'invoice') throw new RgzError('not_an_invoice', `${original.number} is a credit note; it cannot be credited`, { status: 409 });
    const already = await this.d.db.selectFrom('reports_invoices').select('number').where('original_id', '=', invoiceId).executeTakeFirst();
    if (already) throw new RgzError('already_credited', `${original.number} was already cancelled by credit note ${already.number}`, { status: 409 });
    const { reseller } = await this.reseller(original.reseller_id);
    const start = new Date(original.period_start);
    const { year, month } = localYearMonth(start, this.d.timeZone);
    const period = monthPeriod(year, month, this.d.timeZone);
    const figures = (typeof original.figures === 'string' ? JSON.parse(original.figures) : original.figures) as StoredFigures;
    let creditNote: IssuedDocument;
    try {
      creditNote = await this.d.db.transaction().execute(async (trx) => {
        const issuedAt = new Date();
        const number = await this.nextNumber(trx, this.d.config.numbering.creditNotePrefix, localYearMonth(issuedAt, this.d.timeZone).year);
        const key = this.d.key();
        const bytes = await renderPdf(
          buildInvoiceDefinition({
            kind: 'credit_note',
            number,
            issuedAt,
            language: original.language,
            timeZone: this.d.timeZone,
            period,
            operator: this.d.config.operator,
            reseller,
            figures,
            postings: [],
            original: { number: original.number, issuedAt: new Date(original.issued_at) },
            reason: input.reason,
            keyId: key.keyId,
          }),
        );
        return this.store(trx, {
          kind: 'credit_note',
          number,
          resellerId: original.reseller_id,
          period,
          revision: original.revision,
          originalId: original.id,
          reason: input.reason,
          language: original.language,
          figures,
          bytes,
          issuedAt,
          actor: input.actor ?? null,
        });
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new RgzError('already_credited', `${original.number} was already cancelled by a credit note`, { status: 409 });
      throw err;
    }
    const reissued = input.reissue
      ? (await this.issueInvoice(original.reseller_id, period, { revision: original.revision + 1, actor: input.actor ?? null })).document
      : null;
    return { creditNote, reissued };
  }

  private async nextNumber(trx: Trx, prefix: string, year: number): Promise<string> {
    const value = await this.bump(trx, prefix, year);
    return `${prefix}-${year}-${String(value).padStart(6, '0')}`;
  }

  /** Next value of a counter row, locked until the transaction ends (inserted at 0 the first time). */
  private async bump(trx: Trx, name: string, year: number): Promise<number> {
    await trx
      .insertInto('reports_counters')
      .values({ name, year, value: 0 })
      .onConflict((oc) => oc.columns(['name', 'year']).doNothing())
      .execute();
    const row = await trx
      .selectFrom('reports_counters')
      .select('value')
      .where('name', '=', name)
      .where('year', '=', year)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const next = Number(row.value) + 1;
    await trx.updateTable('reports_counters').set({ value: next }).where('name', '=', name).where('year', '=', year).execute();
    return next;
  }

  private async store(
    trx: Trx,
    doc: {
      kind: DocumentKind;
      number: string;
      resellerId: string;
      period: MonthPeriod;
      revision: number;
      originalId: string | null;
      reason: string | null;
      language: Language;
      figures: StoredFigures;
      bytes: Uint8Array;
      issuedAt: Date;
      actor: string | null;
    },
  ): Promise<IssuedDocument> {
    const key = this.d.key();
    const signed = signDocument(doc.bytes, key);
    const sign = doc.kind === 'credit_note' ? -1n : 1n;
    const row = await trx
      .insertInto('reports_invoices')
      .values({
        kind: doc.kind,
        number: doc.number,
        reseller_id: doc.resellerId,
        period_start: doc.period.from,
        period_end: doc.period.to,
        period_label: doc.period.label,
        revision: doc.revision,
        original_id: doc.originalId,
        reason: doc.reason,
        language: doc.language,
        gross_fcfa: (BigInt(doc.figures.gross) * sign).toString(),
        closing_balance_fcfa: BigInt(doc.figures.closingBalance).toString(),
        figures: JSON.stringify(doc.figures),
        pdf: Buffer.from(signed.bytes),
        pdf_sha256: signed.sha256,
        content_sha256: signed.contentSha256,
        signature: signed.signature,
        key_id: signed.keyId,
        issued_at: doc.issuedAt,
        created_by: doc.actor,
      })
      .returning(['id', 'kind', 'number', 'reseller_id', 'period_label', 'revision', 'pdf_sha256', 'signature', 'issued_at'])
      .executeTakeFirstOrThrow();
    await this.appendLog(trx, { kind: doc.kind, invoiceId: row.id, number: doc.number, ...signed });
    await this.d.tasks.enqueue(this.d.deliverTask, { invoiceId: row.id }, { trx, dedupeKey: `${this.d.deliverTask.name}:${row.id}` });
    return view(row);
  }

  private async appendLog(
    trx: Trx,
    e: { kind: DocumentKind; invoiceId: string; number: string; sha256: string; contentSha256: string; signature: string; keyId: string },
  ): Promise<void> {
    const seq = await this.bump(trx, LOG_COUNTER, 0);
    const prev =
      seq === 1
        ? GENESIS_HASH
        : (
            await trx
              .selectFrom('reports_invoice_log')
              .select('entry_hash')
              .where('seq', '=', seq - 1)
              .executeTakeFirstOrThrow()
          ).entry_hash;
    // Millisecond precision, so the stored timestamp is exactly the one hashed.
    const createdAt = new Date();
    const fields = chainFieldsOf({
      seq,
      kind: e.kind,
      number: e.number,
      pdf_sha256: e.sha256,
      content_sha256: e.contentSha256,
      signature: e.signature,
      key_id: e.keyId,
      created_at: createdAt.toISOString(),
    });
    await trx
      .insertInto('reports_invoice_log')
      .values({
        seq,
        kind: e.kind,
        invoice_id: e.invoiceId,
        number: e.number,
        pdf_sha256: e.sha256,
        content_sha256: e.contentSha256,
        signature: e.signature,
        key_id: e.keyId,
        prev_hash: prev,
        entry_hash: chainEntryHash(prev, fields),
        created_at: createdAt,
      })
      .execute();
  }

  /** The whole log, oldest first, as published at `GET /api/reports/invoice-log`. */
  async logEntries(): Promise<LogEntryView[]> {
    const rows = await this.d.db.selectFrom('reports_invoice_log').selectAll().orderBy('seq').execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: r.kind,
      number: r.number,
      pdf_sha256: r.pdf_sha256,
      content_sha256: r.content_sha256,
      signature: r.signature,
      key_id: r.key_id,
      created_at: new Date(r.created_at).toISOString(),
      prev_hash: r.prev_hash,
      entry_hash: r.entry_hash,
    }));
  }

  /** The stored chain, and every stored PDF against its log entry. */
  async checkStored(): Promise<{ ok: boolean; messages: string[] }> {
    const entries = await this.logEntries();
    const chain = verifyChain(toChainEntries(entries));
    const messages: string[] = [
      chain.ok ? `log: ${chain.entries} entries, chain intact (head ${chain.head})` : `log: BROKEN at entry ${chain.seq}: ${chain.message}`,
    ];
    let ok = chain.ok;
    const mismatched = await sql<{ number: string }>`
      select i.number from reports_invoices i left join reports_invoice_log l on l.invoice_id = i.id
      where l.seq is null or l.pdf_sha256 <> encode(sha256(i.pdf), 'hex') or l.pdf_sha256 <> i.pdf_sha256 order by i.number`.execute(this.d.db);
    for (const m of mismatched.rows) {
      ok = false;
      messages.push(`invoice ${m.number}: the stored PDF does not match its log entry`);
    }
    if (mismatched.rows.length === 0) messages.push('every stored PDF matches its log entry');
    return { ok, messages };
  }
}
