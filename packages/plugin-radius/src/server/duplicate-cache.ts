/**
 * RFC 5080 §2.2.2 duplicate detection for the server. A request is a duplicate of an earlier one when it comes from
 * the same source address and port with the same Identifier and is byte-identical (so the same Request
 * Authenticator). A duplicate whose first copy is still being processed is dropped; one whose first copy was answered
 * gets the cached answer, never a second processing. A valid request with the same (address, port, Identifier) but
 * different bytes replaces the entry at once (the NAS moved on). Entries live `ttlMs` (default 30 s).
 *
 * Callers only `begin()` after a packet passed every check (secret, Message-Authenticator): an invalid packet never
 * touches the cache.
 */

export type DuplicateLookup =
  /** Not seen (or expired, or a different packet on the same tuple). */
  | { kind: 'new' }
  /** Seen, still being processed: drop silently. */
  | { kind: 'in_progress' }
  /** Seen and answered: send this again. */
  | { kind: 'answered'; response: Buffer }
  /** Seen and deliberately not answered (dropped after processing): drop again. */
  | { kind: 'unanswered' };

interface Entry {
  packet: Buffer;
  expires: number;
  response: Buffer | null | undefined;
}

export class DuplicateCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 200_000;
    this.#now = options.now ?? Date.now;
  }

  static key(address: string, port: number, identifier: number): string {
    return `${address}|${port}|${identifier}`;
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(key: string, packet: Buffer): DuplicateLookup {
    this.#sweep();
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expires <= this.#now() || !entry.packet.equals(packet)) return { kind: 'new' };
    if (entry.response === undefined) return { kind: 'in_progress' };
    if (entry.response === null) return { kind: 'unanswered' };
    return { kind: 'answered', response: entry.response };
  }

  /** Mark `packet` as being processed (replacing any older entry on the same tuple). */
  begin(key: string, packet: Buffer): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      // Oldest first: Map keeps insertion order and begin() re-inserts.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { packet: Buffer.from(packet), expires: this.#now() + this.#ttlMs, response: undefined });
  }

  /** Record the answer sent (`null`: processed, deliberately no answer). */
  finish(key: string, packet: Buffer, response: Buffer | null): void {
    const entry = this.#entries.get(key);
    if (entry?.packet.equals(packet)) entry.response = response;
  }

  /** Forget a request whose processing failed (e.g. accounting not stored), so the NAS's retransmission is processed. */
  abandon(key: string, packet: Buffer): void {
    const entry = this.#entries.get(key);
    if (entry?.packet.equals(packet)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) break;
      // Never evict an in-progress entry by age alone; it is settled by finish/abandon.
      if (entry.response === undefined) continue;
      this.#entries.delete(key);
    }
  }
}
