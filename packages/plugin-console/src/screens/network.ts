/**
 * Incidents (list, acknowledge, comment, resolve, escalation timeline) and the network: NAS clients (add, rotate the
 * secret), sites and devices with their latest radio figures and a small chart, DBA's last run, SLA per target.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { apiError, autoTable, form, link, notice, page, type Req, redirect, when } from '../app.js';
import { type Html, h } from '../html.js';
import type { ConsoleRoutes } from '../index.js';

type Row = Record<string, unknown>;
const REF = /^[0-9a-zA-Z-]{1,64}$/;
const CHART_METRICS = ['signal_dbm', 'snr_db', 'ccq_percent', 'capacity_percent', 'rx_bps', 'tx_bps', 'cpu_percent'];

/** A line chart as inline SVG (no script, no library): the last points of one series. */
export function sparkline(points: Array<{ at: string; value: number }>, label: string): Html {
  if (points.length < 2) return h``;
  const w = 480;
  const hgt = 120;
  const vs = points.map((p) => p.value);
  const min = Math.min(...vs);
  const max = Math.max(...vs);
  const span = max - min || 1;
  // Rates are fractions (octets × 8 / seconds): one decimal is enough to read.
  const fmt = (n: number) => Math.round(n * 10) / 10;
  const xy = points.map((p, i) => `${((i / (points.length - 1)) * (w - 20) + 10).toFixed(1)},${(hgt - 10 - ((p.value - min) / span) * (hgt - 20)).toFixed(1)}`);
  return h`<svg class="chart" viewBox="0 0 ${w} ${hgt}" role="img" aria-label="${label}: min ${fmt(min)}, max ${fmt(max)}"><polyline fill="none" stroke="#0b4f9c" stroke-width="2" points="${xy.join(' ')}"/><text x="10" y="14" font-size="12">${fmt(max)}</text><text x="10" y="${hgt - 2}" font-size="12">${fmt(min)}</text></svg>`;
}

export function registerNetwork(routes: ConsoleRoutes): void {
  // Incidents ------------------------------------------------------------------------------------------------------
  routes.get('/incidents', 'Console: incidents (NOC)', async (r) => {
    const { t } = r;
    const status = ['open', 'acknowledged', 'resolved', 'active'].includes(r.c.req.query('status') ?? '') ? (r.c.req.query('status') as string) : 'active';
    const res = await r.api.get<{ items: Row[] }>('/api/incidents', { status, limit: 100 });
    const body = h`<form method="get" action="/console/incidents" class="box"><div class="row"><div><label for="status">${t('status')}</label>
<select id="status" name="status">${['active', 'open', 'acknowledged', 'resolved'].map((s) => h`<option${s === status ? h` selected` : ''}>${s}</option>`)}</select></div>
<button type="submit">${t('filter')}</button></div></form>
${
  res.ok
    ? autoTable(r, res.data.items, ['number', ['priority', 'priority'], 'title', ['status', 'status'], ['openedAt', 'opened'], 'escalationLevel'], (i) =>
        link(`/console/incidents/${String(i.number)}`, t('details')),
      )
    : notice('error', apiError(r, res, '/api/incidents'))
}`;
    return page(r, t('incidents'), body, '/console/incidents', res.ok ? 200 : res.status);
  });

  const incidentPage = async (r: Req, ref: string, opts: { error?: string | null; ok?: string | null } = {}) => {
    const { t } = r;
    if (!REF.test(ref)) return page(r, t('incidents'), notice('error', t('e_api', { e: 'not found' })), '/console/incidents', 404);
    const res = await r.api.get<{ incident: Row; timeline: Row[]; notifications: Row[] }>(`/api/incidents/${ref}`);
    if (!res.ok) return page(r, t('incidents'), notice('error', apiError(r, res, `/api/incidents/${ref}`)), '/console/incidents', res.status);
    const { incident: i, timeline, notifications } = res.data;
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
<p><a href="/console/incidents">← ${t('back')}</a></p>
${autoTable(r, [i], ['number', ['priority', 'priority'], 'title', ['status', 'status'], ['openedAt', 'opened'], 'acknowledgedBy', 'resolvedBy', 'escalationLevel'])}
${i.summary ? h`<p>${String(i.summary)}</p>` : ''}
<div class="row">
${i.status === 'open' ? h`<form method="post" action="/console/incidents/${ref}/acknowledge"><button type="submit">${t('acknowledge')}</button></form>` : ''}
${i.status !== 'resolved' ? h`<form method="post" action="/console/incidents/${ref}/resolve"><button type="submit" class="danger">${t('resolve')}</button></form>` : ''}
</div>
<form method="post" action="/console/incidents/${ref}/comment" class="box" novalidate><label for="text">${t('comment')}</label>
<textarea id="text" name="text" maxlength="2000" required></textarea><div><button type="submit">${t('comment_btn')}</button></div></form>
<h2>${t('timeline')}</h2>${autoTable(r, timeline, [['at', 'date'], 'kind', ['actor', 'actor'], ['priority', 'priority'], ['detail', 'details']])}
<h2>${t('notifications')}</h2>${autoTable(r, notifications, ['reason', 'level', 'channel', 'recipient', ['status', 'status'], 'attempts'])}`;
    return page(r, `${t('incidents')} · #${String(i.number)}`, body, '/console/incidents', opts.error ? 400 : 200);
  };

  routes.get('/incidents/:id', 'Console: one incident with its timeline (NOC)', async (r) =>
    incidentPage(r, r.c.req.param('id'), { ok: r.c.req.query('ok') ? r.t('saved') : null }),
  );

  for (const verb of ['acknowledge', 'resolve'] as const) {
    routes.post(`/incidents/:id/${verb}`, `Console: ${verb} an incident (NOC)`, async (r) => {
      const ref = r.c.req.param('id');
      const res = await r.api.post(`/api/incidents/${encodeURIComponent(ref)}/${verb}`, {});
      if (!res.ok) return incidentPage(r, ref, { error: apiError(r, res, `/api/incidents/{id}/${verb}`) });
      return redirect(`/console/incidents/${encodeURIComponent(ref)}?ok=${verb}`);
    });
  }

  routes.post('/incidents/:id/comment', 'Console: comment on an incident (NOC)', async (r) => {
    const ref = r.c.req.param('id');
    const text = (await form(r.c)).text ?? '';
    if (!text) return incidentPage(r, ref, { error: r.t('e_comment') });
    const res = await r.api.post(`/api/incidents/${encodeURIComponent(ref)}/comments`, { text });
    if (!res.ok) return incidentPage(r, ref, { error: apiError(r, res, '/api/incidents/{id}/comments') });
    return redirect(`/console/incidents/${encodeURIComponent(ref)}?ok=comment`);
  });

  // Network --------------------------------------------------------------------------------------------------------
  const networkPage = async (r: Req, opts: { error?: string | null; ok?: string | null; values?: Record<string, string> } = {}) => {
    const { t } = r;
    const noc = r.user.role === 'noc';
    const [nas, sites, devices, dba, sla] = await Promise.all([
      r.api.get<{ items: Row[] }>('/api/radius/nas'),
      r.api.get<{ sites: Row[] }>('/api/inventory/sites'),
      r.api.get<{ devices: Row[] }>('/api/inventory/devices', { limit: 200 }),
      r.api.get<{ runs: Row[] }>('/api/dba/runs', { limit: 1 }),
      r.api.get<{ rows: Row[] }>('/api/sla/uptime', { period: 'month', group: 'target' }),
    ]);
    // Every device's latest poll and radio figures in one call (no per-device request), joined to the inventory list.
    const latest = await r.api.get<{ items: Array<Row & { device_id: string; figures: Row | null }> }>('/api/snmp/latest', { limit: 2000 });
    const polls = new Map(latest.ok ? latest.data.items.map((x) => [x.device_id, x] as const) : []);
    const withFigures = (devices.ok ? devices.data.devices : []).map((d) => {
      const l = polls.get(String(d.id));
      return {
        ...d,
        last_poll: l ? String(l.result) : null,
        signal_dbm: l?.figures?.signal_dbm ?? null,
        rx: typeof l?.rx_bps === 'number' ? Math.round(l.rx_bps) : null,
        tx: typeof l?.tx_bps === 'number' ? Math.round(l.tx_bps) : null,
        cpu: l?.figures?.cpu_percent ?? null,
        polled_at: l ? String(l.polled_at) : null,
      } as Row;
    });
    const v = opts.values ?? {};
    const list = (res: { ok: boolean }, path: string, content: () => Html) => (res.ok ? content() : notice('error', apiError(r, res as never, path)));
    const body = h`${notice('error', opts.error)}${notice('ok', opts.ok)}
<h2>${t('nas_clients')}</h2>
${list(nas, '/api/radius/nas', () =>
  autoTable(r, nas.ok ? nas.data.items : [], [['identifier', 'nas_name'], ['address', 'nas_address'], ['vendor', 'nas_vendor'], 'enabled', 'source'], (n) =>
    noc && n.source === 'db'
      ? h`<form method="post" action="/console/network/nas/${encodeURIComponent(String(n.id))}/rotate" class="inline"><button type="submit">${t('rotate')}</button></form>`
      : '',
  ),
)}
${
  noc
    ? h`<form method="post" action="/console/network/nas" class="box" novalidate><h2>${t('nas_add')}</h2>
<label for="identifier">${t('nas_name')}</label><input id="identifier" name="identifier" value="${v.identifier ?? ''}" maxlength="253" required>
<label for="address">${t('nas_address')}</label><input id="address" name="address" value="${v.address ?? ''}" required>
<label for="vendor">${t('nas_vendor')}</label><input id="vendor" name="vendor" value="${v.vendor ?? 'mikrotik'}" required>
<label for="secret">${t('nas_secret')}</label><span class="help" id="secret-help">${t('nas_secret_help')}</span><input id="secret" name="secret" type="password" autocomplete="new-password" aria-describedby="secret-help">
<div><button type="submit">${t('nas_add')}</button></div></form>`
    : ''
}
<h2>${t('sites')}</h2>${list(sites, '/api/inventory/sites', () => autoTable(r, sites.ok ? sites.data.sites : [], [['name', 'nas_name'], 'location', 'capacity_down_kbps', 'capacity_up_kbps']))}
<h2>${t('devices_net')}</h2>${list(devices, '/api/inventory/devices', () =>
      autoTable(
        r,
        withFigures,
        [
          ['name', 'nas_name'],
          'kind',
          'profile',
          ['address', 'nas_address'],
          'enabled',
          ['last_poll', 'last_poll'],
          ['signal_dbm', 'signal'],
          ['rx', 'rx'],
          ['tx', 'tx'],
          ['cpu', 'cpu'],
          ['polled_at', 'polled_at'],
        ],
        (d) => link(`/console/network/devices/${String(d.id)}`, t('radio')),
      ),
    )}
${latest.ok ? '' : notice('error', apiError(r, latest, '/api/snmp/latest'))}
<h2>${t('dba_last')}</h2>${list(dba, '/api/dba/runs', () => autoTable(r, dba.ok ? dba.data.runs : []))}
<h2>${t('sla_targets')}</h2>${list(sla, '/api/sla/uptime', () => autoTable(r, sla.ok ? sla.data.rows : [], ['name', 'key', 'uptime_percent', 'successes', 'total']))}`;
    return page(r, t('network'), body, '/console/network', opts.error ? 400 : 200);
  };

  routes.get('/network', 'Console: network (NAS, sites, devices, DBA, SLA)', async (r) => {
    return networkPage(r);
  });

  routes.post('/network/nas', 'Console: add a NAS client (NOC)', async (r) => {
    const f = await form(r.c);
    const values = { identifier: f.identifier ?? '', address: f.address ?? '', vendor: f.vendor ?? '' };
    if (!/^[A-Za-z0-9._:-]{1,253}$/.test(values.identifier)) return networkPage(r, { error: r.t('e_name'), values });
    if (isIP(values.address) === 0) return networkPage(r, { error: r.t('e_address'), values });
    const secret = f.secret || randomBytes(18).toString('base64url');
    if (secret.length < 16) return networkPage(r, { error: r.t('nas_secret_help'), values });
    const res = await r.api.post('/api/radius/nas', { ...values, secret });
    if (!res.ok) return networkPage(r, { error: apiError(r, res, '/api/radius/nas'), values });
    // The secret is shown once, in this answer only (never in a URL or a log).
    return networkPage(r, { ok: f.secret ? r.t('saved') : r.t('new_secret', { s: secret }) });
  });

  routes.post('/network/nas/:id/rotate', 'Console: rotate a NAS client’s shared secret (NOC)', async (r) => {
    const id = r.c.req.param('id');
    const secret = randomBytes(18).toString('base64url');
    const res = await r.api.patch(`/api/radius/nas/${encodeURIComponent(id)}`, { secret });
    if (!res.ok) return networkPage(r, { error: apiError(r, res, '/api/radius/nas/{id}') });
    return networkPage(r, { ok: r.t('new_secret', { s: secret }) });
  });

  routes.get('/network/devices/:id', 'Console: one device with its latest radio figures and a chart', async (r) => {
    const { t } = r;
    const id = r.c.req.param('id');
    if (!REF.test(id)) return page(r, t('network'), notice('error', t('e_api', { e: 'not found' })), '/console/network', 404);
    const device = await r.api.get<Row>(`/api/inventory/devices/${id}`);
    if (!device.ok) return page(r, t('network'), notice('error', apiError(r, device, `/api/inventory/devices/${id}`)), '/console/network', device.status);
    const [latest, samples] = await Promise.all([
      r.api.get<Row>(`/api/snmp/devices/${id}/latest`),
      r.api.get<{ items?: Row[]; samples?: Row[] }>(`/api/snmp/devices/${id}/samples`, { limit: 100 }),
    ]);
    // The API answers oldest first. The chart shows the first figure with two or more values: radio figures before
    // throughput and CPU, which are all a device without a radio profile (if-mib) reports.
    const series = samples.ok ? ((samples.data.items ?? samples.data.samples ?? []) as Row[]) : [];
    const metric = CHART_METRICS.find((k) => series.filter((s) => typeof s[k] === 'number').length > 1);
    const points = metric
      ? series.filter((s) => typeof s[metric] === 'number').map((s) => ({ at: String(s.at ?? s.sampled_at ?? s.polled_at ?? ''), value: s[metric] as number }))
      : [];
    const body = h`<p><a href="/console/network">← ${t('back')}</a></p>
${autoTable(r, [device.data], [['name', 'nas_name'], 'kind', 'profile', ['address', 'nas_address'], 'mac_address', 'enabled'])}
<h2>${t('radio')}</h2>${latest.ok ? autoTable(r, [latest.data]) : notice('error', apiError(r, latest, `/api/snmp/devices/${id}/latest`))}
<h2>${t('chart')}${metric ? ` · ${metric}` : ''}</h2>${points.length > 1 ? sparkline(points, metric ?? '') : h`<p class="empty">${t('no_rows')}</p>`}
<p class="help">${when(r, new Date().toISOString())}</p>`;
    return page(r, `${t('network')} · ${String(device.data.name ?? id)}`, body, '/console/network');
  });
}
