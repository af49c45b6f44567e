/**
 * Orders: what a subscriber is buying, under our reference. The plan is the subscriber's reseller's override of the
 * code when there is an active one, else the default catalogue's (as the portal shows them).
 */
import { randomInt } from 'node:crypto';
import { type Kysely, type Plan, sql } from '@rgz/core';
import type { BillingDatabase } from './schema.js';

/** No 0/O, 1/I/L: a reference read aloud or copied from a receipt is not misread. */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** `RGZP-` + 16 characters from a 31-letter alphabet: ~79 bits, unguessable and short enough to read out. */
export function newOrderReference(): string {
  let s = 'RGZP-';
  for (let i = 0; i < 16; i++) s += REFERENCE_ALPHABET[randomInt(0, REFERENCE_ALPHABET.length)];
  return s;
}

export const ORDER_REFERENCE = /^RGZP-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{16}$/;

/** The plan on sale under this code for a reseller (override first), or undefined. */
export async function planOnSale(db: Kysely<BillingDatabase>, resellerId: string | null, code: string): Promise<Plan | undefined> {
  const rows = await db
    .selectFrom('plans')
    .selectAll()
    .where('code', '=', code)
    .where('active', '=', true)
    .where((eb) => (resellerId ? eb.or([eb('reseller_id', 'is', null), eb('reseller_id', '=', resellerId)]) : eb('reseller_id', 'is', null)))
    .orderBy(sql`reseller_id is null`)
    .execute();
  return rows[0];
}
