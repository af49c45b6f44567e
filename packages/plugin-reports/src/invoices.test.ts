/**
 * Monthly invoices end to end, on both storage backends: a month of ledger entries across two resellers built by
 * billing's real flow (orders, webhooks, verification, a refund), the invoices issued, every figure of the PDFs
 * (extracted with poppler's `pdftotext`) checked against the ledger lines, signature and chain verified (library and
 * CLI), a tampered PDF and a tampered log entry detected, the e-mails received with their attachment on a real SMTP
 * server, archives written, page 1 rendered to PNG with `pdftoppm`, an idempotent re-run, a credit note, gap-free
 * numbers, and reseller isolation on list and download.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadVerifyKey, sql } from '@rgz/core';
import { BACKENDS, waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFcfa, groupThousands } from './format.js';
import reports from './index.js';
import type { LogEntryView } from './invoices.js';
import { localYearMonth, monthPeriod } from './period.js';
import { auth, buyAndPay, createReseller, type InvoiceWorld, OPERATOR, postJson, startInvoiceWorld } from './test-support/world.js';
import { verifyInvoiceBytes } from './verify.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const TZ = 'Africa/Porto-Novo';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

it("declares package.json's version and name", () => {
  expect(reports.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${reports.name}`);
});

interface Doc {
  id: string;
  kind: 'invoice' | 'credit_note';
  number: string;
  reseller_id: string;
  period: string;
  language: string;
  pdf_sha256: string;
  signature: string;
  figures: Record<string, number>;
  links: { pdf: string };
}

/** What the ledger says for a reseller over a period, straight from the ledger lines (not through the reader). */
async function fromLedger(w: InvoiceWorld, resellerId: string, from: Date, to: Date) {
  const r = await sql<{ posting_id: string; kind: string; payment_ref: string | null; pf: string; rf: string; rs: string; rgz: string; st: string }>`
    select p.id as posting_id, p.kind, pay.provider_transaction_id as payment_ref,
      coalesce(sum(case when e.account like 'provider_fees:%' then e.credit_fcfa - e.debit_fcfa end), 0)::text as pf,
      coalesce(sum(case when e.account = ${`reseller_fee:${resellerId}`} then e.credit_fcfa - e.debit_fcfa end), 0)::text as rf,
      coalesce(sum(case when e.account = ${`revenue:reseller:${resellerId}`} then e.credit_fcfa - e.debit_fcfa end), 0)::text as rs,
      coalesce(sum(case when e.account = 'revenue:rgz' then e.credit_fcfa - e.debit_fcfa end), 0)::text as rgz,
      coalesce(sum(case when e.account = ${`payable:reseller:${resellerId}`} then e.credit_fcfa - e.debit_fcfa end), 0)::text as st
    from billing_postings p join billing_ledger_entries e on e.posting_id = p.id left join billing_payments pay on pay.id = p.payment_id
    where p.reseller_id = ${resellerId} and p.created_at >= ${from} and p.created_at < ${to}
    group by p.id, p.kind, pay.provider_transaction_id order by p.created_at, p.id`.execute(w.db);
  const postings = r.rows.map((x) => {
    const [pf, rf, rs, rgz, st] = [x.pf, x.rf, x.rs, x.rgz, x.st].map(BigInt) as [bigint, bigint, bigint, bigint, bigint];
    return { kind: x.kind, ref: x.payment_ref, providerFee: pf, resellerFee: rf, resellerShare: rs, rgzShare: rgz, settlement: st, gross: pf + rf + rs + rgz };
  });
  const sum = (k: 'gross' | 'providerFee' | 'resellerFee' | 'resellerShare' | 'rgzShare' | 'settlement') => postings.reduce((s, p) => s + p[k], 0n);
  const bal = await sql<{ b: string }>`select (coalesce(sum(credit_fcfa), 0) - coalesce(sum(debit_fcfa), 0))::text as b from billing_ledger_entries
    where account in (${`reseller_fee:${resellerId}`}, ${`revenue:reseller:${resellerId}`}, ${`payable:reseller:${resellerId}`}) and created_at < ${to}`.execute(
    w.db,
  );
  return {
    postings,
    gross: sum('gross'),
    providerFee: sum('providerFee'),
    resellerFee: sum('resellerFee'),
    resellerShare: sum('resellerShare'),
    rgzShare: sum('rgzShare'),
    settlement: sum('settlement'),
    payments: postings.filter((p) => p.kind === 'payment').length,
    refunds: postings.filter((p) => p.kind === 'refund').length,
    closing: BigInt(bal.rows[0]?.b ?? '0'),
  };
}

function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

/** `label` then `value` on the same line of the extracted text. */
function expectLine(text: string, label: string, value: string) {
  const line = text.split('\n').find((l) => l.includes(label) && l.trimEnd().endsWith(value));
  expect(line, `a line "${label} … ${value}" in:\n${text}`).toBeTruthy();
}

describe.each(BACKENDS)('monthly invoices on %s storage', (backend) => {
  let w: InvoiceWorld;
  let alpha: { id: string; token: string };
  let beta: { id: string; token: string };
  let other: { id: string; token: string };
  const now = new Date();
  const { year, month } = localYearMonth(now, TZ);
  const period = monthPeriod(year, month, TZ);
  const payments: Record<string, string[]> = {};
  let docs: Doc[] = [];
  let publicKeyPem: string;
  let log: LogEntryView[];

  const listAs = async (token: string, query = '') => {
    const res = await w.request(`/api/reports/invoices${query}`, { headers: auth(token) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: Doc[] }).items;
  };
  const download = async (token: string, doc: Pick<Doc, 'id'>) => w.request(`/api/reports/invoices/${doc.id}/pdf`, { headers: auth(token) });
  const fetchLog = async (token: string) =>
    ((await (await w.request('/api/reports/invoice-log', { headers: auth(token) })).json()) as { entries: LogEntryView[] }).entries;

  beforeAll(async () => {
    w = await startInvoiceWorld(backend);
    alpha = await createReseller(w, { name: 'Alpha Net Cotonou', slug: 'alpha', email: 'compta@alpha.bj', fee: 5, share: 50 });
    beta = await createReseller(w, { name: 'Beta WiFi Parakou', slug: 'beta', email: 'finance@beta.bj', fee: 3, share: 60 });
    other = await createReseller(w, { name: 'Gamma (no sales)', slug: 'gamma', email: null, fee: 5, share: 50 });
    // Beta reads English.
    const lang = await w.request(`/api/reports/resellers/${beta.id}/language`, {
      method: 'PUT',
      headers: { ...auth(w.server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({ language: 'en' }),
    });
    expect(lang.status).toBe(200);
    // A month of sales: the provider reports its fee on each.
    const plan: Array<[string | null, string, number, number]> = [
      [alpha.id, 'DAY10MB', 1000, 15],
      [alpha.id, 'DAY100MB', 5000, 75],
      [alpha.id, 'MONTH1GB', 10_000, 150],
      [alpha.id, 'DAY10MB', 1000, 15],
      [beta.id, 'MONTH5GB', 50_000, 750],
      [beta.id, 'DAY100MB', 5000, 75],
      [null, 'DAY10MB', 1000, 15],
    ];
    for (const [reseller, code, amount, fee] of plan) {
      const p = await buyAndPay(w, reseller, code, amount, fee);
      (payments[reseller ?? 'none'] ??= []).push(p.id);
    }
    // One of alpha's payments is refunded in the month.
    const refund = await w.request(`/api/billing/payments/${payments[alpha.id]?.[1]}/refund`, postJson(w.server.nocToken, { reason: 'double achat' }));
    expect(refund.status, await refund.clone().text()).toBe(200);
    const key = (await (await w.request('/api/reports/public-key')).json()) as { public_key_pem: string; public_key_raw_base64: string; key_id: string };
    publicKeyPem = key.public_key_pem;
  });
  afterAll(async () => {
    await w?.close();
  });

  it('publishes the public key (PEM and raw base64) without authentication', async () => {
    const res = await w.request('/api/reports/public-key');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { algorithm: string; key_id: string; public_key_pem: string; public_key_raw_base64: string; signed_message: string };
    expect(body.algorithm).toBe('Ed25519');
    expect(loadVerifyKey(body.public_key_raw_base64).keyId).toBe(body.key_id);
    expect(loadVerifyKey(body.public_key_pem).keyId).toBe(body.key_id);
    expect(body.signed_message).toBe('rgz-signed-document/v1 <content_sha256>');
    const pem = await w.request('/api/reports/public-key.pem');
    expect(await pem.text()).toBe(body.public_key_pem);
  });

  it('issues one invoice per reseller with activity, numbered without gaps', async () => {
    const res = await w.request('/api/reports/runs', postJson(w.server.nocToken, { month: period.label }));
    expect(res.status, await res.clone().text()).toBe(200);
    const run = (await res.json()) as { created: Array<{ number: string; reseller_id: string }>; existing: unknown[]; failed: unknown[] };
    expect(run.failed).toEqual([]);
    expect(run.existing).toEqual([]);
    expect(run.created.map((c) => c.reseller_id).sort()).toEqual([alpha.id, beta.id].sort());
    const issueYear = localYearMonth(new Date(), TZ).year;
    expect(run.created.map((c) => c.number).sort()).toEqual([`RGZ-${issueYear}-000001`, `RGZ-${issueYear}-000002`]);
    docs = await listAs(w.server.nocToken);
    expect(docs).toHaveLength(2);
    expect(docs.find((d) => d.reseller_id === beta.id)?.language).toBe('en');
  });

  it('every figure of each PDF matches the ledger', async () => {
    for (const reseller of [alpha, beta]) {
      const doc = docs.find((d) => d.reseller_id === reseller.id) as Doc;
      const res = await download(w.server.nocToken, doc);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(sha256(bytes)).toBe(doc.pdf_sha256);
      const file = join(w.dir, `${doc.number}.pdf`);
      writeFileSync(file, bytes);
      const text = pdfText(file);
      const l = await fromLedger(w, reseller.id, period.from, period.to);
      const fr = doc.language === 'fr';
      // The API's figures are the ledger's.
      expect(doc.figures).toMatchObject({
        payments: l.payments,
        refunds: l.refunds,
        gross_fcfa: Number(l.gross),
        provider_fee_fcfa: Number(l.providerFee),
        reseller_fee_fcfa: Number(l.resellerFee),
        reseller_share_fcfa: Number(l.resellerShare),
        rgz_share_fcfa: Number(l.rgzShare),
        closing_balance_fcfa: Number(l.closing),
      });
      // Header: the operator's legal details, the document number.
      for (const s of [OPERATOR.name, OPERATOR.address, OPERATOR.rccm, OPERATOR.ifu, OPERATOR.phone, OPERATOR.email, doc.number]) expect(text).toContain(s);
      expect(text).toContain(fr ? 'FACTURE REVENDEUR' : 'RESELLER INVOICE');
      // Summary, label by label.
      expectLine(text, fr ? 'Paiements encaissés' : 'Payments collected', String(l.payments));
      expectLine(text, fr ? 'Remboursements' : 'Refunds', String(l.refunds));
      expectLine(text, fr ? 'Montant brut' : 'Gross amount', formatFcfa(l.gross));
      expectLine(text, fr ? 'Frais du prestataire de paiement' : 'Payment provider fees', formatFcfa(l.providerFee));
      expectLine(text, fr ? 'Net après frais' : 'Net after fees', formatFcfa(l.gross - l.providerFee));
      expectLine(text, fr ? 'Commission revendeur' : 'Reseller fee', formatFcfa(l.resellerFee));
      expectLine(text, fr ? 'Part revendeur' : 'Reseller share', formatFcfa(l.resellerShare));
      expectLine(text, fr ? 'Part RGZ' : 'RGZ share', formatFcfa(l.rgzShare));
      expectLine(text, fr ? 'Solde au début de la période' : 'Balance at the start of the period', formatFcfa(0));
      expectLine(text, fr ? 'Mouvements de la période' : 'Movements of the period', formatFcfa(l.resellerFee + l.resellerShare + l.settlement));
      expectLine(text, fr ? 'Solde à la fin de la période' : 'Balance at the end of the period', formatFcfa(l.closing));
      expect(text).toContain(fr ? `RGZ doit au revendeur : ${formatFcfa(l.closing)}` : `RGZ owes the reseller: ${formatFcfa(l.closing)}`);
      // Each posting is a row: its payment reference with its five amounts, in order.
      expect(l.postings.length).toBe(reseller === alpha ? 5 : 2);
      for (const p of l.postings) {
        const row = text
          .split('\n')
          .find(
            (line) =>
              line.includes(p.ref as string) &&
              line.includes(fr ? (p.kind === 'refund' ? 'Remboursement' : 'Paiement') : p.kind === 'refund' ? 'Refund' : 'Payment'),
          );
        expect(row, `row of ${p.kind} ${p.ref}`).toBeTruthy();
        const amounts = [p.gross, p.providerFee, p.resellerFee, p.resellerShare, p.rgzShare].map(groupThousands).join(' +');
        expect(row, `${p.kind} ${p.ref}: ${amounts}`).toMatch(new RegExp(`${amounts.replace(/ \+/g, '\\s+')}\\s*$`));
      }
      // The totals row.
      expect(text).toMatch(
        new RegExp(`Total\\s+${[l.gross, l.providerFee, l.resellerFee, l.resellerShare, l.rgzShare].map(groupThousands).join('\\s+')}\\s*$`, 'm'),
      );
      // The period sums agree with the split rule: every part adds up to the gross.
      expect(l.providerFee + l.resellerFee + l.resellerShare + l.rgzShare).toBe(l.gross);
    }
  });

  it('signature and chain verify offline; the CLI says so', async () => {
    log = await fetchLog(w.server.nocToken);
    expect(log.map((e) => e.seq)).toEqual([1, 2]);
    const key = loadVerifyKey(publicKeyPem);
    const pemFile = join(w.dir, 'operator.pub.pem');
    writeFileSync(pemFile, publicKeyPem);
    const logFile = join(w.dir, 'log.json');
    writeFileSync(logFile, JSON.stringify({ entries: log }));
    for (const doc of docs) {
      const file = join(w.dir, `${doc.number}.pdf`);
      const result = verifyInvoiceBytes(readFileSync(file), key, log);
      expect(result.ok, result.lines.join('\n')).toBe(true);
      expect(result.number).toBe(doc.number);
      const out: string[] = [];
      const cmd = w.server.kernel.commands.get('invoices');
      const code = await cmd?.run(['verify', file, '--public-key', pemFile, '--log', logFile], { out: (s) => out.push(s), err: (s) => out.push(s) });
      expect(code, out.join('\n')).toBe(0);
      expect(out.join('\n')).toMatch(/signature: VALID/);
      expect(out.join('\n')).toMatch(/hash chain intact/);
      expect(out.join('\n')).toMatch(new RegExp(`entry \\d — ${doc.number} \\(invoice\\).*file hash matches`));
      expect(out.at(-1)).toMatch(/^RESULT: OK/);
    }
    // Also with the raw key on the command line and the log straight from the server's URL... through a saved file
    // here (app.request has no port); the URL path of loadLog is the same fetch a reseller runs with --token.
    const raw = ((await (await w.request('/api/reports/public-key')).json()) as { public_key_raw_base64: string }).public_key_raw_base64;
    const out: string[] = [];
    const code = await w.server.kernel.commands
      .get('invoices')
      ?.run(['verify', join(w.dir, `${docs[0]?.number}.pdf`), '--public-key', raw], { out: (s) => out.push(s), err: (s) => out.push(s) });
    expect(code, out.join('\n')).toBe(0);
  });

  it('detects a tampered PDF', async () => {
    const doc = docs.find((d) => d.reseller_id === alpha.id) as Doc;
    const bytes = Buffer.from(readFileSync(join(w.dir, `${doc.number}.pdf`)));
    // Change one character of the visible title in the metadata (outside the signature field).
    const at = bytes.indexOf('(Facture revendeur');
    expect(at).toBeGreaterThan(0);
    bytes[at + 1] = 'G'.charCodeAt(0);
    const tampered = join(w.dir, 'tampered.pdf');
    writeFileSync(tampered, bytes);
    const result = verifyInvoiceBytes(bytes, loadVerifyKey(publicKeyPem), log);
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toMatch(/signature: INVALID/);
    expect(result.lines.join('\n')).toMatch(/this file is NOT the document issued/);
    const out: string[] = [];
    const code = await w.server.kernel.commands
      .get('invoices')
      ?.run(['verify', tampered, '--public-key', join(w.dir, 'operator.pub.pem')], { out: (s) => out.push(s), err: (s) => out.push(s) });
    expect(code).toBe(1);
    expect(out.at(-1)).toMatch(/^RESULT: FAILED/);
    // A byte changed inside a compressed page stream is caught the same way.
    const body = Buffer.from(readFileSync(join(w.dir, `${doc.number}.pdf`)));
    const stream = body.indexOf('stream\n') + 20;
    body[stream] = (body[stream] as number) ^ 0xff;
    expect(verifyInvoiceBytes(body, loadVerifyKey(publicKeyPem)).ok).toBe(false);
  });

  it('the log refuses UPDATE and DELETE; an entry edited behind its back breaks the chain', async () => {
    await expect(sql`update reports_invoice_log set pdf_sha256 = ${'0'.repeat(64)} where seq = 1`.execute(w.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from reports_invoice_log where seq = 2`.execute(w.db)).rejects.toThrow(/append-only/);
    await expect(sql`update reports_invoices set gross_fcfa = 1`.execute(w.db)).rejects.toThrow(/append-only/);
    // A superuser bypasses the trigger and rewrites entry 1's hash to match a forged PDF.
    const original = log[0] as LogEntryView;
    await sql`alter table reports_invoice_log disable trigger reports_invoice_log_no_change`.execute(w.db);
    try {
      await sql`update reports_invoice_log set pdf_sha256 = ${'ab'.repeat(32)} where seq = 1`.execute(w.db);
    } finally {
      await sql`alter table reports_invoice_log enable trigger reports_invoice_log_no_change`.execute(w.db);
    }
    const forged = await fetchLog(w.server.nocToken);
    const doc = docs.find((d) => d.number === original.number) as Doc;
    const result = verifyInvoiceBytes(readFileSync(join(w.dir, `${doc.number}.pdf`)), loadVerifyKey(publicKeyPem), forged);
    expect(result.ok).toBe(false);
    expect(result.lines.join('\n')).toMatch(/log: BROKEN at entry 1 — entry 1 was modified/);
    const check = await w.server.kernel.commands.get('invoices')?.run(['check'], { out: () => {}, err: () => {} });
    expect(check).toBe(1);
    // Put it back (same bypass) so the rest of the suite runs on an intact log.
    await sql`alter table reports_invoice_log disable trigger reports_invoice_log_no_change`.execute(w.db);
    await sql`update reports_invoice_log set pdf_sha256 = ${original.pdf_sha256} where seq = 1`.execute(w.db);
    await sql`alter table reports_invoice_log enable trigger reports_invoice_log_no_change`.execute(w.db);
    const out: string[] = [];
    expect(await w.server.kernel.commands.get('invoices')?.run(['check'], { out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);
    expect(out.join('\n')).toMatch(/chain intact/);
  });

  it('e-mails each reseller its PDF over SMTP and archives it (folder and BackupTarget)', async () => {
    await waitFor(() => w.smtp.messages.length >= 2, 15_000, { message: 'two invoice e-mails' });
    for (const doc of docs) {
      const reseller = doc.reseller_id === alpha.id ? alpha : beta;
      const mail = w.smtp.messages.find((m) => m.to.includes(reseller === alpha ? 'compta@alpha.bj' : 'finance@beta.bj'));
      expect(mail, doc.number).toBeTruthy();
      expect(mail?.user).toBe('rgz-invoices');
      expect(mail?.from).toBe('facturation@rgz.bj');
      expect(mail?.subject).toContain(doc.number);
      expect(mail?.subject).toMatch(doc.language === 'fr' ? /^Facture / : /^Invoice /);
      expect(mail?.headers['x-rgz-document']).toBe(doc.number);
      expect(mail?.attachments).toHaveLength(1);
      expect(mail?.attachments[0]?.filename).toBe(`${doc.number}.pdf`);
      expect(mail?.attachments[0]?.contentType).toBe('application/pdf');
      expect(sha256(mail?.attachments[0]?.content as Buffer)).toBe(doc.pdf_sha256);
      expect(mail?.text).toContain(formatFcfa(BigInt(doc.figures.closing_balance_fcfa as number)));
      // Archives: the same bytes in the folder and on the target.
      const year = localYearMonth(new Date(), TZ).year;
      await waitFor(() => existsSync(join(w.archiveDir, String(year), `${doc.number}.pdf`)), 5000);
      expect(sha256(readFileSync(join(w.archiveDir, String(year), `${doc.number}.pdf`)))).toBe(doc.pdf_sha256);
      const stored = w.nas.objects.get(`invoices/${year}/${doc.number}.pdf`);
      expect(stored && sha256(stored.bytes)).toBe(doc.pdf_sha256);
      expect(stored?.metadata).toMatchObject({ sha256: doc.pdf_sha256, 'rgz-signature': doc.signature });
      // The SMTP server has the message before the delivery row is written: wait for the row.
      const sent = await waitFor(async () => {
        const detail = (await (await w.request(`/api/reports/invoices/${doc.id}`, { headers: auth(w.server.nocToken) })).json()) as {
          deliveries: Array<{ channel: string; status: string; target: string }>;
        };
        const channels = detail.deliveries
          .filter((d) => d.status === 'sent')
          .map((d) => d.channel)
          .sort();
        return channels.length === 3 ? channels : null;
      }, 10_000);
      expect(sent).toEqual(['archive', 'archive', 'email']);
    }
  });

  it('renders page 1 to PNG with pdftoppm', async () => {
    const doc = docs.find((d) => d.reseller_id === alpha.id) as Doc;
    const prefix = join(w.dir, 'page');
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', join(w.dir, `${doc.number}.pdf`), prefix]);
    const png = readFileSync(`${prefix}.png`);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(`${prefix}.png`).size).toBeGreaterThan(10_000);
    // The committed screenshot is refreshed on demand only (RGZ_UPDATE_SCREENSHOTS=1), so a test run leaves git clean.
    const shot = join(new URL('../screenshots/', import.meta.url).pathname, 'invoice-fr-page1.png');
    if (backend === 'embedded' && (process.env.RGZ_UPDATE_SCREENSHOTS === '1' || !existsSync(shot))) {
      mkdirSync(dirname(shot), { recursive: true });
      copyFileSync(`${prefix}.png`, shot);
    }
  });

  it('re-running the month changes nothing', async () => {
    const before = await sql<{ invoices: string; log: string; tasks: string }>`select
      (select count(*) from reports_invoices)::text as invoices, (select count(*) from reports_invoice_log)::text as log,
      (select count(*) from core_tasks where name = 'reports.deliver')::text as tasks`.execute(w.db);
    const res = await w.request('/api/reports/runs', postJson(w.server.nocToken, { month: period.label }));
    const run = (await res.json()) as { created: unknown[]; existing: Array<{ number: string }> };
    expect(run.created).toEqual([]);
    expect(run.existing.map((e) => e.number).sort()).toEqual(docs.map((d) => d.number).sort());
    const after = await sql<{ invoices: string; log: string; tasks: string }>`select
      (select count(*) from reports_invoices)::text as invoices, (select count(*) from reports_invoice_log)::text as log,
      (select count(*) from core_tasks where name = 'reports.deliver')::text as tasks`.execute(w.db);
    expect(after.rows).toEqual(before.rows);
    expect(w.smtp.messages).toHaveLength(2);
  });

  it('a correction is a credit note (new number, signed, logged), never an edit; the month can be re-issued', async () => {
    const doc = docs.find((d) => d.reseller_id === alpha.id) as Doc;
    const url = `/api/reports/invoices/${doc.id}/credit-note`;
    expect((await w.request(url, postJson(alpha.token, { reason: 'nom du revendeur erroné' }))).status).toBe(403);
    const res = await w.request(url, postJson(w.server.nocToken, { reason: 'nom du revendeur erroné', reissue: true }));
    expect(res.status, await res.clone().text()).toBe(201);
    const out = (await res.json()) as { credit_note: Doc & { original_id: string; reason: string }; reissued: Doc & { revision: number } };
    const issueYear = localYearMonth(new Date(), TZ).year;
    expect(out.credit_note).toMatchObject({
      kind: 'credit_note',
      number: `RGZ-AV-${issueYear}-000001`,
      original_id: doc.id,
      reason: 'nom du revendeur erroné',
    });
    expect(out.reissued).toMatchObject({ kind: 'invoice', number: `RGZ-${issueYear}-000003`, revision: 1, reseller_id: alpha.id });
    expect((await w.request(url, postJson(w.server.nocToken, { reason: 'encore' }))).status).toBe(409);
    expect((await w.request(`/api/reports/invoices/${out.credit_note.id}/credit-note`, postJson(w.server.nocToken, { reason: 'x y z' }))).status).toBe(409);
    // The original is untouched and still verifies; the credit note verifies and names it.
    const original = new Uint8Array(await (await download(w.server.nocToken, doc)).arrayBuffer());
    expect(sha256(original)).toBe(doc.pdf_sha256);
    const cnBytes = new Uint8Array(await (await download(w.server.nocToken, out.credit_note)).arrayBuffer());
    const cnFile = join(w.dir, `${out.credit_note.number}.pdf`);
    writeFileSync(cnFile, cnBytes);
    const text = pdfText(cnFile);
    expect(text).toContain('AVOIR');
    expect(text).toContain(`Avoir sur la facture ${doc.number}`);
    expect(text).toContain('nom du revendeur erroné');
    expectLine(text, 'Montant brut', formatFcfa(-BigInt(doc.figures.gross_fcfa as number)));
    log = await fetchLog(w.server.nocToken);
    expect(log.map((e) => [e.seq, e.kind, e.number])).toEqual([
      [1, 'invoice', expect.any(String)],
      [2, 'invoice', expect.any(String)],
      [3, 'credit_note', out.credit_note.number],
      [4, 'invoice', out.reissued.number],
    ]);
    for (const [bytes, number] of [
      [cnBytes, out.credit_note.number],
      [original, doc.number],
    ] as const) {
      const r = verifyInvoiceBytes(bytes, loadVerifyKey(publicKeyPem), log);
      expect(r.ok, r.lines.join('\n')).toBe(true);
      expect(r.number).toBe(number);
    }
    // Re-running the month still changes nothing.
    const again = (await (await w.request('/api/reports/runs', postJson(w.server.nocToken, { month: period.label }))).json()) as { created: unknown[] };
    expect(again.created).toEqual([]);
    // The credit note was e-mailed too.
    await waitFor(() => w.smtp.messages.find((m) => m.subject.includes(out.credit_note.number)), 15_000, { message: 'credit note e-mail' });
  });

  it('numbers have no gaps, per series and year', async () => {
    const rows = await w.db.selectFrom('reports_invoices').select(['kind', 'number']).orderBy('number').execute();
    const series = (prefix: string) =>
      rows
        .map((r) => r.number)
        .filter((n) => new RegExp(`^${prefix}-\\d{4}-\\d{6}$`).test(n))
        .map((n) => Number(n.slice(-6)));
    expect(series('RGZ')).toEqual([1, 2, 3]);
    expect(series('RGZ-AV')).toEqual([1]);
  });

  it('resellers list and download only their own documents; the NOC sees all', async () => {
    const mine = await listAs(alpha.token);
    expect(mine.length).toBe(3);
    expect(mine.every((d) => d.reseller_id === alpha.id)).toBe(true);
    const theirs = await listAs(beta.token);
    expect(theirs.map((d) => d.reseller_id)).toEqual([beta.id]);
    expect(await listAs(other.token)).toEqual([]);
    expect((await listAs(w.server.nocToken)).length).toBe(4);
    // Asking for another reseller's invoice by id: not found, as if it did not exist.
    const betaDoc = theirs[0] as Doc;
    expect((await download(alpha.token, betaDoc)).status).toBe(404);
    expect((await w.request(`/api/reports/invoices/${betaDoc.id}`, { headers: auth(alpha.token) })).status).toBe(404);
    expect((await listAs(alpha.token, `?reseller_id=${beta.id}`)).length).toBe(0);
    const own = await download(beta.token, betaDoc);
    expect(own.status).toBe(200);
    expect(sha256(new Uint8Array(await own.arrayBuffer()))).toBe(betaDoc.pdf_sha256);
    // A reseller sees its e-mail delivery, not the operator's archive locations.
    const detail = (await (await w.request(`/api/reports/invoices/${betaDoc.id}`, { headers: auth(beta.token) })).json()) as {
      deliveries: Array<{ channel: string }>;
    };
    expect(detail.deliveries.map((d) => d.channel)).toEqual(['email']);
    // Anonymous: 401; a subscriber: 403.
    expect((await w.request('/api/reports/invoices')).status).toBe(401);
    expect((await w.request(`/api/reports/invoices/${betaDoc.id}/pdf`)).status).toBe(401);
    // The log lists numbers and hashes of everyone's documents, for chain verification; no amounts, no names.
    const entries = await fetchLog(beta.token);
    expect(entries).toHaveLength(4);
    expect(Object.keys(entries[0] as object).sort()).toEqual([
      'content_sha256',
      'created_at',
      'entry_hash',
      'key_id',
      'kind',
      'number',
      'pdf_sha256',
      'prev_hash',
      'seq',
      'signature',
    ]);
  });

  it('schedules the monthly job on the 5th at 06:00, global, catching up a missed run once', () => {
    const info = w.server.kernel.plugins.find((p) => p.name === 'reports');
    expect(info?.jobs).toEqual(['reports.monthly-invoices']);
    expect(w.server.kernel.commands.get('invoices')?.plugin).toBe('reports');
  });
});
