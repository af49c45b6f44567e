/**
 * Render a ticket sheet in a worker thread, so a 5 000-ticket batch (seconds of CPU for the QR codes and the layout)
 * never blocks the server's event loop. From the built package the worker runs `dist/pdf-render.js`; from the
 * TypeScript sources (tests, `npm run dev`) it runs `src/pdf-render.ts` through tsx.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TicketSheetInput } from './pdf-render.js';

export type { TicketSheetInput } from './pdf-render.js';

export function renderTicketSheet(input: TicketSheetInput, timeoutMs = 300_000): Promise<Buffer> {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(fromSource ? './pdf-render.ts' : './pdf-render.js', import.meta.url);
  return new Promise<Buffer>((resolve, reject) => {
    // pdfmake keeps the whole document in memory: ~1 KB per ticket plus its QR image.
    const options = { workerData: { rgzTicketSheet: input }, resourceLimits: { maxOldGenerationSizeMb: 1024 } };
    const worker = fromSource
      ? // Node 20 workers take no ESM loader hooks: tsx's require hook compiles the TypeScript module to CommonJS.
        new Worker(
          `require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(file))});`,
          { ...options, eval: true },
        )
      : new Worker(file, options);
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`rendering the ticket sheet took more than ${timeoutMs} ms`))), timeoutMs);
    worker.once('message', (m: { ok: true; pdf: Uint8Array } | { ok: false; error: string }) =>
      done(() => (m.ok ? resolve(Buffer.from(m.pdf.buffer, m.pdf.byteOffset, m.pdf.byteLength)) : reject(new Error(`ticket sheet: ${m.error}`)))),
    );
    worker.once('error', (err) => done(() => reject(err)));
    worker.once('exit', (code) => done(() => reject(new Error(`the ticket sheet worker exited (${code}) without a result`))));
  });
}
