/**
 * The cost of one authentication in storage round trips, counted on the real handles (PostgreSQL + Redis): an
 * Access-Accept for a portal login is 3 queries (subscriber, active plan, usage) and 3 KV reads (portal session, its
 * TTL, the DBA rate), and the plan and the KV reads go out together, so the decision waits for 3 round trips in a row,
 * not 5. A reject for a wrong password stops before the plan is used and reads no usage.
 * (Joining the plan to the subscriber lookup, LATERAL, and reading usage beside the KV reads made 2 round trips, but
 * bench/radius-auth.mjs measured it 20–45 % slower back to back: kept as is.)
 */

import type { Kv } from '@rgz/core';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encode } from '../codec/index.js';
import { configSchema, staleAfterSeconds } from '../config.js';
import type { NasEntry } from '../nas/registry.js';
import { addSubscriber, DEFAULT_NAS, DICTIONARY, SECRET, startWorld, type World } from '../test-support/world.js';
import { type AuthDeps, authenticate } from './auth.js';
import { packetAttributes } from './request.js';

describe('one authentication in round trips (real backend)', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ backend: 'real', worker: false });
  });
  afterAll(async () => {
    await w?.close();
  });

  /**
   * Counts executed statements and KV calls, and how many of them were in flight together at most. A statement is
   * timed from its compilation to its result; a subquery is compiled too but has no result of its own, so it is not
   * counted apart from its statement.
   */
  function counted() {
    const log: string[] = [];
    const spans: Array<[number, number]> = [];
    const track = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
      log.push(label);
      const start = performance.now();
      try {
        return await run();
      } finally {
        spans.push([start, performance.now()]);
      }
    };
    const compiled = new Map<unknown, number>();
    const plugin: KyselyPlugin = {
      transformQuery: (args) => {
        compiled.set(args.queryId, performance.now());
        return args.node;
      },
      transformResult: async (args) => {
        log.push('db');
        spans.push([compiled.get(args.queryId) ?? performance.now(), performance.now()]);
        return args.result;
      },
    };
    const maxInFlight = () => {
      const edges = spans.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let now = 0;
      let max = 0;
      for (const [, d] of edges) max = Math.max(max, (now += d));
      return max;
    };
    const kv = new Proxy(w.server.kernel.kv, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (...args: unknown[]) => track(`kv.${String(prop)}`, () => value.apply(target, args)) : value;
      },
    }) as Kv;
    const config = configSchema.parse({ nas: [DEFAULT_NAS] });
    const deps: AuthDeps = {
      db: w.db.withPlugin(plugin),
      kv,
      config,
      timeZone: 'Africa/Porto-Novo',
      staleAfterSeconds: staleAfterSeconds(config),
      vendor: () => undefined,
    };
    return { deps, log, maxInFlight };
  }

  const nas = { id: 'config:hotspot-test', identifier: 'hotspot-test', address: '127.0.0.1', vendor: 'mikrotik', resellerId: null } as unknown as NasEntry;
  const request = (attributes: Parameters<typeof encode>[0]['attributes']) =>
    packetAttributes(
      decode(encode({ code: 'Access-Request', identifier: 1, attributes }, SECRET, { dictionary: DICTIONARY }), SECRET, { dictionary: DICTIONARY }),
    );

  it('Accept: 3 queries and 3 KV reads, the plan query and the KV reads in flight together', async () => {
    const s = await addSubscriber(w);
    const c = counted();
    const outcome = await authenticate(
      c.deps,
      nas,
      request([
        { name: 'User-Name', value: s.ref },
        { name: 'User-Password', value: s.token },
      ]),
    );
    expect(outcome.accepted).toBe(true);
    expect(c.log.filter((l) => l === 'db')).toHaveLength(3);
    expect(c.log.filter((l) => l.startsWith('kv.')).sort()).toEqual(['kv.get', 'kv.get', 'kv.ttl']);
    expect(c.maxInFlight()).toBe(4);
  });

  it('wrong password: rejected without reading usage, nothing of the account in the reply', async () => {
    const s = await addSubscriber(w);
    const c = counted();
    const outcome = await authenticate(
      c.deps,
      nas,
      request([
        { name: 'User-Name', value: s.ref },
        { name: 'User-Password', value: 'guess' },
      ]),
    );
    expect(outcome).toMatchObject({ accepted: false, reason: 'bad_password' });
    expect(outcome.attributes).toEqual([{ name: 'Reply-Message', value: 'Mot de passe incorrect' }]);
    // Subscriber lookup, and at most the prefetched plan; never the usage query.
    expect(c.log.filter((l) => l === 'db').length).toBeLessThanOrEqual(2);
  });
});
