/** Overview: subscribers online, revenue today and this month, open incidents by priority, SLA this month, last reconciliation. */
import { apiError, money, notice, page, type Req, when } from '../app.js';
import { type Html, h } from '../html.js';
import type { ConsoleRoutes } from '../index.js';

interface Payment {
  amount_fcfa: number;
  status: string;
  created_at: string;
}

/** Bénin is UTC+1 all year (Africa/Porto-Novo, no summer time): a day starts at 00:00+01:00. */
export function beninDay(now = new Date()): { day: string; month: string } {
  const local = new Date(now.getTime() + 3600_000).toISOString();
  return { day: local.slice(0, 10), month: local.slice(0, 7) };
}

/**
 * Revenue from credited payments since `from`; a `GET /api/billing/summary` route would spare the paging. Counted
 * over at most 20 pages of 500 so a busy month cannot hold the page; the figure then says it is a lower bound.
 */
async function revenueSince(r: Req, from: string): Promise<{ total: number; partial: boolean } | string> {
  let total = 0;
  for (let pageNo = 0; pageNo < 20; pageNo++) {
    const res = await r.api.get<{ items: Payment[] }>('/api/billing/payments', { status: 'credited', from, limit: 500, offset: pageNo * 500 });
    if (!res.ok) return apiError(r, res, '/api/billing/payments');
    for (const p of res.data.items) total += p.amount_fcfa;
    if (res.data.items.length < 500) return { total, partial: false };
  }
  return { total, partial: true };
}

const card = (label: string, value: string | Html, id: string) =>
  h`<div class="card" id="${id}"><span class="v">${value}</span><span class="l">${label}</span></div>`;

export function registerOverview(routes: ConsoleRoutes): void {
  routes.get('/', 'Console overview', async (r) => {
    const { t } = r;
    const { day, month } = beninDay();
    const errors: string[] = [];
    const noc = r.user.role === 'noc';
    const summary = await r.api.get<{ today: { payments_fcfa: number }; month: { payments_fcfa: number } }>('/api/billing/summary', { date: day });
    const [online, today, thisMonth, incidents, sla, recon] = await Promise.all([
      r.api.get<{ online_subscribers: number }>('/api/radius/sessions/summary'),
      // Billing's own figures; summed from the payments list when this billing has no summary route.
      summary.ok ? { total: summary.data.today.payments_fcfa, partial: false } : revenueSince(r, `${day}T00:00:00+01:00`),
      summary.ok ? { total: summary.data.month.payments_fcfa, partial: false } : revenueSince(r, `${month}-01T00:00:00+01:00`),
      noc ? r.api.get<{ items: Array<{ priority: string }> }>('/api/incidents', { status: 'active', limit: 200 }) : null,
      r.api.get<{ rows: Array<{ key: string | null; name: string | null; uptime_percent: number; total: number }> }>('/api/sla/uptime', {
        period: 'month',
        group: noc ? 'target' : 'reseller',
      }),
      noc
        ? r.api.get<{ items: Array<{ day: string; status: string; counts: Record<string, number>; mismatch_fcfa: number }> }>(
            '/api/billing/reconciliation/runs',
            { limit: 1 },
          )
        : null,
    ]);
    const fig = (v: { total: number; partial: boolean } | string) => {
      if (typeof v !== 'string') return `${v.partial ? '≥ ' : ''}${money(r, v.total)}`;
      errors.push(v);
      return t('unavailable');
    };
    let onlineText: string = t('unavailable');
    if (online.ok) onlineText = String(online.data.online_subscribers);
    else errors.push(apiError(r, online, '/api/radius/sessions/summary'));
    let incidentText: Html | string = '';
    if (incidents) {
      if (incidents.ok) {
        const by = new Map<string, number>();
        for (const i of incidents.data.items) by.set(i.priority, (by.get(i.priority) ?? 0) + 1);
        incidentText = by.size ? h`${[...by.entries()].sort().map(([p, n]) => h`<span class="badge ${p}">${p}: ${n}</span> `)}` : '0';
      } else errors.push(apiError(r, incidents, '/api/incidents'));
    }
    let slaText: string = t('unavailable');
    if (sla.ok) {
      const rows = sla.data.rows.filter((x) => x.total > 0);
      const total = rows.reduce((n, x) => n + x.total, 0);
      slaText = total ? `${((rows.reduce((n, x) => n + (x.uptime_percent / 100) * x.total, 0) / total) * 100).toFixed(2)} %` : '—';
    } else errors.push(apiError(r, sla, '/api/sla/uptime'));
    let reconText: string | Html = '';
    if (recon) {
      if (recon.ok) {
        const last = recon.data.items[0];
        reconText = last ? `${last.day} · ${last.status} · ${t('mismatches')} ${money(r, last.mismatch_fcfa)}` : t('none');
      } else errors.push(apiError(r, recon, '/api/billing/reconciliation/runs'));
    }
    const body = h`${errors.map((e) => notice('error', e))}
<div class="cards">
${card(t('online'), onlineText, 'online')}
${card(t('revenue_today'), fig(today), 'revenue-today')}
${card(t('revenue_month'), fig(thisMonth), 'revenue-month')}
${noc ? card(t('open_incidents'), incidentText, 'incidents') : ''}
${card(t('sla_month'), slaText, 'sla')}
${noc ? card(t('last_recon'), reconText, 'reconciliation') : ''}
</div><p class="help">${when(r, new Date().toISOString())}</p>`;
    return page(r, t('overview'), body, '/console');
  });
}
