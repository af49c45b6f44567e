/**
 * `GET /api/snmp/latest`: every polled device's latest state with the radio figures of its last good poll, in one
 * answer, for the console's network screen (one request per site instead of one per device). Read through the
 * caller's scoped handle: a reseller sees its own devices.
 */
import { defineRoute, type Kysely, type PluginRouter, z } from '@rgz/core';
import type { SnmpContext } from './job.js';
import type { SnmpDatabase } from './schema.js';

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const Figures = z
  .object({
    signal_dbm: z.number().nullable(),
    noise_dbm: z.number().nullable(),
    snr_db: z.number().nullable(),
    ccq_percent: z.number().nullable(),
    capacity_percent: z.number().nullable(),
    airtime_percent: z.number().nullable(),
    tx_rate_bps: z.number().nullable(),
    rx_rate_bps: z.number().nullable(),
    station_count: z.number().nullable(),
    cpu_percent: z.number().nullable(),
    temperature_c: z.number().nullable(),
  })
  .openapi('SnmpRadioFigures');

const Item = z
  .object({
    device_id: z.string(),
    site_id: z.string().nullable(),
    reseller_id: z.string().nullable(),
    kind: z.string().nullable(),
    profile: z.string().nullable(),
    result: z.string().openapi({ description: 'Outcome of the latest poll (ok, timeout, …)' }),
    error: z.string().nullable(),
    polled_at: z.string(),
    last_ok_at: z.string().nullable(),
    consecutive_failures: z.number().int(),
    uptime_seconds: z.number().nullable(),
    rx_bps: z.number().nullable(),
    tx_bps: z.number().nullable(),
    figures: Figures.nullable().openapi({ description: 'Radio figures of the last successful poll (null: never answered)' }),
  })
  .openapi('SnmpDeviceLatest');

export function registerLatestRoutes(r: PluginRouter, ctx: Pick<SnmpContext, 'name'>): void {
  r.add(
    defineRoute({
      method: 'get',
      path: '/latest',
      access: ['noc', 'reseller'],
      tags: [ctx.name],
      summary: 'Every polled device’s latest state and the radio figures of its last good poll (a reseller sees its own devices)',
      request: {
        query: z.object({
          site_id: z.uuid().optional(),
          kind: z.enum(['gateway', 'access_point', 'cpe']).optional(),
          failing: z
            .enum(['true', 'false', '1', '0'])
            .transform((v) => v === 'true' || v === '1')
            .optional()
            .openapi({ description: 'true: only devices whose latest poll failed' }),
          limit: z.coerce.number().int().min(1).max(2000).default(500),
        }),
      },
      responses: { 200: { description: 'Devices', content: { 'application/json': { schema: z.object({ items: z.array(Item) }) } } } },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const db = c.get('db') as unknown as Kysely<SnmpDatabase>;
      let query = db
        .selectFrom('snmp_device_state as st')
        // The sample stored at the last good poll: its primary key is (device_id, polled_at).
        .leftJoin('snmp_samples as s', (j) => j.onRef('s.device_id', '=', 'st.device_id').onRef('s.polled_at', '=', 'st.last_ok_at'))
        .select([
          'st.device_id',
          'st.site_id',
          'st.reseller_id',
          'st.kind',
          'st.profile',
          'st.result',
          'st.error',
          'st.polled_at',
          'st.last_ok_at',
          'st.consecutive_failures',
          'st.uptime_seconds',
          'st.rx_bps',
          'st.tx_bps',
          's.polled_at as s_polled_at',
          's.signal_dbm',
          's.noise_dbm',
          's.snr_db',
          's.ccq_percent',
          's.capacity_percent',
          's.airtime_percent',
          's.tx_rate_bps',
          's.rx_rate_bps',
          's.station_count',
          's.cpu_percent',
          's.temperature_c',
        ])
        .orderBy('st.site_id')
        .orderBy('st.device_id')
        .limit(q.limit);
      if (q.site_id) query = query.where('st.site_id', '=', q.site_id);
      if (q.kind) query = query.where('st.kind', '=', q.kind);
      if (q.failing !== undefined) query = query.where('st.consecutive_failures', q.failing ? '>' : '=', 0);
      const rows = await query.execute();
      return c.json(
        {
          items: rows.map((r) => ({
            device_id: r.device_id,
            site_id: r.site_id,
            reseller_id: r.reseller_id,
            kind: r.kind,
            profile: r.profile,
            result: r.result,
            error: r.error,
            polled_at: iso(r.polled_at) as string,
            last_ok_at: iso(r.last_ok_at),
            consecutive_failures: Number(r.consecutive_failures),
            uptime_seconds: num(r.uptime_seconds),
            rx_bps: num(r.rx_bps),
            tx_bps: num(r.tx_bps),
            figures:
              r.s_polled_at === null
                ? null
                : {
                    signal_dbm: num(r.signal_dbm),
                    noise_dbm: num(r.noise_dbm),
                    snr_db: num(r.snr_db),
                    ccq_percent: num(r.ccq_percent),
                    capacity_percent: num(r.capacity_percent),
                    airtime_percent: num(r.airtime_percent),
                    tx_rate_bps: num(r.tx_rate_bps),
                    rx_rate_bps: num(r.rx_rate_bps),
                    station_count: num(r.station_count),
                    cpu_percent: num(r.cpu_percent),
                    temperature_c: num(r.temperature_c),
                  },
          })),
        },
        200,
      );
    },
  );
}
