/**
 * How invoices write numbers, dates and words, in French (default) and English. Amounts are whole FCFA with a plain
 * space between thousands (`1 000 FCFA`, `-15 FCFA`), so they read the same in the PDF, its text extraction and e-mail.
 */
import type { Language } from './config.js';

/** `1234567n` → `1 234 567` (a plain space, `-` for negatives). */
export function groupThousands(amount: bigint | number): string {
  const n = typeof amount === 'bigint' ? amount : BigInt(amount);
  const neg = n < 0n;
  const digits = (neg ? -n : n).toString();
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return neg ? `-${grouped}` : grouped;
}

/** `1000n` → `1 000 FCFA`. */
export function formatFcfa(amount: bigint | number): string {
  return `${groupThousands(amount)} FCFA`;
}

/** `05/11/2026` (fr) or `2026-11-05` (en), in the zone. */
export function formatDate(at: Date, language: Language, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return language === 'fr' ? `${get('day')}/${get('month')}/${get('year')}` : `${get('year')}-${get('month')}-${get('day')}`;
}

/** `05/11/2026 06:00` (fr) or `2026-11-05 06:00` (en). */
export function formatDateTime(at: Date, language: Language, timeZone: string): string {
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(at);
  return `${formatDate(at, language, timeZone)} ${time}`;
}

/** `octobre 2026` / `October 2026`. */
export function formatMonth(year: number, month: number, language: Language): string {
  return new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(
    new Date(Date.UTC(year, month - 1, 15)),
  );
}

/** `5 %`, `1,5 %` (fr) / `5%`, `1.5%` (en). */
export function formatPercent(value: number | string, language: Language): string {
  const text = String(Number(value));
  return language === 'fr' ? `${text.replace('.', ',')} %` : `${text}%`;
}

export interface Labels {
  invoice: string;
  creditNote: string;
  number: string;
  issuedOn: string;
  period: string;
  from: string;
  to: string;
  reseller: string;
  operator: string;
  rccm: string;
  ifu: string;
  phone: string;
  email: string;
  summary: string;
  terms: string;
  payments: string;
  refunds: string;
  otherPostings: string;
  gross: string;
  providerFees: string;
  net: string;
  resellerFee: string;
  split: string;
  resellerShare: string;
  rgzShare: string;
  settlements: string;
  openingBalance: string;
  movements: string;
  closingBalance: string;
  rgzOwes: string;
  resellerOwes: string;
  settled: string;
  transactions: string;
  date: string;
  operation: string;
  references: string;
  amountsIn: string;
  columns: { gross: string; providerFee: string; resellerFee: string; resellerShare: string; rgzShare: string };
  noTransactions: string;
  kinds: Record<string, string>;
  creditNoteOf: string;
  reason: string;
  creditNoteEffect: string;
  signedBy: string;
  verifyHint: string;
  page: string;
  ledgerNote: string;
  mailSubject: (number: string, month: string) => string;
  mailSubjectCreditNote: (number: string, original: string) => string;
  mailBody: (o: { name: string; number: string; month: string; balanceLine: string; operator: string; keyUrl: string }) => string;
}

export const LABELS: Record<Language, Labels> = {
  fr: {
    invoice: 'Facture revendeur',
    creditNote: 'Avoir',
    number: 'N°',
    issuedOn: 'Émise le',
    period: 'Période',
    from: 'du',
    to: 'au',
    reseller: 'Revendeur',
    operator: 'Opérateur',
    rccm: 'RCCM',
    ifu: 'IFU',
    phone: 'Tél.',
    email: 'E-mail',
    summary: 'Récapitulatif',
    terms: 'Conditions en vigueur',
    payments: 'Paiements encaissés',
    refunds: 'Remboursements',
    otherPostings: 'Autres écritures',
    gross: 'Montant brut',
    providerFees: 'Frais du prestataire de paiement',
    net: 'Net après frais',
    resellerFee: 'Commission revendeur',
    split: 'Partage du net',
    resellerShare: 'Part revendeur',
    rgzShare: 'Part RGZ',
    settlements: 'Règlements et encaissements du revendeur',
    openingBalance: 'Solde au début de la période',
    movements: 'Mouvements de la période',
    closingBalance: 'Solde à la fin de la période',
    rgzOwes: 'RGZ doit au revendeur',
    resellerOwes: 'Le revendeur doit à RGZ',
    settled: 'Solde nul : rien n’est dû',
    transactions: 'Détail des opérations',
    date: 'Date',
    operation: 'Opération',
    references: 'Références (paiement / commande)',
    amountsIn: 'montants en FCFA',
    columns: { gross: 'Brut', providerFee: 'Frais prest.', resellerFee: 'Commission', resellerShare: 'Part rev.', rgzShare: 'Part RGZ' },
    noTransactions: 'Aucune opération sur la période.',
    kinds: { payment: 'Paiement', refund: 'Remboursement', voucher_sale: 'Vente de ticket', payout: 'Versement' },
    creditNoteOf: 'Avoir sur la facture',
    reason: 'Motif',
    creditNoteEffect: 'Cet avoir annule intégralement la facture ci-dessus. Les écritures du grand livre ne sont pas modifiées.',
    signedBy: 'Document signé électroniquement (Ed25519), clé',
    verifyHint: 'Vérification hors ligne : rgz invoices verify FICHIER.pdf --public-key cle.pem',
    page: 'Page',
    ledgerNote: 'Montants issus du grand livre RGZ (écritures enregistrées sur la période).',
    mailSubject: (number, month) => `Facture ${number} — ${month}`,
    mailSubjectCreditNote: (number, original) => `Avoir ${number} sur la facture ${original}`,
    mailBody: (o) =>
      [
        `Bonjour ${o.name},`,
        '',
        `Veuillez trouver ci-joint le document ${o.number} (${o.month}).`,
        o.balanceLine,
        '',
        'Ce PDF est signé par l’opérateur. Pour le vérifier : rgz invoices verify FICHIER.pdf --public-key cle.pem',
        `Clé publique : ${o.keyUrl}`,
        '',
        o.operator,
      ].join('\n'),
  },
  en: {
    invoice: 'Reseller invoice',
    creditNote: 'Credit note',
    number: 'No.',
    issuedOn: 'Issued on',
    period: 'Period',
    from: 'from',
    to: 'to',
    reseller: 'Reseller',
    operator: 'Operator',
    rccm: 'RCCM (trade register)',
    ifu: 'IFU (tax id)',
    phone: 'Phone',
    email: 'E-mail',
    summary: 'Summary',
    terms: 'Current terms',
    payments: 'Payments collected',
    refunds: 'Refunds',
    otherPostings: 'Other postings',
    gross: 'Gross amount',
    providerFees: 'Payment provider fees',
    net: 'Net after fees',
    resellerFee: 'Reseller fee',
    split: 'Split of the net',
    resellerShare: 'Reseller share',
    rgzShare: 'RGZ share',
    settlements: 'Settlements and cash kept by the reseller',
    openingBalance: 'Balance at the start of the period',
    movements: 'Movements of the period',
    closingBalance: 'Balance at the end of the period',
    rgzOwes: 'RGZ owes the reseller',
    resellerOwes: 'The reseller owes RGZ',
    settled: 'Zero balance: nothing is due',
    transactions: 'Transactions',
    date: 'Date',
    operation: 'Operation',
    references: 'References (payment / order)',
    amountsIn: 'amounts in FCFA',
    columns: { gross: 'Gross', providerFee: 'Provider fee', resellerFee: 'Reseller fee', resellerShare: 'Reseller sh.', rgzShare: 'RGZ share' },
    noTransactions: 'No transactions in the period.',
    kinds: { payment: 'Payment', refund: 'Refund', voucher_sale: 'Voucher sale', payout: 'Payout' },
    creditNoteOf: 'Credit note on invoice',
    reason: 'Reason',
    creditNoteEffect: 'This credit note cancels the invoice above in full. The ledger entries are not changed.',
    signedBy: 'Electronically signed document (Ed25519), key',
    verifyHint: 'Offline check: rgz invoices verify FILE.pdf --public-key key.pem',
    page: 'Page',
    ledgerNote: 'Amounts from the RGZ ledger (entries booked in the period).',
    mailSubject: (number, month) => `Invoice ${number} — ${month}`,
    mailSubjectCreditNote: (number, original) => `Credit note ${number} on invoice ${original}`,
    mailBody: (o) =>
      [
        `Hello ${o.name},`,
        '',
        `Please find attached document ${o.number} (${o.month}).`,
        o.balanceLine,
        '',
        'This PDF is signed by the operator. To check it: rgz invoices verify FILE.pdf --public-key key.pem',
        `Public key: ${o.keyUrl}`,
        '',
        o.operator,
      ].join('\n'),
  },
};

/** The closing balance as a sentence: who owes whom. */
export function balanceSentence(balance: bigint, language: Language): string {
  const l = LABELS[language];
  const colon = language === 'fr' ? ' : ' : ': ';
  if (balance > 0n) return `${l.rgzOwes}${colon}${formatFcfa(balance)}`;
  if (balance < 0n) return `${l.resellerOwes}${colon}${formatFcfa(-balance)}`;
  return l.settled;
}
