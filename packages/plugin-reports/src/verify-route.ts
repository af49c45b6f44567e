/**
 * `GET /api/reports/invoices/{id}/verify`: the checks `rgz invoices verify` makes, run by the server on the stored
 * PDF (its signature against the operator key, the hash chain of the invoice log, this document's entry in it), for
 * the console's "verify" button. A document whose bytes were changed in the database fails here, as it would offline.
 * Read through the caller's scoped handle: a reseller verifies its own documents only.
 */
import { defineRoute, httpErrors, type Kysely, type PluginRouter, type SigningKey, z, UuidIdParam } from '@rgz/core';
import type { InvoiceService } from './invoices.js';
import type { ReportsDatabase } from './schema.js';
import { verifyInvoiceBytes } from './verify.js';

export function registerVerifyRoute(r: PluginRouter, deps: { service: InvoiceService; key: () => SigningKey }): void {
  r.add(
    defineRoute({
      method: 'get',
      path: '/invoices/{id}/verify',
      access: ['noc', 'reseller'],
      tags: ['reports'],
      summary: 'Verify a stored invoice or credit note as `rgz invoices verify` does: signature, hash chain of the invoice log, its entry',
      request: {
        params: UuidIdParam,
      },
      responses: {
        200: {
          description: 'The checks, one line each; ok only when every check passed',
          content: {
            'application/json': {
              schema: z.object({ ok: z.boolean(), number: z.string().nullable(), key_id: z.string(), sha256: z.string(), lines: z.array(z.string()) }),
            },
          },
        },
        404: { description: 'No such document (or not yours)' },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = c.get('db') as unknown as Kysely<ReportsDatabase>;
      const row = await db.selectFrom('reports_invoices').select(['number', 'pdf']).where('id', '=', id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('invoice_not_found', `no invoice ${id}`);
      const bytes = new Uint8Array(Buffer.from(row.pdf));
      const key = deps.key();
      const result = verifyInvoiceBytes(bytes, key, await deps.service.logEntries());
      const sha = result.lines.find((l) => l.startsWith('file SHA-256: '))?.slice('file SHA-256: '.length) ?? '';
      return c.json({ ok: result.ok, number: result.number ?? row.number, key_id: key.keyId, sha256: sha, lines: result.lines }, 200);
    },
  );
}
