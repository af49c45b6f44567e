/**
 * Delivering an issued document: archived (a local folder, and any configured `BackupTarget`) and e-mailed to the
 * reseller with the PDF attached. One task per document (`reports.deliver`, queued in the transaction that issued it);
 * every attempt is a row in `reports_deliveries`; a destination already `sent` (or `skipped`) is not done again when
 * the task is retried, so only what failed is retried. SMTP delivery is at-least-once: a connection lost after the
 * server took the message may send it twice (the reseller receives a duplicate, never a different document).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BackupTarget, Kysely, Logger } from '@rgz/core';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Language, ReportsConfig } from './config.js';
import { balanceSentence, formatMonth, LABELS } from './format.js';
import { localYearMonth } from './period.js';
import type { ReportsDatabase, StoredFigures } from './schema.js';

export interface DeliveryDeps {
  db: Kysely<ReportsDatabase>;
  config: ReportsConfig;
  log: Logger;
  timeZone: string;
  targets(): ReadonlyMap<string, BackupTarget>;
  /** Where the public key is published (named in the e-mail). */
  publicKeyUrl: string;
}

export class DeliveryService {
  private transport: Transporter | undefined;

  constructor(private readonly d: DeliveryDeps) {}

  private mailer(): Transporter | null {
    const smtp = this.d.config.smtp;
    if (!smtp) return null;
    this.transport ??= nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTls,
      ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.pass } } : {}),
      connectionTimeout: smtp.timeoutMs,
      greetingTimeout: smtp.timeoutMs,
      socketTimeout: smtp.timeoutMs,
      tls: { rejectUnauthorized: smtp.rejectUnauthorized },
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    return this.transport;
  }

  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  private async record(
    invoiceId: string,
    channel: 'email' | 'archive',
    target: string,
    status: 'sent' | 'failed' | 'skipped',
    detail: string | null,
    messageId: string | null = null,
  ) {
    await this.d.db.insertInto('reports_deliveries').values({ invoice_id: invoiceId, channel, target, status, detail, message_id: messageId }).execute();
  }

  /** Archive and e-mail one document; throws (so the task is retried) when a destination failed. */
  async deliver(invoiceId: string): Promise<void> {
    const inv = await this.d.db
      .selectFrom('reports_invoices as i')
      .innerJoin('resellers as r', 'r.id', 'i.reseller_id')
      .leftJoin('reports_invoices as o', 'o.id', 'i.original_id')
      .select([
        'i.id',
        'i.kind',
        'i.number',
        'i.pdf',
        'i.pdf_sha256',
        'i.signature',
        'i.key_id',
        'i.language',
        'i.period_start',
        'i.issued_at',
        'i.figures',
        'r.name as reseller_name',
        'r.email as reseller_email',
        'o.number as original_number',
      ])
      .where('i.id', '=', invoiceId)
      .executeTakeFirst();
    if (!inv) {
      this.d.log.warn({ invoice_id: invoiceId }, 'delivery of an unknown invoice: nothing to do');
      return;
    }
    const done = new Set(
      (
        await this.d.db
          .selectFrom('reports_deliveries')
          .select(['channel', 'target'])
          .where('invoice_id', '=', invoiceId)
          .where('status', 'in', ['sent', 'skipped'])
          .execute()
      ).map((r) => `${r.channel}|${r.target}`),
    );
    const pdf = Buffer.from(inv.pdf);
    const year = localYearMonth(new Date(inv.issued_at), this.d.timeZone).year;
    const fileName = `${inv.number}.pdf`;
    const errors: string[] = [];
    const attempt = async (
      channel: 'email' | 'archive',
      target: string,
      fn: () => Promise<{ detail?: string | null; messageId?: string | null; skipped?: boolean }>,
    ) => {
      if (done.has(`${channel}|${target}`)) return;
      try {
        const out = await fn();
        await this.record(invoiceId, channel, target, out.skipped ? 'skipped' : 'sent', out.detail ?? null, out.messageId ?? null);
      } catch (err) {
        const message = (err as Error).message;
        errors.push(`${target}: ${message}`);
        await this.record(invoiceId, channel, target, 'failed', message.slice(0, 1000));
      }
    };

    const { folder, targets, keyPrefix } = this.d.config.archive;
    if (folder) {
      const dir = resolve(folder);
      await attempt('archive', `folder:${dir}`, async () => {
        const path = join(dir, String(year), fileName);
        const existing = await readFile(path).catch(() => null);
        if (existing?.equals(pdf)) return { detail: path };
        if (existing) throw new Error(`${path} exists with other content; not overwritten`);
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, pdf, { flag: 'w' });
        await rename(tmp, path);
        return { detail: path };
      });
    }
    for (const id of targets) {
      await attempt('archive', `target:${id}`, async () => {
        const target = this.d.targets().get(id);
        if (!target) throw new Error(`no BackupTarget "${id}" is loaded`);
        const key = `${keyPrefix}/${year}/${fileName}`;
        await target.put(key, pdf, {
          sizeBytes: pdf.length,
          metadata: { 'content-type': 'application/pdf', sha256: inv.pdf_sha256, 'rgz-signature': inv.signature, 'rgz-key-id': inv.key_id },
        });
        return { detail: key };
      });
    }

    const mailer = this.mailer();
    const to = inv.reseller_email;
    const target = mailer && to ? `smtp:${to}` : 'smtp';
    await attempt('email', target, async () => {
      if (!mailer || !this.d.config.smtp) return { skipped: true, detail: 'smtp is not configured' };
      if (!to) return { skipped: true, detail: 'the reseller has no e-mail address' };
      const language = inv.language as Language;
      const l = LABELS[language];
      const { year: py, month: pm } = localYearMonth(new Date(inv.period_start), this.d.timeZone);
      const month = formatMonth(py, pm, language);
      const figures = (typeof inv.figures === 'string' ? JSON.parse(inv.figures) : inv.figures) as StoredFigures;
      const subject = inv.kind === 'credit_note' ? l.mailSubjectCreditNote(inv.number, inv.original_number ?? '') : l.mailSubject(inv.number, month);
      const text = l.mailBody({
        name: inv.reseller_name,
        number: inv.number,
        month,
        balanceLine: inv.kind === 'invoice' ? balanceSentence(BigInt(figures.closingBalance), language) : l.creditNoteEffect,
        operator: `${this.d.config.operator.name} — ${this.d.config.operator.email} — ${this.d.config.operator.phone}`,
        keyUrl: this.d.publicKeyUrl,
      });
      const info = await mailer.sendMail({
        from: this.d.config.smtp.from,
        to,
        ...(this.d.config.smtp.bcc ? { bcc: this.d.config.smtp.bcc } : {}),
        subject,
        text,
        attachments: [{ filename: fileName, content: pdf, contentType: 'application/pdf' }],
        headers: { 'X-RGZ-Document': inv.number, 'X-RGZ-SHA256': inv.pdf_sha256 },
      });
      return { messageId: info.messageId ?? null, detail: info.response ?? null };
    });

    if (errors.length) throw new Error(`delivery of ${inv.number} incomplete: ${errors.join('; ')}`);
  }
}
