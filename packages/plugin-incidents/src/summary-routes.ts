/**
 * `GET /api/<name>/summary`: the incident counts the operator console's overview shows (active incidents by priority
 * and state, the oldest one still open, how many were resolved in the last 24 hours). NOC only, like the rest of the
 * incident API. Registered before the `/{id}` routes so that `summary` is not read as an incident reference.
 */
import { defineRoute, type Kysely, type PluginRouter, sql, z } from '@rgz/core';
import { PRIORITIES } from './config.js';

const Counts = z.object({ P0: z.number().int(), P1: z.number().int(), P2: z.number().int() });

export function registerSummary(router: PluginRouter, deps: { name: string; db: Kysely<any> }): void {
  router.add(
    defineRoute({
      method: 'get',
      path: '/summary',
      access: ['noc'],
      tags: [deps.name],
      summary: 'Active incidents by priority (open, acknowledged), the oldest still open, and those resolved in the last 24 hours',
      responses: {
        200: {
          description: 'Counts',
          content: {
            'application/json': {
              schema: z.object({
                active: Counts.openapi({ description: 'Open or acknowledged' }),
                open: Counts,
                acknowledged: Counts,
                active_total: z.number().int(),
                oldest_open: z.object({ number: z.number().int(), priority: z.enum(PRIORITIES), title: z.string(), opened_at: z.string() }).nullable(),
                resolved_last_24h: z.number().int(),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const rows = await sql<{ status: 'open' | 'acknowledged'; priority: (typeof PRIORITIES)[number]; n: number }>`
        select status, priority, count(*)::int as n from incidents_incidents where status <> 'resolved' group by status, priority`.execute(deps.db);
      const zero = () => ({ P0: 0, P1: 0, P2: 0 });
      const open = zero();
      const acknowledged = zero();
      const active = zero();
      for (const r of rows.rows) {
        (r.status === 'open' ? open : acknowledged)[r.priority] += r.n;
        active[r.priority] += r.n;
      }
      const oldest = await sql<{ number: string; priority: (typeof PRIORITIES)[number]; title: string; opened_at: Date }>`
        select number, priority, title, opened_at from incidents_incidents where status = 'open' order by opened_at, number limit 1`.execute(deps.db);
      const resolved = await sql<{ n: number }>`
        select count(*)::int as n from incidents_incidents where status = 'resolved' and resolved_at >= now() - interval '24 hours'`.execute(deps.db);
      const o = oldest.rows[0];
      return c.json(
        {
          active,
          open,
          acknowledged,
          active_total: active.P0 + active.P1 + active.P2,
          oldest_open: o ? { number: Number(o.number), priority: o.priority, title: o.title, opened_at: new Date(o.opened_at).toISOString() } : null,
          resolved_last_24h: resolved.rows[0]?.n ?? 0,
        },
        200,
      );
    },
  );
}
