/**
 * Batches: creation (codes drawn, checked unique, the ticket sheet rendered and sealed, everything inserted in one
 * transaction), views, the CSV export (serials and states, never codes: they are not recoverable), revocation of the
 * unredeemed codes, the sealed PDF for download, and the purge of expired PDFs.
 *
 * Handlers pass core's request database (`c.var.db`), already limited to the reseller's own rows for a reseller
 * principal (the three vouchers tables are reseller-owned), so nothing here filters by reseller by hand.
 */
import { randomUUID } from 'node:crypto';
import { type CoreDatabase, httpErrors, type Kysely, type Principal, plansOnSale, RgzError, sql, writeAudit } from '@rgz/core';
import { formatCode, generateCode, hashCode, open, seal } from './codes.js';
import type { VouchersContext } from './context.js';
import { renderTicketSheet } from './pdf.js';
import type { VoucherStatus, VouchersDatabase } from './schema.js';

type Db = Kysely<VouchersDatabase>;

export interface CreateBatchInput {
  reseller_id?: string | undefined;
  plan_code: string;
  count: number;
  price_fcfa?: number | undefined;
  expires_at?: string | undefined;
  label?: string | undefined;
}

export const batchLabel = (n: number | string) => `V${n}`;
export const serialOf = (batchNumber: number | string, serial: number) => `${batchLabel(batchNumber)}-${String(serial).padStart(4, '0')}`;

const DAY = 86_400_000;

function formatDay(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
}

/** Codes not yet used by any voucher: drawn, de-duplicated, and re-drawn where the database already has the hash. */
async function freshCodes(ctx: VouchersContext, db: Db, count: number): Promise<Array<{ code: string; hash: string }>> {
  const byHash = new Map<string, string>();
  for (let round = 0; round < 10 && byHash.size < count; round++) {
    const drawn: Array<{ code: string; hash: string }> = [];
    while (byHash.size + drawn.length < count) {
      const code = generateCode();
      const hash = hashCode(ctx.keys, code);
      if (!byHash.has(hash) && !drawn.some((d) => d.hash === hash)) drawn.push({ code, hash });
    }
    const taken = new Set<string>();
    for (let i = 0; i < drawn.length; i += 1000) {
      const rows = await db
        .selectFrom('vouchers_vouchers')
        .select('code_hash')
        .where(
          'code_hash',
          'in',
          drawn.slice(i, i + 1000).map((d) => d.hash),
        )
        .execute();
      for (const r of rows) taken.add(r.code_hash);
    }
    for (const d of drawn) if (!taken.has(d.hash)) byHash.set(d.hash, d.code);
  }
  if (byHash.size < count) throw new Error('could not draw enough unused codes');
  return [...byHash].map(([hash, code]) => ({ code, hash }));
}

export interface CreatedBatch {
  batchId: string;
  codes: Array<{ serial: string; code: string }>;
  pdfExpiresAt: Date;
  pdfBytes: number;
}

export async function createBatch(ctx: VouchersContext, db: Db, actor: Principal, input: CreateBatchInput): Promise<CreatedBatch> {
  const resellerId = actor.role === 'reseller' ? actor.resellerId : (input.reseller_id ?? null);
  if (!resellerId) throw httpErrors.badRequest('reseller_required', 'a batch is sold by a reseller: give reseller_id');
  if (actor.role === 'reseller' && input.reseller_id && input.reseller_id !== actor.resellerId) {
    throw httpErrors.forbidden('a reseller creates batches for itself only');
  }
  const reseller = await db.selectFrom('resellers').select(['id', 'status']).where('id', '=', resellerId).executeTakeFirst();
  if (!reseller) throw httpErrors.notFound('reseller_not_found', `no reseller ${resellerId}`);
  if (reseller.status !== 'active') throw httpErrors.conflict('reseller_suspended', 'this reseller is suspended');
  if (input.count > ctx.config.maxBatchSize) {
    throw httpErrors.badRequest('batch_too_large', `at most ${ctx.config.maxBatchSize} vouchers per batch`, { max: ctx.config.maxBatchSize });
  }
  const plan = (await plansOnSale(db as unknown as Kysely<CoreDatabase>, resellerId)).find((p) => p.code === input.plan_code);
  if (!plan) throw httpErrors.notFound('plan_not_found', `no plan "${input.plan_code}" on sale for this reseller`);
  const price = input.price_fcfa ?? Number(plan.price_fcfa);
  const now = Date.now();
  const expiresAt = input.expires_at ? new Date(input.expires_at) : new Date(now + ctx.config.defaultValidityDays * DAY);
  if (expiresAt.getTime() <= now) throw httpErrors.badRequest('expiry_in_past', 'expires_at must be in the future');
  if (expiresAt.getTime() > now + ctx.config.maxValidityDays * DAY) {
    throw httpErrors.badRequest('expiry_too_far', `expires_at must be within ${ctx.config.maxValidityDays} days`);
  }

  // Number and id first: the sheet prints the serials, and the seal is bound to the id.
  const { rows } = await sql<{ n: string }>`select nextval('vouchers_batches_number_seq')::text as n`.execute(db);
  const number = Number(rows[0]?.n);
  const batchId = randomUUID();
  const codes = await freshCodes(ctx, db, input.count);
  const tickets = codes.map((c, i) => ({ serial: serialOf(number, i + 1), code: c.code }));

  // Rendered in a worker thread before the transaction, so no connection is held while it runs.
  let pdf: Buffer;
  try {
    pdf = await renderTicketSheet({
      brand: ctx.config.brand,
      batchLabel: batchLabel(number),
      planName: plan.name,
      priceFcfa: price,
      expiresOn: formatDay(expiresAt, ctx.timezone),
      portalUrl: ctx.portalUrl,
      tickets,
    });
  } catch (err) {
    ctx.log.error({ err, batch: batchLabel(number) }, 'ticket sheet rendering failed; nothing was created');
    throw httpErrors.unavailable('pdf_failed', 'the ticket sheet could not be rendered; nothing was created, try again');
  }
  const pdfExpiresAt = new Date(Date.now() + ctx.config.pdf.ttlSeconds * 1000);

  try {
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('vouchers_batches')
        .values({
          id: batchId,
          number,
          reseller_id: resellerId,
          plan_id: plan.id,
          plan_code: plan.code,
          plan_name: plan.name,
          price_fcfa: price,
          count: input.count,
          expires_at: expiresAt,
          label: input.label ?? null,
          created_by: actor.tokenId,
          revoked_at: null,
        })
        .execute();
      for (let i = 0; i < codes.length; i += 1000) {
        await trx
          .insertInto('vouchers_vouchers')
          .values(
            codes.slice(i, i + 1000).map((c, j) => ({
              batch_id: batchId,
              reseller_id: resellerId,
              serial: i + j + 1,
              code_hash: c.hash,
              expires_at: expiresAt,
              redeemed_at: null,
              redeemed_by: null,
              subscription_id: null,
              revoked_at: null,
            })),
          )
          .execute();
      }
      await trx
        .insertInto('vouchers_batch_pdfs')
        .values({ batch_id: batchId, reseller_id: resellerId, sealed: seal(ctx.keys, pdf, batchId), size_bytes: pdf.length, expires_at: pdfExpiresAt })
        .execute();
      await writeAudit(trx, actor, {
        action: 'vouchers.batch.created',
        targetType: 'vouchers_batch',
        targetId: batchId,
        resellerId,
        details: {
          batch: batchLabel(number),
          plan_code: plan.code,
          count: input.count,
          price_fcfa: price,
          expires_at: expiresAt.toISOString(),
          label: input.label ?? null,
        },
      });
    });
  } catch (err) {
    // A code drawn by a concurrent batch between the check and the insert (odds ~count²/31^10): nothing was kept.
    if ((err as { code?: string }).code === '23505')
      throw httpErrors.conflict('code_collision', 'a drawn code was taken meanwhile; nothing was created, try again');
    throw err;
  }
  ctx.metrics.issued.inc(input.count);
  return { batchId, codes: tickets.map((t) => ({ serial: t.serial, code: formatCode(t.code) })), pdfExpiresAt, pdfBytes: pdf.length };
}

export interface BatchView {
  id: string;
  number: number;
  label: string;
  name: string | null;
  reseller_id: string;
  plan: { code: string; name: string };
  price_fcfa: number;
  count: number;
  expires_at: string;
  status: 'active' | 'revoked';
  counts: { active: number; expired: number; redeemed: number; revoked: number };
  /** Σ price of the redeemed vouchers: what was booked in the ledger for this batch. */
  redeemed_fcfa: number;
  pdf: { available: boolean; expires_at: string | null; downloads: number };
  created_at: string;
  revoked_at: string | null;
}

const iso = (d: Date | string) => new Date(d).toISOString();

export async function batchViews(
  db: Db,
  where: { id?: string; resellerId?: string; status?: 'active' | 'revoked'; limit?: number; offset?: number },
): Promise<BatchView[]> {
  let q = db.selectFrom('vouchers_batches').selectAll();
  if (where.id) q = q.where('id', '=', where.id);
  if (where.resellerId) q = q.where('reseller_id', '=', where.resellerId);
  if (where.status) q = q.where('status', '=', where.status);
  const batches = await q
    .orderBy('created_at', 'desc')
    .orderBy('number', 'desc')
    .limit(where.limit ?? 100)
    .offset(where.offset ?? 0)
    .execute();
  if (batches.length === 0) return [];
  const ids = batches.map((b) => b.id);
  const counts = await db
    .selectFrom('vouchers_vouchers')
    .select([
      'batch_id',
      sql<string>`count(*) filter (where status = 'active' and expires_at > now())::text`.as('active'),
      sql<string>`count(*) filter (where status = 'active' and expires_at <= now())::text`.as('expired'),
      sql<string>`count(*) filter (where status = 'redeemed')::text`.as('redeemed'),
      sql<string>`count(*) filter (where status = 'revoked')::text`.as('revoked'),
    ])
    .where('batch_id', 'in', ids)
    .groupBy('batch_id')
    .execute();
  const pdfs = await db.selectFrom('vouchers_batch_pdfs').select(['batch_id', 'expires_at', 'downloads']).where('batch_id', 'in', ids).execute();
  return batches.map((b) => {
    const c = counts.find((x) => x.batch_id === b.id);
    const p = pdfs.find((x) => x.batch_id === b.id);
    const redeemed = Number(c?.redeemed ?? 0);
    return {
      id: b.id,
      number: Number(b.number),
      label: batchLabel(b.number),
      name: b.label,
      reseller_id: b.reseller_id,
      plan: { code: b.plan_code, name: b.plan_name },
      price_fcfa: Number(b.price_fcfa),
      count: b.count,
      expires_at: iso(b.expires_at),
      status: b.status,
      counts: { active: Number(c?.active ?? 0), expired: Number(c?.expired ?? 0), redeemed, revoked: Number(c?.revoked ?? 0) },
      redeemed_fcfa: redeemed * Number(b.price_fcfa),
      pdf: {
        available: !!p && new Date(p.expires_at).getTime() > Date.now(),
        expires_at: p ? iso(p.expires_at) : null,
        downloads: p?.downloads ?? 0,
      },
      created_at: iso(b.created_at),
      revoked_at: b.revoked_at ? iso(b.revoked_at) : null,
    };
  });
}

export async function batchOr404(db: Db, id: string): Promise<BatchView> {
  const [view] = await batchViews(db, { id });
  if (!view) throw httpErrors.notFound('batch_not_found', `no batch ${id}`);
  return view;
}

/** Revoke every unredeemed voucher of the batch (expired ones included) and drop its PDF; idempotent. */
export async function revokeBatch(db: Db, actor: Principal, id: string, reason: string | undefined): Promise<number> {
  const batch = await batchOr404(db, id);
  return db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable('vouchers_vouchers')
      .set({ status: 'revoked', revoked_at: sql`now()` })
      .where('batch_id', '=', id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    const n = Number(revoked.numUpdatedRows);
    await trx.updateTable('vouchers_batches').set({ status: 'revoked', revoked_at: sql`coalesce(revoked_at, now())` }).where('id', '=', id).execute();
    await trx.deleteFrom('vouchers_batch_pdfs').where('batch_id', '=', id).execute();
    await writeAudit(trx, actor, {
      action: 'vouchers.batch.revoked',
      targetType: 'vouchers_batch',
      targetId: id,
      resellerId: batch.reseller_id,
      details: { batch: batch.label, revoked: n, already_redeemed: batch.counts.redeemed, reason: reason ?? null },
    });
    return n;
  });
}

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** `serial,status,expires_at,redeemed_at,subscriber_ref`: the batch's vouchers, never their codes. */
export async function batchCsv(db: Db, actor: Principal, id: string): Promise<string> {
  const batch = await batchOr404(db, id);
  const rows = await db
    .selectFrom('vouchers_vouchers as v')
    .leftJoin('subscribers as s', 's.id', 'v.redeemed_by')
    .select(['v.serial', 'v.status', 'v.expires_at', 'v.redeemed_at', 's.subscriber_ref', sql<boolean>`v.expires_at <= now()`.as('past')])
    .where('v.batch_id', '=', id)
    .orderBy('v.serial')
    .execute();
  const status = (s: VoucherStatus, past: boolean) => (s === 'active' && past ? 'expired' : s);
  const lines = ['serial,status,expires_at,redeemed_at,subscriber_ref'];
  for (const r of rows) {
    lines.push(
      [serialOf(batch.number, r.serial), status(r.status, r.past), iso(r.expires_at), r.redeemed_at ? iso(r.redeemed_at) : '', r.subscriber_ref ?? '']
        .map(csvField)
        .join(','),
    );
  }
  await writeAudit(db, actor, {
    action: 'vouchers.batch.exported',
    targetType: 'vouchers_batch',
    targetId: id,
    resellerId: batch.reseller_id,
    details: { batch: batch.label, rows: rows.length },
  });
  return `${lines.join('\r\n')}\r\n`;
}

/** The ticket sheet while it is kept (`pdf.ttlSeconds` after creation); 410 afterwards. */
export async function batchPdf(ctx: VouchersContext, db: Db, actor: Principal, id: string): Promise<{ pdf: Buffer; label: string }> {
  const batch = await batchOr404(db, id);
  const row = await db.selectFrom('vouchers_batch_pdfs').selectAll().where('batch_id', '=', id).executeTakeFirst();
  if (!row || new Date(row.expires_at).getTime() <= Date.now()) {
    throw new RgzError(
      'pdf_gone',
      `the ticket sheet of ${batch.label} was kept ${Math.round(ctx.config.pdf.ttlSeconds / 3600)} h after creation${batch.status === 'revoked' ? ' (or until the batch was revoked)' : ''}; codes cannot be recovered: revoke the batch and create a new one`,
      { status: 410 },
    );
  }
  const pdf = open(ctx.keys, Buffer.from(row.sealed), id);
  await db
    .updateTable('vouchers_batch_pdfs')
    .set((eb) => ({ downloads: eb('downloads', '+', 1) }))
    .where('batch_id', '=', id)
    .execute();
  await writeAudit(db, actor, {
    action: 'vouchers.batch.pdf_downloaded',
    targetType: 'vouchers_batch',
    targetId: id,
    resellerId: batch.reseller_id,
    details: { batch: batch.label, bytes: pdf.length, download: row.downloads + 1 },
  });
  return { pdf, label: batch.label };
}

/** Delete ticket sheets past their time (job `vouchers.purge-pdfs`). */
export async function purgeExpiredPdfs(db: Db): Promise<number> {
  const r = await db.deleteFrom('vouchers_batch_pdfs').where('expires_at', '<=', new Date()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
