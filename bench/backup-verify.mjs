#!/usr/bin/env node
// Benchmark (issue 9, flow 11): backup + verify time and size for a database of N payment-like rows (default
// 1,000,000) on the local PostgreSQL, with the backup plugin's own code path: pg_dump --format=custom under an exported
// snapshot with per-table counts and checksums → age (npm age-encryption) → a folder target; then verification:
// download + sha256 → decrypt → pg_restore into a scratch database → counts and checksums compared. Peer: the same
// dump piped through Debian's `age` binary (pg_dump -Fc | age -r), to show what the JS encryption costs.
// Usage: node bench/backup-verify.mjs [--rows 1000000] [--admin-url postgres://postgres@127.0.0.1:5432/test] [--no-build] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDebian } from './lib.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    'no-build': { type: 'boolean' },
    keep: { type: 'boolean' },
  },
});
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1 || rows > 20_000_000) throw new Error('--rows must be an integer between 1 and 20000000');
const root = new URL('..', import.meta.url).pathname;
const adminUrl = values['admin-url'];
ensureDebian('age', 'age');

if (!values['no-build']) {
  const b = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@rgz/plugin-backup...', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (b.status !== 0) process.exit(1);
}
const core = await import(join(root, 'packages/core/dist/index.js'));
const plugin = await import(join(root, 'packages/plugin-backup/dist/index.js'));
const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
const { openDatabase, sql, createLogger } = core;

const log = createLogger({ service: 'bench', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'rgz-bench-backup-'));
const dbName = `rgz_bench_backup_${process.pid}`;
const dbUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const time = async (fn) => {
  const t = Date.now();
  const r = await fn();
  return [Date.now() - t, r];
};

const admin = await openDatabase({ url: adminUrl, poolMax: 1 });
await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin.db);
await sql`create database ${sql.id(dbName)}`.execute(admin.db);
const database = await openDatabase({ url: dbUrl, poolMax: 4 });
try {
  const [fillMs] = await time(async () => {
    await sql`create table payments (
      id bigint generated always as identity primary key,
      reference text not null unique,
      provider text not null,
      provider_ref text,
      phone text not null,
      reseller_id int not null,
      plan text not null,
      amount_xof integer not null,
      fee_xof integer not null,
      status text not null,
      meta jsonb,
      created_at timestamptz not null
    )`.execute(database.db);
    await sql`insert into payments (reference, provider, provider_ref, phone, reseller_id, plan, amount_xof, fee_xof, status, meta, created_at)
      select 'RGZ-' || lpad(to_hex(g), 10, '0'),
        (array['kkiapay', 'fedapay', 'mtn-momo', 'moov-money'])[1 + g % 4],
        'tx_' || md5(g::text),
        '+2290' || lpad(((g::bigint * 7919) % 100000000)::text, 8, '0'),
        1 + g % 40,
        (array['1h', '1d', '7d', '30d'])[1 + (g / 3) % 4],
        (array[200, 500, 2500, 8000])[1 + (g / 3) % 4],
        (array[200, 500, 2500, 8000])[1 + (g / 3) % 4] * 2 / 100,
        case when g % 50 = 0 then 'refunded' when g % 20 = 0 then 'failed' else 'succeeded' end,
        jsonb_build_object('ip', '10.' || (g % 250) || '.' || (g / 250 % 250) || '.1', 'nas', 'ap-' || (g % 120)),
        timestamptz '2026-01-01 00:00+01' + g * interval '13 seconds'
      from generate_series(1, ${rows}) g`.execute(database.db);
    await sql`analyze payments`.execute(database.db);
  });
  const dbSize = Number((await sql`select pg_database_size(current_database()) as s`.execute(database.db)).rows[0].s);

  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  writeFileSync(join(dir, 'key.txt'), `${identity}\n`, { mode: 0o600 });
  const target = new plugin.FolderTarget('bench', join(dir, 'target'));
  const id = plugin.newBackupId();
  const signal = new AbortController().signal;

  const rssBefore = process.memoryUsage().rss;
  const [dumpMs, dump] = await time(() =>
    plugin.dumpPostgres({
      id,
      createdAt: new Date(),
      db: database.db,
      recipients: [recipient],
      workDir: join(dir, 'work'),
      checksumMaxRows: 1e12,
      log,
      signal,
      database: { url: dbUrl },
    }),
  );
  const [uploadMs, uploads] = await time(() => plugin.uploadEverywhere(dump, [target], signal, log));
  if (!uploads.every((u) => u.ok)) throw new Error(`upload failed: ${JSON.stringify(uploads)}`);
  rmSync(dump.file, { force: true });
  const [verifyMs, report] = await time(() =>
    plugin.verifyBackup(id, { targets: [target], identities: [identity], workDir: join(dir, 'work'), log, signal, adminUrl }),
  );
  const peakRss = process.resourceUsage().maxRSS * 1024;
  if (report.outcome !== 'passed') throw new Error(`verification failed: ${report.problems.join('; ')}`);

  // Stats alone (the counts + checksums part of the dump, and of the verification).
  const [statsMs] = await time(() =>
    database.db.connection().execute(async (conn) => {
      await plugin.collectStats(conn, 1e12);
    }),
  );

  // Peer: pg_dump -Fc | age (Debian binaries).
  const peerT = Date.now();
  const peer = spawnSync('bash', ['-c', `set -o pipefail; pg_dump --format=custom --dbname='${dbUrl}' | age -r ${recipient} > '${join(dir, 'peer.age')}'`]);
  const peerMs = Date.now() - peerT;
  if (peer.status !== 0) throw new Error(`peer pipeline failed: ${peer.stderr}`);
  const peerDumpOnlyT = Date.now();
  spawnSync('bash', ['-c', `pg_dump --format=custom --dbname='${dbUrl}' > /dev/null`]);
  const peerDumpOnlyMs = Date.now() - peerDumpOnlyT;

  const m = dump.manifest;
  console.log(`rows in payments:                     ${rows.toLocaleString('en')}  (fill ${sec(fillMs)}; database ${mib(dbSize)})`);
  console.log(`backup (dump+stats+age → work file):  ${sec(dumpMs)}`);
  console.log(`  upload to a folder target:          ${sec(uploadMs)}`);
  console.log(`  pg_dump custom (plaintext):         ${mib(m.plaintext_size_bytes)}`);
  console.log(`  encrypted archive (stored):         ${mib(m.object.size_bytes)}`);
  console.log(`verify (download+sha256, decrypt, pg_restore to scratch, compare): ${sec(verifyMs)}`);
  console.log(`  counts + checksums of all tables:   ${sec(statsMs)} (once; the backup and the verification each do it)`);
  console.log(`backup + verify total:                ${sec(dumpMs + uploadMs + verifyMs)}`);
  console.log(`peak RSS of this process:             ${mib(peakRss)} (before the backup: ${mib(rssBefore)})`);
  console.log(`peer: pg_dump -Fc | age (Debian):     ${sec(peerMs)}; pg_dump -Fc alone: ${sec(peerDumpOnlyMs)}`);
} finally {
  await database.close();
  await sql`drop database if exists ${sql.id(dbName)} with (force)`.execute(admin.db);
  await admin.close();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
