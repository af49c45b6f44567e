/**
 * KV over Redis (ioredis): one command connection and, lazily, one subscriber connection.
 * Sentinel and Cluster options are passed through from config.
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { Kv } from './kv.js';

export interface RedisKvOptions {
  url?: string | undefined;
  sentinels?: Array<{ host: string; port: number }> | undefined;
  sentinelName?: string | undefined;
  cluster?: Array<{ host: string; port: number }> | undefined;
  keyPrefix?: string | undefined;
}

// Counter with a TTL set only on creation, atomically (a fixed rate-limit window).
const INCR_WITH_TTL = `local v = redis.call('INCR', KEYS[1])
if v == 1 and tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return v`;

export async function createRedisKv(options: RedisKvOptions): Promise<Kv> {
  const prefix = options.keyPrefix ?? '';
  // Auto-pipelining sends the commands issued in one event-loop tick in one write: the portal and RADIUS hot paths
  // issue several independent commands per request, and one syscall each was a visible share of their profiles.
  const base: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true };
  const make = (): Redis | Cluster => {
    if (options.cluster?.length) return new Cluster(options.cluster, { redisOptions: base, lazyConnect: true, enableAutoPipelining: true });
    if (options.sentinels?.length) return new Redis({ ...base, sentinels: options.sentinels, name: options.sentinelName ?? 'mymaster' });
    return new Redis(options.url ?? 'redis://127.0.0.1:6379', base);
  };
  const client = make();
  client.on('error', () => {
    /* reconnects on its own; /ready reports the outage */
  });
  await client.connect();
  let subscriber: Redis | Cluster | undefined;
  const handlers = new Map<string, Set<(m: string) => void>>();
  const k = (key: string) => prefix + key;

  const getSubscriber = async () => {
    if (subscriber) return subscriber;
    subscriber = make();
    subscriber.on('error', () => {});
    await subscriber.connect();
    subscriber.on('message', (channel: string, message: string) => {
      for (const h of handlers.get(channel) ?? []) h(message);
    });
    return subscriber;
  };

  return {
    kind: 'redis',
    get: (key) => client.get(k(key)),
    async set(key, value, ttlSeconds) {
      if (ttlSeconds && ttlSeconds > 0) await client.set(k(key), value, 'EX', ttlSeconds);
      else await client.set(k(key), value);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      const r = ttlSeconds && ttlSeconds > 0 ? await client.set(k(key), value, 'EX', ttlSeconds, 'NX') : await client.set(k(key), value, 'NX');
      return r === 'OK';
    },
    async del(...keys) {
      if (keys.length === 0) return 0;
      return client.del(...keys.map(k));
    },
    async incr(key, ttlSeconds) {
      return Number(await client.eval(INCR_WITH_TTL, 1, k(key), String(ttlSeconds ?? 0)));
    },
    ttl: (key) => client.ttl(k(key)),
    async expire(key, ttlSeconds) {
      return (await client.expire(k(key), ttlSeconds)) === 1;
    },
    sadd: (key, ...members) => (members.length ? client.sadd(k(key), ...members) : Promise.resolve(0)),
    srem: (key, ...members) => (members.length ? client.srem(k(key), ...members) : Promise.resolve(0)),
    smembers: (key) => client.smembers(k(key)),
    async sismember(key, member) {
      return (await client.sismember(k(key), member)) === 1;
    },
    async *scan(keyPrefix) {
      const nodes = client instanceof Cluster ? client.nodes('master') : [client];
      const pattern = `${escapeGlob(prefix + keyPrefix)}*`;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          for (const key of keys) yield key.slice(prefix.length);
        } while (cursor !== '0');
      }
    },
    async publish(channel, message) {
      await client.publish(prefix + channel, message);
    },
    async subscribe(channel, handler) {
      const sub = await getSubscriber();
      const full = prefix + channel;
      let set = handlers.get(full);
      if (!set) {
        set = new Set();
        handlers.set(full, set);
        await sub.subscribe(full);
      }
      set.add(handler);
      return async () => {
        // Idempotent: a second call must not tear down a newer subscription to the same channel.
        if (!set.delete(handler)) return;
        if (set.size === 0 && handlers.get(full) === set) {
          handlers.delete(full);
          await sub.unsubscribe(full);
        }
      };
    },
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async connectedClients() {
      const info = await client.info('clients');
      const m = /connected_clients:(\d+)/.exec(info);
      return m ? Number(m[1]) : 0;
    },
    async close() {
      await Promise.allSettled([client.quit(), subscriber?.quit()]);
    },
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
