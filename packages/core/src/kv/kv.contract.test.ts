/**
 * The KV contract: the in-process KV and Redis must behave the same for everything the seed keeps there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createTestKv, sleep, type TestKv, waitFor } from '../testing/index.js';
import { type Kv, kvKeys } from './kv.js';

describe.each(BACKENDS)('KV contract (%s)', (backend) => {
  let t: TestKv;
  let kv: Kv;
  let n = 0;
  /** A key no other test in this file uses. */
  const key = (what: string) => `rgz:test:${what}:${++n}`;

  beforeAll(async () => {
    t = await createTestKv(backend);
    kv = t.kv;
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports its kind and answers ping', async () => {
    expect(kv.kind).toBe(backend === 'embedded' ? 'memory' : 'redis');
    expect(await kv.ping()).toBe(true);
    expect(await kv.connectedClients()).toBeGreaterThanOrEqual(1);
  });

  it('get returns what set stored, null for a missing key, and set overwrites', async () => {
    const k = key('getset');
    expect(await kv.get(k)).toBeNull();
    await kv.set(k, 'one');
    expect(await kv.get(k)).toBe('one');
    await kv.set(k, 'two');
    expect(await kv.get(k)).toBe('two');
    await kv.set(k, '');
    expect(await kv.get(k)).toBe('');
  });

  it('ttl follows Redis semantics: -2 missing, -1 no expiry, seconds left otherwise', async () => {
    const k = key('ttl');
    expect(await kv.ttl(k)).toBe(-2);
    await kv.set(k, 'v');
    expect(await kv.ttl(k)).toBe(-1);
    await kv.set(k, 'v', 100);
    const left = await kv.ttl(k);
    expect(left).toBeGreaterThanOrEqual(99);
    expect(left).toBeLessThanOrEqual(100);
    // A plain set clears the expiry, as Redis SET does.
    await kv.set(k, 'v');
    expect(await kv.ttl(k)).toBe(-1);
  });

  it('setIfAbsent: only the first call wins', async () => {
    const k = key('nx');
    expect(await kv.setIfAbsent(k, 'first', 60)).toBe(true);
    expect(await kv.setIfAbsent(k, 'second', 60)).toBe(false);
    expect(await kv.setIfAbsent(k, 'third')).toBe(false);
    expect(await kv.get(k)).toBe('first');
    const noTtl = key('nx-nottl');
    expect(await kv.setIfAbsent(noTtl, 'x')).toBe(true);
    expect(await kv.ttl(noTtl)).toBe(-1);
  });

  it('setIfAbsent: exactly one of 20 concurrent calls wins', async () => {
    const k = key('nx-race');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => kv.setIfAbsent(k, `v${i}`, 30)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await kv.get(k)).toBe(`v${winner}`);
  });

  it('incr counts from 1 and sets the TTL only when the counter is created (fixed window)', async () => {
    const k = key('incr');
    expect(await kv.incr(k, 100)).toBe(1);
    await kv.expire(k, 50);
    expect(await kv.incr(k, 100)).toBe(2);
    expect(await kv.incr(k)).toBe(3);
    // The later increments did not reset the window to 100 s.
    const left = await kv.ttl(k);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(50);
    expect(await kv.get(k)).toBe('3');

    const plain = key('incr-plain');
    expect(await kv.incr(plain)).toBe(1);
    expect(await kv.ttl(plain)).toBe(-1);

    const concurrent = key('incr-race');
    const values = await Promise.all(Array.from({ length: 20 }, () => kv.incr(concurrent, 60)));
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('incr on a non-integer value rejects', async () => {
    const k = key('incr-bad');
    await kv.set(k, 'abc');
    await expect(kv.incr(k)).rejects.toThrow(/integer/);
  });

  it('sets: sadd, srem, smembers, sismember with counts', async () => {
    const k = key('set');
    expect(await kv.smembers(k)).toEqual([]);
    expect(await kv.sismember(k, 'a')).toBe(false);
    expect(await kv.sadd(k, 'a', 'b')).toBe(2);
    expect(await kv.sadd(k, 'b', 'c')).toBe(1);
    expect(await kv.sadd(k)).toBe(0);
    expect((await kv.smembers(k)).sort()).toEqual(['a', 'b', 'c']);
    expect(await kv.sismember(k, 'b')).toBe(true);
    expect(await kv.sismember(k, 'z')).toBe(false);
    expect(await kv.srem(k, 'b', 'z')).toBe(1);
    expect(await kv.srem(k)).toBe(0);
    expect((await kv.smembers(k)).sort()).toEqual(['a', 'c']);
    expect(await kv.srem(k, 'a', 'c')).toBe(2);
    // An emptied set no longer exists.
    expect(await kv.ttl(k)).toBe(-2);
    expect(await kv.srem(key('set-missing'), 'a')).toBe(0);
  });

  it('a string key used as a set (and the reverse) is a type error', async () => {
    const s = key('wrongtype-s');
    await kv.set(s, 'v');
    await expect(kv.sadd(s, 'a')).rejects.toThrow(/WRONGTYPE/);
    const st = key('wrongtype-set');
    await kv.sadd(st, 'a');
    await expect(kv.get(st)).rejects.toThrow(/WRONGTYPE/);
  });

  it('del returns how many keys existed, of any type', async () => {
    const a = key('del-a');
    const b = key('del-b');
    const c = key('del-c');
    await kv.set(a, '1');
    await kv.sadd(b, 'x');
    expect(await kv.del(a, b, c)).toBe(2);
    expect(await kv.del(a)).toBe(0);
    expect(await kv.del()).toBe(0);
    expect(await kv.get(a)).toBeNull();
    expect(await kv.smembers(b)).toEqual([]);
  });

  it('pub/sub: subscribers receive, unsubscribe stops delivery, channels are separate', async () => {
    const channel = `rgz:chan:${++n}`;
    const other = `rgz:chan-other:${n}`;
    const gotA: string[] = [];
    const gotB: string[] = [];
    const gotOther: string[] = [];
    const unA = await kv.subscribe(channel, (m) => gotA.push(m));
    const unB = await kv.subscribe(channel, (m) => gotB.push(m));
    const unOther = await kv.subscribe(other, (m) => gotOther.push(m));

    await kv.publish(channel, 'one');
    await waitFor(() => gotA.length === 1 && gotB.length === 1, 3_000);
    expect(gotA).toEqual(['one']);
    expect(gotB).toEqual(['one']);

    await unA();
    await kv.publish(channel, 'two');
    await kv.publish(other, 'marker');
    // Messages arrive in publish order: once the marker is in, 'two' has been delivered or dropped.
    await waitFor(() => gotOther.length === 1 && gotB.length === 2, 3_000);
    expect(gotA).toEqual(['one']);
    expect(gotB).toEqual(['one', 'two']);
    expect(gotOther).toEqual(['marker']);

    await unB();
    await kv.publish(channel, 'three');
    await kv.publish(other, 'marker2');
    await waitFor(() => gotOther.length === 2, 3_000);
    expect(gotB).toEqual(['one', 'two']);

    // A new subscriber, then a repeated unsubscribe of an old one: the new one keeps receiving.
    const gotC: string[] = [];
    const unC = await kv.subscribe(channel, (m) => gotC.push(m));
    await unB();
    await unA();
    await kv.publish(channel, 'four');
    await waitFor(() => gotC.length === 1, 3_000);
    expect(gotC).toEqual(['four']);
    expect(gotB).toEqual(['one', 'two']);
    await unC();
    await unOther();
  });

  it('publish never runs a subscriber inside the publisher call', async () => {
    const channel = `rgz:chan-async:${++n}`;
    const got: string[] = [];
    const un = await kv.subscribe(channel, (m) => got.push(m));
    const p = kv.publish(channel, 'x');
    expect(got).toEqual([]);
    await p;
    await waitFor(() => got.length === 1, 3_000);
    await un();
  });

  // The waits for expiry overlap: these three run concurrently (distinct keys).
  it.concurrent('expires a key after its TTL', async ({ expect }) => {
    const a = key('exp-set');
    const b = key('exp-nx');
    const c = key('exp-expire');
    await kv.set(a, 'v', 1);
    expect(await kv.setIfAbsent(b, 'v', 1)).toBe(true);
    await kv.set(c, 'v');
    expect(await kv.expire(c, 1)).toBe(true);
    expect(await kv.expire(key('exp-missing'), 1)).toBe(false);
    expect(await kv.get(a)).toBe('v');
    expect(await kv.ttl(c)).toBe(1);
    await sleep(1_200);
    for (const k of [a, b, c]) {
      expect(await kv.get(k)).toBeNull();
      expect(await kv.ttl(k)).toBe(-2);
    }
    // Once expired, set-if-absent succeeds again.
    expect(await kv.setIfAbsent(b, 'again', 10)).toBe(true);
    expect(await kv.get(b)).toBe('again');
  });

  it.concurrent('incr window restarts after expiry', async ({ expect }) => {
    const k = key('incr-window');
    expect(await kv.incr(k, 1)).toBe(1);
    expect(await kv.incr(k, 1)).toBe(2);
    await sleep(1_200);
    expect(await kv.incr(k, 1)).toBe(1);
    expect(await kv.ttl(k)).toBe(1);
  });

  it.concurrent('scan yields exactly the keys with the prefix, across many SCAN pages', async ({ expect }) => {
    const id = ++n;
    const prefix = `rgz:scan:${id}:`;
    const expected = new Set<string>();
    for (let i = 0; i < 650; i++) expected.add(`${prefix}${i}`);
    await Promise.all([...expected].map((k, i) => (i % 2 ? kv.set(k, 'v') : kv.sadd(k, 'm'))));
    // Look-alikes that must not match: a sibling prefix and glob characters taken literally.
    await kv.set(`rgz:scan:${id}x`, 'v');
    await kv.set(`rgz:scan:${id}`, 'v');
    const globPrefix = `rgz:glob:${id}:[a]*?`;
    await kv.set(`${globPrefix}1`, 'v');
    await kv.set(`rgz:glob:${id}:a-not-literal`, 'v');
    await kv.set(`rgz:glob:${id}:a1`, 'v');

    const seen = new Set<string>();
    let yielded = 0;
    for await (const k of kv.scan(prefix)) {
      seen.add(k);
      yielded++;
      expect(yielded).toBeLessThan(5_000);
    }
    expect(seen).toEqual(expected);

    const glob: string[] = [];
    for await (const k of kv.scan(globPrefix)) glob.push(k);
    expect(glob).toEqual([`${globPrefix}1`]);

    // Expired keys are not listed.
    const exp = `rgz:scan-exp:${id}:`;
    await kv.set(`${exp}short`, 'v', 1);
    await kv.set(`${exp}long`, 'v', 60);
    await sleep(1_200);
    const left: string[] = [];
    for await (const k of kv.scan(exp)) left.push(k);
    expect(left).toEqual([`${exp}long`]);
  });
});

/** The same script on both backends, with the seed's key names, must give the same transcript. */
async function seedKeyScript(kv: Kv): Promise<unknown[]> {
  const out: unknown[] = [];
  const phone = '+2290197000000';
  const sub = '7b0f8a3e-0000-4000-8000-000000000001';
  // OTP: stored once per window, with a TTL, read and deleted on success.
  out.push(await kv.setIfAbsent(kvKeys.otp(phone), '123456', 300));
  out.push(await kv.setIfAbsent(kvKeys.otp(phone), '999999', 300));
  out.push(await kv.get(kvKeys.otp(phone)));
  out.push((await kv.ttl(kvKeys.otp(phone))) > 295);
  // Rate limit: a fixed-window counter.
  for (let i = 0; i < 3; i++) out.push(await kv.incr(kvKeys.rate(phone), 3600));
  out.push((await kv.ttl(kvKeys.rate(phone))) > 3590);
  // Session and payment payloads.
  await kv.set(kvKeys.session(sub), JSON.stringify({ mac: 'aa:bb:cc:dd:ee:ff' }), 86_400);
  out.push(JSON.parse((await kv.get(kvKeys.session(sub))) as string));
  await kv.set(kvKeys.payment('tx-1'), JSON.stringify({ amount: 1000 }));
  out.push(await kv.ttl(kvKeys.payment('tx-1')));
  // Device set.
  out.push(await kv.sadd(kvKeys.devices(sub), 'aa:bb:cc:dd:ee:ff', '11:22:33:44:55:66', 'aa:bb:cc:dd:ee:ff'));
  out.push((await kv.smembers(kvKeys.devices(sub))).sort());
  out.push(await kv.sismember(kvKeys.devices(sub), '11:22:33:44:55:66'));
  out.push(await kv.srem(kvKeys.devices(sub), '11:22:33:44:55:66'));
  // DBA MIR per reseller.
  await kv.set(kvKeys.dbaMir('r1'), '2048');
  out.push(await kv.incr(kvKeys.dbaMir('r1')));
  // Listing by the seed's prefixes.
  const listed: string[] = [];
  for await (const k of kv.scan('rgz:')) listed.push(k);
  out.push(listed.sort());
  const sessions: string[] = [];
  for await (const k of kv.scan('rgz:session:')) sessions.push(k);
  out.push(sessions);
  out.push(await kv.del(kvKeys.otp(phone), kvKeys.otp('+22900000000')));
  out.push(await kv.get(kvKeys.otp(phone)));
  return out;
}

describe('KV backends agree on the seed key names', () => {
  it('runs the same script with the same results', async () => {
    const transcripts: unknown[][] = [];
    for (const backend of BACKENDS) {
      const t = await createTestKv(backend);
      try {
        transcripts.push(await seedKeyScript(t.kv));
      } finally {
        await t.close();
      }
    }
    expect(transcripts).toHaveLength(2);
    expect(transcripts[0]).toEqual(transcripts[1]);
    // And the script says what the seed needs, not just the same thing twice.
    const [first] = transcripts as [unknown[]];
    expect(first.slice(0, 4)).toEqual([true, false, '123456', true]);
    expect(first[15]).toEqual([
      'rgz:dba:mir:r1',
      'rgz:devices:7b0f8a3e-0000-4000-8000-000000000001',
      'rgz:otp:+2290197000000',
      'rgz:payment:tx-1',
      'rgz:rate:+2290197000000',
      'rgz:session:7b0f8a3e-0000-4000-8000-000000000001',
    ]);
  });

  it('writes the seed key names verbatim', () => {
    expect(kvKeys.otp('+2290197000000')).toBe('rgz:otp:+2290197000000');
    expect(kvKeys.session('s1')).toBe('rgz:session:s1');
    expect(kvKeys.rate('p')).toBe('rgz:rate:p');
    expect(kvKeys.devices('s1')).toBe('rgz:devices:s1');
    expect(kvKeys.payment('t')).toBe('rgz:payment:t');
    expect(kvKeys.dbaMir('r')).toBe('rgz:dba:mir:r');
  });
});
