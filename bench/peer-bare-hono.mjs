// The peer for the core HTTP benchmark: hono on @hono/node-server with the same trivial bearer-checked route
// and nothing else (no DB, no metrics, no logging). RGZ's figure divided by this one is the cost of core.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const token = process.env.TOKEN ?? 'x';
const app = new Hono();
app.get('/api/core/whoami', (c) => {
  if (c.req.header('authorization') !== `Bearer ${token}`) return c.json({ code: 'unauthorized' }, 401);
  return c.json({ role: 'noc', name: 'bench', reseller_id: null, subscriber_id: null });
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`PEER listening on port ${info.port}`));
