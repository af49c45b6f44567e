/**
 * The two demand sources against a real (embedded) database: the RADIUS source keeps its snapshots between runs, the
 * SNMP source reads the snmp plugin's last CPE throughput (table shaped as @rgz/plugin-snmp creates it) and reads
 * nothing when that plugin is absent.
 */
import { createLogger, type Kysely, sql } from '@rgz/core';
import { createTestDatabase, type TestDatabase } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenSession, radiusDemandSource } from './demand.js';
import { migrations } from './schema.js';
import { snmpDemandSource } from './snmp-demand.js';

describe('demand sources on a database', () => {
  let tdb: TestDatabase;
  let db: Kysely<any>;
  const log = createLogger({ service: 'test', level: 'silent' });
  const now = new Date('2026-11-25T10:10:00Z');

  beforeAll(async () => {
    tdb = await createTestDatabase('embedded');
    db = tdb.database.db as Kysely<any>;
    // Only dba_session_snapshots is needed (no foreign keys into core tables there).
    await sql`create table resellers (id uuid primary key)`.execute(db);
    await sql`create table subscribers (id uuid primary key)`.execute(db);
    await migrations.dba_0001_runs?.up(db);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  it('RADIUS: rates from the previous snapshot, kept in dba_session_snapshots; closed sessions forgotten', async () => {
    const source = radiusDemandSource(db);
    const A = '00000000-0000-4000-8000-00000000000a';
    const B = '00000000-0000-4000-8000-00000000000b';
    const s = (id: number, sub: string, bytesOut: number, at: string): OpenSession => ({
      id,
      subscriberId: sub,
      nasId: 'config:mt',
      nasIdentifier: 'mt',
      bytesIn: 0,
      bytesOut,
      sessionStart: new Date('2026-11-25T10:00:00Z'),
      lastUpdate: new Date(at),
    });
    const first = await source.measure({
      now,
      sessions: [s(1, A, 37_500_000, '2026-11-25T10:05:00Z'), s(2, B, 0, '2026-11-25T10:05:00Z')],
      cpes: [],
      staleSeconds: 900,
    });
    expect(first.get(A)).toEqual({ downKbps: 1000, upKbps: 0 });
    const second = await source.measure({ now, sessions: [s(1, A, 37_500_000 + 75_000_000, '2026-11-25T10:10:00Z')], cpes: [], staleSeconds: 900 });
    expect(second.get(A)).toEqual({ downKbps: 2000, upKbps: 0 });
    expect(second.has(B)).toBe(false);
    const rows = await db.selectFrom('dba_session_snapshots').select(['session_id', 'rate_down_kbps']).execute();
    expect(rows.map((r) => [Number(r.session_id), r.rate_down_kbps])).toEqual([[1, 2000]]);
  });

  it('SNMP: nothing without the snmp plugin; then each CPE’s last good reading, rx = download, summed per subscriber', async () => {
    const source = snmpDemandSource(db, log);
    const cpes = [
      { deviceId: '00000000-0000-4000-8000-000000000001', subscriberId: 'a' },
      { deviceId: '00000000-0000-4000-8000-000000000002', subscriberId: 'a' },
      { deviceId: '00000000-0000-4000-8000-000000000003', subscriberId: 'b' },
      { deviceId: '00000000-0000-4000-8000-000000000004', subscriberId: 'c' },
    ];
    expect((await source.measure({ now, sessions: [], cpes, staleSeconds: 900 })).size).toBe(0);
    await sql`create table snmp_device_state (device_id uuid primary key, result text not null, polled_at timestamptz not null, rx_bps double precision, tx_bps double precision)`.execute(
      db,
    );
    await sql`insert into snmp_device_state values
      ('00000000-0000-4000-8000-000000000001', 'ok', '2026-11-25T10:06:00Z', 1500000, 250000),
      ('00000000-0000-4000-8000-000000000002', 'ok', '2026-11-25T10:06:00Z', 500000, 50000),
      ('00000000-0000-4000-8000-000000000003', 'timeout', '2026-11-25T10:06:00Z', 9000000, 9000000),
      ('00000000-0000-4000-8000-000000000004', 'ok', '2026-11-25T08:00:00Z', 9000000, 9000000)`.execute(db);
    const got = await source.measure({ now, sessions: [], cpes, staleSeconds: 900 });
    expect(Object.fromEntries(got)).toEqual({ a: { downKbps: 2000, upKbps: 300 } });
  });
});
