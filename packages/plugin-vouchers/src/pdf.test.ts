/**
 * The ticket sheet as a printer gets it: a batch created over HTTP, its PDF downloaded, then read back with poppler
 * (an independent PDF implementation): `pdfinfo` (A4, pages), `pdftotext` (every code, serial, price, plan, expiry
 * and the portal address are printed), `pdfimages` (each QR code's modules equal the QR of `<portal>?voucher=<code>`)
 * and `pdftoppm` (page 1 rendered to PNG; committed as screenshots/tickets-page1.png when missing or with
 * RGZ_UPDATE_SCREENSHOTS=1). Skipped, with a message, without poppler-utils (`apt-get install poppler-utils`).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qrTarget } from './pdf-render.js';
import { auth, type BatchAnswer, createBatch, createReseller, type Harness, startHarness } from './test-support/harness.js';

const hasPoppler = ['pdftoppm', 'pdftotext', 'pdfimages', 'pdfinfo'].every((b) => {
  try {
    execFileSync('which', [b], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!hasPoppler) console.warn('[plugin-vouchers] PDF tests skipped: poppler-utils missing (apt-get install poppler-utils)');

const COMMITTED = new URL('../screenshots/tickets-page1.png', import.meta.url).pathname;
const PORTAL = 'https://portail.rgz.bj/portal/';

describe.skipIf(!hasPoppler)('the ticket sheet (pdfmake), read back with poppler', () => {
  let h: Harness;
  let dir: string;
  let reseller: { id: string; token: string };
  let created: BatchAnswer;
  let pdfFile: string;

  beforeAll(async () => {
    h = await startHarness('embedded', { config: { brand: 'Kiosque Akpakpa' } });
    reseller = await createReseller(h);
    dir = mkdtempSync(join(tmpdir(), 'rgz-vouchers-pdf-'));
    created = await createBatch(h, reseller.token, { plan_code: 'DAY10MB', count: 30, expires_at: '2027-05-24T12:00:00+01:00' });
    const res = await h.request(created.pdf.url, { headers: auth(reseller.token) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="vouchers-${created.batch.label}.pdf"`);
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBe(created.pdf.size_bytes);
    pdfFile = join(dir, 'tickets.pdf');
    writeFileSync(pdfFile, pdf);
  }, 120_000);
  afterAll(async () => {
    await h?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is A4, 24 tickets a page: 30 tickets on 2 pages', () => {
    const info = execFileSync('pdfinfo', [pdfFile]).toString();
    expect(info).toMatch(/Pages:\s+2\n/);
    expect(info).toMatch(/Page size:\s+595\.28 x 841\.89 pts \(A4\)/);
  });

  it('prints every code, serial, the plan, the price in FCFA, the expiry and the portal address', () => {
    const page1 = execFileSync('pdftotext', ['-layout', '-f', '1', '-l', '1', pdfFile, '-']).toString();
    const all = execFileSync('pdftotext', ['-layout', pdfFile, '-']).toString();
    for (const { serial, code } of created.codes) {
      expect(all).toContain(code);
      expect(all).toContain(serial);
    }
    expect(created.codes.filter((c) => page1.includes(c.code))).toHaveLength(24);
    expect(page1.match(/10 Mo \/ jour/g)?.length).toBeGreaterThanOrEqual(24);
    expect(page1.match(/1\s000\sFCFA/g)?.length).toBeGreaterThanOrEqual(24);
    expect(page1).toContain('Valable jusqu’au 24/05/2027');
    expect(page1.match(/portail\.rgz\.bj\/portal/g)?.length).toBeGreaterThanOrEqual(24);
    expect(page1).toContain('Kiosque Akpakpa');
  });

  it('each QR code is the portal URL with the code filled in', async () => {
    // Default output: netpbm (PBM for 1-bit images): a header and raw bytes.
    execFileSync('pdfimages', [pdfFile, join(dir, 'img')]);
    const types = execFileSync('pdfimages', ['-list', pdfFile])
      .toString()
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[2]);
    // Images only (a soft mask, `smask`, would follow an image with transparency; ours have none).
    const qrFiles = readdirSync(dir)
      .filter((f) => f.startsWith('img-'))
      .sort()
      .filter((_f, i) => types[i] === 'image');
    expect(qrFiles).toHaveLength(30);
    const grids = qrFiles.map((f) => {
      const image = readNetpbm(readFileSync(join(dir, f)));
      return (size: number) => {
        const scale = image.width / (size + 2);
        let bits = '';
        for (let y = 0; y < size; y++)
          for (let x = 0; x < size; x++) bits += image.dark(Math.floor((x + 1.5) * scale), Math.floor((y + 1.5) * scale)) ? '1' : '0';
        return bits;
      };
    });
    for (let i = 0; i < created.codes.length; i++) {
      const code = (created.codes[i] as { code: string }).code.replace('-', '');
      const qr = QRCode.create(qrTarget(PORTAL, code), { errorCorrectionLevel: 'M' });
      const want = [...qr.modules.data].map((d) => (d ? 1 : 0)).join('');
      expect((grids[i] as (n: number) => string)(qr.modules.size), `QR of ticket ${i + 1}`).toBe(want);
    }
    expect(qrTarget(PORTAL, 'K7M2Q9XR4T')).toBe('https://portail.rgz.bj/portal/?voucher=K7M2Q9XR4T');
  });

  it('renders to PNG with pdftoppm (page 1)', () => {
    execFileSync('pdftoppm', ['-r', '50', '-gray', '-f', '1', '-l', '1', '-png', pdfFile, join(dir, 'page')]);
    const png = readdirSync(dir).find((f) => f.startsWith('page') && f.endsWith('.png')) as string;
    const bytes = readFileSync(join(dir, png));
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    // A4 at 50 dpi (IHDR width and height).
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([414, 585]);
    if (process.env.RGZ_UPDATE_SCREENSHOTS === '1' || !existsSync(COMMITTED)) {
      mkdirSync(dirname(COMMITTED), { recursive: true });
      copyFileSync(join(dir, png), COMMITTED);
    }
  });
});

/** A binary PBM (P4: 1 bit a pixel, 1 = black) or PPM (P6, maxval 255): width, height and whether a pixel is dark. */
function readNetpbm(buf: Buffer): { width: number; height: number; dark(x: number, y: number): boolean } {
  const text = buf.subarray(0, 64).toString('latin1');
  const pbm = /^P4\s+(\d+)\s+(\d+)\s/.exec(text);
  if (pbm) {
    const width = Number(pbm[1]);
    const rowBytes = Math.ceil(width / 8);
    const offset = pbm[0].length;
    return { width, height: Number(pbm[2]), dark: (x, y) => (((buf[offset + y * rowBytes + (x >> 3)] as number) >> (7 - (x & 7))) & 1) === 1 };
  }
  const ppm = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(text);
  if (!ppm) throw new Error(`not a P4 or P6 image: ${JSON.stringify(text.slice(0, 16))}`);
  const width = Number(ppm[1]);
  const offset = ppm[0].length;
  return { width, height: Number(ppm[2]), dark: (x, y) => (buf[offset + (y * width + x) * 3] as number) < 128 };
}
