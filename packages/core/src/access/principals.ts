/**
 * The seed's three roles as authenticated principals. A principal comes from a bearer token
 * (`Authorization: Bearer rgz_…`) whose SHA-256 is stored in `core_api_tokens`; the secret is shown once.
 * Tokens are 256-bit random values, so a fast hash is enough (no password stretching needed).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { InsertQueryBuilder, InsertResult, Kysely } from 'kysely';
import type { CoreDatabase, Role } from '../domain/schema.js';
import { RgzError } from '../errors/rgz-error.js';
import { currentRequestId } from '../logging/logger.js';

export type { Role };

export interface Principal {
  role: Role;
  /** Token id (audit actor id). */
  tokenId: string;
  name: string;
  resellerId: string | null;
  subscriberId: string | null;
}

/** Who may call a route: `public`, or a list of roles. Every route must say. */
export type Access = 'public' | readonly Role[];

export interface IssuedToken {
  id: string;
  token: string;
}

const PREFIX: Record<Role, string> = { noc: 'rgz_noc_', reseller: 'rgz_res_', subscriber: 'rgz_sub_' };

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface TokenServiceOptions {
  /**
   * Remember verified tokens this long (ms) to spare a query per request (default 0: no cache). Never past a
   * token's expiry; a revocation clears this replica's cache at once (other replicas within `cacheMs`).
   */
  cacheMs?: number;
}

export interface IssueInput {
  role: Role;
  name: string;
  resellerId?: string | null;
  subscriberId?: string | null;
  ttlSeconds?: number;
}

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    private readonly db: Kysely<CoreDatabase>,
    private readonly options: TokenServiceOptions = {},
  ) {}

  /** `trx`: issue inside the caller's transaction, so the token exists only if the rest of its work commits. */
  async issue(input: IssueInput & { trx?: Kysely<any> }): Promise<IssuedToken> {
    const { token, insert } = this.draft(input, input.trx);
    const row = await insert.executeTakeFirstOrThrow();
    return { id: row.id, token };
  }

  /**
   * A new token's secret and the INSERT that stores it (returning its id), not yet run: for a caller that runs it
   * in one statement with its other writes (a data-modifying CTE), so the token exists only if they commit, without
   * a transaction's extra round trips.
   */
  draft(input: IssueInput, db: Kysely<any> = this.db): { token: string; insert: InsertQueryBuilder<CoreDatabase, 'core_api_tokens', { id: string }> } {
    if (input.role === 'reseller' && !input.resellerId) throw new RgzError('token_invalid', 'a reseller token needs a reseller id', { status: 400 });
    if (input.role === 'subscriber' && !input.subscriberId) throw new RgzError('token_invalid', 'a subscriber token needs a subscriber id', { status: 400 });
    const token = PREFIX[input.role] + randomBytes(32).toString('base64url');
    const insert = (db as Kysely<CoreDatabase>)
      .insertInto('core_api_tokens')
      .values({
        name: input.name,
        role: input.role,
        reseller_id: input.resellerId ?? null,
        subscriber_id: input.subscriberId ?? null,
        token_hash: hashToken(token),
        expires_at: input.ttlSeconds ? new Date(Date.now() + input.ttlSeconds * 1000) : null,
        revoked_at: null,
        last_used_at: null,
      })
      .returning('id');
    return { token, insert };
  }

  /** The principal for a presented token, or null when it is unknown, revoked or expired. */
  async verify(token: string): Promise<Principal | null> {
    if (!/^rgz_(noc|res|sub)_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const hash = hashToken(token);
    const cacheMs = this.options.cacheMs ?? 0;
    const hit = cacheMs > 0 ? this.cache.get(hash) : undefined;
    if (hit && hit.until > Date.now()) return hit.principal;
    const row = await this.db
      .selectFrom('core_api_tokens')
      .select(['id', 'name', 'role', 'reseller_id', 'subscriber_id', 'expires_at', 'revoked_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    const valid = !!row && !row.revoked_at && !(row.expires_at && row.expires_at.getTime() <= Date.now());
    const principal: Principal | null = valid
      ? { role: row.role, tokenId: row.id, name: row.name, resellerId: row.reseller_id, subscriberId: row.subscriber_id }
      : null;
    if (cacheMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { principal, until: Math.min(Date.now() + cacheMs, row?.expires_at?.getTime() ?? Number.POSITIVE_INFINITY) });
    }
    return principal;
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable('core_api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    for (const [hash, entry] of this.cache) if (entry.principal?.tokenId === id) this.cache.delete(hash);
    return Number(r.numUpdatedRows) > 0;
  }
}

export interface AuditInput {
  action: string;
  targetType?: string;
  targetId?: string;
  resellerId?: string | null;
  details?: Record<string, unknown>;
}

/** Append one audit entry; the actor is the principal, or `system` for jobs and tasks. */
export async function writeAudit(db: Kysely<any>, actor: Principal | null, entry: AuditInput): Promise<void> {
  await auditInsert(db, actor, entry).execute();
}

/**
 * The INSERT of one audit entry, not yet run: for a caller that runs it in one statement with the change it records
 * (a data-modifying CTE), so both commit together without a transaction's extra round trips.
 */
export function auditInsert(db: Kysely<any>, actor: Principal | null, entry: AuditInput): InsertQueryBuilder<CoreDatabase, 'audit_log', InsertResult> {
  return (db as Kysely<CoreDatabase>).insertInto('audit_log').values({
    actor_role: actor?.role ?? 'system',
    actor_id: actor?.tokenId ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    reseller_id: entry.resellerId ?? actor?.resellerId ?? null,
    details: JSON.stringify(entry.details ?? {}),
    request_id: currentRequestId() ?? null,
  });
}
