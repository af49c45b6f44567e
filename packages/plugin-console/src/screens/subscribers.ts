/**
 * Subscribers: search by phone, reference or MAC; one subscriber's devices, sessions, plans bought and payments;
 * disconnect a session; grant or extend a plan with a reason (the API writes the audit entry).
 */
import type { ApiResult } from '../api.js';
import { apiError, autoTable, type Column, form, link, money, notice, page, type Req, redirect, table, when } from '../app.js';
import { type Html, h } from '../html.js';
import type { ConsoleRoutes } from '../index.js';

interface Subscriber {
  id: string;
  subscriber_ref: string;
  msisdn: string;
  status: string;
  reseller_id: string | null;
  created_at: string;
}

interface Plan {
  id: string;
  code: string;
  name: string;
  price_fcfa: number;
  reseller_id: string | null;
}

type Items = { items: Array<Record<string, unknown>> };

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function section(r: Req, title: string, res: ApiResult<Items>, path: string, keys?: Column[], extra?: (row: Record<string, unknown>) => Html | string): Html {
  return h`<h2>${title}</h2>${res.ok ? autoTable(r, res.data.items, keys, extra) : notice('error', apiError(r, res, path))}`;
}

export function registerSubscribers(routes: ConsoleRoutes): void {
  routes.get('/subscribers', 'Console: subscriber search', async (r) => {
    const { t } = r;
    const q = (r.c.req.query('q') ?? '').trim();
    let result: Html = h``;
    let error: string | null = null;
    if (q && q.length < 2) error = t('e_search');
    else if (q) {
      const res = await r.api.get<{ items: Subscriber[] }>(
        '/api/core/subscribers',
        MAC.test(q) ? { mac: q.toLowerCase().replace(/-/g, ':'), limit: 100 } : { q, limit: 100 },
      );
      if (!res.ok) error = apiError(r, res, '/api/core/subscribers');
      else
        result = table(
          r,
          [t('ref'), t('phone'), t('status'), t('created')],
          res.data.items.map((s) => [link(`/console/subscribers/${s.id}`, s.subscriber_ref), s.msisdn, s.status, when(r, s.created_at)]),
        );
    }
    const body = h`${notice('error', error)}
<form method="get" action="/console/subscribers" class="box" role="search"><div class="row"><div>
<label for="q">${t('sub_search_label')}</label><span class="help" id="q-help">${t('sub_search_help')}</span>
<input id="q" name="q" value="${q}" aria-describedby="q-help" maxlength="40"></div>
<button type="submit">${t('search')}</button></div></form>
${result}`;
    return page(r, t('subscribers'), body, '/console/subscribers', error ? 400 : 200);
  });

  const detail = async (r: Req, id: string, opts: { error?: string | null; ok?: string | null; values?: Record<string, string> } = {}) => {
    const { t } = r;
    if (!UUID.test(id)) return page(r, t('subscribers'), notice('error', t('e_api', { e: 'not found' })), '/console/subscribers', 404);
    const one = await r.api.get<Subscriber & { devices?: Array<Record<string, unknown>>; subscriptions?: Array<Record<string, unknown>> }>(
      `/api/core/subscribers/${id}`,
    );
    if (!one.ok)
      return page(
        r,
        t('subscribers'),
        notice('error', apiError(r, one, `/api/core/subscribers/${id}`)),
        '/console/subscribers',
        one.status === 404 ? 404 : 502,
      );
    const s = one.data;
    const [sessions, payments, plans] = await Promise.all([
      r.api.get<Items>('/api/radius/sessions', { subscriber_id: id, limit: 50 }),
      r.api.get<Items>('/api/billing/payments', { subscriber_id: id, limit: 500 }).then((res) =>
        // Until the API filters by subscriber everywhere, keep this subscriber's rows only.
        res.ok ? { ...res, data: { items: res.data.items.filter((p) => p.subscriber_ref === one.data.subscriber_ref) } } : res,
      ),
      r.api.get<{ items: Plan[] }>('/api/core/plans', s.reseller_id ? { reseller: s.reseller_id } : {}),
    ]);
    const v = opts.values ?? {};
    const task = r.c.req.query('task');
    const disconnect = (row: Record<string, unknown>) =>
      row.session_stop
        ? ''
        : h`<form method="post" action="/console/subscribers/${id}/sessions/${String(row.id)}/disconnect" class="inline"><button type="submit" class="danger">${t('disconnect')}</button></form>`;
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
${task && /^[0-9A-Za-z-]{1,64}$/.test(task) ? h`<p class="msg ok" role="status" data-poll="/console/tasks/${task}"><span data-state>${t('working')}</span></p>` : ''}
<p><a href="/console/subscribers">← ${t('back')}</a></p>
${table(r, [t('ref'), t('phone'), t('status'), t('created')], [[s.subscriber_ref, s.msisdn, s.status, when(r, s.created_at)]])}
<h2>${t('devices')}</h2>${autoTable(r, s.devices ?? [])}
<h2>${t('subscriptions')}</h2>${autoTable(r, s.subscriptions ?? [], [
      ['plan_name', 'plan'],
      ['price_fcfa', 'price'],
      ['starts_at', 'started'],
      ['expires_at', 'ends'],
      ['source', 'details'],
      ['status', 'status'],
    ])}
${section(
  r,
  t('sessions'),
  sessions,
  '/api/radius/sessions',
  [['nas_identifier', 'nas'], ['session_start', 'started'], ['session_stop', 'ends'], ['download_bytes', 'bytes_in_out'], 'upload_bytes', 'terminate_cause'],
  disconnect,
)}
${section(r, t('sub_payments'), payments, '/api/billing/payments', [
  ['created_at', 'date'],
  ['provider', 'provider'],
  ['status', 'status'],
  ['amount_fcfa', 'amount'],
  ['plan_code', 'plan'],
])}
<form method="post" action="/console/subscribers/${id}/grant" class="box" novalidate><h2>${t('grant_h')}</h2>
<label for="plan">${t('plan')}</label>
<select id="plan" name="plan_code" required><option value="">—</option>${
      plans.ok
        ? plans.data.items.map((p) => h`<option value="${p.code}"${v.plan_code === p.code ? h` selected` : ''}>${p.name} (${money(r, p.price_fcfa)})</option>`)
        : ''
    }</select>
<label for="days">${t('extend_days')}</label><span class="help" id="days-help">${t('extend_help')}</span>
<input id="days" name="days" inputmode="numeric" value="${v.days ?? ''}" aria-describedby="days-help" maxlength="3">
<label for="reason">${t('reason')}</label><span class="help" id="reason-help">${t('reason_help')}</span>
<textarea id="reason" name="reason" maxlength="500" aria-describedby="reason-help" required>${v.reason ?? ''}</textarea>
<div><button type="submit">${t('grant_btn')}</button></div></form>`;
    return page(r, `${t('subscribers')} · ${s.subscriber_ref}`, body, '/console/subscribers', opts.error ? 400 : 200);
  };

  routes.get('/subscribers/:id', 'Console: one subscriber', async (r) =>
    detail(r, r.c.req.param('id'), { ok: r.c.req.query('ok') ? r.t(r.c.req.query('ok') === 'disconnect' ? 'disconnect_done' : 'granted') : null }),
  );

  routes.post('/subscribers/:id/grant', 'Console: grant a plan, or extend the plan in force, with a reason (audited by the API)', async (r) => {
    const id = r.c.req.param('id');
    const f = await form(r.c);
    const values = { plan_code: f.plan_code ?? '', reason: f.reason ?? '', days: f.days ?? '' };
    const days = values.days === '' ? null : Number(values.days);
    if (days !== null && !(Number.isInteger(days) && days >= 1 && days <= 366)) return detail(r, id, { error: r.t('e_days'), values });
    if (days === null && !/^[A-Z0-9_-]{1,40}$/i.test(values.plan_code)) return detail(r, id, { error: r.t('e_plan'), values });
    if (values.reason.length < 3) return detail(r, id, { error: r.t('e_reason'), values });
    const path = days === null ? `/api/core/subscribers/${id}/grants` : `/api/core/subscribers/${id}/extend`;
    const res = await r.api.post<{ task_id?: string }>(
      path,
      days === null ? { plan_code: values.plan_code, reason: values.reason } : { days, reason: values.reason },
    );
    if (!res.ok) return detail(r, id, { error: apiError(r, res, path), values });
    return redirect(`/console/subscribers/${id}?ok=grant`);
  });

  routes.post('/subscribers/:id/sessions/:session/disconnect', 'Console: disconnect a session (RADIUS Disconnect-Request through the API)', async (r) => {
    const id = r.c.req.param('id');
    const session = r.c.req.param('session');
    const res = await r.api.post<{ task_id: string }>(`/api/radius/sessions/${encodeURIComponent(session)}/disconnect`, { reason: 'console' });
    if (!res.ok) return detail(r, id, { error: apiError(r, res, `/api/radius/sessions/${session}/disconnect`) });
    return redirect(`/console/subscribers/${id}?ok=disconnect&task=${encodeURIComponent(res.data.task_id)}`);
  });

  // A background task's state, polled by the page (GET /api/core/tasks/{id}: the API scopes it to the caller).
  routes.get('/tasks/:id', 'Console: state of a background task (JSON for the progress line)', async (r) => {
    const res = await r.api.get<{ status: string; last_error: string | null; audit?: Array<{ action: string }> }>(`/api/core/tasks/${r.c.req.param('id')}`);
    const finished = !res.ok || res.data.status === 'done' || res.data.status === 'dead';
    const label = !res.ok
      ? apiError(r, res, '/api/core/tasks')
      : res.data.status === 'done'
        ? `${r.t('done')} ${(res.data.audit ?? []).map((a) => a.action).join(', ')}`
        : res.data.status === 'dead'
          ? r.t('failed', { e: res.data.last_error ?? '' })
          : r.t('working');
    return new Response(JSON.stringify({ finished, label, status: res.ok ? res.data.status : 'unknown' }), {
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  });
}
