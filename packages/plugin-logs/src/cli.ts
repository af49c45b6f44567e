/**
 * `rgz logs search …` and `rgz logs status`: the same search as `GET /api/logs/search`, from a shell on the server.
 * Works beside a running server: the CLI process finds the data directory owned and only reads.
 */
import { parseArgs } from 'node:util';
import type { CliCommand } from '@rgz/core';
import { CriteriaError, toQuery } from './http/query.js';
import type { LogsService } from './service.js';

export const USAGE = `Usage:
  rgz logs search [--since 1h|ISO] [--until ISO] [--service S] [--subscriber ID] [--mac MAC] [--nas NAS]
                  [--request-id ID] [--index api,radius,cpe,netflow] [--grep TEXT] [--limit N] [--json]
  rgz logs status

search: records of the last 24 h by default, newest first. --service matches the service field (rgz-api, hostapd,
netflow…) or an index kind; --subscriber an id, ref or RADIUS user; --mac any spelling; --nas a NAS-Identifier,
NAS id or FreeRADIUS client. --json prints one JSON document per line.`;

export function logsCommand(service: () => LogsService, maxResults: number): CliCommand {
  return {
    name: 'logs',
    summary: 'Search the central logs (API, RADIUS, CPE syslog, NetFlow); pipeline status',
    usage: USAGE,
    async run(argv, io) {
      const [sub, ...rest] = argv;
      if (sub === 'status') {
        io.out(JSON.stringify(service().status(), null, 2));
        return 0;
      }
      if (sub !== 'search') {
        io.err(USAGE);
        return 2;
      }
      let values: Record<string, string | boolean | undefined>;
      try {
        values = parseArgs({
          args: rest,
          options: {
            since: { type: 'string' },
            until: { type: 'string' },
            service: { type: 'string' },
            subscriber: { type: 'string' },
            mac: { type: 'string' },
            nas: { type: 'string' },
            'request-id': { type: 'string' },
            index: { type: 'string' },
            grep: { type: 'string' },
            limit: { type: 'string' },
            json: { type: 'boolean' },
          },
          strict: true,
          allowPositionals: false,
        }).values;
      } catch (err) {
        io.err(`rgz logs search: ${(err as Error).message}\n\n${USAGE}`);
        return 2;
      }
      const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
      let query: ReturnType<typeof toQuery>;
      try {
        query = toQuery(
          {
            since: str('since'),
            until: str('until'),
            service: str('service'),
            subscriber: str('subscriber'),
            mac: str('mac'),
            nas: str('nas'),
            requestId: str('request-id'),
            index: str('index'),
            q: str('grep'),
            limit: str('limit'),
          },
          maxResults,
        );
      } catch (err) {
        if (err instanceof CriteriaError) {
          io.err(`rgz logs search: ${err.message}`);
          return 2;
        }
        throw err;
      }
      const result = await service().search(query);
      for (const hit of result.items) {
        if (values.json) {
          io.out(JSON.stringify(hit));
          continue;
        }
        const kind = /^logstash-([a-z]+)-/.exec(hit._index)?.[1] ?? hit._index;
        const who = [hit.subscriber_ref ?? hit.subscriber_id ?? hit.user, hit.mac, hit.nas_id].filter((v) => typeof v === 'string' && v).join(' ');
        const text =
          kind === 'netflow' && hit.source_ip
            ? `${hit.source_ip} → ${hit.dest_ip} ${hit.protocol ?? ''} ${hit.bytes ?? 0} B ${hit.duration_ms ?? 0} ms`
            : String(hit.message ?? '').replace(/\s+/g, ' ');
        io.out(`${hit['@timestamp'] ?? ''}  ${kind.padEnd(7)} ${String(hit.host ?? hit.service ?? '').padEnd(16)} ${who ? `[${who}] ` : ''}${text}`);
      }
      io.err(
        `${result.items.length} record(s)${result.more ? ` (more match: raise --limit or narrow the search)` : ''} from ${result.backend === 'local' ? 'local files' : 'the cluster'}`,
      );
      return 0;
    },
  };
}
