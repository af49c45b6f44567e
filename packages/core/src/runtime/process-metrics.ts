/**
 * The seed's host-level gauges, computed at scrape time: cpu_usage_percent, memory_usage_mb,
 * db_connections_active and redis_connected_clients (thresholds in deploy/prometheus rules).
 */
import type { Kv } from '../kv/kv.js';
import type { Metrics } from '../metrics/registry.js';
import type { Database } from '../storage/database.js';

export function registerProcessMetrics(metrics: Metrics, database: Database, kv: Kv): void {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  metrics.gauge({
    name: 'cpu_usage_percent',
    help: 'CPU used by this server process since the previous scrape, in percent of one core',
    collect() {
      const now = process.hrtime.bigint();
      const cpu = process.cpuUsage(lastCpu);
      const elapsedUs = Number(now - lastAt) / 1000;
      lastCpu = process.cpuUsage();
      lastAt = now;
      this.set(elapsedUs > 0 ? ((cpu.user + cpu.system) / elapsedUs) * 100 : 0);
    },
  });
  metrics.gauge({
    name: 'memory_usage_mb',
    help: 'Resident memory of this server process in megabytes',
    collect() {
      this.set(process.memoryUsage().rss / (1024 * 1024));
    },
  });
  metrics.gauge({
    name: 'db_connections_active',
    help: 'Database connections checked out of this replica pool',
    collect() {
      this.set(database.activeConnections());
    },
  });
  metrics.gauge({
    name: 'pg_up',
    help: 'Whether this replica reaches its database (1) or not (0); the DatabaseDown rule reads it',
    async collect() {
      this.set((await database.ping(1500)) ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'redis_connected_clients',
    help: 'Clients connected to the Redis server (1 for the in-process KV)',
    async collect() {
      try {
        this.set(await kv.connectedClients());
      } catch {
        /* leave the last value; /ready reports the outage */
      }
    },
  });
}
