/**
 * The SNMP client and the poller against real agents on loopback: snmpsim serving recorded and synthetic walks,
 * Net-SNMP's snmpd (v2c and v3 authPriv), a port that never answers and one that answers garbage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CpeProfile } from '@rgz/core';
import { librenms, parseSnmprec } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenericProfile } from './generic-profile.js';
import { pollDevice, runPool } from './poller.js';
import { compareOids, SnmpClient, SnmpError } from './session.js';
import {
  type Agent,
  HAS_SNMPD,
  HAS_SNMPSIM,
  NO_SNMPD,
  NO_SNMPSIM,
  openSockets,
  startGarbagePort,
  startSilentPort,
  startSnmpd,
  startSnmpsim,
} from './test-support/agents.js';

const { CONFORMANCE_AVAILABLE, snmprecPath } = librenms;

const fixturePath = (name: string) => fileURLToPath(new URL(`./test-support/fixtures/${name}`, import.meta.url));
const generic = createGenericProfile();
const profiles = new Map<string, CpeProfile>([[generic.id, generic]]);
const fast = { timeoutMs: 300, retries: 1, deviceTimeoutMs: 5000 };

describe.skipIf(!HAS_SNMPSIM)(`against snmpsim${HAS_SNMPSIM ? '' : ` (${NO_SNMPSIM})`}`, () => {
  let sim: Agent;
  const files = [fixturePath('wrap-a.snmprec'), ...(CONFORMANCE_AVAILABLE ? [snmprecPath('airos_airos8'), snmprecPath('epmp')] : [])];

  beforeAll(async () => {
    sim = await startSnmpsim(files);
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('walks several table columns per GetBulk and returns exactly what the agent holds', async () => {
    const recorded = parseSnmprec(readFileSync(fixturePath('wrap-a.snmprec'), 'utf8'));
    const client = new SnmpClient(
      { address: '127.0.0.1', port: sim.port, snmp: { version: '2c', community: 'wrap-a' } },
      { timeoutMs: 1000, retries: 1, varbindsPerRequest: 12 },
    );
    try {
      const roots = ['1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.2.2.1.10', '1.3.6.1.2.1.2.2.1.16', '1.3.6.1.2.1.31.1.1.1.6', '1.3.6.1.2.1.25.3.3.1.2'];
      const walked = await client.walk(roots, 4);
      for (const [i, root] of roots.entries()) {
        const want = recorded.filter((vb) => vb.oid.startsWith(`${root}.`)).map((vb) => vb.oid);
        expect(
          walked[i]?.map((vb) => vb.oid),
          root,
        ).toEqual(want);
      }
      expect(walked[3]).toEqual([]); // no ifXTable
      // 5 roots, 3 per request (12 varbinds / 4 repetitions): far fewer requests than one walk per column would take.
      expect(client.requests).toBeLessThanOrEqual(4);
      const got = await client.get(['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.99.0']);
      expect(got[0]).toEqual({ oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 100_000 });
      expect(got[1]?.type).toBe('NoSuchInstance');
    } finally {
      client.close();
    }
  });

  it.skipIf(!CONFORMANCE_AVAILABLE)('decodes Counter64 of a recorded ePMP walk and walks a whole recorded airMAX device', async () => {
    const epmp = new SnmpClient({ address: '127.0.0.1', port: sim.port, snmp: { version: '2c', community: 'epmp' } }, { timeoutMs: 1000, retries: 1 });
    const air = new SnmpClient({ address: '127.0.0.1', port: sim.port, snmp: { version: '2c', community: 'airos_airos8' } }, { timeoutMs: 1000, retries: 1 });
    try {
      const [hc] = await epmp.walk(['1.3.6.1.2.1.31.1.1.1.6']);
      expect(hc).toEqual([
        { oid: '1.3.6.1.2.1.31.1.1.1.6.1', type: 'Counter64', value: 3_377_931_056_550n },
        { oid: '1.3.6.1.2.1.31.1.1.1.6.2', type: 'Counter64', value: 271_761_841_907n },
      ]);
      const recorded = parseSnmprec(readFileSync(snmprecPath('airos_airos8'), 'utf8'));
      const [all] = await air.walk(['1.3'], 25);
      expect(all?.map((vb) => vb.oid)).toEqual(recorded.filter((vb) => vb.oid.startsWith('1.3.')).map((vb) => vb.oid));
      expect(all).toEqual(recorded.filter((vb) => vb.oid.startsWith('1.3.')));
    } finally {
      epmp.close();
      air.close();
    }
  });

  it('polls a device end to end with the generic profile, detecting it', async () => {
    const out = await pollDevice(
      { id: 'd1', address: '127.0.0.1', port: sim.port, snmp: { version: '2c', community: 'wrap-a' }, profile: 'auto' },
      profiles,
      undefined,
      {
        ...fast,
        timeoutMs: 1000,
      },
    );
    expect(out).toMatchObject({ result: 'ok', profileId: 'if-mib', detected: true });
    expect(out.sample?.interfaces.find((i) => i.ifIndex === 3)).toMatchObject({ counterBits: 32, inOctets: 4_294_000_000n });
  });

  it("fetch: the plan's scalars ride on the walk's first GetBulk — same varbinds as a Get then a walk, one request fewer", async () => {
    const target = { address: '127.0.0.1', port: sim.port, snmp: { version: '2c' as const, community: 'wrap-a' } };
    const roots = ['1.3.6.1.2.1.2.2.1.2', '1.3.6.1.2.1.2.2.1.10', '1.3.6.1.2.1.31.1.1.1.6'];
    // sysUpTime, sysName, an absent scalar; then a table instance, which GetNext cannot stand in for. 15 varbinds per
    // request: the three scalars and four rows of the three columns fit in one GetBulk.
    const scalars = ['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.99.0'];
    const separate = new SnmpClient(target, { timeoutMs: 1000, retries: 1, varbindsPerRequest: 15 });
    const together = new SnmpClient(target, { timeoutMs: 1000, retries: 1, varbindsPerRequest: 15 });
    const withInstance = new SnmpClient(target, { timeoutMs: 1000, retries: 1, varbindsPerRequest: 15 });
    try {
      const got = await separate.get(scalars);
      const walked = await separate.walk(roots, 4);
      const fetched = await together.fetch(scalars, roots, 4);
      expect(fetched.walked).toEqual(walked);
      expect(fetched.got.slice(0, 2)).toEqual(got.slice(0, 2));
      expect(fetched.got[0]).toEqual({ oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 100_000 });
      // The agent has no 1.99.0: its GetNext answers a later OID, reported as a Get would (a NoSuch* entry).
      expect(fetched.got[2]).toEqual({ oid: '1.3.6.1.2.1.1.99.0', type: 'NoSuchObject', value: null });
      expect(got[2]?.type).toMatch(/^NoSuch/);
      expect(together.requests).toBe(separate.requests - 1);

      const mixed = await withInstance.fetch([...scalars, '1.3.6.1.2.1.2.2.1.2.3'], roots, 4);
      expect(mixed.got.map((vb) => vb.oid)).toEqual([...scalars, '1.3.6.1.2.1.2.2.1.2.3']);
      expect(mixed.got[3]).toMatchObject({ type: 'OctetString', value: new TextEncoder().encode('wlan0') });
      expect(mixed.walked).toEqual(walked);
      expect(withInstance.requests).toBe(separate.requests);
    } finally {
      separate.close();
      together.close();
      withInstance.close();
    }
  });

  it('a wrong community is a timeout (agents drop it silently)', async () => {
    const out = await pollDevice(
      { id: 'd2', address: '127.0.0.1', port: sim.port, snmp: { version: '2c', community: 'nope' }, profile: 'if-mib' },
      profiles,
      undefined,
      fast,
    );
    expect(out.result).toBe('timeout');
  });
});

describe.skipIf(!HAS_SNMPD)(`against snmpd${HAS_SNMPD ? '' : ` (${NO_SNMPD})`}`, () => {
  let agent: Agent;
  const v3 = { user: 'rgzv3', authKey: 'authpass1234', privKey: 'privpass1234' };

  beforeAll(async () => {
    agent = await startSnmpd({ community: 'litebeam', v3, overrides: { '1.3.6.1.2.1.1.2.0': ['object_id', '.1.3.6.1.4.1.10002.1'] } });
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('v2c: reads the real ifXTable as Counter64 and the overridden sysObjectID', async () => {
    const client = new SnmpClient({ address: '127.0.0.1', port: agent.port, snmp: { version: '2c', community: 'litebeam' } }, { timeoutMs: 1000, retries: 1 });
    try {
      const [objectId] = await client.get(['1.3.6.1.2.1.1.2.0']);
      expect(objectId).toEqual({ oid: '1.3.6.1.2.1.1.2.0', type: 'ObjectIdentifier', value: '1.3.6.1.4.1.10002.1' });
      const [names, hcIn] = await client.walk(['1.3.6.1.2.1.31.1.1.1.1', '1.3.6.1.2.1.31.1.1.1.6']);
      expect(names?.length).toBeGreaterThan(0);
      expect(hcIn?.every((vb) => vb.type === 'Counter64' && typeof vb.value === 'bigint')).toBe(true);
    } finally {
      client.close();
    }
  });

  it('v3 authPriv (SHA/AES): polls; a wrong key is an auth error', async () => {
    const ok = await pollDevice(
      {
        id: 'v3',
        address: '127.0.0.1',
        port: agent.port,
        snmp: { version: '3', user: v3.user, level: 'authPriv', authProtocol: 'sha', authKey: v3.authKey, privProtocol: 'aes', privKey: v3.privKey },
        profile: 'auto',
      },
      profiles,
      undefined,
      { ...fast, timeoutMs: 2000 },
    );
    expect(ok.result, ok.error).toBe('ok');
    expect(ok.sample?.interfaces.some((i) => i.counterBits === 64 && i.inOctets !== undefined)).toBe(true);
    expect(ok.sample?.uptimeSeconds).toBeGreaterThan(0);

    const bad = await pollDevice(
      {
        id: 'v3bad',
        address: '127.0.0.1',
        port: agent.port,
        snmp: { version: '3', user: v3.user, level: 'authPriv', authProtocol: 'sha', authKey: 'wrongpass99', privProtocol: 'aes', privKey: v3.privKey },
        profile: 'if-mib',
      },
      profiles,
      undefined,
      { ...fast, timeoutMs: 1000 },
    );
    expect(bad.result).toBe('auth');
    const unknownUser = await pollDevice(
      {
        id: 'v3user',
        address: '127.0.0.1',
        port: agent.port,
        snmp: { version: '3', user: 'nobody', level: 'authPriv', authProtocol: 'sha', authKey: v3.authKey, privProtocol: 'aes', privKey: v3.privKey },
        profile: 'if-mib',
      },
      profiles,
      undefined,
      { ...fast, timeoutMs: 1000 },
    );
    expect(unknownUser.result).toBe('auth');
  });
});

describe('agents that misbehave', () => {
  let silent: Awaited<ReturnType<typeof startSilentPort>>;
  let garbage: Agent;

  beforeAll(async () => {
    silent = await startSilentPort();
    garbage = await startGarbagePort();
  });
  afterAll(async () => {
    await silent?.stop();
    await garbage?.stop();
  });

  it('an agent that never answers times out after timeout × (retries + 1), and the socket is closed', async () => {
    const before = openSockets();
    const t0 = performance.now();
    const out = await pollDevice(
      { id: 'dead', address: '127.0.0.1', port: silent.port, snmp: { version: '2c', community: 'public' }, profile: 'if-mib' },
      profiles,
      undefined,
      {
        timeoutMs: 200,
        retries: 1,
        deviceTimeoutMs: 5000,
      },
    );
    const took = performance.now() - t0;
    expect(out.result).toBe('timeout');
    expect(silent.received()).toBe(2);
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(3000);
    if (before >= 0) expect(openSockets()).toBe(before);
  });

  it('the device deadline cuts a poll that would take longer', async () => {
    const t0 = performance.now();
    const out = await pollDevice(
      { id: 'dead2', address: '127.0.0.1', port: silent.port, snmp: { version: '2c', community: 'public' }, profile: 'if-mib' },
      profiles,
      undefined,
      {
        timeoutMs: 5000,
        retries: 3,
        deviceTimeoutMs: 300,
      },
    );
    expect(out.result).toBe('timeout');
    expect(out.error).toMatch(/deadline/);
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it('a malformed response fails the device at once, without waiting for the timeout', async () => {
    const before = openSockets();
    const t0 = performance.now();
    const out = await pollDevice(
      { id: 'garbage', address: '127.0.0.1', port: garbage.port, snmp: { version: '2c', community: 'public' }, profile: 'if-mib' },
      profiles,
      undefined,
      {
        timeoutMs: 3000,
        retries: 2,
        deviceTimeoutMs: 10_000,
      },
    );
    expect(out.result).toBe('malformed');
    expect(out.error).toMatch(/does not decode/);
    expect(performance.now() - t0).toBeLessThan(2500);
    if (before >= 0) expect(openSockets()).toBe(before);
  });

  it('a thrown SnmpError carries its kind', () => {
    expect(new SnmpError('auth', 'x').kind).toBe('auth');
  });

  it.skipIf(!HAS_SNMPSIM)('one unreachable CPE never delays the others (bounded pool)', async () => {
    const sim = await startSnmpsim([fixturePath('wrap-a.snmprec')]);
    try {
      const targets = [{ id: 'dead', port: silent.port }, ...Array.from({ length: 6 }, (_, i) => ({ id: `ok${i}`, port: sim.port }))];
      const done: Record<string, { at: number; result: string }> = {};
      const t0 = performance.now();
      await runPool(targets, 3, async (t) => {
        const out = await pollDevice(
          { id: t.id, address: '127.0.0.1', port: t.port, snmp: { version: '2c', community: 'wrap-a' }, profile: 'if-mib' },
          profiles,
          undefined,
          {
            timeoutMs: 1000,
            retries: 1,
            deviceTimeoutMs: 10_000,
          },
        );
        done[t.id] = { at: performance.now() - t0, result: out.result };
      });
      expect(done.dead?.result).toBe('timeout');
      expect(done.dead?.at).toBeGreaterThanOrEqual(1900);
      for (let i = 0; i < 6; i++) {
        expect(done[`ok${i}`]?.result).toBe('ok');
        // The live ones all finished before the dead one gave up: it held one worker, not the pool.
        expect(done[`ok${i}`]?.at).toBeLessThan(done.dead?.at as number);
      }
    } finally {
      await sim.stop();
    }
  });
});

it('compareOids orders OIDs arc by arc, numerically, a prefix first', () => {
  const byArcs = (a: string, b: string) => {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
    return x.length - y.length;
  };
  const oids = [
    '1.3.6.1.2.1.2.2.1.10.3',
    '1.3.6.1.2.1.2.2.1.2.3',
    '1.3.6.1.2.1.2.2.1.2',
    '1.3.6.1.2.1.2.2.1.2.10',
    '1.3.6.1.4.1.41112.1.4.7.1.1.1.36.164.60.1.2.3',
    '1.3.6.1.2.1.2.2.1.2.3.0',
    '1.3.6.1.2.1.31.1.1.1.6.1',
    '1.3.6.1.2.1.2.2.1.2.4294967295',
    '1.3.6',
  ];
  for (const a of oids) for (const b of oids) expect(Math.sign(compareOids(a, b)), `${a} vs ${b}`).toBe(Math.sign(byArcs(a, b)));
  expect([...oids].sort(compareOids)).toEqual([...oids].sort(byArcs));
});

it('fixtures exist', () => {
  expect(existsSync(fixturePath('wrap-a.snmprec'))).toBe(true);
});
