/**
 * What every request carries through hono's typed context: its id, logger, principal and the database handle
 * already scoped to that principal (reseller isolation happens there, not in handlers).
 */
import type { Kysely } from 'kysely';
import type { Principal } from '../access/principals.js';
import type { CoreDatabase } from '../domain/schema.js';
import type { Logger } from '../logging/logger.js';

export interface RequestServices {
  /** Resolve the bearer token once per request (null: anonymous or invalid). */
  principal(): Promise<Principal | null>;
  /** The database as this principal may see it. */
  scopedDb(principal: Principal | null): Kysely<CoreDatabase>;
}

export interface AppVariables {
  requestId: string;
  log: Logger;
  services: RequestServices;
  /** Set by the route's access check. */
  principal: Principal | null;
  /** Reseller-scoped for reseller principals; use this in handlers. Type it with your tables: `c.get('db') as unknown as Kysely<CoreDatabase & MyTables>`. */
  db: Kysely<CoreDatabase>;
  clientIp: string;
}

export interface AppEnv {
  Variables: AppVariables;
}
