/**
 * The renderer on real documents: bytes are a PDF poppler reads back, the same definition gives the same bytes, and
 * the document number written in the metadata is found again, whether pdfkit writes it inline or as an object.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type DocDefinition, readDocumentNumber, renderPdf } from './index.js';

const PDFTOTEXT = ['/usr/bin/pdftotext', '/usr/local/bin/pdftotext'].find((p) => existsSync(p));

function definition(number: string, compress = true): DocDefinition {
  return {
    compress,
    info: { title: `Facture ${number}`, creationDate: new Date(Date.UTC(2026, 9, 1, 8, 0, 0)), RGZDocument: number },
    content: [
      { text: `Facture ${number}`, bold: true, fontSize: 16 },
      { text: 'Montant dû : 12 500 FCFA', italics: true },
      {
        table: {
          body: [
            ['Plan', 'Prix'],
            ['Jour', '500 FCFA'],
          ],
        },
      },
    ],
  };
}

describe('renderPdf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rgz-pdf-documents-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders a PDF that gives the same bytes for the same definition', async () => {
    const first = await renderPdf(definition('F-2026-0001'));
    const second = await renderPdf(definition('F-2026-0001'));
    expect(Buffer.from(first.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
    const other = await renderPdf(definition('F-2026-0002'));
    expect(Buffer.from(first).equals(Buffer.from(other))).toBe(false);
  });

  it('reads back the document number, compressed or not', async () => {
    expect(readDocumentNumber(await renderPdf(definition('F-2026-0003')))).toBe('F-2026-0003');
    expect(readDocumentNumber(await renderPdf(definition('F-2026-0004', false)))).toBe('F-2026-0004');
    expect(readDocumentNumber(await renderPdf({ content: 'no number' }))).toBeNull();
  });

  it.skipIf(!PDFTOTEXT)('writes text poppler extracts, accents included (poppler-utils)', async () => {
    const file = join(dir, 'doc.pdf');
    writeFileSync(file, await renderPdf(definition('F-2026-0005')));
    const text = execFileSync(PDFTOTEXT as string, ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Facture F-2026-0005');
    expect(text).toContain('Montant dû : 12 500 FCFA');
    expect(text).toMatch(/Jour\s+500 FCFA/);
  });
});
