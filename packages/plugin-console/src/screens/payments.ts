/**
 * Plans and prices per reseller; payments with filters, one payment's history, refunds, CSV export; the ledger and
 * reseller balances; reconciliation runs with their mismatches, and running one again (a long action).
 */
import { apiError, autoTable, type Column, form, link, money, notice, page, type Req, redirect, table, when } from '../app.js';
import { type Html, h } from '../html.js';
import type { ConsoleRoutes } from '../index.js';

type Row = Record<string, unknown>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const STATUSES = ['pending', 'credited', 'failed', 'amount_mismatch', 'orphan', 'duplicate', 'refunded'];

interface Reseller {
  id: string;
  name: string;
}

const PAYMENT_COLUMNS: Column[] = [
  ['created_at', 'date'],
  ['subscriber_ref', 'ref'],
  ['provider', 'provider'],
  ['status', 'status'],
  ['amount_fcfa', 'amount'],
  ['plan_code', 'plan'],
];

async function resellers(r: Req): Promise<Reseller[]> {
  const res = await r.api.get<{ items: Reseller[] }>('/api/core/resellers');
  return res.ok ? res.data.items : [];
}

/** Filters from the query string, checked before they reach the API (dates as YYYY-MM-DD, Bénin time). */
function filters(r: Req): { query: Record<string, string>; error: string | null; values: Record<string, string> } {
  const q = r.c.req.query();
  const values = { status: q.status ?? '', from: q.from ?? '', to: q.to ?? '', reseller_id: q.reseller_id ?? '' };
  const query: Record<string, string> = {};
  let error: string | null = null;
  if (values.status && STATUSES.includes(values.status)) query.status = values.status;
  for (const k of ['from', 'to'] as const) {
    if (!values[k]) continue;
    if (!DAY.test(values[k]) || Number.isNaN(Date.parse(values[k]))) error = r.t('e_date');
    else query[k] = `${values[k]}T00:00:00+01:00`;
  }
  if (values.reseller_id && UUID.test(values.reseller_id) && r.user.role === 'noc') query.reseller_id = values.reseller_id;
  return { query, error, values };
}

export function registerPayments(routes: ConsoleRoutes): void {
  const plansPage = async (r: Req, opts: { error?: string | null; ok?: string | null; values?: Record<string, string> } = {}) => {
    const { t } = r;
    const all = r.user.role === 'noc' ? await resellers(r) : [];
    const chosen = r.user.role === 'noc' ? (opts.values?.reseller ?? r.c.req.query('reseller') ?? '') : (r.user.resellerId ?? '');
    const res = await r.api.get<{ items: Row[] }>('/api/core/plans', UUID.test(chosen) ? { reseller: chosen } : {});
    const v = opts.values ?? {};
    const picker =
      r.user.role === 'noc'
        ? h`<form method="get" action="/console/plans" class="box"><div class="row"><div><label for="reseller">${t('plans_for')}</label>
<select id="reseller" name="reseller"><option value="">${t('operator')}</option>${all.map((x) => h`<option value="${x.id}"${x.id === chosen ? h` selected` : ''}>${x.name}</option>`)}</select></div>
<button type="submit">${t('filter')}</button></div></form>`
        : h``;
    // A reseller's own price for a plan (PUT /api/core/resellers/{id}/plans/{code}); the operator's catalogue is not edited here.
    const priceForm =
      UUID.test(chosen) && res.ok
        ? h`<form method="post" action="/console/plans" class="box" novalidate><h2>${t('set_price')}</h2><input type="hidden" name="reseller" value="${chosen}">
<div class="row"><div><label for="code">${t('plan')}</label><select id="code" name="code"><option value="">—</option>${res.data.items.map((p) => h`<option value="${String(p.code)}"${v.code === p.code ? h` selected` : ''}>${String(p.name)}</option>`)}</select></div>
<div><label for="price">${t('price')} (FCFA)</label><input id="price" name="price" inputmode="numeric" value="${v.price ?? ''}" maxlength="9"></div>
<button type="submit">${t('save')}</button></div></form>`
        : h``;
    // Withdrawing a reseller's own price (DELETE …/plans/{code}) asks for a ticked confirmation, so it works without JavaScript.
    const own = res.ok ? res.data.items.filter((p) => p.reseller_id === chosen && UUID.test(chosen)) : [];
    const withdrawForm = own.length
      ? h`<form method="post" action="/console/plans/withdraw" class="box" novalidate><h2>${t('withdraw_price')}</h2><input type="hidden" name="reseller" value="${chosen}">
<span class="help" id="withdraw-help">${t('withdraw_help')}</span>
<div class="row"><div><label for="withdraw-code">${t('plan')}</label><select id="withdraw-code" name="code" aria-describedby="withdraw-help"><option value="">—</option>${own.map((p) => h`<option value="${String(p.code)}"${v.withdraw === p.code ? h` selected` : ''}>${String(p.name)} (${money(r, p.price_fcfa as number)})</option>`)}</select></div>
<div><input type="checkbox" id="confirm" name="confirm" value="yes" required> <label for="confirm">${t('withdraw_confirm')}</label></div>
<button type="submit" class="danger">${t('withdraw_price')}</button></div></form>`
      : h``;
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}${picker}${
      res.ok
        ? table(
            r,
            [t('plan'), t('price'), t('quota'), t('validity'), t('speed')],
            res.data.items.map((p) => [
              String(p.name),
              p.reseller_id ? `${money(r, p.price_fcfa as number)} (${t('own_price')})` : money(r, p.price_fcfa as number),
              p.quota_bytes ? `${Math.round(Number(p.quota_bytes) / 1048576)} Mo${p.quota_period ? ` / ${p.quota_period}` : ''}` : t('unlimited'),
              `${Math.round(Number(p.validity_seconds) / 3600)} h`,
              p.rate_down_kbps ? `${p.rate_down_kbps} / ${p.rate_up_kbps ?? '—'} kbit/s` : '—',
            ]),
          )
        : notice('error', apiError(r, res, '/api/core/plans'))
    }${priceForm}${withdrawForm}`;
    return page(r, t('plans'), body, '/console/plans', opts.error ? 400 : 200);
  };

  routes.get('/plans', 'Console: plans and prices per reseller', async (r) => {
    const ok = r.c.req.query('ok');
    return plansPage(r, { ok: ok === 'withdrawn' ? r.t('withdrawn') : ok ? r.t('saved') : null });
  });

  routes.post('/plans', 'Console: set a reseller’s own price for a plan', async (r) => {
    const f = await form(r.c);
    const values = { reseller: f.reseller ?? '', code: f.code ?? '', price: f.price ?? '' };
    const reseller = r.user.role === 'noc' ? values.reseller : (r.user.resellerId ?? '');
    const price = Number(values.price.replace(/\s/g, ''));
    if (!UUID.test(reseller) || !/^[A-Za-z0-9_-]{1,40}$/.test(values.code)) return plansPage(r, { error: r.t('e_plan'), values });
    if (!/^\d{1,9}$/.test(values.price.replace(/\s/g, '')) || price < 1) return plansPage(r, { error: r.t('e_price'), values });
    const path = `/api/core/resellers/${reseller}/plans/${encodeURIComponent(values.code)}`;
    const res = await r.api.put(path, { price_fcfa: price });
    if (!res.ok) return plansPage(r, { error: apiError(r, res, '/api/core/resellers/{id}/plans/{code}'), values });
    return redirect(`/console/plans?${r.user.role === 'noc' ? `reseller=${reseller}&` : ''}ok=1`);
  });

  routes.post('/plans/withdraw', 'Console: withdraw a reseller’s own price (its subscribers get the catalogue price again)', async (r) => {
    const f = await form(r.c);
    const reseller = r.user.role === 'noc' ? (f.reseller ?? '') : (r.user.resellerId ?? '');
    const code = f.code ?? '';
    const values = { reseller, withdraw: code };
    if (!UUID.test(reseller) || !/^[A-Za-z0-9_-]{1,40}$/.test(code)) return plansPage(r, { error: r.t('e_plan'), values });
    if (f.confirm !== 'yes') return plansPage(r, { error: r.t('e_confirm'), values });
    const res = await r.api.delete(`/api/core/resellers/${reseller}/plans/${encodeURIComponent(code)}`);
    if (!res.ok) return plansPage(r, { error: apiError(r, res, '/api/core/resellers/{id}/plans/{code}'), values });
    return redirect(`/console/plans?${r.user.role === 'noc' ? `reseller=${reseller}&` : ''}ok=withdrawn`);
  });

  routes.get('/payments', 'Console: payments with filters, reseller balances', async (r) => {
    const { t } = r;
    const f = filters(r);
    const offset = Math.max(0, Number(r.c.req.query('offset') ?? 0) || 0);
    const noc = r.user.role === 'noc';
    const [list, all] = await Promise.all([
      f.error ? null : r.api.get<{ items: Row[] }>('/api/billing/payments', { ...f.query, limit: 50, offset }),
      noc ? resellers(r) : Promise.resolve([] as Reseller[]),
    ]);
    // Every balance in one call; one call per reseller when this billing has no /balances route.
    const allBalances = await r.api.get<{ items: Array<{ reseller_id: string; balance_fcfa: number }> }>('/api/billing/balances');
    const balanceOf = noc ? all.map((x) => x.id) : r.user.resellerId ? [r.user.resellerId] : [];
    const balances = allBalances.ok
      ? allBalances.data.items.map((b) => [b.reseller_id, { ok: true as const, status: 200, data: { balance_fcfa: b.balance_fcfa } }] as const)
      : await Promise.all(balanceOf.map((id) => r.api.get<{ balance_fcfa: number }>(`/api/billing/resellers/${id}/balance`).then((b) => [id, b] as const)));
    const name = (id: string) => all.find((x) => x.id === id)?.name ?? r.user.name;
    const csv = new URLSearchParams(f.query).toString();
    const body = h`${notice('error', f.error)}
<form method="get" action="/console/payments" class="box"><div class="row">
<div><label for="status">${t('status')}</label><select id="status" name="status"><option value="">${t('all')}</option>${STATUSES.map((s) => h`<option${s === f.values.status ? h` selected` : ''}>${s}</option>`)}</select></div>
<div><label for="from">${t('from')}</label><input id="from" name="from" type="date" value="${f.values.from}"></div>
<div><label for="to">${t('to')}</label><input id="to" name="to" type="date" value="${f.values.to}"></div>
${noc ? h`<div><label for="reseller_id">${t('reseller')}</label><select id="reseller_id" name="reseller_id"><option value="">${t('all')}</option>${all.map((x) => h`<option value="${x.id}"${x.id === f.values.reseller_id ? h` selected` : ''}>${x.name}</option>`)}</select></div>` : ''}
<button type="submit">${t('filter')}</button></div></form>
<p><a href="/console/payments.csv${csv ? `?${csv}` : ''}" download>${t('download_csv')}</a>${noc ? h` · ${link('/console/ledger', t('ledger'))} · ${link('/console/reconciliation', t('reconciliation'))}` : ''}</p>
${list ? (list.ok ? autoTable(r, list.data.items, PAYMENT_COLUMNS, (p) => link(`/console/payments/${String(p.id)}`, t('details'))) : notice('error', apiError(r, list, '/api/billing/payments'))) : ''}
${list?.ok && (offset > 0 || list.data.items.length === 50) ? h`<p>${offset > 0 ? link(`/console/payments?${new URLSearchParams({ ...f.values, offset: String(Math.max(0, offset - 50)) })}`, t('prev')) : ''} ${list.data.items.length === 50 ? link(`/console/payments?${new URLSearchParams({ ...f.values, offset: String(offset + 50) })}`, t('next')) : ''}</p>` : ''}
<h2>${t('balances')}</h2>
${table(
  r,
  [t('reseller'), t('balance')],
  balances.map(([id, b]) => [name(id), b.ok ? money(r, b.data.balance_fcfa) : apiError(r, b, '/api/billing/resellers/{id}/balance')]),
)}`;
    return page(r, t('payments'), body, '/console/payments', f.error ? 400 : 200);
  });

  // The API's CSV, streamed through with the user's token (same filters, same scoping).
  routes.get('/payments.csv', 'Console: payments as CSV (the API export)', async (r) => {
    const f = filters(r);
    const res = await r.api.fetch('/api/billing/payments.csv', f.query);
    return new Response(res.body, {
      status: res.status,
      headers: {
        'content-type': res.headers.get('content-type') ?? 'text/csv',
        'content-disposition': res.headers.get('content-disposition') ?? 'attachment; filename="payments.csv"',
        'cache-control': 'no-store',
      },
    });
  });

  const paymentPage = async (r: Req, id: string, opts: { error?: string | null; ok?: string | null; resolution?: string } = {}) => {
    const { t } = r;
    if (!UUID.test(id)) return page(r, t('payments'), notice('error', t('e_api', { e: 'not found' })), '/console/payments', 404);
    const one = await r.api.get<Row & { ledger: Row[] }>(`/api/billing/payments/${id}`);
    if (!one.ok)
      return page(r, t('payments'), notice('error', apiError(r, one, `/api/billing/payments/${id}`)), '/console/payments', one.status === 404 ? 404 : 502);
    const history = await r.api.get<{ items?: Row[]; events?: Row[] } & Row>(`/api/billing/payments/${id}/history`);
    const p = one.data;
    const historyRows: Row[] = history.ok ? ((history.data.items ?? history.data.events ?? []) as Row[]) : [];
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
<p><a href="/console/payments">← ${t('back')}</a></p>
${autoTable(r, [p], [['created_at', 'date'], ['subscriber_ref', 'ref'], ['provider', 'provider'], 'provider_transaction_id', ['status', 'status'], ['amount_fcfa', 'amount'], 'fee_fcfa', ['plan_code', 'plan']])}
<h2>${t('ledger_lines')}</h2>${autoTable(r, p.ledger, [['created_at', 'date'], ['account', 'account'], ['debit_fcfa', 'debit'], ['credit_fcfa', 'credit'], 'posting_kind'])}
<h2>${t('history')}</h2>${history.ok ? autoTable(r, historyRows) : notice('error', apiError(r, history, `/api/billing/payments/${id}/history`))}
${
  r.user.role === 'noc' && p.status === 'credited'
    ? h`<form method="post" action="/console/payments/${id}/refund" class="box" data-long novalidate><h2>${t('refund')}</h2>
<label for="reason">${t('reason')}</label><span class="help" id="reason-help">${t('reason_help')}</span>
<textarea id="reason" name="reason" maxlength="500" aria-describedby="reason-help" required></textarea>
<p data-progress hidden role="status"><progress></progress> ${t('working')}</p>
<div><button type="submit" class="danger">${t('refund')}</button></div></form>`
    : ''
}
${
  r.user.role === 'noc' && p.review === 'needs_review'
    ? h`<form method="post" action="/console/payments/${id}/review" class="box" novalidate><h2>${t('review_h')}</h2>
<p>${t('review_flagged', { s: String(p.review_reason ?? p.status) })}</p>
<label for="resolution">${t('resolution')}</label><span class="help" id="resolution-help">${t('resolution_help')}</span>
<textarea id="resolution" name="resolution" maxlength="1000" aria-describedby="resolution-help" required>${opts.resolution ?? ''}</textarea>
<div><button type="submit">${t('review_btn')}</button></div></form>`
    : p.review === 'resolved'
      ? h`<p class="help">${t('review_resolved')}</p>`
      : ''
}`;
    return page(r, t('payment_h', { id: String(p.provider_transaction_id) }), body, '/console/payments', opts.error ? 400 : 200);
  };

  routes.get('/payments/:id', 'Console: one payment with its ledger lines and history', async (r) => {
    const ok = r.c.req.query('ok');
    return paymentPage(r, r.c.req.param('id'), { ok: ok === 'resolved' ? r.t('review_done') : ok ? r.t('refund_done', { s: ok }) : null });
  });

  routes.post('/payments/:id/review', 'Console: mark a flagged payment as resolved, saying what was done (NOC; the API writes the audit entry)', async (r) => {
    const id = r.c.req.param('id');
    const resolution = (await form(r.c)).resolution ?? '';
    if (resolution.length < 3) return paymentPage(r, id, { error: r.t('e_resolution'), resolution });
    const res = await r.api.post(`/api/billing/payments/${id}/review`, { resolution });
    if (!res.ok) return paymentPage(r, id, { error: apiError(r, res, '/api/billing/payments/{id}/review'), resolution });
    return redirect(`/console/payments/${id}?ok=resolved`);
  });

  routes.post('/payments/:id/refund', 'Console: refund a payment (NOC; the API writes the audit entry)', async (r) => {
    const id = r.c.req.param('id');
    const reason = (await form(r.c)).reason ?? '';
    if (reason.length < 3) return paymentPage(r, id, { error: r.t('e_reason') });
    const res = await r.api.post<{ status: string }>(`/api/billing/payments/${id}/refund`, { reason });
    if (!res.ok) return paymentPage(r, id, { error: apiError(r, res, `/api/billing/payments/${id}/refund`) });
    return redirect(`/console/payments/${id}?ok=${encodeURIComponent(res.data.status)}`);
  });

  routes.get('/ledger', 'Console: the ledger (NOC)', async (r) => {
    const { t } = r;
    const account = (r.c.req.query('account') ?? '').trim().slice(0, 200);
    const res = await r.api.get<{ items: Row[]; totals: { debit_fcfa: number; credit_fcfa: number; balance_fcfa: number } }>('/api/billing/ledger', {
      account,
      limit: 500,
    });
    const body = h`<form method="get" action="/console/ledger" class="box"><div class="row"><div><label for="account">${t('account')}</label>
<input id="account" name="account" value="${account}" placeholder="revenue:rgz"></div><button type="submit">${t('filter')}</button></div></form>
${
  res.ok
    ? h`<p id="totals">${t('totals')} : ${t('debit')} ${money(r, res.data.totals.debit_fcfa)} · ${t('credit')} ${money(r, res.data.totals.credit_fcfa)} · ${t('balance')} ${money(r, res.data.totals.balance_fcfa)}</p>
${autoTable(r, res.data.items, [['created_at', 'date'], ['account', 'account'], ['debit_fcfa', 'debit'], ['credit_fcfa', 'credit'], 'posting_kind', ['provider', 'provider']])}`
    : notice('error', apiError(r, res, '/api/billing/ledger'))
}`;
    return page(r, t('ledger'), body, '/console/payments', res.ok ? 200 : res.status === 403 ? 403 : 502);
  });

  const reconPage = async (r: Req, opts: { error?: string | null; day?: string } = {}) => {
    const { t } = r;
    const res = await r.api.get<{ items: Row[] }>('/api/billing/reconciliation/runs', { limit: 30 });
    const body = h`${notice('error', opts.error)}
<form method="post" action="/console/reconciliation" class="box" data-long novalidate><h2>${t('recon_run')}</h2>
<label for="day">${t('recon_day')}</label><input id="day" name="day" type="date" value="${opts.day ?? ''}" required>
<p data-progress hidden role="status"><progress></progress> ${t('working')}</p>
<div><button type="submit">${t('recon_btn')}</button></div></form>
${
  res.ok
    ? autoTable(
        r,
        res.data.items,
        [
          ['day', 'date'],
          ['status', 'status'],
          ['candidates', 'candidates'],
          ['revenue_fcfa', 'revenue'],
          ['mismatch_fcfa', 'mismatches'],
          'trigger',
          ['started_at', 'started'],
        ],
        (x) => link(`/console/reconciliation/${String(x.id)}`, t('details')),
      )
    : notice('error', apiError(r, res, '/api/billing/reconciliation/runs'))
}`;
    return page(r, t('reconciliation'), body, '/console/payments', opts.error ? 400 : res.ok ? 200 : res.status);
  };

  routes.get('/reconciliation', 'Console: reconciliation runs (NOC)', async (r) => reconPage(r));

  routes.post('/reconciliation', 'Console: reconcile a day again (NOC; long action)', async (r) => {
    const day = (await form(r.c)).day ?? '';
    if (!DAY.test(day) || Number.isNaN(Date.parse(day))) return reconPage(r, { error: r.t('e_date'), day });
    const res = await r.api.post<{ id: string }>('/api/billing/reconciliation/runs', { day, wait: false });
    if (!res.ok) return reconPage(r, { error: apiError(r, res, '/api/billing/reconciliation/runs'), day });
    return redirect(`/console/reconciliation/${res.data.id}`);
  });

  routes.get('/reconciliation/:id', 'Console: one reconciliation run with its mismatches (NOC)', async (r) => {
    const { t } = r;
    const id = r.c.req.param('id');
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return page(r, t('reconciliation'), notice('error', t('e_api', { e: 'not found' })), '/console/payments', 404);
    const res = await r.api.get<Row & { items: Row[] }>(`/api/billing/reconciliation/runs/${id}`);
    if (!res.ok)
      return page(r, t('reconciliation'), notice('error', apiError(r, res, `/api/billing/reconciliation/runs/${id}`)), '/console/payments', res.status);
    const run = res.data;
    const mismatches = run.items.filter((i) => i.kind !== 'match' && i.kind !== 'matched');
    const body: Html = h`<p><a href="/console/reconciliation">← ${t('back')}</a></p>
${run.status === 'running' ? h`<p class="msg ok" role="status" data-poll="/console/reconciliation/${id}/state" data-reload><progress></progress> <span data-state>${t('working')}</span></p>` : ''}
${autoTable(r, [run], [['day', 'date'], ['status', 'status'], ['candidates', 'candidates'], ['revenue_fcfa', 'revenue'], ['mismatch_fcfa', 'mismatches'], 'mismatch_percent', 'error', ['finished_at', 'ends']])}
<h2>${t('mismatches')}</h2>${autoTable(r, mismatches, ['kind', 'action', ['provider', 'provider'], 'provider_transaction_id', 'db_status', 'provider_status', 'db_amount_fcfa', 'provider_amount_fcfa', 'detail'])}
<p><a href="/console/reconciliation/${id}/items.csv" download>${t('download_csv')}</a></p>
<p class="help">${when(r, String(run.started_at))}</p>`;
    return page(r, `${t('reconciliation')} · ${String(run.day)}`, body, '/console/payments');
  });

  routes.get('/reconciliation/:id/state', 'Console: a reconciliation run’s state (JSON for the progress line)', async (r) => {
    const res = await r.api.get<{ status: string }>(`/api/billing/reconciliation/runs/${encodeURIComponent(r.c.req.param('id'))}`, { limit: 1 });
    const finished = !res.ok || res.data.status !== 'running';
    return Response.json({ finished, label: res.ok ? (finished ? r.t('done') : r.t('working')) : apiError(r, res, '/api/billing/reconciliation/runs') });
  });

  routes.get('/reconciliation/:id/items.csv', 'Console: a reconciliation run’s items as CSV (the API export)', async (r) => {
    const res = await r.api.fetch(`/api/billing/reconciliation/runs/${encodeURIComponent(r.c.req.param('id'))}/items.csv`);
    return new Response(res.body, {
      status: res.status,
      headers: {
        'content-type': res.headers.get('content-type') ?? 'text/csv',
        'content-disposition': 'attachment; filename="reconciliation.csv"',
        'cache-control': 'no-store',
      },
    });
  });
}
