/**
 * `/api/snmp`: a device's latest poll (with the full normalised sample: radios, interfaces, stations), its history
 * (device rows and interface rows, bounded), and "poll it now". The NOC sees everything; a reseller its own devices
 * (the tables are reseller-owned, so `c.get('db')` filters them).
 */
import { defineRoute, httpErrors, jsonContent as json, type Kysely, type PluginRouter, type Principal, problemContent as problem, z } from '@rgz/core';
import { runPoll, type SnmpContext } from './job.js';
import type { SnmpDatabase } from './schema.js';

const IdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const ACCESS = ['noc', 'reseller'] as const;

const Range = z.object({
  from: z.string().datetime({ offset: true }).optional().openapi({ description: 'polled_at ≥ from (ISO 8601); default: 24 h before `to`' }),
  to: z.string().datetime({ offset: true }).optional().openapi({ description: 'polled_at < to; default: now' }),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

const SampleSchema = z
  .object({
    polled_at: z.string(),
    result: z.string(),
    error: z.string().nullable(),
    profile: z.string().nullable(),
    duration_ms: z.number(),
    uptime_seconds: z.number().nullable(),
    signal_dbm: z.number().nullable(),
    noise_dbm: z.number().nullable(),
    snr_db: z.number().nullable(),
    ccq_percent: z.number().nullable(),
    capacity_percent: z.number().nullable(),
    airtime_percent: z.number().nullable(),
    tx_rate_bps: z.number().nullable(),
    rx_rate_bps: z.number().nullable(),
    station_count: z.number().nullable(),
    if_index: z.number().nullable(),
    rx_bps: z.number().nullable().openapi({ description: 'Received on the primary interface, bit/s, since the previous poll' }),
    tx_bps: z.number().nullable(),
    cpu_percent: z.number().nullable(),
    temperature_c: z.number().nullable(),
    counter_reset: z.boolean(),
  })
  .openapi('SnmpSample');

const InterfaceSampleSchema = z
  .object({
    polled_at: z.string(),
    if_index: z.number(),
    name: z.string().nullable(),
    oper_status: z.string().nullable(),
    counter_bits: z.number(),
    in_octets: z.string().nullable().openapi({ description: 'Counter as read (decimal string: Counter64 exceeds 2^53)' }),
    out_octets: z.string().nullable(),
    in_bps: z.number().nullable(),
    out_bps: z.number().nullable(),
    in_errors: z.number().nullable(),
    out_errors: z.number().nullable(),
    in_discards: z.number().nullable(),
    speed_bps: z.number().nullable(),
  })
  .openapi('SnmpInterfaceSample');

const LatestSchema = z
  .object({
    device_id: z.string(),
    polled_at: z.string(),
    result: z.string(),
    error: z.string().nullable(),
    profile: z.string().nullable(),
    detected_profile: z.string().nullable(),
    last_ok_at: z.string().nullable(),
    consecutive_failures: z.number(),
    uptime_seconds: z.number().nullable(),
    rx_bps: z.number().nullable(),
    tx_bps: z.number().nullable(),
    sample: z.unknown().openapi({ description: 'The normalised CpeSample of the last successful answer (counters as decimal strings), or null' }),
  })
  .openapi('SnmpLatest');

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function range(q: { from?: string | undefined; to?: string | undefined }) {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
  if (from >= to) throw httpErrors.badRequest('range_invalid', '`from` must be before `to`');
  return { from, to };
}

export function registerRoutes(r: PluginRouter, ctx: SnmpContext): void {
  const tags = [ctx.name];
  const dbOf = (c: { get(k: 'db'): unknown }) => c.get('db') as Kysely<SnmpDatabase>;

  r.add(
    defineRoute({
      method: 'get',
      path: '/devices/{id}/latest',
      access: ACCESS,
      tags,
      summary: "A device's latest poll: result, throughput and the full normalised sample",
      request: { params: IdParam },
      responses: { 200: json(LatestSchema, 'Latest poll'), 404: problem('Never polled, or not yours') },
    }),
    async (c) => {
      const row = await dbOf(c).selectFrom('snmp_device_state').selectAll().where('device_id', '=', c.req.valid('param').id).executeTakeFirst();
      if (!row) throw httpErrors.notFound('not_polled', 'this device has not been polled yet');
      return c.json(
        {
          device_id: row.device_id,
          polled_at: iso(row.polled_at) as string,
          result: row.result,
          error: row.error,
          profile: row.profile,
          detected_profile: row.detected_profile,
          last_ok_at: iso(row.last_ok_at),
          consecutive_failures: row.consecutive_failures,
          uptime_seconds: num(row.uptime_seconds),
          rx_bps: num(row.rx_bps),
          tx_bps: num(row.tx_bps),
          sample: row.sample ?? null,
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/devices/{id}/samples',
      access: ACCESS,
      tags,
      summary: "A device's poll history (one row per poll, oldest first)",
      request: { params: IdParam, query: Range },
      responses: { 200: json(z.object({ samples: z.array(SampleSchema) }), 'History'), 400: problem('Bad range') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { from, to } = range(q);
      const rows = await dbOf(c)
        .selectFrom('snmp_samples')
        .selectAll()
        .where('device_id', '=', c.req.valid('param').id)
        .where('polled_at', '>=', from)
        .where('polled_at', '<', to)
        .orderBy('polled_at')
        .limit(q.limit)
        .execute();
      return c.json(
        {
          samples: rows.map((s) => ({
            polled_at: iso(s.polled_at) as string,
            result: s.result,
            error: s.error,
            profile: s.profile,
            duration_ms: s.duration_ms,
            uptime_seconds: num(s.uptime_seconds),
            signal_dbm: num(s.signal_dbm),
            noise_dbm: num(s.noise_dbm),
            snr_db: num(s.snr_db),
            ccq_percent: num(s.ccq_percent),
            capacity_percent: num(s.capacity_percent),
            airtime_percent: num(s.airtime_percent),
            tx_rate_bps: num(s.tx_rate_bps),
            rx_rate_bps: num(s.rx_rate_bps),
            station_count: num(s.station_count),
            if_index: num(s.if_index),
            rx_bps: num(s.rx_bps),
            tx_bps: num(s.tx_bps),
            cpu_percent: num(s.cpu_percent),
            temperature_c: num(s.temperature_c),
            counter_reset: s.counter_reset,
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'get',
      path: '/devices/{id}/interfaces',
      access: ACCESS,
      tags,
      summary: "A device's interface history (counters as read, rates, errors), oldest first",
      request: { params: IdParam, query: Range.extend({ if_index: z.coerce.number().int().positive().optional() }) },
      responses: { 200: json(z.object({ interfaces: z.array(InterfaceSampleSchema) }), 'History'), 400: problem('Bad range') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { from, to } = range(q);
      let query = dbOf(c)
        .selectFrom('snmp_interface_samples')
        .selectAll()
        .where('device_id', '=', c.req.valid('param').id)
        .where('polled_at', '>=', from)
        .where('polled_at', '<', to);
      if (q.if_index) query = query.where('if_index', '=', q.if_index);
      const rows = await query.orderBy('polled_at').orderBy('if_index').limit(q.limit).execute();
      return c.json(
        {
          interfaces: rows.map((i) => ({
            polled_at: iso(i.polled_at) as string,
            if_index: i.if_index,
            name: i.name,
            oper_status: i.oper_status,
            counter_bits: i.counter_bits,
            in_octets: i.in_octets === null ? null : String(i.in_octets),
            out_octets: i.out_octets === null ? null : String(i.out_octets),
            in_bps: num(i.in_bps),
            out_bps: num(i.out_bps),
            in_errors: num(i.in_errors),
            out_errors: num(i.out_errors),
            in_discards: num(i.in_discards),
            speed_bps: num(i.speed_bps),
          })),
        },
        200,
      );
    },
  );

  r.add(
    defineRoute({
      method: 'post',
      path: '/devices/{id}/poll',
      access: ACCESS,
      tags,
      summary: 'Poll one device now (stored like a scheduled poll; the site metrics are left alone)',
      request: { params: IdParam },
      responses: { 200: json(LatestSchema, 'The poll just made'), 404: problem('No such enabled device, or not yours') },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const principal = c.get('principal') as Principal;
      const device = await ctx.inventory()?.getDevice(id);
      if (!device?.enabled || (principal.role === 'reseller' && device.resellerId !== principal.resellerId)) {
        throw httpErrors.notFound('device_not_found', 'no enabled device with this id in the inventory');
      }
      const summary = await runPoll(ctx, { deviceIds: [id], publish: false });
      if (summary.devices === 0)
        throw httpErrors.notFound('device_not_found', `this device's kind is not polled (config kinds: ${ctx.config.kinds.join(', ')})`);
      const row = await ctx.db.selectFrom('snmp_device_state').selectAll().where('device_id', '=', id).executeTakeFirstOrThrow();
      return c.json(
        {
          device_id: row.device_id,
          polled_at: iso(row.polled_at) as string,
          result: row.result,
          error: row.error,
          profile: row.profile,
          detected_profile: row.detected_profile,
          last_ok_at: iso(row.last_ok_at),
          consecutive_failures: row.consecutive_failures,
          uptime_seconds: num(row.uptime_seconds),
          rx_bps: num(row.rx_bps),
          tx_bps: num(row.tx_bps),
          sample: row.sample ?? null,
        },
        200,
      );
    },
  );
}
