/**
 * The plan catalogue as a subscriber of one reseller sees it. Used by core's GET /api/core/plans, the portal,
 * billing and vouchers, so "which plans are on sale here" has one answer.
 */
import type { Kysely } from 'kysely';
import type { CoreDatabase, Plan } from './schema.js';

/** Plans on sale: the default catalogue, a reseller's plan replacing the default of the same code, cheapest first. */
export async function plansOnSale(db: Kysely<CoreDatabase>, resellerId: string | null): Promise<Plan[]> {
  const rows = await db
    .selectFrom('plans')
    .selectAll()
    .where('active', '=', true)
    .where((eb) => (resellerId ? eb.or([eb('reseller_id', 'is', null), eb('reseller_id', '=', resellerId)]) : eb('reseller_id', 'is', null)))
    .orderBy('price_fcfa')
    .execute();
  const byCode = new Map<string, Plan>();
  for (const r of rows) if (!byCode.has(r.code) || r.reseller_id) byCode.set(r.code, r);
  return [...byCode.values()].sort((a, b) => a.price_fcfa - b.price_fcfa);
}
