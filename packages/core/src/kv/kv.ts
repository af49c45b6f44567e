/**
 * The key-value contract: what the seed keeps in Redis (OTPs, rate counters, sessions, device sets, payment
 * payloads), with one Redis implementation and one in-process implementation for the zero-setup default.
 * Keys are written exactly as the seed names them (`rgz:otp:{phone}`), see `kvKeys`.
 */

export interface Kv {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Set a value, optionally expiring after `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Set only when the key does not exist (Redis SET NX); true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;
  /** Delete keys; returns how many existed. */
  del(...keys: string[]): Promise<number>;
  /**
   * Increment a counter; the TTL is set when the counter is created (a fixed window, as rate limits need)
   * and left alone by later increments.
   */
  incr(key: string, ttlSeconds?: number): Promise<number>;
  /** Seconds left; -1 when the key has no expiry, -2 when it does not exist (Redis TTL semantics). */
  ttl(key: string): Promise<number>;
  expire(key: string, ttlSeconds: number): Promise<boolean>;
  sadd(key: string, ...members: string[]): Promise<number>;
  srem(key: string, ...members: string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  sismember(key: string, member: string): Promise<boolean>;
  /** Every key starting with `prefix` (SCAN, never KEYS). */
  scan(prefix: string): AsyncIterable<string>;
  publish(channel: string, message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<boolean>;
  /** Clients connected to the server (Redis INFO clients), for redis_connected_clients. */
  connectedClients(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The seed's key names, in one place. Values: `otp` a JSON {hash, attempts, ...} (never the code itself),
 * `session` a JSON {token, mac, issued_at} where token is the RADIUS password the NAS logs in with,
 * `rate` a counter, `devices` a set of MACs, `payment` the raw provider event, `dbaMir` JSON {cir, mir, burst}.
 */
export const kvKeys = {
  otp: (phone: string) => `rgz:otp:${phone}`,
  session: (subscriberId: string) => `rgz:session:${subscriberId}`,
  rate: (phone: string) => `rgz:rate:${phone}`,
  devices: (subscriberId: string) => `rgz:devices:${subscriberId}`,
  payment: (transactionId: string) => `rgz:payment:${transactionId}`,
  dbaMir: (resellerId: string) => `rgz:dba:mir:${resellerId}`,
} as const;
