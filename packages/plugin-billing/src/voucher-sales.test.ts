/**
 * Voucher sales through core's `ledgerWriter` (what the vouchers plugin calls at redemption): the split of a payment
 * with no provider fee, the reseller's `payable` account debited by the cash it holds, idempotent per voucher, the
 * balance moving by RGZ's share, and the posting refused by the database when it names no voucher.
 */
import { randomUUID } from 'node:crypto';
import { type CoreDatabase, ledgerReader, ledgerWriter, sql, type Transaction } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createReseller, createWorld, type Node, unbalanced, type World } from './test-support/harness.js';

describe.each(BACKENDS)('voucher sales in the ledger on %s storage', (backend) => {
  let world: World;
  let node: Node;

  beforeAll(async () => {
    world = await createWorld(backend, { plugins: [] });
    node = await world.node();
  });
  afterAll(async () => {
    await world?.close();
  });

  const writer = () => node.kernel.get(ledgerWriter);
  const sale = (resellerId: string, amountFcfa: number, voucherId = randomUUID()) => ({
    voucherId,
    batchId: randomUUID(),
    resellerId,
    amountFcfa,
    planCode: 'DAY10MB',
    serial: 'V1-0001',
  });
  const postIn = (s: ReturnType<typeof sale>) => node.kernel.db.transaction().execute((trx) => writer().postVoucherSale(trx as Transaction<CoreDatabase>, s));
  const lines = async (voucherId: string) =>
    (
      await node.db
        .selectFrom('billing_ledger_entries as e')
        .innerJoin('billing_postings as p', 'p.id', 'e.posting_id')
        .select(['p.kind', 'p.payment_id', 'e.account', 'e.debit_fcfa', 'e.credit_fcfa'])
        .where('e.voucher_id', '=', voucherId)
        .orderBy('e.id')
        .execute()
    ).map((l) => [l.kind, l.payment_id, l.account.replace(/[0-9a-f-]{36}/, 'R'), Number(l.debit_fcfa) || -Number(l.credit_fcfa)]);

  it('tells the portal where plans are bought', () => {
    expect(writer().ordersPath).toBe('/api/billing/orders');
  });

  it('books 1000 FCFA with the seed split and no provider fee; the reseller owes RGZ its share', async () => {
    const reseller = await createReseller(node, { fee: 5, share: 50 });
    const s = sale(reseller.id, 1000);
    // G = 1000, F = 0, R = 50, N = 950 → reseller 475, RGZ 475.
    expect(await postIn(s)).toMatchObject({ grossFcfa: 1000, resellerFeeFcfa: 50, resellerShareFcfa: 475, rgzShareFcfa: 475 });
    expect(await lines(s.voucherId)).toEqual([
      ['voucher_sale', null, 'payable:reseller:R', 1000],
      ['voucher_sale', null, 'reseller_fee:R', -50],
      ['voucher_sale', null, 'revenue:reseller:R', -475],
      ['voucher_sale', null, 'revenue:rgz', -475],
    ]);
    const res = await node.request(`/api/billing/resellers/${reseller.id}/balance`, { headers: auth(reseller.token) });
    expect(((await res.json()) as { balance_fcfa: number }).balance_fcfa).toBe(-475);
    expect(await unbalanced(node.db)).toEqual([]);
  });

  it('a voucher sale is in the reseller statement invoices are built from (ledgerReader), figures to the franc', async () => {
    const reseller = await createReseller(node, { fee: 5, share: 50 });
    const from = new Date(Date.now() - 1000);
    const s = sale(reseller.id, 5000);
    await postIn(s); // G 5000, R 250, N 4750 → reseller 2375, RGZ 2375
    const st = await node.kernel.get(ledgerReader).resellerStatement(reseller.id, from, new Date(Date.now() + 1000));
    const lines = st.postings.filter((p) => p.kind === 'voucher_sale');
    expect(lines.map((p) => [p.gross, p.providerFee, p.resellerFee, p.resellerShare, p.rgzShare])).toEqual([[5000n, 0n, 250n, 2375n, 2375n]]);
  });

  it('an odd net gives the odd franc to RGZ; a second post of the same voucher books nothing', async () => {
    const reseller = await createReseller(node, { fee: 5, share: 50 });
    const s = sale(reseller.id, 999);
    // G = 999, R = round_half_up(49.95) = 50, N = 949 → reseller floor(474.5) = 474, RGZ 475.
    expect(await postIn(s)).toMatchObject({ resellerFeeFcfa: 50, resellerShareFcfa: 474, rgzShareFcfa: 475 });
    expect(await postIn(s)).toBeNull();
    expect(await lines(s.voucherId)).toHaveLength(4);
  });

  it('a free voucher books nothing; the ledger route shows voucher lines', async () => {
    const reseller = await createReseller(node);
    expect(await postIn(sale(reseller.id, 0))).toBeNull();
    const s = sale(reseller.id, 5000);
    await postIn(s);
    const res = await node.request(`/api/billing/ledger?voucher_id=${s.voucherId}`, { headers: auth(node.nocToken) });
    const body = (await res.json()) as { items: Array<{ posting_kind: string; voucher_id: string }>; totals: { balance_fcfa: number } };
    expect(body.items.map((i) => [i.posting_kind, i.voucher_id])).toEqual(Array(4).fill(['voucher_sale', s.voucherId]));
    expect(body.totals.balance_fcfa).toBe(0);
  });

  it('the database refuses a voucher posting that names no voucher, and a payment posting that names none', async () => {
    await expect(sql`insert into billing_postings (kind) values ('voucher_sale')`.execute(node.db)).rejects.toThrow(/billing_postings_subject_check/);
    await expect(sql`insert into billing_postings (kind) values ('payment')`.execute(node.db)).rejects.toThrow(/billing_postings_subject_check/);
  });
});
