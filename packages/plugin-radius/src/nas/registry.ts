/**
 * The NAS registry: NAS from config plus the `radius_nas` table, held in memory so the UDP hot path looks a NAS up by
 * source address without a query. Re-read on every local change, when another replica announces one (event), and
 * every `nasRefreshSeconds`. It also serves core's `nasDirectory` token (without secrets).
 */

import { isIP } from 'node:net';
import type { Kysely, Logger, NasDirectory, NasRecord } from '@rgz/core';
import type { ConfigNas } from '../config.js';
import type { RadiusDatabase } from '../schema.js';

/** A NAS as the server needs it: the public record plus its secret and security flags. */
export interface NasEntry extends NasRecord {
  readonly secret: string;
  readonly requireMessageAuthenticator: boolean;
  readonly coaMessageAuthenticator: boolean;
  readonly enabled: boolean;
  readonly source: 'db' | 'config';
}

/** Canonical text of an IP address: IPv4-mapped IPv6 unwrapped, IPv6 compressed and lower-case. */
export function canonicalAddress(address: string): string {
  let a = address.trim();
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a)) a = a.slice(7);
  if (isIP(a) === 6) {
    try {
      return new URL(`http://[${a}]`).hostname.slice(1, -1);
    } catch {
      return a.toLowerCase();
    }
  }
  return a;
}

/** The id a config NAS has in `radius_sessions.nas_id` and in the API. */
export const configNasId = (identifier: string) => `config:${identifier}`;

export function publicRecord(entry: NasEntry): NasRecord {
  return {
    id: entry.id,
    identifier: entry.identifier,
    address: entry.address,
    vendor: entry.vendor,
    resellerId: entry.resellerId,
    coaPort: entry.coaPort,
  };
}

export class NasRegistry implements NasDirectory {
  #byAddress = new Map<string, NasEntry>();
  #byIdentifier = new Map<string, NasEntry>();
  #byId = new Map<string, NasEntry>();
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;
  readonly #config: readonly NasEntry[];

  constructor(
    private readonly db: Kysely<RadiusDatabase>,
    configNas: readonly ConfigNas[],
    private readonly log: Logger,
  ) {
    this.#config = configNas.map((n) => ({
      id: configNasId(n.identifier),
      identifier: n.identifier,
      address: canonicalAddress(n.address),
      vendor: n.vendor,
      resellerId: n.resellerId,
      coaPort: n.coaPort,
      secret: n.secret,
      requireMessageAuthenticator: n.requireMessageAuthenticator,
      coaMessageAuthenticator: n.coaMessageAuthenticator,
      enabled: n.enabled,
      source: 'config' as const,
    }));
  }

  get configNas(): readonly NasEntry[] {
    return this.#config;
  }

  /** Re-read the table; concurrent calls share one read. */
  refresh(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const rows = await this.db.selectFrom('radius_nas').selectAll().execute();
    const entries: NasEntry[] = [...this.#config];
    const taken = new Set(this.#config.flatMap((c) => [`a:${c.address}`, `i:${c.identifier}`]));
    for (const r of rows) {
      const address = canonicalAddress(r.address);
      if (taken.has(`a:${address}`) || taken.has(`i:${r.identifier}`)) {
        this.log.warn(
          { nas_id: r.id, identifier: r.identifier, address },
          'radius_nas row shadowed by a NAS from config with the same address or identifier; the config entry wins',
        );
        continue;
      }
      entries.push({
        id: r.id,
        identifier: r.identifier,
        address,
        vendor: r.vendor,
        resellerId: r.reseller_id,
        coaPort: r.coa_port,
        secret: r.secret,
        requireMessageAuthenticator: r.require_message_authenticator,
        coaMessageAuthenticator: r.coa_message_authenticator,
        enabled: r.enabled,
        source: 'db',
      });
    }
    const byAddress = new Map<string, NasEntry>();
    const byIdentifier = new Map<string, NasEntry>();
    const byId = new Map<string, NasEntry>();
    for (const e of entries) {
      byId.set(e.id, e);
      if (!e.enabled) continue;
      byAddress.set(e.address, e);
      byIdentifier.set(e.identifier, e);
    }
    this.#byAddress = byAddress;
    this.#byIdentifier = byIdentifier;
    this.#byId = byId;
  }

  start(intervalSeconds: number): void {
    this.#timer = setInterval(() => {
      this.refresh().catch((err) => this.log.warn({ err }, 'NAS registry refresh failed; keeping the previous list'));
    }, intervalSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Enabled NAS by packet source address (hot path, no I/O). */
  byAddress(address: string): NasEntry | undefined {
    return this.#byAddress.get(canonicalAddress(address));
  }

  /** Enabled NAS by NAS-Identifier (requests relayed by FreeRADIUS, no I/O). */
  byIdentifier(identifier: string): NasEntry | undefined {
    return this.#byIdentifier.get(identifier);
  }

  /** Any NAS (enabled or not) by id: sessions keep their NAS id, CoA needs its secret. */
  byId(id: string): NasEntry | undefined {
    return this.#byId.get(id);
  }

  all(): NasEntry[] {
    return [...this.#byId.values()];
  }

  async findByIdentifier(identifier: string): Promise<NasRecord | null> {
    const e = this.#byIdentifier.get(identifier);
    return e ? publicRecord(e) : null;
  }

  async findByAddress(address: string): Promise<NasRecord | null> {
    const e = this.byAddress(address);
    return e ? publicRecord(e) : null;
  }
}
