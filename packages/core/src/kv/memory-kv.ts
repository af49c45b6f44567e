/**
 * In-process KV for the embedded default: one replica, nothing survives a restart. Same semantics as Redis
 * for TTLs, set-if-absent, counters and sets (the KV contract suite runs against both).
 */
import { EventEmitter } from 'node:events';
import type { Kv } from './kv.js';

interface Entry {
  value: string | Set<string>;
  expiresAt: number | undefined;
}

export function createMemoryKv(now: () => number = Date.now): Kv {
  const data = new Map<string, Entry>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);

  const live = (key: string): Entry | undefined => {
    const e = data.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt <= now()) {
      data.delete(key);
      return undefined;
    }
    return e;
  };
  const expiry = (ttl?: number) => (ttl && ttl > 0 ? now() + ttl * 1000 : undefined);
  const setOf = (key: string): Set<string> | undefined => {
    const e = live(key);
    if (!e) return undefined;
    if (!(e.value instanceof Set)) throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    return e.value;
  };
  // Expired entries are also removed lazily on read; this sweep bounds memory for keys never read again.
  const sweep = setInterval(() => {
    for (const key of data.keys()) live(key);
  }, 30_000);
  sweep.unref();

  return {
    kind: 'memory',
    async get(key) {
      const e = live(key);
      if (!e) return null;
      if (e.value instanceof Set) throw new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
      return e.value;
    },
    async set(key, value, ttlSeconds) {
      data.set(key, { value, expiresAt: expiry(ttlSeconds) });
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(key)) return false;
      data.set(key, { value, expiresAt: expiry(ttlSeconds) });
      return true;
    },
    async del(...keys) {
      let n = 0;
      for (const k of keys) if (live(k) && data.delete(k)) n++;
      return n;
    },
    async incr(key, ttlSeconds) {
      const e = live(key);
      if (!e) {
        data.set(key, { value: '1', expiresAt: expiry(ttlSeconds) });
        return 1;
      }
      if (e.value instanceof Set || !/^-?\d+$/.test(e.value)) throw new Error('ERR value is not an integer or out of range');
      const next = Number.parseInt(e.value, 10) + 1;
      e.value = String(next);
      return next;
    },
    async ttl(key) {
      const e = live(key);
      if (!e) return -2;
      if (e.expiresAt === undefined) return -1;
      return Math.max(0, Math.ceil((e.expiresAt - now()) / 1000));
    },
    async expire(key, ttlSeconds) {
      const e = live(key);
      if (!e) return false;
      e.expiresAt = expiry(ttlSeconds) ?? now();
      return true;
    },
    async sadd(key, ...members) {
      let s = setOf(key);
      if (!s) {
        s = new Set();
        data.set(key, { value: s, expiresAt: undefined });
      }
      let n = 0;
      for (const m of members) if (!s.has(m)) s.add(m), n++;
      return n;
    },
    async srem(key, ...members) {
      const s = setOf(key);
      if (!s) return 0;
      let n = 0;
      for (const m of members) if (s.delete(m)) n++;
      if (s.size === 0) data.delete(key);
      return n;
    },
    async smembers(key) {
      return [...(setOf(key) ?? [])];
    },
    async sismember(key, member) {
      return setOf(key)?.has(member) ?? false;
    },
    async *scan(prefix) {
      for (const key of [...data.keys()]) if (key.startsWith(prefix) && live(key)) yield key;
    },
    async publish(channel, message) {
      // Asynchronous like Redis: a publisher never runs subscribers inside its own call stack.
      setImmediate(() => bus.emit(channel, message));
    },
    async subscribe(channel, handler) {
      bus.on(channel, handler);
      return async () => {
        bus.off(channel, handler);
      };
    },
    async ping() {
      return true;
    },
    async connectedClients() {
      return 1;
    },
    async close() {
      clearInterval(sweep);
      data.clear();
      bus.removeAllListeners();
    },
  };
}
