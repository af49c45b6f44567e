/**
 * The quarterly ARCEP report on a quarter of known data, in the real composition (billing for the ledger, the radius
 * and incidents plugins for their tables), on both storage backends: the CSV figures exactly as expected, the PDF
 * signed inside, every file and the manifest signed, the log chained, the delivery recorded (an HTTP 503 first, then
 * the retry) with the multipart received by a local server, the folder written and verified offline (and a tampered
 * file caught), an idempotent re-run; and the required-source rule.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InventoryReader, inventoryReader, type Kysely, loadVerifyKey, sha256Hex, sql, verifyChain, verifyDigest, verifyDocument } from '@rgz/core';
import { BACKENDS, startTestServer, TestPaymentProvider, type TestServer, testPaymentPlugin, waitFor } from '@rgz/core/testing';
import billing from '@rgz/plugin-billing';
import incidents from '@rgz/plugin-incidents';
import radius from '@rgz/plugin-radius';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import arcep from './index.js';
import { quarterPeriod } from './period.js';
import type { ArcepDatabase } from './schema.js';
import { type LogEntryView, toChainEntries } from './service.js';
import { parseCsv } from './test-support/csv.js';
import { startUploadServer, type UploadServer } from './test-support/upload-server.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
const TZ = 'Africa/Porto-Novo';
const DAY = 86_400_000;

it("declares package.json's version and name", () => {
  expect(arcep.version).toBe(pkg.version);
  expect(pkg.name).toBe(`@rgz/plugin-${arcep.name}`);
});

function currentQuarter() {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: TZ, year: 'numeric', month: 'numeric' }).formatToParts(new Date());
  const year = Number(parts.find((p) => p.type === 'year')?.value);
  const month = Number(parts.find((p) => p.type === 'month')?.value);
  return quarterPeriod(year, Math.floor((month - 1) / 3) + 1, TZ);
}

const inventory: InventoryReader = {
  async listDevices() {
    return [
      {
        id: 'dev-1',
        name: 'ap-haie-vive',
        kind: 'access_point',
        siteId: 'site-hv',
        address: '10.0.0.1',
        port: 161,
        profile: 'auto',
        snmp: { version: '2c', community: 'public' },
        resellerId: null,
        subscriberId: null,
        macAddress: null,
        enabled: true,
      },
    ];
  },
  async listSites() {
    return [{ id: 'site-hv', name: 'Tour Haie Vive', resellerId: null, location: 'Cotonou', capacityDownKbps: null, capacityUpKbps: null }];
  },
  async getSite() {
    return null;
  },
  async getDevice() {
    return null;
  },
};

function keyFile(dir: string): string {
  const file = join(dir, 'operator-key.pem');
  writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return file;
}

const OPERATOR = {
  legalName: 'RGZ Réseaux SARL',
  country: 'BJ',
  licenceNumber: 'ARCEP/BJ/2025/0042',
  taxId: '3202412345678',
  address: 'Cotonou',
  contactEmail: 'noc@rgz.bj',
};

describe.each(BACKENDS)('ARCEP quarterly report on %s storage', (backend) => {
  let server: TestServer;
  let db: Kysely<ArcepDatabase>;
  let upload: UploadServer;
  const dir = mkdtempSync(join(tmpdir(), 'rgz-arcep-'));
  const outbox = join(dir, 'outbox');
  const pay = new TestPaymentProvider();
  const period = currentQuarter();
  const at = (days: number, hours = 0) => new Date(period.from.getTime() + days * DAY + hours * 3_600_000);
  let report: {
    id: string;
    period: string;
    manifest_sha256: string;
    manifest_signature: string;
    files: Array<{ name: string; sha256: string; signature: string; url: string }>;
  };
  let resellerA: string;

  const nocPost = (path: string, body: unknown) =>
    server.request(path, { method: 'POST', headers: { ...server.auth(server.nocToken), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function payPlan(resellerId: string | null, plan: string, amount: number, fee: number): Promise<string> {
    const n = Math.floor(Math.random() * 1e6);
    const sub = await db
      .insertInto('subscribers')
      .values({ subscriber_ref: `RGZ-P${n}`, msisdn: `+22901${String(n).padStart(8, '0')}`, reseller_id: resellerId })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = (await server.kernel.tokens.issue({ role: 'subscriber', name: 'portal', subscriberId: sub.id })).token;
    const res = await server.request('/api/billing/orders', {
      method: 'POST',
      headers: { ...server.auth(token), 'content-type': 'application/json' },
      body: JSON.stringify({ plan_code: plan }),
    });
    expect(res.status).toBe(201);
    const tx = pay.pay(((await res.json()) as { reference: string }).reference, amount, fee);
    const hook = pay.webhookFor(tx);
    expect(
      (await server.request('/hooks/payment/testpay', { method: 'POST', headers: hook.headers as Record<string, string>, body: hook.rawBody })).status,
    ).toBe(200);
    const row = await waitFor(
      () =>
        sql<{ id: string }>`select id from billing_payments where provider_transaction_id = ${tx} and status = 'credited'`.execute(db).then((r) => r.rows[0]),
      10_000,
    );
    return row.id;
  }

  beforeAll(async () => {
    upload = await startUploadServer();
    upload.respond(503); // the first upload fails: the delivery is retried
    server = await startTestServer({
      backend,
      config: { timezone: TZ, tasks: { pollIntervalMs: 50 } },
      overrides: [[inventoryReader, inventory]],
      plugins: [
        testPaymentPlugin(pay),
        { plugin: billing, config: { commissionPercent: 1.5 } },
        { plugin: radius, config: { listen: false } },
        { plugin: incidents, config: { webhookToken: 'alertmanager-test-token-0123456789' } },
        {
          plugin: arcep,
          config: {
            operator: OPERATOR,
            signing: { privateKeyFile: keyFile(dir) },
            delivery: {
              http: { url: upload.url, allowInsecureHttp: true, headers: { authorization: 'Bearer arcep-depot-key' } },
              folder: outbox,
              backoffSeconds: 1,
            },
          },
        },
      ],
    });
    db = server.kernel.db as unknown as Kysely<ArcepDatabase>;

    // --- subscribers and sessions -------------------------------------------------------------------------------
    const subs: Record<string, string> = {};
    for (const [k, msisdn] of [
      ['s1', '+2290197000101'],
      ['s2', '+2290197000102'],
      ['s3', 'voucher:V12-0042'], // a voucher user without a verified phone number: not identified
    ] as const) {
      subs[k] = (
        await db
          .insertInto('subscribers')
          .values({ subscriber_ref: `RGZ-${k.toUpperCase()}X${backend.length}`, msisdn, reseller_id: null })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    }
    const nasA = (
      await sql<{
        id: string;
      }>`insert into radius_nas (identifier, address, secret, vendor) values ('cotonou-hv', '10.0.0.1', 'radsec', 'mikrotik') returning id::text as id`.execute(
        db,
      )
    ).rows[0]?.id as string;
    let sid = 0;
    const session = (nas: string, sub: string, start: Date, seconds: number, up: number, down: number, identifier: string | null = null) =>
      sql`insert into radius_sessions (subscriber_id, nas_id, nas_identifier, nas_ip_address, acct_session_id, session_time, bytes_in, bytes_out, session_start, session_stop, last_update, last_status)
        values (${sub}, ${nas}, ${identifier}, ${identifier ? '10.0.0.9' : '10.0.0.1'}, ${`S${++sid}`}, ${seconds}, ${up}, ${down}, ${start}, ${new Date(start.getTime() + seconds * 1000)}, ${new Date(start.getTime() + seconds * 1000)}, 'stop')`.execute(
        db,
      );
    await session(nasA, subs.s1 as string, at(1), 3600, 1000, 10_000);
    await session(nasA, subs.s1 as string, at(2), 1800, 2000, 20_000);
    await session(nasA, subs.s2 as string, at(3), 600, 500, 5000);
    await session(nasA, subs.s2 as string, at(-20), 999, 1, 1); // previous quarter: s2 is not new, and this is not counted
    await session('config:parakou-1', subs.s3 as string, at(5), 120, 4_000_000_000, 6_000_000_000, 'parakou-1');
    await session('config:parakou-1', subs.s1 as string, new Date(period.to.getTime() + DAY), 60, 1, 1, 'parakou-1'); // next quarter

    // --- incidents ----------------------------------------------------------------------------------------------
    const incident = (title: string, priority: string, opened: Date, resolved: Date | null, labels: Record<string, string> = {}) =>
      sql`insert into incidents_incidents (dedup_key, source, title, priority, status, opened_at, resolved_at, labels)
        values (${`k-${title}`}, 'sink', ${title}, ${priority}, ${resolved ? 'resolved' : 'open'}, ${opened}, ${resolved}, ${JSON.stringify(labels)})`.execute(
        db,
      );
    await incident('Ancien incident', 'P2', at(-30), at(-29)); // entirely before: not listed
    await incident('Base injoignable', 'P0', at(-1), at(0, 1)); // open across the start: listed, 25 h to resolve
    await incident('Backhaul Cotonou coupé', 'P1', at(3), at(3, 2), { nas_id: nasA });
    await incident('Latence', 'P2', at(10), null);

    // --- revenue through billing --------------------------------------------------------------------------------
    resellerA = (
      await db
        .insertInto('resellers')
        .values({ name: 'Alpha Net', slug: `alpha-${backend}`, fee_percent: 5, share_percent: 50 })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await payPlan(resellerA, 'DAY10MB', 1000, 15);
    const refunded = await payPlan(resellerA, 'DAY100MB', 5000, 75);
    await payPlan(null, 'MONTH1GB', 10_000, 150);
    expect((await nocPost(`/api/billing/payments/${refunded}/refund`, { reason: 'test' })).status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
    await upload?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('produces the quarter: signed files, manifest, log entry', async () => {
    const res = await nocPost('/api/arcep/reports', { quarter: period.label });
    expect(res.status, await res.clone().text()).toBe(201);
    report = (await res.json()) as typeof report;
    expect(report.period).toBe(period.label);
    const prefix = `arcep-bj_${period.label}`;
    expect(report.files.map((f) => f.name)).toEqual(
      [
        `${prefix}_incidents.csv`,
        `${prefix}_manifest.json`,
        `${prefix}_manifest.json.sig`,
        `${prefix}_points-acces.csv`,
        `${prefix}_rapport.pdf`,
        `${prefix}_revenus.csv`,
        `${prefix}_synthese.csv`,
      ].sort(),
    );
    const key = loadVerifyKey(((await (await server.request('/api/arcep/public-key')).json()) as { public_key_pem: string }).public_key_pem);
    for (const f of report.files) {
      const bytes = new Uint8Array(await (await server.request(f.url, { headers: server.auth(server.nocToken) })).arrayBuffer());
      expect(sha256Hex(bytes), f.name).toBe(f.sha256);
      expect(verifyDigest(key, f.sha256, f.signature), f.name).toBe(true);
      if (f.name.endsWith('.pdf')) expect(verifyDocument(bytes, key)).toMatchObject({ ok: true });
    }
    expect(verifyDigest(key, report.manifest_sha256, report.manifest_signature)).toBe(true);
    const log = ((await (await server.request('/api/arcep/report-log', { headers: server.auth(server.nocToken) })).json()) as { entries: LogEntryView[] })
      .entries;
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ seq: 1, period_label: period.label, manifest_sha256: report.manifest_sha256 });
    expect(verifyChain(toChainEntries(log))).toMatchObject({ ok: true, entries: 1 });
  });

  it('the CSV figures are exactly the quarter’s known data', async () => {
    const file = async (suffix: string) => {
      const f = report.files.find((x) => x.name.endsWith(suffix)) as { url: string };
      return parseCsv(new Uint8Array(await (await server.request(f.url, { headers: server.auth(server.nocToken) })).arrayBuffer()));
    };
    const syn = new Map((await file('_synthese.csv')).map((r) => [r[0], r[1]]));
    expect(
      Object.fromEntries(
        ['abonnes_actifs', 'abonnes_nouveaux', 'abonnes_identifies', 'taux_identification', 'points_acces', 'sessions', 'duree_sessions'].map((k) => [
          k,
          syn.get(k),
        ]),
      ),
    ).toEqual({
      abonnes_actifs: '3',
      abonnes_nouveaux: '2',
      abonnes_identifies: '2',
      taux_identification: '66,67',
      points_acces: '2',
      sessions: '4',
      duree_sessions: '6120',
    });
    expect(syn.get('volume_montant')).toBe(String(3500 + 4_000_000_000));
    expect(syn.get('chiffre_affaires_brut')).toBe('16000');
    expect(syn.get('remboursements')).toBe('5000');
    expect(syn.get('frais_prestataires_paiement')).toBe('165');
    expect([syn.get('incidents_P0'), syn.get('incidents_P0_delai_moyen_resolution')]).toEqual(['1', String(25 * 3600)]);
    expect([syn.get('incidents_P1'), syn.get('incidents_P1_resolus'), syn.get('incidents_P1_delai_median_resolution')]).toEqual(['1', '1', '7200']);
    expect([syn.get('incidents_P2'), syn.get('incidents_P2_resolus')]).toEqual(['1', '0']);

    const aps = await file('_points-acces.csv');
    const nasRow = aps.find((r) => r[1] === 'cotonou-hv') as string[];
    expect([nasRow[3], nasRow[8], nasRow[9], nasRow[10], nasRow[11], nasRow[12]]).toEqual(['Tour Haie Vive', '3', '2', '6000', '3500', '35000']);
    const parakou = aps.find((r) => r[0] === 'config:parakou-1') as string[];
    expect([parakou[1], parakou[3], parakou[8], parakou[13]]).toEqual(['parakou-1', '', '1', '10,00']);

    const rev = await file('_revenus.csv');
    expect(rev).toContainEqual(['revendeur', resellerA, 'Alpha Net', '2', '1000']);
    expect(rev).toContainEqual(['revendeur', '', 'Ventes directes (sans revendeur)', '1', '10000']);
    expect(rev).toContainEqual(['moyen_paiement', 'testpay', 'testpay', '3', '11000']);
    expect(rev).toContainEqual(['forfait', 'MONTH1GB', 'MONTH1GB', '1', '10000']);

    const inc = await file('_incidents.csv');
    expect(inc.slice(1).map((r) => [r[1], r[2], r[5]])).toEqual([
      ['P0', 'Base injoignable', String(25 * 3600)],
      ['P1', 'Backhaul Cotonou coupé', '7200'],
      ['P2', 'Latence', ''],
    ]);
    const pdf = report.files.find((x) => x.name.endsWith('.pdf')) as { url: string };
    const pdfFile = join(dir, 'rapport.pdf');
    writeFileSync(pdfFile, new Uint8Array(await (await server.request(pdf.url, { headers: server.auth(server.nocToken) })).arrayBuffer()));
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    expect(text).toMatch(/Abonnés identifiés.*\s2\n/);
    expect(text).toMatch(/Chiffre d’affaires brut encaissé\s+16 000 FCFA/);
    expect(text).toMatch(/Alpha Net\s+2\s+1 000 FCFA/);
  });

  it('delivers: the failed upload is recorded and retried; the server receives the multipart; the folder is written', async () => {
    await waitFor(
      async () =>
        (await db.selectFrom('arcep_deliveries').select('status').where('target', 'like', 'http:%').where('status', '=', 'sent').executeTakeFirst()) ?? false,
      20_000,
      { message: 'HTTP delivery retried and sent' },
    );
    const deliveries = await db.selectFrom('arcep_deliveries').select(['target', 'status', 'http_status']).orderBy('id').execute();
    expect(deliveries).toEqual([
      { target: `folder:${join(outbox, period.label)}`, status: 'sent', http_status: null },
      { target: `http:${upload.url}`, status: 'failed', http_status: 503 },
      { target: `http:${upload.url}`, status: 'sent', http_status: 201 },
    ]);
    expect(upload.uploads).toHaveLength(2);
    const last = upload.uploads[1];
    expect(last?.headers.authorization).toBe('Bearer arcep-depot-key');
    expect(last?.headers['idempotency-key']).toBe(`rgz-arcep-${report.id}`);
    expect(last?.fields).toMatchObject({
      period: period.label,
      operator: OPERATOR.legalName,
      manifest_sha256: report.manifest_sha256,
      signature: report.manifest_signature,
    });
    expect(last?.files.map((f) => f.name).sort()).toEqual(report.files.map((f) => f.name));
    for (const f of last?.files ?? []) expect(sha256Hex(f.bytes), f.name).toBe(report.files.find((x) => x.name === f.name)?.sha256);
    expect(last?.files.find((f) => f.name.endsWith('.pdf'))?.type).toBe('application/pdf');
    // The API shows every attempt.
    const shown = (await (await server.request(`/api/arcep/reports/${report.id}`, { headers: server.auth(server.nocToken) })).json()) as {
      deliveries: unknown[];
    };
    expect(shown.deliveries).toHaveLength(3);
  });

  it('the delivered folder verifies offline; a modified file is caught', async () => {
    const folder = join(outbox, period.label);
    const pem = join(dir, 'pub.pem');
    writeFileSync(pem, ((await (await server.request('/api/arcep/public-key')).json()) as { public_key_pem: string }).public_key_pem);
    const logFile = join(dir, 'log.json');
    writeFileSync(logFile, await (await server.request('/api/arcep/report-log', { headers: server.auth(server.nocToken) })).text());
    const cmd = server.kernel.commands.get('arcep');
    const out: string[] = [];
    expect(
      await cmd?.run(['verify', folder, '--public-key', pem, '--log', logFile], { out: (s) => out.push(s), err: (s) => out.push(s) }),
      out.join('\n'),
    ).toBe(0);
    expect(out.join('\n')).toMatch(/manifest .*signature VALID/);
    expect(out.at(-1)).toMatch(/^RESULT: OK/);
    const csv = join(folder, `arcep-bj_${period.label}_revenus.csv`);
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('10000', '1000'));
    const bad: string[] = [];
    expect(await cmd?.run(['verify', folder, '--public-key', pem], { out: (s) => bad.push(s), err: (s) => bad.push(s) })).toBe(1);
    expect(bad.join('\n')).toMatch(/_revenus\.csv: MODIFIED/);
  });

  it('asking again changes nothing; the log refuses edits', async () => {
    const res = await nocPost('/api/arcep/reports', { quarter: period.label });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(report.id);
    expect(Number((await sql<{ n: string }>`select count(*)::text as n from arcep_report_log`.execute(db)).rows[0]?.n)).toBe(1);
    await expect(sql`update arcep_report_files set sha256 = 'x'`.execute(db)).rejects.toThrow(/append-only/);
    const out: string[] = [];
    expect(await server.kernel.commands.get('arcep')?.run(['check'], { out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);
    // Only the NOC reaches reports.
    const reseller = await server.kernel.tokens.issue({ role: 'reseller', name: 'r', resellerId: resellerA });
    expect((await server.request('/api/arcep/reports', { headers: server.auth(reseller.token) })).status).toBe(403);
  });

  it('schedules the quarterly job (10th of Jan/Apr/Jul/Oct, 07:00)', () => {
    expect(server.kernel.plugins.find((p) => p.name === 'arcep')?.jobs).toEqual(['arcep.quarterly-report']);
  });
});

describe('ARCEP sources', () => {
  it('refuses to report without a required source, reports without an optional one (recorded)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgz-arcep-src-'));
    const key = keyFile(dir);
    const pay = new TestPaymentProvider();
    const boot = (sources: Record<string, string>) =>
      startTestServer({
        config: { timezone: TZ },
        plugins: [
          testPaymentPlugin(pay),
          { plugin: billing, config: {} },
          { plugin: arcep, config: { operator: OPERATOR, signing: { privateKeyFile: key }, sources, delivery: { folder: null } } },
        ],
      });
    const strict = await boot({});
    try {
      const res = await strict.request('/api/arcep/reports', {
        method: 'POST',
        headers: { ...strict.auth(strict.nocToken), 'content-type': 'application/json' },
        body: JSON.stringify({ quarter: '2026-T1' }),
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { code: string; title?: string; detail?: string }).code).toBe('source_missing');
    } finally {
      await strict.close();
    }
    const lenient = await boot({ sessions: 'optional', incidents: 'optional' });
    try {
      const res = await lenient.request('/api/arcep/reports', {
        method: 'POST',
        headers: { ...lenient.auth(lenient.nocToken), 'content-type': 'application/json' },
        body: JSON.stringify({ quarter: '2026-T1' }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { sources: Record<string, string> }).sources).toEqual({ sessions: 'absent', incidents: 'absent', inventory: 'absent' });
    } finally {
      await lenient.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
