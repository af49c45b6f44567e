/**
 * The invoice and credit-note PDFs (pdfmake document definitions): the operator's legal details, the reseller, the
 * period, the summary from the ledger (payments, gross, provider fees, reseller fee, the split, settlements, opening
 * and closing balance: who owes whom), and the table of postings. The signature placeholder sits in the PDF
 * metadata (`/RGZSignature`), the number in `/RGZDocument`; `signDocument` fills the placeholder afterwards.
 */
import { type LedgerPostingView, SIGNATURE_SLOT_PLACEHOLDER } from '@rgz/core';
import type { DocDefinition } from '@rgz/pdf-documents';
import type { Language, OperatorDetails } from './config.js';
import { balanceSentence, formatDate, formatDateTime, formatFcfa, formatMonth, formatPercent, groupThousands, LABELS } from './format.js';
import type { StoredFigures } from './schema.js';

export interface DocumentReseller {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly phone: string | null;
  readonly email: string | null;
}

export interface InvoicePdfInput {
  readonly kind: 'invoice' | 'credit_note';
  readonly number: string;
  readonly issuedAt: Date;
  readonly language: Language;
  readonly timeZone: string;
  readonly period: { readonly from: Date; readonly to: Date; readonly year: number; readonly month: number };
  readonly operator: OperatorDetails;
  readonly reseller: DocumentReseller;
  readonly figures: StoredFigures;
  /** Invoice: the postings of the period. Credit note: none (it cancels the original's totals). */
  readonly postings: readonly LedgerPostingView[];
  readonly original?: { readonly number: string; readonly issuedAt: Date };
  readonly reason?: string;
  readonly keyId: string;
}

const GREY = '#555555';
const LINE = '#bbbbbb';

const lightTable = {
  hLineWidth: (i: number, node: { table: { body: unknown[] } }) => (i === 0 || i === 1 || i === node.table.body.length ? 0.6 : 0.2),
  vLineWidth: () => 0,
  hLineColor: () => LINE,
  paddingLeft: () => 3,
  paddingRight: () => 3,
  paddingTop: () => 2,
  paddingBottom: () => 2,
};

export function buildInvoiceDefinition(input: InvoicePdfInput): DocDefinition {
  const l = LABELS[input.language];
  const colon = input.language === 'fr' ? ' : ' : ': ';
  const f = input.figures;
  const big = (s: string) => BigInt(s);
  const sign = input.kind === 'credit_note' ? -1n : 1n;
  const amount = (s: string) => formatFcfa(big(s) * sign);
  const date = (d: Date) => formatDate(d, input.language, input.timeZone);
  const lastDay = new Date(input.period.to.getTime() - 1);
  const title = input.kind === 'invoice' ? l.invoice : l.creditNote;
  const month = formatMonth(input.period.year, input.period.month, input.language);
  const net = big(f.gross) - big(f.providerFee);
  const movements = big(f.resellerFee) + big(f.resellerShare) + big(f.settlement);

  const right = (text: string, extra: Record<string, unknown> = {}) => ({ text, alignment: 'right', noWrap: true, ...extra });
  const summaryRows: unknown[][] = [
    [`${l.payments}`, right(String(f.payments))],
    [`${l.refunds}`, right(String(f.refunds))],
  ];
  const other = Object.entries(f.countsByKind).filter(([k]) => k !== 'payment' && k !== 'refund');
  for (const [k, n] of other) summaryRows.push([`${l.otherPostings} — ${l.kinds[k] ?? k}`, right(String(n))]);
  summaryRows.push(
    [{ text: l.gross, bold: true }, right(amount(f.gross), { bold: true })],
    [l.providerFees, right(amount(f.providerFee))],
    [l.net, right(formatFcfa(net * sign))],
    [l.resellerFee, right(amount(f.resellerFee))],
    [`${l.split} — ${l.resellerShare}`, right(amount(f.resellerShare))],
    [`${l.split} — ${l.rgzShare}`, right(amount(f.rgzShare))],
    [l.settlements, right(amount(f.settlement))],
  );
  const balanceRows: unknown[][] = [
    [l.openingBalance, right(amount(f.openingBalance))],
    [l.movements, right(formatFcfa(movements * sign))],
    [{ text: l.closingBalance, bold: true }, right(amount(f.closingBalance), { bold: true })],
  ];

  const content: unknown[] = [
    {
      columns: [
        {
          width: '*',
          stack: [
            { text: input.operator.name, style: 'operatorName' },
            { text: input.operator.address },
            { text: `${l.rccm}${colon}${input.operator.rccm}` },
            { text: `${l.ifu}${colon}${input.operator.ifu}` },
            { text: `${l.phone}${colon}${input.operator.phone} — ${l.email}${colon}${input.operator.email}` },
          ],
        },
        {
          width: 200,
          stack: [
            { text: title.toUpperCase(), style: 'title', alignment: 'right' },
            { text: `${l.number} ${input.number}`, style: 'number', alignment: 'right' },
            { text: `${l.issuedOn} ${date(input.issuedAt)}`, alignment: 'right' },
            { text: `${l.period}${colon}${month}`, alignment: 'right' },
            { text: `${l.from} ${date(input.period.from)} ${l.to} ${date(lastDay)}`, alignment: 'right', color: GREY },
          ],
        },
      ],
    },
    { canvas: [{ type: 'line', x1: 0, y1: 6, x2: 515, y2: 6, lineWidth: 0.8, lineColor: LINE }], margin: [0, 0, 0, 8] },
    {
      stack: [
        { text: l.reseller.toUpperCase(), style: 'label' },
        { text: input.reseller.name, bold: true },
        { text: [input.reseller.slug, input.reseller.phone, input.reseller.email].filter(Boolean).join(' — '), color: GREY },
        {
          text: `${l.terms}${colon}${l.resellerFee.toLowerCase()} ${formatPercent(f.feePercent, input.language)}, ${l.resellerShare.toLowerCase()} ${formatPercent(f.sharePercent, input.language)}`,
          color: GREY,
        },
      ],
      margin: [0, 0, 0, 10],
    },
  ];
  if (input.kind === 'credit_note' && input.original) {
    content.push({
      stack: [
        { text: `${l.creditNoteOf} ${input.original.number} (${l.issuedOn.toLowerCase()} ${date(input.original.issuedAt)})`, bold: true },
        { text: `${l.reason}${colon}${input.reason ?? ''}` },
      ],
      margin: [0, 0, 0, 10],
    });
  }
  content.push(
    { text: l.summary, style: 'section' },
    { table: { widths: ['*', 130], body: summaryRows }, layout: lightTable, margin: [0, 0, 0, 8] },
    ...(input.kind === 'invoice' ? [{ table: { widths: ['*', 130], body: balanceRows }, layout: lightTable, margin: [0, 0, 0, 6] }] : []),
    {
      text: input.kind === 'invoice' ? balanceSentence(big(f.closingBalance), input.language) : l.creditNoteEffect,
      style: 'due',
      margin: [0, 2, 0, 12],
    },
  );

  if (input.kind === 'invoice') {
    content.push({ text: `${l.transactions} (${l.amountsIn})`, style: 'section' });
    if (input.postings.length === 0) content.push({ text: l.noTransactions, color: GREY });
    else {
      const c = l.columns;
      const head = [l.date, l.operation, l.references, c.gross, c.providerFee, c.resellerFee, c.resellerShare, c.rgzShare].map((t, i) => ({
        text: t,
        bold: true,
        alignment: i >= 3 ? 'right' : 'left',
      }));
      const body: unknown[][] = [head];
      for (const p of input.postings) {
        const refs = [p.paymentRef, p.orderRef ?? p.voucherRef].filter(Boolean).join('\n') || p.postingId;
        body.push([
          { text: formatDateTime(p.bookedAt, input.language, input.timeZone), noWrap: true },
          { text: `${l.kinds[p.kind] ?? p.kind}${p.planCode ? `\n${p.planCode}` : ''}` },
          { text: refs, fontSize: 6.5 },
          right(groupThousands(p.gross)),
          right(groupThousands(p.providerFee)),
          right(groupThousands(p.resellerFee)),
          right(groupThousands(p.resellerShare)),
          right(groupThousands(p.rgzShare)),
        ]);
      }
      body.push([
        { text: 'Total', bold: true, colSpan: 3 },
        {},
        {},
        right(groupThousands(big(f.gross)), { bold: true }),
        right(groupThousands(big(f.providerFee)), { bold: true }),
        right(groupThousands(big(f.resellerFee)), { bold: true }),
        right(groupThousands(big(f.resellerShare)), { bold: true }),
        right(groupThousands(big(f.rgzShare)), { bold: true }),
      ]);
      content.push({
        table: { headerRows: 1, dontBreakRows: true, widths: [58, 54, '*', 42, 36, 42, 42, 42], body },
        layout: lightTable,
        fontSize: 7,
      });
    }
    content.push({ text: l.ledgerNote, color: GREY, fontSize: 7, margin: [0, 6, 0, 0] });
  }

  return {
    pageSize: 'A4',
    pageMargins: [40, 40, 40, 54],
    info: {
      title: `${title} ${input.number}`,
      author: input.operator.name.replaceAll('rgzsig', 'rgz-sig'),
      // Metadata strings are stored uncompressed: keep the signature marker out of data-driven text.
      subject: `${title} ${input.number} — ${input.reseller.name} — ${month}`.replaceAll('rgzsig', 'rgz-sig'),
      keywords: `RGZ ${input.kind} ${input.number} ${input.keyId}`,
      creator: 'RGZ',
      producer: 'RGZ (pdfmake)',
      creationDate: input.issuedAt,
      RGZDocument: input.number,
      RGZKeyId: input.keyId,
      RGZSignature: SIGNATURE_SLOT_PLACEHOLDER,
    },
    footer: (current: number, count: number) => ({
      margin: [40, 14, 40, 0],
      columns: [
        { text: `${input.number} — ${l.signedBy} ${input.keyId}\n${l.verifyHint}`, fontSize: 6.5, color: GREY },
        { text: `${l.page} ${current} / ${count}`, alignment: 'right', fontSize: 7, color: GREY, width: 60 },
      ],
    }),
    content,
    styles: {
      operatorName: { fontSize: 12, bold: true, margin: [0, 0, 0, 2] },
      title: { fontSize: 15, bold: true },
      number: { fontSize: 11, bold: true, margin: [0, 2, 0, 2] },
      label: { fontSize: 7, color: GREY, bold: true },
      section: { fontSize: 10, bold: true, margin: [0, 4, 0, 4] },
      due: { fontSize: 11, bold: true },
    },
    defaultStyle: { font: 'Roboto', fontSize: 8.5, lineHeight: 1.15 },
  };
}
