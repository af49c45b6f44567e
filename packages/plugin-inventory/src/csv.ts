/**
 * CSV reading (RFC 4180): quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. The delimiter is `,` or `;`
 * (spreadsheets set to French write `;`), detected from the header line. Each row keeps its line number for errors.
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

export function parseCsv(text: string): CsvRow[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nl = body.search(/\r?\n/);
  const firstLine = nl < 0 ? body : body.slice(0, nl);
  const sep = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
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
  return rows.filter((r) => !(r.cells.length === 1 && (r.cells[0] as string).trim() === '') && !(r.cells[0] ?? '').startsWith('#'));
}
