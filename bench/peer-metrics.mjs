// The peer for the metrics scrape benchmark: a bare prom-client registry holding <series> gauge series spread over
// <families> metric families (no default metrics, no collect callbacks), served on /metrics by node:http.
// Usage: node bench/peer-metrics.mjs <series> <families>
// RGZ's scrape time divided by this one is what RGZ adds to producing the same amount of exposition text.
import { createServer } from 'node:http';
import { Gauge, Registry } from 'prom-client';

const series = Number(process.argv[2] ?? 1000);
const families = Math.max(1, Math.min(series, Number(process.argv[3] ?? 100)));
const registry = new Registry();
const gauges = Array.from(
  { length: families },
  (_, f) => new Gauge({ name: `peer_family_${f}`, help: `Peer family ${f}`, labelNames: ['instance'], registers: [registry] }),
);
// Series dealt round-robin, so every family has at least one.
for (let i = 0; i < series; i++) gauges[i % families]?.set({ instance: `i${Math.floor(i / families)}` }, i);
const server = createServer(async (req, res) => {
  if (req.url !== '/metrics') {
    res.writeHead(404).end();
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType }).end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`PEER listening on port ${server.address().port}`));
