import { appendFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/world.js';
import type { OutRecord } from './records.js';
import { Spool } from './spool.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const mk = (o: Partial<ConstructorParameters<typeof Spool>[0]> = {}) => {
  const dir = o.dir ?? tempDir('rgz-spool-');
  dirs.push(dir);
  return new Spool({ dir, maxBytes: 10 * 1024 * 1024, segmentBytes: 4096, fsync: false, ...o });
};
const recs = (n: number, from = 0): OutRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'api',
    index: 'logstash-api-2026.11.25',
    id: `id${from + i}`,
    source: JSON.stringify({ n: from + i, pad: 'x'.repeat(50) }),
  }));

describe('spool', () => {
  it('keeps order across segments, deletes read segments, survives reopening', () => {
    const s = mk();
    s.append(recs(200));
    expect(s.records).toBe(200);
    expect(readdirSync(dirs[0] as string).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(1);
    const seen: string[] = [];
    const a = s.read(50, 1 << 20);
    for (const r of a?.records ?? []) seen.push(r.id);
    a?.commit();
    s.close();
    const again = mk({ dir: dirs[0] });
    expect(again.records).toBe(200 - (a?.records.length ?? 0));
    expect(a?.records.length).toBeGreaterThan(0);
    for (let c = again.read(70, 1 << 20); c; c = again.read(70, 1 << 20)) {
      for (const r of c.records) seen.push(r.id);
      c.commit();
    }
    expect(seen).toEqual(recs(200).map((r) => r.id));
    expect(again.empty).toBe(true);
    again.close();
    expect(readdirSync(dirs[0] as string).filter((f) => f.startsWith('seg-'))).toEqual([]);
  });

  it('an uncommitted chunk is read again (after a crash it is resent)', () => {
    const s = mk();
    s.append(recs(10));
    const first = s.read(5, 1 << 20);
    expect(first?.records.map((r) => r.id)).toEqual(['id0', 'id1', 'id2', 'id3', 'id4']);
    const second = s.read(5, 1 << 20);
    expect(second?.records[0]?.id).toBe('id0');
    s.close();
  });

  it('is bounded: over maxBytes new records are refused and counted', () => {
    const s = mk({ maxBytes: 2000 });
    const r = s.append(recs(100));
    expect(r.written).toBeGreaterThan(0);
    expect(r.dropped).toBe(100 - r.written);
    expect(r.droppedByKind.get('api')).toBe(r.dropped);
    expect(s.bytes).toBeLessThanOrEqual(2000);
    expect(s.append(recs(5), true).written).toBe(5);
    s.close();
  });

  it('skips torn and foreign lines (counted as corrupt)', () => {
    const s = mk({ segmentBytes: 1 << 20 });
    s.append(recs(3));
    s.close();
    const dir = dirs[0] as string;
    const seg = readdirSync(dir).find((f) => f.startsWith('seg-')) as string;
    appendFileSync(join(dir, seg), 'not\ta record\nlogstash-api-2026.11.25\tidX\t{"torn":');
    expect(statSync(join(dir, seg)).size).toBeGreaterThan(0);
    const again = mk({ dir });
    const c = again.read(100, 1 << 20);
    expect(c?.records.map((r) => r.id)).toEqual(['id0', 'id1', 'id2']);
    expect(c?.corrupt).toBe(1);
    c?.commit();
    const tail = again.read(100, 1 << 20);
    expect(tail?.records ?? []).toEqual([]);
    again.close();
  });
});
