/**
 * CSV in and out (RFC 4180): quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. The delimiter of an uploaded
 * file is `,` or `;` (spreadsheets set to French write `;`), detected from the header line unless given; each row keeps
 * its line number for error messages. Exported cells that start with = + - @ are prefixed with a quote so a
 * spreadsheet does not run them as formulas. Imports (inventory) and exports (ledger, reconciliation) share it.
 */

export interface CsvRow {
  /** 1-based line number where the row starts in the file. */
  line: number;
  cells: string[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Rows with their line numbers; blank lines dropped, and lines starting with `#` too when `comments` is set. */
export function parseCsvRows(text: string, options: { delimiter?: ',' | ';'; comments?: boolean } = {}): CsvRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nl = body.search(/\r?\n/);
  const firstLine = nl < 0 ? body : body.slice(0, nl);
  const sep = options.delimiter ?? (firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',');
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  while (i < body.length) {
    const ch = body[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      i++;
    } else if (ch === sep) {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      rows.push({ line: rowLine, cells: row });
      row = [];
      field = '';
      i += ch === '\r' && body[i + 1] === '\n' ? 2 : 1;
      line++;
      rowLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new CsvError(rowLine, 'unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ line: rowLine, cells: row });
  }
  return rows.filter((r) => !(r.cells.length === 1 && (r.cells[0] as string).trim() === '') && !(options.comments && (r.cells[0] ?? '').startsWith('#')));
}

/** The cells of each row (blank lines dropped). */
export function parseCsv(text: string, delimiter?: ',' | ';'): string[][] {
  return parseCsvRows(text, delimiter ? { delimiter } : {}).map((r) => r.cells);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.join('|') : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
