/**
 * Records the cluster refused for good (mapping errors: `document_parsing_exception`, `illegal_argument_exception`, …)
 * are not retried — resending gives the same 400 — and not dropped: they go here, one JSON line each with the error and
 * the original document, in `dead-letter/dead-YYYY-MM-DD.log`, bounded by `maxBytes` (oldest day files deleted first).
 * Fix the mapping or the parser, then re-ingest from these files.
 */

import { appendFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OutRecord } from './records.js';

export interface DeadLetterEntry {
  record: OutRecord;
  status: number;
  error: { type?: string; reason?: string } | string;
}

const FILE = /^dead-(\d{4}-\d{2}-\d{2})\.log$/;

export class DeadLetter {
  #written = 0;
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  get written(): number {
    return this.#written;
  }

  append(entries: readonly DeadLetterEntry[]): void {
    if (entries.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    const now = new Date();
    const file = join(this.dir, `dead-${now.toISOString().slice(0, 10)}.log`);
    let text = '';
    for (const e of entries) {
      text += `{"time":"${now.toISOString()}","index":${JSON.stringify(e.record.index)},"id":${JSON.stringify(e.record.id)},"status":${e.status},"error":${JSON.stringify(e.error)},"source":${e.record.source}}\n`;
    }
    appendFileSync(file, text);
    this.#written += entries.length;
    this.#trim();
  }

  #trim(): void {
    const files = readdirSync(this.dir)
      .filter((f) => FILE.test(f))
      .sort();
    let total = files.reduce((sum, f) => sum + statSync(join(this.dir, f)).size, 0);
    while (total > this.maxBytes && files.length > 1) {
      const oldest = files.shift() as string;
      total -= statSync(join(this.dir, oldest)).size;
      rmSync(join(this.dir, oldest), { force: true });
    }
  }
}
