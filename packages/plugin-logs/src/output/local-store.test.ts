import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/world.js';
import { LocalStore } from './local-store.js';
import { indexName, type OutRecord } from './records.js';
import { searchLocal } from './search.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const events = () => {
  const e = { stored: 0, dropped: 0, evicted: 0 };
  return {
    e,
    events: {
      stored: (r: OutRecord[]) => (e.stored += r.length),
      dropped: (_: string, r: OutRecord[]) => (e.dropped += r.length),
      evicted: (_f: number, b: number) => (e.evicted += b),
      warn: () => {},
    },
  };
};
const rec = (kind: 'api' | 'cpe', t: number, doc: Record<string, unknown>, id: string): OutRecord => ({
  kind,
  index: indexName(kind, t),
  id,
  source: JSON.stringify({ '@timestamp': new Date(t).toISOString(), ...doc }),
});

describe('local store', () => {
  it('one file per index per day, rotated by size; search merges newest first', () => {
    const dir = tempDir('rgz-local-');
    dirs.push(dir);
    const { e, events: ev } = events();
    const store = new LocalStore({ dir, maxFileBytes: 64 * 1024, retentionDays: 30, maxTotalBytes: 1 << 30, flushMs: 10 }, ev);
    store.start();
    const t = Date.now();
    for (let i = 0; i < 3000; i++)
      store.write(rec(i % 2 ? 'api' : 'cpe', t - (3000 - i) * 10, { message: `m${i}`, service: i % 2 ? 'rgz-api' : 'hostapd', request_id: `r${i}` }, `id${i}`));
    store.flushSync();
    expect(e.stored).toBe(3000);
    const files = readdirSync(dir);
    expect(files.some((f) => /\.1\.ndjson$/.test(f))).toBe(true);
    const r = searchLocal(dir, { limit: 5 });
    expect(r.items.map((i) => i.message)).toEqual(['m2999', 'm2998', 'm2997', 'm2996', 'm2995']);
    expect(r.more).toBe(true);
    expect(searchLocal(dir, { requestId: 'r1234', limit: 5 }).items.map((i) => i._id)).toEqual(['id1234']);
    expect(searchLocal(dir, { service: 'api', limit: 3000 }).items).toHaveLength(1500);
    expect(searchLocal(dir, { service: 'hostapd', limit: 3000 }).items).toHaveLength(1500);
    expect(searchLocal(dir, { since: new Date(t - 100), limit: 3000 }).items.length).toBeLessThan(20);
    void store.close();
  });

  it('retention: days past retentionDays are deleted; the size cap evicts oldest days first (counted)', () => {
    const dir = tempDir('rgz-local-');
    dirs.push(dir);
    const { e, events: ev } = events();
    const day = 86_400_000;
    const now = Date.UTC(2026, 10, 25, 12);
    for (const ago of [40, 10, 5, 1]) writeFileSync(join(dir, `${indexName('cpe', now - ago * day)}.ndjson`), `${'x'.repeat(1000)}\n`);
    const store = new LocalStore({ dir, maxFileBytes: 1 << 20, retentionDays: 30, maxTotalBytes: 2100, flushMs: 10 }, ev);
    store.housekeep(now);
    const left = readdirSync(dir).sort();
    expect(left).toEqual([`${indexName('cpe', now - 5 * day)}.ndjson`, `${indexName('cpe', now - day)}.ndjson`]);
    expect(e.evicted).toBe(1001);
    expect(existsSync(join(dir, `${indexName('cpe', now - 40 * day)}.ndjson`))).toBe(false);
    expect(readFileSync(join(dir, left[1] as string), 'utf8').length).toBe(1001);
  });
});
