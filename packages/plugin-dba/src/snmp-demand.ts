/**
 * Demand from SNMP: the throughput the snmp plugin measured on each CPE's radio interface at its last poll
 * (`snmp_device_state.rx_bps / tx_bps`, bit/s over the poll interval). On a CPE, `rx` is what the subscriber
 * downloaded and `tx` what it uploaded. Subscribers come from the inventory (a CPE's `subscriberId`); several CPEs of
 * one subscriber add up. Readings older than `staleSeconds` or from failed polls are ignored. Without the snmp plugin
 * (no `snmp_device_state` table) the source reads nothing and says so once in the log.
 */
import { type Kysely, type Logger, sql } from '@rgz/core';
import { type DemandSample, type DemandSource, tableExists } from './demand.js';

export function snmpDemandSource(db: Kysely<any>, log: Logger): DemandSource {
  let warned = false;
  return {
    id: 'snmp',
    async measure({ now, cpes, staleSeconds }) {
      const out = new Map<string, DemandSample>();
      if (cpes.length === 0) return out;
      if (!(await tableExists(db, 'snmp_device_state'))) {
        if (!warned) log.warn('dba: demand source "snmp" is configured but the snmp plugin is not loaded (no snmp_device_state); using the others');
        warned = true;
        return out;
      }
      const subscriberOf = new Map(cpes.map((c) => [c.deviceId, c.subscriberId]));
      const since = new Date(now.getTime() - staleSeconds * 1000).toISOString();
      const ids = [...subscriberOf.keys()];
      for (let i = 0; i < ids.length; i += 5000) {
        const chunk = ids.slice(i, i + 5000);
        const { rows } = await sql<{ device_id: string; rx_bps: number | null; tx_bps: number | null }>`
          select device_id::text as device_id, rx_bps, tx_bps from snmp_device_state
          where device_id::text in (${sql.join(chunk)}) and result = 'ok' and polled_at >= ${since}::timestamptz`.execute(db);
        for (const r of rows) {
          const subscriber = subscriberOf.get(r.device_id);
          if (!subscriber || (r.rx_bps === null && r.tx_bps === null)) continue;
          const seen = out.get(subscriber) ?? { downKbps: 0, upKbps: 0 };
          out.set(subscriber, { downKbps: seen.downKbps + Math.round((r.rx_bps ?? 0) / 1000), upKbps: seen.upKbps + Math.round((r.tx_bps ?? 0) / 1000) });
        }
      }
      return out;
    },
  };
}
