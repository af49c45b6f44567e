/**
 * The ticket sheet: an A4 PDF of cut-out tickets, 3 × 8 per page, dashed cut lines, each ticket with the code (two
 * groups of five, monospace), the plan, the price in FCFA, the expiry, the portal address, the serial and a QR code
 * that opens the portal with the code filled in (`<portal>?voucher=<code>`).
 *
 * The QR symbol comes from npm `qrcode` (`QRCode.create`: version, error correction M, the mask it scores best) and is
 * embedded as a PNG data URL that we encode ourselves: 1-bit grayscale, 4 pixels a module. qrcode's own PNG renderer
 * writes 32-bit RGBA, which pdfkit has to decode and split into an image and a soft mask: measured on 1 000 tickets,
 * 5.9 s and 1.17 MB of PDF against 0.2 s and 0.72 MB for the 1-bit PNG, which pdfkit embeds as it is.
 *
 * pdfmake 0.3 (server build) with the PDF standard fonts Helvetica and Courier (no font file, nothing embedded; their
 * WinAnsi encoding covers French), every URL fetch refused and local file access limited to those font names.
 * The same module runs inside a worker thread (see ./pdf.ts): 5 000 tickets take seconds of CPU, which must not
 * stall the server's event loop.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import pdfmake from 'pdfmake';
import QRCode from 'qrcode';

export interface TicketSheetInput {
  brand: string;
  /** Printed as the batch name: `V12`. */
  batchLabel: string;
  planName: string;
  priceFcfa: number;
  /** Already formatted for the reader (`24/05/2027`). */
  expiresOn: string;
  /** Portal URL the QR code opens (`https://portal.example.bj/portal/`); `?voucher=<code>` is appended. */
  portalUrl: string;
  tickets: ReadonlyArray<{ serial: string; code: string }>;
}

export const TICKETS_PER_PAGE = 24;
const COLUMNS = 3;
const STANDARD_FONTS = new Set(['Helvetica', 'Helvetica-Bold', 'Courier', 'Courier-Bold']);

let configured = false;
function configure(): void {
  if (configured) return;
  pdfmake.setFonts({
    Helvetica: { normal: 'Helvetica', bold: 'Helvetica-Bold', italics: 'Helvetica', bolditalics: 'Helvetica-Bold' },
    Courier: { normal: 'Courier', bold: 'Courier-Bold', italics: 'Courier', bolditalics: 'Courier-Bold' },
  });
  pdfmake.setUrlAccessPolicy(() => false);
  pdfmake.setLocalAccessPolicy((path) => STANDARD_FONTS.has(path));
  configured = true;
}

/** `1 000 FCFA`, with no-break spaces (WinAnsi has U+00A0, not the narrow one `fr-FR` formatting uses). */
export function formatFcfa(amount: number): string {
  return `${String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0')}\u00a0FCFA`;
}

/** The portal address as printed: no scheme, no trailing slash. */
export function printedAddress(url: string): string {
  return url.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

export function qrTarget(portalUrl: string, code: string): string {
  return `${portalUrl}${portalUrl.includes('?') ? '&' : '?'}voucher=${code}`;
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = -1;
  for (const byte of body) c = (CRC_TABLE[(c ^ byte) & 255] as number) ^ (c >>> 8);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((c ^ -1) >>> 0, body.length + 4);
  return out;
}

/**
 * A QR symbol as a 1-bit grayscale PNG data URL (black modules, a white quiet zone of `margin` modules, `scale`
 * pixels a module), for `<portal>?voucher=<code>`.
 */
export function qrPng(text: string, scale = 4, margin = 1): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = modules.size;
  const width = (size + 2 * margin) * scale;
  const rowBytes = Math.ceil(width / 8);
  // Filter byte 0 then the row; a set bit is white (grayscale 1 = 255).
  const raw = Buffer.alloc((rowBytes + 1) * width);
  for (let y = 0; y < width; y++) {
    const my = Math.floor(y / scale) - margin;
    const row = y * (rowBytes + 1) + 1;
    for (let x = 0; x < width; x++) {
      const mx = Math.floor(x / scale) - margin;
      const dark = mx >= 0 && my >= 0 && mx < size && my < size && modules.get(my, mx);
      if (!dark) raw[row + (x >> 3)] = (raw[row + (x >> 3)] as number) | (0x80 >> (x & 7));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(width, 4);
  ihdr[8] = 1; // bit depth; colour type 0 (grayscale), deflate, adaptive filtering, no interlace
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
  return `data:image/png;base64,${png.toString('base64')}`;
}

const dashed = () => ({ dash: { length: 3, space: 3 } });

function ticket(input: TicketSheetInput, t: { serial: string; code: string }, image: string): Record<string, unknown> {
  const grey = '#444444';
  return {
    stack: [
      {
        columns: [
          {
            width: '*',
            stack: [
              {
                columns: [
                  { width: '*', text: input.brand, bold: true, fontSize: 7.5 },
                  { width: 'auto', text: t.serial, fontSize: 6.5, color: grey },
                ],
              },
              { text: input.planName, bold: true, fontSize: 9, margin: [0, 2, 0, 0] },
              { text: `${t.code.slice(0, 5)}-${t.code.slice(5)}`, font: 'Courier', bold: true, fontSize: 14, margin: [0, 3, 0, 1] },
              { text: formatFcfa(input.priceFcfa), bold: true, fontSize: 10.5 },
              { text: `Valable jusqu’au ${input.expiresOn}`, fontSize: 6.5, color: grey, margin: [0, 1, 0, 0] },
              { text: printedAddress(input.portalUrl), fontSize: 7, bold: true, margin: [0, 2, 0, 0] },
            ],
          },
          { width: 60, image, fit: [60, 60], margin: [0, 6, 0, 0] },
        ],
        columnGap: 4,
      },
      { text: 'Connectez-vous au WiFi, puis tapez ce code sur la page du portail ou scannez le QR code.', fontSize: 5.8, color: grey, margin: [0, 2, 0, 0] },
    ],
  };
}

/** Render the sheet. Runs in the calling thread: use `renderTicketSheet` (./pdf.ts) from the server. */
export async function buildTicketSheet(input: TicketSheetInput): Promise<Buffer> {
  configure();
  const images: Record<string, string> = {};
  const cells: Array<Record<string, unknown>> = [];
  for (let i = 0; i < input.tickets.length; i++) {
    const t = input.tickets[i] as { serial: string; code: string };
    images[`q${i}`] = qrPng(qrTarget(input.portalUrl, t.code));
    cells.push(ticket(input, t, `q${i}`));
  }
  const pages: Array<Record<string, unknown>> = [];
  for (let p = 0; p * TICKETS_PER_PAGE < cells.length; p++) {
    const slice = cells.slice(p * TICKETS_PER_PAGE, (p + 1) * TICKETS_PER_PAGE);
    const body: unknown[][] = [];
    for (let r = 0; r < slice.length; r += COLUMNS) {
      const row: unknown[] = slice.slice(r, r + COLUMNS);
      while (row.length < COLUMNS) row.push({ text: '' });
      body.push(row);
    }
    pages.push({
      table: { widths: ['*', '*', '*'], heights: 88, dontBreakRows: true, body },
      layout: {
        hLineWidth: () => 0.6,
        vLineWidth: () => 0.6,
        hLineColor: () => '#888888',
        vLineColor: () => '#888888',
        hLineStyle: dashed,
        vLineStyle: dashed,
        paddingLeft: () => 6,
        paddingRight: () => 6,
        paddingTop: () => 4,
        paddingBottom: () => 4,
      },
      ...((p + 1) * TICKETS_PER_PAGE < cells.length ? { pageBreak: 'after' } : {}),
    });
  }
  const pageCount = pages.length;
  const doc = {
    pageSize: 'A4',
    pageMargins: [18, 18, 18, 22],
    info: { title: `${input.brand} — lot ${input.batchLabel}`, creator: 'RGZ', producer: 'RGZ (pdfmake)' },
    defaultStyle: { font: 'Helvetica', fontSize: 8, lineHeight: 1.05 },
    images,
    content: pages,
    footer: (page: number) => ({
      text: `Lot ${input.batchLabel} · ${input.planName} · ${formatFcfa(input.priceFcfa)} · ${input.tickets.length} tickets · page ${page}/${pageCount} · découpez suivant les pointillés`,
      fontSize: 6,
      color: '#666666',
      margin: [18, 6, 18, 0],
    }),
  };
  return pdfmake.createPdf(doc).getBuffer();
}

// Worker entry: ./pdf.ts starts this module in a worker thread with the input as workerData.
if (!isMainThread && parentPort && (workerData as { rgzTicketSheet?: TicketSheetInput } | null)?.rgzTicketSheet) {
  const port = parentPort;
  buildTicketSheet((workerData as { rgzTicketSheet: TicketSheetInput }).rgzTicketSheet).then(
    (pdf) => {
      const copy = new Uint8Array(pdf);
      port.postMessage({ ok: true, pdf: copy }, [copy.buffer]);
    },
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
