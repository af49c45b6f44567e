/**
 * Daily reconciliation (seed flow 4, 00:15 UTC for the previous UTC day). KKiaPay has no list API, so the day's
 * candidates are everything we know of — payment rows in any status, stored webhooks and browser callbacks, orders
 * whose provider transaction id is known, and rows of an imported dashboard CSV — plus, for providers that can list
 * (FedaPay), the provider's own list. Each candidate is checked against the provider's API (bounded concurrency) and
 * settled with the same rules as the verification task, which yields the seed's outcomes:
 *   match             books and provider agree (paid and credited for the same amount, or not paid on either side)
 *   missing_in_db     paid at the provider, no payment row → inserted, plan activated, audited
 *   duplicate         a second paid transaction for an already-paid order → flagged for manual review, alert
 *   amount_mismatch   the provider's amount is below the order's price, or differs from the booked one → alert finance
 *   status_mismatch   paid at the provider, pending/failed here → credited and activated; or credited here but not
 *                     paid (failed/refunded) at the provider → flagged, alert
 * plus `orphan` (paid, no order of ours → flagged), `not_found` (the provider does not know it) and `unverified`
 * (the provider could not be asked). When the mismatched amount exceeds `thresholdPercent` of the day's revenue a
 * P1 incident is opened. Every repair goes through `settle`, which is idempotent, and alerts are deduplicated by id,
 * so re-running a day changes nothing the second time.
 */
import { httpErrors, type PaymentProvider, type PaymentTransaction, parseCsv } from '@rgz/core';
import { type BillingContext, enqueueAlert } from './context.js';
import type { ItemKind } from './schema.js';
import { flagPayment, type SettleOutcome, settle } from './settlement.js';
import { basisPoints } from './split.js';

const DAY_MS = 86_400_000;

/** Kinds whose amount counts towards the incident threshold. */
export const MISMATCH_KINDS: readonly ItemKind[] = ['missing_in_db', 'duplicate', 'amount_mismatch', 'status_mismatch', 'orphan'];

export type CandidateSource = 'payment' | 'webhook' | 'callback' | 'order' | 'import' | 'list';

interface Candidate {
  provider: string;
  transactionId: string;
  sources: Set<CandidateSource>;
  fallbackReference: string | null;
  listed?: PaymentTransaction;
}

export interface RunSummary {
  id: string;
  day: string;
  trigger: string;
  status: 'succeeded' | 'failed';
  candidates: number;
  counts: Record<string, number>;
  revenue_fcfa: number;
  mismatch_fcfa: number;
  mismatch_percent: number | null;
  incident: string | null;
  warnings: string[];
}

/** The UTC day before `at` (the 00:15 tick of day D+1 reconciles day D). */
export function dayBefore(at: Date): string {
  return new Date(at.getTime() - DAY_MS).toISOString().slice(0, 10);
}

export function dayRange(day: string): { from: Date; to: Date } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw httpErrors.badRequest('day_invalid', `day "${day}" must be a date YYYY-MM-DD`);
  }
  const from = new Date(`${day}T00:00:00Z`);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

/** Run `fn` over `items` with at most `limit` in flight. */
async function boundedPool<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

async function fetchTransaction(provider: PaymentProvider, id: string, attempts: number, signal?: AbortSignal): Promise<PaymentTransaction | null> {
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await provider.getTransaction(id, signal ? { signal } : {});
    } catch (err) {
      last = err;
      if ((err as { kind?: string }).kind === 'permanent' || attempt === attempts) break;
      await sleep(200 * 2 ** (attempt - 1), signal);
    }
  }
  throw last;
}

interface ItemRow {
  run_id: string;
  provider: string;
  provider_transaction_id: string;
  kind: ItemKind;
  action: string;
  sources: string[];
  db_status: string | null;
  provider_status: string | null;
  db_amount_fcfa: number | null;
  provider_amount_fcfa: number | null;
  payment_id: string | null;
  order_reference: string | null;
  detail: string | null;
}

function classify(o: SettleOutcome): { kind: ItemKind; action: string } {
  switch (o.result) {
    case 'credited':
      return o.previousStatus === null ? { kind: 'missing_in_db', action: 'inserted' } : { kind: 'status_mismatch', action: 'activated' };
    case 'already_credited':
      return { kind: 'match', action: 'none' };
    case 'not_paid':
      return { kind: 'match', action: o.previousStatus === null ? 'recorded' : 'none' };
    case 'amount_mismatch':
    case 'duplicate':
    case 'orphan':
      return { kind: o.result, action: o.flagged ? 'flagged' : 'none' };
    case 'provider_disagrees':
      return { kind: o.disagreement === 'amount' ? 'amount_mismatch' : 'status_mismatch', action: o.flagged ? 'flagged' : 'none' };
  }
}

/** `onRun` is told the run id as soon as the run row exists (an API caller that does not wait polls it). */
export async function runReconciliation(
  ctx: BillingContext,
  day: string,
  trigger: string,
  signal?: AbortSignal,
  onRun?: (runId: string) => void,
): Promise<RunSummary> {
  const { from, to } = dayRange(day);
  const cfg = ctx.config.reconciliation;
  const db = ctx.db;
  // A run that died without finishing (process killed) must not block the day forever.
  await db
    .updateTable('billing_reconciliation_runs')
    .set({ status: 'failed', error: 'abandoned (no progress; the process probably stopped)', finished_at: new Date() })
    .where('day', '=', day)
    .where('status', '=', 'running')
    .where('started_at', '<', new Date(Date.now() - cfg.timeoutSeconds * 1000))
    .execute();
  let runId: string;
  try {
    const run = await db
      .insertInto('billing_reconciliation_runs')
      .values({ day, trigger, status: 'running', counts: JSON.stringify({}), incident: null, error: null, finished_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    runId = run.id;
    onRun?.(runId);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw httpErrors.conflict('reconciliation_running', `a reconciliation of ${day} is already running`);
    throw err;
  }
  const log = ctx.log.child({ reconciliation_run: runId, day });
  const warnings: string[] = [];
  try {
    const candidates = await gather(ctx, from, to, warnings, signal);
    const known = await loadKnown(ctx, candidates.values());
    const items: ItemRow[] = [];
    let revenue = 0n;
    let mismatch = 0n;
    const counts: Record<string, number> = {};
    await boundedPool([...candidates.values()], cfg.concurrency, signal, async (c) => {
      const item = await checkCandidate(ctx, runId, c, known.get(`${c.provider}\u0000${c.transactionId}`), signal);
      items.push(item);
      counts[item.kind] = (counts[item.kind] ?? 0) + 1;
      if (item.provider_status === 'succeeded' && item.provider_amount_fcfa !== null) revenue += BigInt(item.provider_amount_fcfa);
      if (MISMATCH_KINDS.includes(item.kind)) {
        mismatch += BigInt(item.provider_amount_fcfa ?? item.db_amount_fcfa ?? 0);
      }
      if (item.kind !== 'match') ctx.metrics.reconciliationMismatches.inc({ kind: item.kind });
    });
    items.sort((a, b) => a.provider.localeCompare(b.provider) || a.provider_transaction_id.localeCompare(b.provider_transaction_id));
    for (let i = 0; i < items.length; i += 500) {
      await db
        .insertInto('billing_reconciliation_items')
        .values(items.slice(i, i + 500))
        .execute();
    }
    // mismatch / revenue > threshold %  ⇔  mismatch × 10 000 > revenue × threshold (basis points); exact.
    const thresholdBp = basisPoints(cfg.thresholdPercent);
    const over = mismatch > 0n && mismatch * 10_000n > revenue * thresholdBp;
    const percent = revenue > 0n ? Number((mismatch * 1_000_000n) / revenue) / 10_000 : null;
    let incident: string | null = null;
    if (over) {
      incident = 'P1';
      const summary = `${day}: mismatches of ${mismatch} FCFA against a revenue of ${revenue} FCFA (${percent ?? '∞'} %, threshold ${cfg.thresholdPercent} %); run ${runId}`;
      log.error(
        { mismatch_fcfa: mismatch.toString(), revenue_fcfa: revenue.toString(), counts },
        `reconciliation mismatches above ${cfg.thresholdPercent} % of the day's revenue`,
      );
      await enqueueAlert(ctx, db, {
        id: `reconciliation_threshold:${day}`,
        kind: 'reconciliation_threshold',
        priority: 'P1',
        title: `Payment reconciliation of ${day}: mismatches above ${cfg.thresholdPercent} % of revenue`,
        summary,
        labels: { kind: 'reconciliation_threshold', day },
      });
    }
    await db
      .updateTable('billing_reconciliation_runs')
      .set({
        status: 'succeeded',
        candidates: items.length,
        revenue_fcfa: revenue.toString(),
        mismatch_fcfa: mismatch.toString(),
        counts: JSON.stringify(counts),
        incident,
        error: warnings.length ? warnings.join('; ').slice(0, 2000) : null,
        finished_at: new Date(),
      })
      .where('id', '=', runId)
      .execute();
    log.info({ candidates: items.length, counts, revenue_fcfa: revenue.toString(), mismatch_fcfa: mismatch.toString(), incident }, 'reconciliation finished');
    return {
      id: runId,
      day,
      trigger,
      status: 'succeeded',
      candidates: items.length,
      counts,
      revenue_fcfa: Number(revenue),
      mismatch_fcfa: Number(mismatch),
      mismatch_percent: percent,
      incident,
      warnings,
    };
  } catch (err) {
    await db
      .updateTable('billing_reconciliation_runs')
      .set({ status: 'failed', error: (err instanceof Error ? err.message : String(err)).slice(0, 2000), finished_at: new Date() })
      .where('id', '=', runId)
      .execute()
      .catch(() => undefined);
    throw err;
  }
}

async function gather(ctx: BillingContext, from: Date, to: Date, warnings: string[], signal?: AbortSignal): Promise<Map<string, Candidate>> {
  const db = ctx.db;
  const candidates = new Map<string, Candidate>();
  const add = (provider: string, transactionId: string, source: CandidateSource, reference?: string | null, listed?: PaymentTransaction) => {
    const key = `${provider}\u0000${transactionId}`;
    let c = candidates.get(key);
    if (!c) candidates.set(key, (c = { provider, transactionId, sources: new Set(), fallbackReference: null }));
    c.sources.add(source);
    if (reference && !c.fallbackReference) c.fallbackReference = reference;
    if (listed) c.listed = listed;
  };
  const payments = await db
    .selectFrom('billing_payments')
    .select(['provider', 'provider_transaction_id'])
    .where((eb) =>
      eb.or([eb.and([eb('performed_at', '>=', from), eb('performed_at', '<', to)]), eb.and([eb('created_at', '>=', from), eb('created_at', '<', to)])]),
    )
    .execute();
  for (const p of payments) add(p.provider, p.provider_transaction_id, 'payment');
  const events = await db
    .selectFrom('billing_payment_events')
    .select(['provider', 'provider_transaction_id', 'kind', 'claimed_reference'])
    .where('received_at', '>=', from)
    .where('received_at', '<', to)
    .orderBy('id')
    .execute();
  // Only an authenticated webhook's reference may stand in for one the provider API does not echo.
  for (const e of events) add(e.provider, e.provider_transaction_id, e.kind, e.kind === 'webhook' ? e.claimed_reference : null);
  const orders = await db
    .selectFrom('billing_orders')
    .select(['provider', 'provider_transaction_id', 'reference'])
    .where('provider_transaction_id', 'is not', null)
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .execute();
  for (const o of orders) add(o.provider, o.provider_transaction_id as string, 'order', o.reference);
  const imported = await db
    .selectFrom('billing_reconciliation_import_rows')
    .select(['provider', 'provider_transaction_id', 'reference'])
    .where('performed_at', '>=', from)
    .where('performed_at', '<', to)
    .execute();
  for (const r of imported) add(r.provider, r.provider_transaction_id, 'import', r.reference);
  for (const [id, provider] of ctx.providers()) {
    if (!provider.capabilities.canList || !provider.listTransactions) continue;
    try {
      for await (const tx of provider.listTransactions({ from, to }, signal ? { signal } : {})) add(id, tx.providerRef, 'list', null, tx);
    } catch (err) {
      const message = `listing ${id} failed: ${err instanceof Error ? err.message : String(err)}`;
      warnings.push(message);
      ctx.log.warn({ err, provider: id }, 'reconciliation could not list the provider transactions; using our own candidates');
    }
  }
  return candidates;
}

interface Known {
  id: string;
  status: string;
  provider_status: string;
  amount_fcfa: number;
  reference: string | null;
}

/** Our payment rows of the candidates, in a few queries (one per provider and 1000 ids) instead of one per candidate. */
async function loadKnown(ctx: BillingContext, candidates: Iterable<Candidate>): Promise<Map<string, Known>> {
  const byProvider = new Map<string, string[]>();
  for (const c of candidates) {
    const ids = byProvider.get(c.provider) ?? [];
    ids.push(c.transactionId);
    byProvider.set(c.provider, ids);
  }
  const known = new Map<string, Known>();
  for (const [provider, ids] of byProvider) {
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await ctx.db
        .selectFrom('billing_payments')
        .select(['id', 'provider_transaction_id', 'status', 'provider_status', 'amount_fcfa', 'reference'])
        .where('provider', '=', provider)
        .where('provider_transaction_id', 'in', ids.slice(i, i + 1000))
        .execute();
      for (const r of rows) known.set(`${provider}\u0000${r.provider_transaction_id}`, { ...r, amount_fcfa: Number(r.amount_fcfa) });
    }
  }
  return known;
}

/** Books and provider already agree: nothing to settle (the common case; no database write, no lock). */
function agrees(before: Known | undefined, tx: PaymentTransaction): boolean {
  if (!before || !tx.amount || tx.amount.currency !== 'XOF' || tx.amount.amountMinor !== before.amount_fcfa) return false;
  if (before.status === 'credited') return tx.status === 'succeeded';
  if (before.status === 'refunded') return tx.status === 'refunded' || tx.status === 'partially_refunded';
  if (before.status === 'failed') return before.provider_status === tx.status && (tx.status === 'failed' || tx.status === 'cancelled');
  return false;
}

async function checkCandidate(ctx: BillingContext, runId: string, c: Candidate, before: Known | undefined, signal?: AbortSignal): Promise<ItemRow> {
  const row: ItemRow = {
    run_id: runId,
    provider: c.provider,
    provider_transaction_id: c.transactionId,
    kind: 'unverified',
    action: 'none',
    sources: [...c.sources].sort(),
    db_status: before?.status ?? null,
    provider_status: null,
    db_amount_fcfa: before ? Number(before.amount_fcfa) : null,
    provider_amount_fcfa: null,
    payment_id: before?.id ?? null,
    order_reference: before?.reference ?? null,
    detail: null,
  };
  const provider = ctx.providers().get(c.provider);
  if (!provider) return { ...row, detail: `payment provider "${c.provider}" is not loaded` };
  let tx: PaymentTransaction | null;
  try {
    tx = c.listed ?? (await fetchTransaction(provider, c.transactionId, ctx.config.reconciliation.providerAttempts, signal));
  } catch (err) {
    signal?.throwIfAborted();
    return { ...row, detail: `provider call failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500) };
  }
  if (!tx) {
    let action = 'none';
    if (before?.status === 'credited' && (await flagPayment(ctx, before.id, 'status_mismatch', 'credited here but unknown to the provider')))
      action = 'flagged';
    return { ...row, kind: 'not_found', action, detail: 'the provider does not know this transaction' };
  }
  const providerAmount = tx.amount && Number.isSafeInteger(tx.amount.amountMinor) ? tx.amount.amountMinor : null;
  if (agrees(before, tx)) return { ...row, kind: 'match', action: 'none', provider_status: tx.status, provider_amount_fcfa: providerAmount };
  const outcome = await settle(ctx, c.provider, tx, { fallbackReference: c.fallbackReference, via: 'reconciliation' });
  const { kind, action } = classify(outcome);
  return {
    ...row,
    kind,
    action,
    provider_status: tx.status,
    provider_amount_fcfa: providerAmount,
    payment_id: outcome.paymentId,
    db_status: before?.status ?? null,
    order_reference: outcome.orderReference,
    detail: outcome.detail ?? null,
  };
}

// --- dashboard CSV import --------------------------------------------------------------------------------------

const COLUMN_ALIASES: Record<string, 'transaction_id' | 'amount_fcfa' | 'performed_at' | 'status' | 'reference'> = {
  transaction_id: 'transaction_id',
  transactionid: 'transaction_id',
  'transaction id': 'transaction_id',
  amount_fcfa: 'amount_fcfa',
  amount: 'amount_fcfa',
  montant: 'amount_fcfa',
  performed_at: 'performed_at',
  performedat: 'performed_at',
  date: 'performed_at',
  status: 'status',
  statut: 'status',
  reference: 'reference',
  référence: 'reference',
};

export interface ImportError {
  line: number;
  message: string;
}

export interface ImportResult {
  import_id: string;
  provider: string;
  rows: number;
  inserted: number;
  already_known: number;
}

/** `YYYY-MM-DDTHH:MM[:SS][.sss](Z|±HH:MM)`, or `YYYY-MM-DD[ HH:MM[:SS]]` read as UTC. */
export function parseTimestamp(value: string): Date | null {
  const v = value.trim();
  const local = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?$/.exec(v);
  const iso = local ? `${local[1]}T${local[2] ?? '00:00:00'}Z` : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : null;
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Parse and store an operator's dashboard export. All rows or none: the first errors are returned instead. */
export async function importCsv(ctx: BillingContext, provider: string, text: string, uploadedBy: string | null): Promise<ImportResult> {
  let rows: string[][];
  try {
    rows = parseCsv(text);
  } catch (err) {
    throw httpErrors.badRequest('csv_invalid', `the CSV cannot be read: ${(err as Error).message}`);
  }
  const header = rows[0];
  if (!header) throw httpErrors.badRequest('csv_empty', 'the CSV is empty; the first line names the columns');
  const index: Partial<Record<'transaction_id' | 'amount_fcfa' | 'performed_at' | 'status' | 'reference', number>> = {};
  header.forEach((h, i) => {
    const key = COLUMN_ALIASES[h.trim().toLowerCase()];
    if (key && index[key] === undefined) index[key] = i;
  });
  const missing = (['transaction_id', 'amount_fcfa', 'performed_at'] as const).filter((k) => index[k] === undefined);
  if (missing.length) throw httpErrors.badRequest('csv_columns_missing', `missing column(s) ${missing.join(', ')}; header read: ${header.join(', ')}`);
  const errors: ImportError[] = [];
  const parsed: Array<{ id: string; amount: number; performedAt: Date; status: string | null; reference: string | null }> = [];
  const seen = new Set<string>();
  for (const [i, r] of rows.slice(1).entries()) {
    const line = i + 2;
    const get = (k: keyof typeof index) => (index[k] === undefined ? '' : (r[index[k] as number] ?? '').trim());
    const id = get('transaction_id');
    const amountText = get('amount_fcfa').replace(/[\s\u00a0\u202f]/g, '');
    const performedAt = parseTimestamp(get('performed_at'));
    const fault = !/^[A-Za-z0-9_.:-]{1,64}$/.test(id)
      ? `transaction_id "${id}" is empty or has characters other than letters, digits, _ . : -`
      : !/^\d{1,15}$/.test(amountText)
        ? `amount_fcfa "${get('amount_fcfa')}" is not a whole number of francs`
        : !performedAt
          ? `performed_at "${get('performed_at')}" is not a date (ISO 8601, or YYYY-MM-DD HH:MM:SS in UTC)`
          : seen.has(id)
            ? `transaction_id "${id}" appears twice in the file`
            : null;
    if (fault || !performedAt) {
      errors.push({ line, message: fault ?? 'invalid row' });
      continue;
    }
    seen.add(id);
    parsed.push({ id, amount: Number(amountText), performedAt, status: get('status') || null, reference: get('reference') || null });
  }
  if (errors.length)
    throw httpErrors.badRequest('csv_rows_invalid', `${errors.length} row(s) are invalid; nothing was imported`, { errors: errors.slice(0, 50) });
  if (parsed.length === 0) throw httpErrors.badRequest('csv_empty', 'the CSV has a header but no rows');
  return ctx.db.transaction().execute(async (trx) => {
    const imp = await trx
      .insertInto('billing_reconciliation_imports')
      .values({ provider, rows: parsed.length, inserted: 0, uploaded_by: uploadedBy })
      .returning('id')
      .executeTakeFirstOrThrow();
    let inserted = 0;
    for (let i = 0; i < parsed.length; i += 500) {
      const res = await trx
        .insertInto('billing_reconciliation_import_rows')
        .values(
          parsed.slice(i, i + 500).map((p) => ({
            import_id: imp.id,
            provider,
            provider_transaction_id: p.id,
            amount_fcfa: p.amount,
            status: p.status,
            reference: p.reference,
            performed_at: p.performedAt,
          })),
        )
        .onConflict((oc) => oc.columns(['provider', 'provider_transaction_id']).doNothing())
        .returning('id')
        .execute();
      inserted += res.length;
    }
    await trx.updateTable('billing_reconciliation_imports').set({ inserted }).where('id', '=', imp.id).execute();
    return { import_id: imp.id, provider, rows: parsed.length, inserted, already_known: parsed.length - inserted };
  });
}
