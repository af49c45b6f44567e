#!/usr/bin/env node
// Peer for bench/logs-syslog.mjs: the wire-compatible Elasticsearch bulk test server of @rgz/plugin-logs, in its own
// process (so its CPU is not the measured process's), keeping ids only (`store: 'count'`), no mapping checks.
// Usage: node bench/peer-bulk-server.mjs [port]
import { BulkTestServer } from '@rgz/plugin-logs/test-server';

const server = await new BulkTestServer({ store: 'count', validateMappings: false, port: Number(process.argv[2] ?? 0) }).start();
console.log(`BULK listening on port ${server.port}`);
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});
