/**
 * `GET /api/arcep/reports/{id}/verify` on both backends: a report as produced verifies (manifest, files, log); one
 * byte changed in a stored file does not; NOC only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from '@rgz/core';
import { BACKENDS, startTestServer, TestPaymentProvider, type TestServer, testPaymentPlugin } from '@rgz/core/testing';
import billing from '@rgz/plugin-billing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import arcep from './index.js';

const OPERATOR = {
  legalName: 'RGZ Réseaux SARL',
  country: 'BJ',
  licenceNumber: 'ARCEP/BJ/2025/0042',
  taxId: '3202412345678',
  address: 'Cotonou',
  contactEmail: 'noc@rgz.bj',
};

describe.each(BACKENDS)('verifying a stored ARCEP report (%s)', (backend) => {
  let server: TestServer;
  let dir: string;
  let reportId: string;
  const verify = async (id: string, token = server.nocToken) => {
    const res = await server.request(`/api/arcep/reports/${id}/verify`, { headers: server.auth(token) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rgz-arcep-verify-test-'));
    const key = join(dir, 'operator-key.pem');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    server = await startTestServer({
      backend,
      config: { timezone: 'Africa/Porto-Novo' },
      plugins: [
        testPaymentPlugin(new TestPaymentProvider()),
        { plugin: billing, config: {} },
        {
          plugin: arcep,
          config: {
            operator: OPERATOR,
            signing: { privateKeyFile: key },
            sources: { sessions: 'optional', incidents: 'optional' },
            delivery: { folder: null },
          },
        },
      ],
    });
    const res = await server.request('/api/arcep/reports', {
      method: 'POST',
      headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' },
      body: JSON.stringify({ quarter: '2026-T1' }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    reportId = ((await res.json()) as { id: string }).id;
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a report as produced verifies: manifest, every file, the log entry', async () => {
    const out = await verify(reportId);
    expect(out.status).toBe(200);
    expect(out.body.ok).toBe(true);
    expect(out.body.lines.some((l: string) => /^manifest .*signature VALID/.test(l))).toBe(true);
    expect(out.body.lines.some((l: string) => /hash chain intact/.test(l))).toBe(true);
    expect(out.body.lines.at(-1)).toMatch(/^RESULT: OK/);
  });

  it('a stored file changed in the database fails verification', async () => {
    const db = server.kernel.db;
    const file = await sql<{
      name: string;
    }>`select name from arcep_report_files where report_id = ${reportId} and name like '%.csv' order by name limit 1`.execute(db);
    const name = file.rows[0]?.name;
    expect(name).toBeTruthy();
    // The table refuses updates; the test plays an attacker with database rights (triggers off for one transaction).
    await db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update arcep_report_files set bytes = bytes || '\\x0a'::bytea where report_id = ${reportId} and name = ${name}`.execute(trx);
    });
    const out = await verify(reportId);
    expect(out.body.ok).toBe(false);
    expect(out.body.lines.some((l: string) => l.startsWith(`${name}: MODIFIED`))).toBe(true);
    expect(out.body.lines.at(-1)).toMatch(/^RESULT: FAILED/);
  });

  it('NOC only; unknown and malformed ids are refused as problem+json', async () => {
    const reseller = await server.kernel.db
      .insertInto('resellers')
      .values({ name: 'av', slug: `arcep-verify-${backend}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = (await server.kernel.tokens.issue({ role: 'reseller', name: 'r', resellerId: reseller.id })).token;
    expect((await verify(reportId, token)).status).toBe(403);
    const missing = await verify('00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/application\/problem\+json/);
    expect((await verify('nope')).status).toBe(400);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await (await server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/arcep/reports/{id}/verify']?.get).toBeDefined();
  });
});
