/**
 * `@rgz/pdf-documents`: the PDF renderer the document-producing plugins share (invoices, ARCEP reports), so one
 * pdfmake integration, with its fonts parsed once per process, serves them all.
 */

export { type DocDefinition, readDocumentNumber, renderPdf } from './pdf.js';
