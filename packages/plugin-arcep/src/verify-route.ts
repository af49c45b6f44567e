/**
 * `GET /api/arcep/reports/{id}/verify`: the checks `rgz arcep verify FOLDER --log …` makes, run by the server on the
 * stored files of a report (manifest signature, every file's hash and signature, embedded PDF signatures, the report
 * log's chain and this manifest's entry), for the console's "verify" button. The files are written to a private
 * temporary folder exactly as delivered, so the one verification code path is the offline one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { defineRoute, httpErrors, type Kysely, type PluginRouter, type SigningKey, z, UuidIdParam } from '@rgz/core';
import type { ArcepDatabase } from './schema.js';
import type { ArcepService } from './service.js';
import { verifyReportPath } from './verify.js';

export function registerVerifyRoute(r: PluginRouter, deps: { service: ArcepService; key: () => SigningKey }): void {
  r.add(
    defineRoute({
      method: 'get',
      path: '/reports/{id}/verify',
      access: ['noc'],
      tags: ['arcep'],
      summary: 'Verify a stored report as `rgz arcep verify` does: manifest and file signatures, hashes, the report log and its entry',
      request: {
        params: UuidIdParam,
      },
      responses: {
        200: {
          description: 'The checks, one line each; ok only when every check passed',
          content: { 'application/json': { schema: z.object({ ok: z.boolean(), key_id: z.string(), lines: z.array(z.string()) }) } },
        },
        404: { description: 'No such report' },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const db = c.get('db') as unknown as Kysely<ArcepDatabase>;
      const report = await db.selectFrom('arcep_reports').select('id').where('id', '=', id).executeTakeFirst();
      if (!report) throw httpErrors.notFound('report_not_found', 'no such report');
      const files = await db.selectFrom('arcep_report_files').select(['name', 'bytes']).where('report_id', '=', id).execute();
      const key = deps.key();
      const dir = await mkdtemp(join(tmpdir(), 'rgz-arcep-verify-'));
      try {
        // basename: a stored name never leaves the folder, whatever it contains.
        for (const f of files) await writeFile(join(dir, basename(f.name)), Buffer.from(f.bytes), { mode: 0o600 });
        const out = await verifyReportPath(dir, key, await deps.service.logEntries());
        return c.json({ ok: out.ok, key_id: key.keyId, lines: out.lines }, 200);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
