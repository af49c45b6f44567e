/**
 * `GET /api/logs/search` and `GET /api/logs/status` (NOC only): the records of the last day by default, newest first,
 * filtered by service, subscriber, MAC, NAS, request id and text — from the local files (embedded default) or the
 * cluster.
 */
import { defineRoute, httpErrors, type PluginRouter, RgzError, z } from '@rgz/core';
import type { LogsService } from '../service.js';
import { CriteriaError, toQuery } from './query.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const searchParams = z.object({
  since: z.string().max(64).optional().openapi({ description: 'Start: a duration back from now (15m, 2h, 7d) or an ISO 8601 time. Default 24h.' }),
  until: z.string().max(64).optional().openapi({ description: 'End (same forms); default now' }),
  service: z
    .string()
    .max(128)
    .optional()
    .openapi({ description: 'The `service` field (rgz-api, hostapd, netflow…) or an index kind: api, radius, cpe, netflow' }),
  subscriber: z.string().max(128).optional().openapi({ description: 'Subscriber id, subscriber ref or RADIUS user name' }),
  mac: z.string().max(64).optional().openapi({ description: 'A MAC in any spelling' }),
  nas: z.string().max(253).optional().openapi({ description: 'NAS-Identifier, NAS id, or FreeRADIUS client name' }),
  request_id: z.string().max(128).optional(),
  index: z.string().max(64).optional().openapi({ description: 'Comma-separated index kinds (api, radius, cpe, netflow)' }),
  q: z.string().max(256).optional().openapi({ description: 'Text the message contains (case-insensitive)' }),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

const hit = z.record(z.string(), z.unknown()).openapi('LogRecord');

export function registerRoutes(router: PluginRouter, service: () => LogsService, maxResults: number): void {
  router.add(
    defineRoute({
      method: 'get',
      path: '/search',
      access: ['noc'],
      summary: 'Search central logs (API, RADIUS, CPE syslog, NetFlow), newest first',
      tags: ['logs'],
      request: { query: searchParams },
      responses: {
        200: json(z.object({ items: z.array(hit), more: z.boolean(), backend: z.enum(['local', 'cluster']) }), 'Matching records, each with _index and _id'),
      },
    }),
    async (c) => {
      const p = c.req.valid('query');
      let query: ReturnType<typeof toQuery>;
      try {
        query = toQuery({ ...p, requestId: p.request_id }, maxResults);
      } catch (err) {
        if (err instanceof CriteriaError) throw httpErrors.badRequest('invalid_criteria', err.message);
        throw err;
      }
      try {
        return c.json(await service().search(query), 200);
      } catch (err) {
        if (err instanceof RgzError) throw err;
        throw new RgzError('logs_search_failed', `the log cluster did not answer: ${(err as Error).message}`, { status: 502 });
      }
    },
  );

  router.add(
    defineRoute({
      method: 'get',
      path: '/status',
      access: ['noc'],
      summary: 'Log pipeline status: listeners, queue, cluster, spool, tailed files',
      tags: ['logs'],
      responses: { 200: json(z.record(z.string(), z.unknown()), 'Status') },
    }),
    async (c) => c.json(service().status() as unknown as Record<string, unknown>, 200),
  );
}
