#!/usr/bin/env node
// Benchmark (issue 7, flow 6): the DBA computation for 10,000 online subscribers over 200 sites — claims built from
// plans, water-filling per site and direction (CIR floors, MIR caps, burst), hysteresis decisions — target < 1 s.
// With --full, also one whole DBA run through the real plugins on the embedded database (inventory override with the
// same 200 sites, 10,000 open RADIUS sessions, 10,000 active subscriptions): reads, computation, 10,000 rate keys,
// 10,000 dba_allocations rows, the reseller aggregates and the nas.policy-change tasks.
// Usage: node bench/dba.mjs [--subscribers 10000] [--sites 200] [--rounds 20] [--full] [--backend embedded|real]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';

// Workspace packages from source (their `@rgz/source` export condition), whatever `dist` holds.
if (!process.execArgv.some((a) => a.includes('conditions=@rgz/source') || a === '@rgz/source')) {
  const r = spawnSync(process.execPath, ['--conditions=@rgz/source', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    sites: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '20' },
    full: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'embedded' },
  },
});
const N = Number(values.subscribers);
const SITES = Number(values.sites);
const ROUNDS = Number(values.rounds);
const here = import.meta.url;
const { computeAllocations } = await tsImport('../packages/plugin-dba/src/allocate.ts', here);

// Seeded PRNG (mulberry32) so every run measures the same population.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const PLANS = [
  { code: 'DAY10MB', down: 1024, up: 512 },
  { code: 'DAY100MB', down: 2048, up: 1024 },
  { code: 'MONTH1GB', down: null, up: null },
  { code: 'MONTH5GB', down: null, up: null },
];

export function population(n = N, siteCount = SITES, seed = 7) {
  const rand = prng(seed);
  const sites = Array.from({ length: siteCount }, (_, i) => ({
    id: `site-${i}`,
    name: `Site ${i}`,
    resellerId: `r-${i % 20}`,
    // 20–100 Mbit/s backhaul: about half the sites end up congested with 50 subscribers at up to 4 Mbit/s.
    capacityDownKbps: 20_000 + Math.floor(rand() * 80_000),
    capacityUpKbps: 5_000 + Math.floor(rand() * 20_000),
  }));
  const members = Array.from({ length: n }, (_, i) => {
    const plan = PLANS[Math.floor(rand() * PLANS.length)];
    const down = rand() < 0.3 ? 0 : Math.floor(rand() * 4000);
    return {
      subscriberId: `sub-${i}`,
      siteId: `site-${i % siteCount}`,
      planCode: plan.code,
      rateDownKbps: plan.down,
      rateUpKbps: plan.up,
      demand: { downKbps: down, upKbps: Math.floor(down / 4) },
      sessions: 1,
      previous: rand() < 0.5 ? { down: 500 + Math.floor(rand() * 3000), up: 100 + Math.floor(rand() * 800) } : null,
    };
  });
  return { sites, members };
}

const options = {
  cir: { fraction: 0.25, unlimitedKbps: { down: 1024, up: 512 }, plans: {} },
  burstFraction: 0.5,
  hysteresis: { percent: 10, kbps: 128 },
};

const { sites, members } = population();
let result;
for (let i = 0; i < 3; i++) result = computeAllocations(sites, members, options);
const times = [];
for (let i = 0; i < ROUNDS; i++) {
  const t = process.hrtime.bigint();
  result = computeAllocations(sites, members, options);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
const congested = result.sites.filter((s) => s.down?.congested || s.up?.congested).length;
const decisions = {};
for (const a of result.allocations) decisions[a.decision] = (decisions[a.decision] ?? 0) + 1;
console.log(`DBA computation: ${N} subscribers over ${SITES} sites (${congested} congested), ${ROUNDS} rounds after 3 warm-ups, Node ${process.version}`);
console.log('| metric | value | target |');
console.log('|---|---|---|');
console.log(`| median | ${pct(50).toFixed(2)} ms | < 1000 ms |`);
console.log(`| p95 | ${pct(95).toFixed(2)} ms | |`);
console.log(`| max | ${times[times.length - 1].toFixed(2)} ms | |`);
console.log(`| decisions | push ${decisions.push ?? 0}, hold ${decisions.hold ?? 0}, same ${decisions.same ?? 0} | |`);
if (pct(50) >= 1000) process.exitCode = 1;

if (values.full) await fullRun(values.backend);

async function fullRun(backend) {
  const { startTestServer } = await tsImport('../packages/core/src/testing/index.ts', here);
  const core = await tsImport('../packages/core/src/index.ts', here);
  const { default: dba } = await tsImport('../packages/plugin-dba/src/index.ts', here);
  const { default: radius } = await tsImport('../packages/plugin-radius/src/index.ts', here);
  const { default: mikrotik } = await tsImport('../packages/nas-mikrotik/src/index.ts', here);
  const { sites: benchSites, members: benchMembers } = population(N, SITES, 11);
  const uuid = (prefix, i) => `${prefix}${String(i).padStart(12, '0')}`;
  const siteIds = benchSites.map((_, i) => uuid('00000000-0000-4000-8000-', i));
  const fakeInventory = {
    listSites: async () =>
      benchSites.map((s, i) => ({
        id: siteIds[i],
        name: s.name,
        resellerId: null,
        location: null,
        capacityDownKbps: s.capacityDownKbps,
        capacityUpKbps: s.capacityUpKbps,
      })),
    listDevices: async () => [],
    getSite: async () => null,
    getDevice: async () => null,
  };
  const nasSites = {};
  for (let i = 0; i < benchSites.length; i++) nasSites[`nas-${i}`] = siteIds[i];
  const server = await startTestServer({
    backend,
    worker: false,
    plugins: [mikrotik, { plugin: radius, config: { listen: false } }, { plugin: dba, config: { nasSites } }],
    overrides: [[core.inventoryReader, fakeInventory]],
  });
  try {
    const db = server.kernel.db;
    const plans = Object.fromEntries(
      (await db.selectFrom('plans').select(['id', 'code']).where('reseller_id', 'is', null).execute()).map((p) => [p.code, p.id]),
    );
    const now = Date.now();
    for (let i = 0; i < benchMembers.length; i += 1000) {
      const chunk = benchMembers.slice(i, i + 1000);
      const subs = await db
        .insertInto('subscribers')
        .values(chunk.map((_, j) => ({ subscriber_ref: `BENCH-${i + j}`, msisdn: `+229${String(10_000_000 + i + j)}`, reseller_id: null })))
        .returning('id')
        .execute();
      await db
        .insertInto('subscriptions')
        .values(
          chunk.map((m, j) => ({
            subscriber_id: subs[j].id,
            plan_id: plans[m.planCode],
            reseller_id: null,
            starts_at: new Date(now - 3_600_000),
            expires_at: new Date(now + 86_400_000),
            source: 'grant',
            source_ref: `bench-${i + j}`,
          })),
        )
        .execute();
      await db
        .insertInto('radius_sessions')
        .values(
          chunk.map((m, j) => ({
            subscriber_id: subs[j].id,
            nas_id: `bench-nas-${Number(m.siteId.slice(5))}`,
            nas_identifier: `nas-${Number(m.siteId.slice(5))}`,
            acct_session_id: `bench-${i + j}`,
            user_name: `BENCH-${i + j}`,
            bytes_in: Math.round((m.demand.upKbps * 1000 * 300) / 8),
            bytes_out: Math.round((m.demand.downKbps * 1000 * 300) / 8),
            session_start: new Date(now - 300_000),
            last_update: new Date(now),
            last_status: 'interim',
          })),
        )
        .execute();
    }
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const t = process.hrtime.bigint();
      const res = await server.request('/api/dba/runs', { method: 'POST', headers: server.auth(server.nocToken) });
      const summary = await res.json();
      if (res.status !== 201) throw new Error(`run failed: ${JSON.stringify(summary)}`);
      runs.push({ ms: Number(process.hrtime.bigint() - t) / 1e6, summary });
    }
    const s0 = runs[0].summary;
    console.log(`\nWhole DBA run through the plugins (${backend}): ${s0.subscribers} subscribers, ${s0.sites} sites, ${s0.congested_sites} congested`);
    const phases = Object.keys(s0.timings_ms);
    console.log(`| run | wall time | rate changes enqueued | ${phases.join(' | ')} |`);
    console.log(`|---|---|---|${phases.map(() => '---|').join('')}`);
    runs.forEach((r, i) => {
      const label = ['1st (every rate new)', '2nd (same demand)', '3rd (same demand)'][i];
      console.log(`| ${label} | ${r.ms.toFixed(0)} ms | ${r.summary.pushes} | ${phases.map((p) => `${r.summary.timings_ms[p]} ms`).join(' | ')} |`);
    });
  } finally {
    await server.close();
  }
}
