/**
 * pdfmake, server side, with its bundled Roboto fonts (read from the package: no network, no file but the fonts) and
 * without its module-level singleton. Two departures from `pdfmake.createPdf`, both for speed and both local to this
 * module (no library object is patched):
 *  - the fonts are parsed ONCE per process: parsing Roboto's layout tables costs 60–400 ms per font and pdfkit would
 *    do it again for every document; here each document gets its own pdfkit `EmbeddedFont` (its own subset) over a
 *    shared, read-only fontkit font;
 *  - the document is laid out by pdfmake's own LayoutBuilder and Renderer, called here the way its Printer calls them
 *    (no URL resolution: documents have no images or remote resources).
 * Output is reproducible: the caller fixes `info.creationDate`, so the same definition gives the same bytes.
 * Written against pdfmake 0.3.x internals (`pdfmake/js/*`); the tests render real documents on every run.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// pdfmake ships no types.
type Any = any;
const PdfmakeDocument: Any = require('pdfmake/js/PDFDocument').default;
const LayoutBuilder: Any = require('pdfmake/js/LayoutBuilder').default;
const Renderer: Any = require('pdfmake/js/Renderer').default;
const SVGMeasure: Any = require('pdfmake/js/SVGMeasure').default;
const { normalizePageSize, normalizePageMargin }: Any = require('pdfmake/js/PageSize');
const { tableLayouts }: Any = require('pdfmake/js/tableLayouts');
const fontkit: Any = require('fontkit');
const roboto: Record<string, Record<'normal' | 'bold' | 'italics' | 'bolditalics', string>> = require('pdfmake/fonts/Roboto.js');

type FontType = 'normal' | 'bold' | 'italics' | 'bolditalics';

/** Parsed fonts, shared read-only by every document of the process (fontkit fonts are immutable once parsed). */
const parsed = new Map<string, Any>();
let EmbeddedFont: Any;

function sharedFont(family: string, type: FontType): Any {
  const key = `${family}/${type}`;
  let font = parsed.get(key);
  if (!font) {
    const path = roboto[family]?.[type];
    if (!path) throw new Error(`font ${family} ${type} is not bundled (only Roboto)`);
    font = fontkit.create(readFileSync(path));
    parsed.set(key, font);
  }
  return font;
}

/** pdfmake's PDF document, taking its fonts from the shared parsed ones. */
class SharedFontsDocument extends PdfmakeDocument {
  // The base class is untyped: this gives the constructor its arity.
  constructor(...args: Any[]) {
    super(...args);
  }

  provideFont(familyName: string, bold: boolean, italics: boolean): Any {
    const type = this.getFontType(bold, italics) as FontType;
    this.fontCache[familyName] ??= {};
    if (!this.fontCache[familyName][type]) {
      if (!EmbeddedFont) {
        // pdfkit does not export its EmbeddedFont class: take it from a font it opened (once per process).
        EmbeddedFont = new PdfmakeDocument({}, {}, {}, {}, { autoFirstPage: false }).font(readFileSync(roboto.Roboto?.normal as string))._font.constructor;
      }
      const id = `F${++this._fontCount}`;
      const font = new EmbeddedFont(this, sharedFont(familyName, type), id);
      // Registered like pdfkit's own `font()` does, so `end()` embeds the subset.
      this._fontFamilies[`${familyName}-${type}`] = font;
      this.fontCache[familyName][type] = font;
    }
    return this.fontCache[familyName][type];
  }
}

/** A pdfmake document definition (https://pdfmake.github.io/docs/0.3/document-definition-object/). */
export type DocDefinition = Record<string, unknown> & { content: unknown; info?: Record<string, unknown> };

/** pdfmake's metadata rule: standard keys capitalised, custom keys without spaces. */
function metadata(info: Record<string, unknown> = {}): Record<string, unknown> {
  const standard = ['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer', 'CreationDate', 'ModDate', 'Trapped'];
  const out: Record<string, unknown> = { Producer: 'pdfmake', Creator: 'pdfmake' };
  for (const [k, v] of Object.entries(info)) {
    if (!v) continue;
    const cap = k.charAt(0).toUpperCase() + k.slice(1);
    out[standard.includes(cap) ? cap : k.replace(/\s+/g, '')] = v;
  }
  return out;
}

export async function renderPdf(definition: DocDefinition): Promise<Uint8Array> {
  const def: Any = { defaultStyle: { font: 'Roboto', fontSize: 12 }, ...definition };
  const pageSize = normalizePageSize(def.pageSize, def.pageOrientation);
  const doc: Any = new SharedFontsDocument(
    Object.fromEntries(Object.keys(roboto).map((f) => [f, { ...roboto[f] }])),
    {},
    {},
    {},
    {
      size: [pageSize.width, pageSize.height],
      pdfVersion: def.version ?? '1.3',
      compress: def.compress ?? true,
      tagged: false,
      displayTitle: false,
      autoFirstPage: false,
      bufferPages: false,
      fontLayoutCache: true,
      info: metadata(def.info),
      font: null,
    },
  );
  const builder = new LayoutBuilder(pageSize, normalizePageMargin(def.pageMargins ?? 40), new SVGMeasure());
  builder.registerTableLayouts(tableLayouts);
  const dynamic = (v: unknown) => (v === undefined || typeof v === 'function' ? v : () => v);
  const pages = builder.layoutDocument(
    def.content,
    doc,
    def.styles ?? {},
    def.defaultStyle,
    def.background,
    dynamic(def.header),
    dynamic(def.footer),
    def.watermark,
    def.pageBreakBefore,
  );
  new Renderer(doc, undefined).renderPages(pages);
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve());
    doc.on('error', reject);
    doc.end();
  });
  const out = Buffer.concat(chunks);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The custom PDF metadata field carrying a document's number (read back by the verifier). */
export function readDocumentNumber(bytes: Uint8Array): string | null {
  const text = Buffer.from(bytes).toString('latin1');
  const direct = /\/RGZDocument \(([^)]*)\)/.exec(text);
  if (direct) return direct[1] ?? null;
  const ref = /\/RGZDocument (\d+) 0 R/.exec(text);
  if (!ref) return null;
  const obj = new RegExp(`(?:^|[\\r\\n])${ref[1]} 0 obj\\s*\\(([^)]*)\\)`).exec(text);
  return obj?.[1] ?? null;
}
