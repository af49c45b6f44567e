/**
 * `GET /api/reports/invoices/{id}/verify` on both backends: a document as issued verifies (signature, chain, entry);
 * the same document with one byte changed in the database does not; a reseller verifies its own documents only.
 */
import { sql } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localYearMonth, monthPeriod } from './period.js';
import { auth, buyAndPay, createReseller, type InvoiceWorld, postJson, startInvoiceWorld } from './test-support/world.js';

const TZ = 'Africa/Porto-Novo';

describe.each(BACKENDS)('verifying a stored invoice (%s)', (backend) => {
  let w: InvoiceWorld;
  let alpha: { id: string; token: string };
  let beta: { id: string; token: string };
  let docA: { id: string; number: string };
  let docB: { id: string; number: string };
  const verify = async (id: string, token: string) => {
    const res = await w.request(`/api/reports/invoices/${id}/verify`, { headers: auth(token) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
  };

  beforeAll(async () => {
    w = await startInvoiceWorld(backend);
    alpha = await createReseller(w, { name: 'Alpha Net', slug: 'verify-alpha', email: null, fee: 5, share: 50 });
    beta = await createReseller(w, { name: 'Beta WiFi', slug: 'verify-beta', email: null, fee: 5, share: 50 });
    await buyAndPay(w, alpha.id, 'DAY10MB', 1000, 19);
    await buyAndPay(w, beta.id, 'DAY10MB', 1000, 19);
    const { year, month } = localYearMonth(new Date(), TZ);
    const res = await w.request('/api/reports/runs', postJson(w.server.nocToken, { month: monthPeriod(year, month, TZ).label }));
    expect(res.status, await res.clone().text()).toBe(200);
    const list = (await (await w.request('/api/reports/invoices', { headers: auth(w.server.nocToken) })).json()) as {
      items: Array<{ id: string; number: string; reseller_id: string }>;
    };
    const of = (reseller: string) => list.items.find((d) => d.reseller_id === reseller);
    docA = of(alpha.id) as { id: string; number: string };
    docB = of(beta.id) as { id: string; number: string };
    expect(docA && docB).toBeTruthy();
  }, 120_000);
  afterAll(async () => {
    await w?.close();
  });

  it('a document as issued verifies, for the NOC and for its reseller', async () => {
    for (const token of [w.server.nocToken, alpha.token]) {
      const out = await verify(docA.id, token);
      expect(out.status).toBe(200);
      expect(out.body).toMatchObject({ ok: true, number: docA.number });
      expect(out.body.lines.at(-1)).toMatch(/^RESULT: OK/);
      expect(out.body.lines.some((l: string) => l.startsWith('signature: VALID'))).toBe(true);
      expect(out.body.lines.some((l: string) => /hash chain intact/.test(l))).toBe(true);
    }
  });

  it('another reseller’s document is a 404; a bad id is a 400', async () => {
    const foreign = await verify(docB.id, alpha.token);
    expect(foreign.status).toBe(404);
    expect(foreign.type).toMatch(/application\/problem\+json/);
    expect(foreign.body.code).toBe('invoice_not_found');
    expect((await verify('not-a-uuid', w.server.nocToken)).status).toBe(400);
  });

  it('a document changed in the database fails verification', async () => {
    // Flip one byte near the end of the stored PDF (outside the signature field). The table refuses updates (append-only
    // trigger), so the test plays an attacker with database rights: triggers off for this one transaction.
    await w.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update reports_invoices set pdf = set_byte(pdf, length(pdf) - 10, (get_byte(pdf, length(pdf) - 10) + 1) % 256) where id = ${docB.id}`.execute(
        trx,
      );
    });
    const out = await verify(docB.id, beta.token);
    expect(out.status).toBe(200);
    expect(out.body.ok).toBe(false);
    expect(out.body.lines.at(-1)).toMatch(/^RESULT: FAILED/);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await (await w.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/reports/invoices/{id}/verify']?.get).toBeDefined();
  });
});
