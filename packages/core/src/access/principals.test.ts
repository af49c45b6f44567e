/**
 * Tokens and audit entries written as part of a caller's own statement (`TokenService.draft`, `auditInsert`): they
 * exist only once that statement runs, and not at all when it fails.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, startTestServer, type TestServer } from '../testing/index.js';
import { auditInsert, hashToken } from './principals.js';

describe.each(BACKENDS)('drafted tokens and audit entries (%s)', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ backend });
  });
  afterAll(async () => {
    await server?.close();
  });

  const stored = (token: string) => server.kernel.db.selectFrom('core_api_tokens').select('id').where('token_hash', '=', hashToken(token)).executeTakeFirst();
  const auditOf = (action: string) => server.kernel.db.selectFrom('audit_log').selectAll().where('action', '=', action).execute();

  it('a drafted token works once its insert has run, here in one statement with an audit entry', async () => {
    const { tokens, db } = server.kernel;
    const drafted = tokens.draft({ role: 'noc', name: 'drafted-noc', ttlSeconds: 60 });
    expect(drafted.token).toMatch(/^rgz_noc_/);
    // Only the row's absence is checked before (verify would cache the miss for a few seconds).
    expect(await stored(drafted.token)).toBeUndefined();
    const audit = auditInsert(db, null, { action: 'test.drafted', targetType: 'token', details: { n: 1 } });
    const row = await sql<{ id: string }>`with a as (${audit}), t as (${drafted.insert}) select id from t`.execute(db);
    const id = row.rows[0]?.id;
    expect(await tokens.verify(drafted.token)).toMatchObject({ role: 'noc', name: 'drafted-noc', tokenId: id });
    expect(await auditOf('test.drafted')).toMatchObject([{ actor_role: 'system', target_type: 'token', details: { n: 1 } }]);
  });

  it('when the statement fails, neither the token nor the audit entry exists', async () => {
    const { tokens, db } = server.kernel;
    const drafted = tokens.draft({ role: 'noc', name: 'never' });
    const audit = auditInsert(db, null, { action: 'test.never' });
    await expect(sql`with a as (${audit}), t as (${drafted.insert}) select 1 / 0`.execute(db)).rejects.toThrow();
    expect(await stored(drafted.token)).toBeUndefined();
    expect(await auditOf('test.never')).toEqual([]);
  });

  it('draft refuses a subscriber token without a subscriber, as issue does', () => {
    expect(() => server.kernel.tokens.draft({ role: 'subscriber', name: 'x' })).toThrow(/needs a subscriber id/);
  });
});
