/**
 * Invoices (list, PDF, verify, issue a month), ARCEP reports (list, produce a quarter, files), backups (runs, back up
 * now with progress, verify; NOC only) and the audit log (NOC only).
 */
import { apiError, autoTable, form, link, notice, page, type Req, redirect } from '../app.js';
import { h } from '../html.js';
import type { ConsoleRoutes } from '../index.js';

type Row = Record<string, unknown>;
const ID = /^[0-9A-Za-z-]{1,64}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const QUARTER = /^\d{4}-T[1-4]$/;

/** A file from the API (PDF, report file) streamed through with the user's token. */
async function passThrough(r: Req, path: string, filename: string): Promise<Response> {
  const res = await r.api.fetch(path);
  if (!res.ok) {
    const text = await res.text();
    let detail = text;
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
    } catch {
      // not problem+json: show the text
    }
    return page(r, r.t('download'), notice('error', r.t('e_api', { e: detail })), undefined, res.status);
  }
  return new Response(res.body, {
    headers: {
      'content-type': res.headers.get('content-type') ?? 'application/octet-stream',
      'content-disposition': res.headers.get('content-disposition') ?? `attachment; filename="${filename}"`,
      'cache-control': 'no-store',
    },
  });
}

export function registerAdmin(routes: ConsoleRoutes): void {
  // Invoices -------------------------------------------------------------------------------------------------------
  const invoicesPage = async (r: Req, opts: { error?: string | null; ok?: string | null; month?: string } = {}) => {
    const { t } = r;
    const res = await r.api.get<{ items: Row[] }>('/api/reports/invoices', { limit: 100 });
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
${
  r.user.role === 'noc'
    ? h`<form method="post" action="/console/invoices" class="box" data-long novalidate><div class="row"><div><label for="month">${t('period')} (${t('arcep_month')})</label>
<input id="month" name="month" value="${opts.month ?? ''}" placeholder="2026-10" required></div><button type="submit">${t('produce')}</button></div>
<p data-progress hidden role="status"><progress></progress> ${t('working')}</p></form>`
    : ''
}
${
  res.ok
    ? autoTable(
        r,
        res.data.items,
        [['number', 'number'], ['period', 'period'], 'kind', 'total_fcfa', ['status', 'status'], ['issued_at', 'date']],
        (i) => h`${link(`/console/invoices/${String(i.id)}/pdf`, t('download'))} · ${link(`/console/invoices/${String(i.id)}/verify`, t('verify'))}`,
      )
    : notice('error', apiError(r, res, '/api/reports/invoices'))
}`;
    return page(r, t('invoices'), body, '/console/invoices', opts.error ? 400 : res.ok ? 200 : res.status);
  };

  routes.get('/invoices', 'Console: invoices', async (r) => invoicesPage(r, { ok: r.c.req.query('ok') ? r.t('done') : null }));

  routes.post('/invoices', 'Console: issue the invoices of a month (NOC; long action)', async (r) => {
    const month = (await form(r.c)).month ?? '';
    if (!MONTH.test(month)) return invoicesPage(r, { error: r.t('e_month'), month });
    const res = await r.api.post('/api/reports/runs', { month });
    if (!res.ok) return invoicesPage(r, { error: apiError(r, res, '/api/reports/runs'), month });
    return redirect('/console/invoices?ok=1');
  });

  routes.get('/invoices/:id/pdf', 'Console: an invoice’s PDF (the API’s file)', async (r) => {
    const id = r.c.req.param('id');
    if (!ID.test(id)) return page(r, r.t('invoices'), notice('error', r.t('e_api', { e: 'not found' })), '/console/invoices', 404);
    return passThrough(r, `/api/reports/invoices/${id}/pdf`, `invoice-${id}.pdf`);
  });

  routes.get('/invoices/:id/verify', 'Console: verify an invoice (signature and hash chain, by the API)', async (r) => {
    const { t } = r;
    const id = r.c.req.param('id');
    if (!ID.test(id)) return page(r, t('invoices'), notice('error', t('e_api', { e: 'not found' })), '/console/invoices', 404);
    const res = await r.api.get<{ ok: boolean; number?: string; key_id?: string; sha256?: string; lines?: string[] }>(`/api/reports/invoices/${id}/verify`);
    const lines = res.ok ? (res.data.lines ?? []) : [];
    const body = h`<p><a href="/console/invoices">← ${t('back')}</a></p>
${res.ok ? (res.data.ok ? notice('ok', t('verified_ok')) : notice('error', t('verified_bad', { e: lines.at(-1) ?? '' }))) : notice('error', apiError(r, res, '/api/reports/invoices/{id}/verify'))}
${res.ok ? h`${autoTable(r, [res.data], [['number', 'number'], 'key_id', 'sha256'])}<pre class="scroll">${lines.join('\n')}</pre>` : ''}`;
    return page(r, `${t('invoices')} · ${t('verify')}`, body, '/console/invoices', res.ok ? 200 : res.status);
  });

  // ARCEP ----------------------------------------------------------------------------------------------------------
  const arcepPage = async (r: Req, opts: { error?: string | null; ok?: string | null; quarter?: string } = {}) => {
    const { t } = r;
    const res = await r.api.get<{ items: Array<Row & { files: Row[] }> }>('/api/arcep/reports');
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
<form method="post" action="/console/arcep" class="box" data-long novalidate><div class="row"><div><label for="quarter">${t('period')} (AAAA-T1…T4)</label>
<input id="quarter" name="quarter" value="${opts.quarter ?? ''}" placeholder="2026-T3" required></div><button type="submit">${t('produce')}</button></div>
<p data-progress hidden role="status"><progress></progress> ${t('working')}</p></form>
${
  res.ok
    ? autoTable(
        r,
        res.data.items,
        [['period', 'period'], 'exporter', ['generated_at', 'date'], 'manifest_sha256'],
        (x) =>
          h`${((x.files ?? []) as Row[]).map((f) => h`${link(`/console/arcep/${String(x.id)}/files/${encodeURIComponent(String(f.name))}`, String(f.name))} `)} · ${link(`/console/arcep/${String(x.id)}/verify`, t('verify'))}`,
      )
    : notice('error', apiError(r, res, '/api/arcep/reports'))
}`;
    return page(r, t('arcep'), body, '/console/arcep', opts.error ? 400 : res.ok ? 200 : res.status);
  };

  routes.get('/arcep', 'Console: ARCEP reports (NOC)', async (r) => arcepPage(r, { ok: r.c.req.query('ok') ? r.t('done') : null }));

  routes.post('/arcep', 'Console: produce an ARCEP quarterly report (NOC; long action)', async (r) => {
    const quarter = ((await form(r.c)).quarter ?? '').toUpperCase();
    if (!QUARTER.test(quarter)) return arcepPage(r, { error: r.t('e_quarter'), quarter });
    const res = await r.api.post('/api/arcep/reports', { quarter });
    if (!res.ok) return arcepPage(r, { error: apiError(r, res, '/api/arcep/reports'), quarter });
    return redirect('/console/arcep?ok=1');
  });

  routes.get('/arcep/:id/verify', 'Console: verify a stored ARCEP report (manifest, files, log; by the API)', async (r) => {
    const { t } = r;
    const id = r.c.req.param('id');
    if (!ID.test(id)) return page(r, t('arcep'), notice('error', t('e_api', { e: 'not found' })), '/console/arcep', 404);
    const res = await r.api.get<{ ok: boolean; key_id?: string; lines?: string[] }>(`/api/arcep/reports/${id}/verify`);
    const lines = res.ok ? (res.data.lines ?? []) : [];
    const body = h`<p><a href="/console/arcep">← ${t('back')}</a></p>
${res.ok ? (res.data.ok ? notice('ok', t('verified_ok')) : notice('error', t('verified_bad', { e: lines.at(-1) ?? '' }))) : notice('error', apiError(r, res, '/api/arcep/reports/{id}/verify'))}
${res.ok ? h`<pre class="scroll">${lines.join('\n')}</pre>` : ''}`;
    return page(r, `${t('arcep')} · ${t('verify')}`, body, '/console/arcep', res.ok ? 200 : res.status);
  });

  routes.get('/arcep/:id/files/:name', 'Console: an ARCEP report file (the API’s file)', async (r) => {
    const id = r.c.req.param('id');
    const name = r.c.req.param('name');
    if (!ID.test(id) || !/^[A-Za-z0-9._-]{1,100}$/.test(name))
      return page(r, r.t('arcep'), notice('error', r.t('e_api', { e: 'not found' })), '/console/arcep', 404);
    return passThrough(r, `/api/arcep/reports/${id}/files/${name}`, name);
  });

  // Backups --------------------------------------------------------------------------------------------------------
  const backupsPage = async (r: Req, opts: { error?: string | null } = {}) => {
    const { t } = r;
    const res = await r.api.get<{ items: Row[] }>('/api/backup/runs', { limit: 30 });
    const body = h`${notice('error', opts.error)}
<form method="post" action="/console/backups" class="box" data-long><button type="submit">${t('backup_now')}</button>
<p data-progress hidden role="status"><progress></progress> ${t('working')}</p></form>
${
  res.ok
    ? autoTable(r, res.data.items, [['started_at', 'started'], ['status', 'status'], 'trigger', 'size_bytes', ['finished_at', 'ends'], 'error'], (x) =>
        link(`/console/backups/${String(x.id)}`, t('details')),
      )
    : notice('error', apiError(r, res, '/api/backup/runs'))
}`;
    return page(r, t('backups'), body, '/console/backups', opts.error ? 409 : res.ok ? 200 : res.status);
  };

  routes.get('/backups', 'Console: backup runs (NOC)', async (r) => backupsPage(r));

  routes.post('/backups', 'Console: start a backup now (NOC; long action, the run page shows its progress)', async (r) => {
    const res = await r.api.post<{ id: string }>('/api/backup/runs', { verify: true });
    if (!res.ok) return backupsPage(r, { error: apiError(r, res, '/api/backup/runs') });
    return redirect(`/console/backups/${res.data.id}`);
  });

  routes.get('/backups/:id', 'Console: one backup run with its verifications (NOC)', async (r) => {
    const { t } = r;
    const id = r.c.req.param('id');
    if (!ID.test(id)) return page(r, t('backups'), notice('error', t('e_api', { e: 'not found' })), '/console/backups', 404);
    const res = await r.api.get<Row & { verifications: Row[] }>(`/api/backup/runs/${id}`);
    if (!res.ok) return page(r, t('backups'), notice('error', apiError(r, res, `/api/backup/runs/${id}`)), '/console/backups', res.status);
    const run = res.data;
    const body = h`<p><a href="/console/backups">← ${t('back')}</a></p>
${run.status === 'running' ? h`<p class="msg ok" role="status" data-poll="/console/backups/${id}/state" data-reload><progress></progress> <span data-state>${t('working')}</span></p>` : ''}
${autoTable(r, [run], [['started_at', 'started'], ['status', 'status'], 'trigger', 'size_bytes', ['finished_at', 'ends'], 'error'])}
<h2>${t('verification')}</h2>${autoTable(r, run.verifications ?? [])}`;
    return page(r, `${t('backups')} · ${id.slice(0, 8)}`, body, '/console/backups');
  });

  routes.get('/backups/:id/state', 'Console: a backup run’s state (JSON for the progress line)', async (r) => {
    const res = await r.api.get<{ status: string }>(`/api/backup/runs/${encodeURIComponent(r.c.req.param('id'))}`);
    const finished = !res.ok || res.data.status !== 'running';
    return Response.json({ finished, label: res.ok ? (finished ? r.t('done') : r.t('working')) : apiError(r, res, '/api/backup/runs') });
  });

  // Audit ----------------------------------------------------------------------------------------------------------
  routes.get('/audit', 'Console: the audit log (NOC)', async (r) => {
    const { t } = r;
    const action = (r.c.req.query('action') ?? '').trim().slice(0, 100);
    const before = r.c.req.query('before');
    const res = await r.api.get<{ items: Row[]; next?: number | string | null }>('/api/core/audit', { limit: 100, action, before });
    const body = h`<form method="get" action="/console/audit" class="box"><div class="row"><div><label for="action">${t('action')}</label>
<input id="action" name="action" value="${action}" placeholder="subscriber.grant"></div><button type="submit">${t('filter')}</button></div></form>
${
  res.ok
    ? h`${autoTable(r, res.data.items, [['at', 'date'], ['actor_role', 'actor'], ['action', 'action'], 'target_type', ['target_id', 'target'], ['details', 'details']])}
${res.data.next ? h`<p>${link(`/console/audit?${new URLSearchParams({ action, before: String(res.data.next) })}`, t('next'))}</p>` : ''}`
    : notice('error', apiError(r, res, '/api/core/audit'))
}`;
    return page(r, t('audit'), body, '/console/audit', res.ok ? 200 : res.status);
  });
}
