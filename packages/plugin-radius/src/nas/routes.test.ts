/**
 * The NAS registry over HTTP (`/api/radius/nas`) and through core's `nasDirectory` token: NOC manages, a reseller
 * reads its own, secrets never leave the server, and a change is live for the UDP server at once.
 */

import { type CoreDatabase, type Kysely, nasDirectory } from '@rgz/core';
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../codec/index.js';
import { addReseller, addSubscriber, DEFAULT_NAS, metric, packet, startWorld, udpClient, type World } from '../test-support/world.js';

describe.each(BACKENDS)('NAS registry API (%s)', (backend) => {
  let w: World;
  let resellerA: string;
  let resellerB: string;
  let resellerToken: string;
  const noc = () => ({ ...w.server.auth(w.server.nocToken), 'content-type': 'application/json' });
  const post = (body: unknown, headers = noc()) => w.server.request('/api/radius/nas', { method: 'POST', headers, body: JSON.stringify(body) });
  const patch = (id: string, body: unknown, headers = noc()) =>
    w.server.request(`/api/radius/nas/${id}`, { method: 'PATCH', headers, body: JSON.stringify(body) });

  beforeAll(async () => {
    w = await startWorld({ backend, nas: [DEFAULT_NAS, { identifier: 'cfg-res', address: '10.9.9.9', secret: 'cfg-secret-0123456789', vendor: 'wispr' }] });
    resellerA = await addReseller(w, 'nas-res-a');
    resellerB = await addReseller(w, 'nas-res-b');
    resellerToken = (await w.server.kernel.tokens.issue({ role: 'reseller', name: 'res-a', resellerId: resellerA })).token;
  });
  afterAll(async () => {
    await w?.close();
  });

  it('creates a NAS (secure defaults), never returns its secret, and audits without it', async () => {
    const res = await post({
      identifier: 'ap-cotonou-1',
      address: '127.0.0.6',
      secret: 'a-very-long-shared-secret',
      vendor: 'coovachilli',
      reseller_id: resellerA,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      identifier: 'ap-cotonou-1',
      address: '127.0.0.6',
      vendor: 'coovachilli',
      reseller_id: resellerA,
      coa_port: 3799,
      require_message_authenticator: true,
      coa_message_authenticator: false,
      enabled: true,
      source: 'db',
      vendor_loaded: true,
    });
    expect(JSON.stringify(body)).not.toMatch(/a-very-long-shared-secret/);
    const audit = await (w.server.kernel.db as Kysely<CoreDatabase>).selectFrom('audit_log').selectAll().where('action', '=', 'radius.nas.create').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0])).not.toMatch(/a-very-long-shared-secret/);
    const list = (await (await w.server.request('/api/radius/nas', { headers: noc() })).json()) as { items: Array<Record<string, unknown>> };
    expect(list.items.map((n) => `${n.identifier}:${n.source}`)).toEqual(['hotspot-test:config', 'cfg-res:config', 'ap-cotonou-1:db']);
    expect(JSON.stringify(list)).not.toMatch(/secret"|testing123/);
  });

  it('refuses bad input with a clear code', async () => {
    const base = { identifier: 'x-1', address: '127.0.0.7', secret: 'a-very-long-shared-secret', vendor: 'mikrotik' };
    const code = async (res: Response) => [res.status, ((await res.json()) as { code: string }).code];
    expect(await code(await post({ ...base, secret: 'short' }))).toEqual([400, 'validation_failed']);
    expect(await code(await post({ ...base, address: 'not-an-ip' }))).toEqual([400, 'validation_failed']);
    expect(await code(await post({ ...base, vendor: 'cisco' }))).toEqual([422, 'unknown_vendor']);
    expect(await code(await post({ ...base, identifier: 'ap-cotonou-1' }))).toEqual([409, 'nas_exists']);
    expect(await code(await post({ ...base, address: '127.0.0.6' }))).toEqual([409, 'nas_exists']);
    expect(await code(await post({ ...base, identifier: 'hotspot-test' }))).toEqual([409, 'nas_exists']);
    expect(await code(await post({ ...base, address: '127.0.0.1' }))).toEqual([409, 'nas_exists']);
    expect(await code(await post({ ...base, reseller_id: '00000000-0000-4000-8000-000000000000' }))).toEqual([422, 'reseller_not_found']);
    expect(await code(await patch('config:hotspot-test', { enabled: false }))).toEqual([409, 'nas_from_config']);
    expect(await code(await patch('00000000-0000-4000-8000-000000000000', { enabled: false }))).toEqual([404, 'nas_not_found']);
    expect(await code(await patch('00000000-0000-4000-8000-000000000000', {}))).toEqual([400, 'validation_failed']);
  });

  it('a reseller reads its own NAS only, and cannot change any', async () => {
    const other = await post({ identifier: 'ap-b', address: '127.0.0.8', secret: 'a-very-long-shared-secret', vendor: 'wispr', reseller_id: resellerB });
    const otherId = ((await other.json()) as { id: string }).id;
    const headers = { ...w.server.auth(resellerToken), 'content-type': 'application/json' };
    const list = (await (await w.server.request('/api/radius/nas', { headers })).json()) as { items: Array<{ identifier: string }> };
    expect(list.items.map((n) => n.identifier)).toEqual(['ap-cotonou-1']);
    expect((await w.server.request(`/api/radius/nas/${otherId}`, { headers })).status).toBe(404);
    expect((await w.server.request('/api/radius/nas/config:hotspot-test', { headers })).status).toBe(404);
    expect((await post({ identifier: 'mine', address: '127.0.0.9', secret: 'a-very-long-shared-secret', vendor: 'wispr' }, headers)).status).toBe(403);
    expect((await patch(otherId, { enabled: false }, headers)).status).toBe(403);
    expect((await w.server.request('/api/radius/nas')).status).toBe(401);
  });

  it('serves a new NAS at once, follows a secret change, and drops a disabled NAS as unknown', async () => {
    const s = await addSubscriber(w);
    const secret = 'first-secret-0123456789';
    const res = await post({ identifier: 'ap-live', address: '127.0.0.10', secret, vendor: 'mikrotik', require_message_authenticator: false });
    const id = ((await res.json()) as { id: string }).id;
    const directory = w.server.get(nasDirectory);
    expect(await directory.findByAddress('127.0.0.10')).toEqual({
      id,
      identifier: 'ap-live',
      address: '127.0.0.10',
      vendor: 'mikrotik',
      resellerId: null,
      coaPort: 3799,
    });
    expect(await directory.findByIdentifier('hotspot-test')).toMatchObject({ id: 'config:hotspot-test', vendor: 'mikrotik' });
    expect(await directory.findByIdentifier('nope')).toBeNull();

    const client = await udpClient('127.0.0.10');
    // Answers get a generous wait (a loaded machine); drops are never answered, so a short wait proves them.
    const ask = (key: string, ma = false, waitMs = 5000) =>
      client.request(
        w.authPort,
        packet(
          {
            code: 'Access-Request',
            identifier: Math.floor(Math.random() * 256),
            attributes: [
              { name: 'User-Name', value: s.ref },
              { name: 'User-Password', value: s.token },
            ],
            messageAuthenticator: ma,
          },
          key,
        ),
        waitMs,
      );
    try {
      expect((await ask(secret))?.[0]).toBe(PacketCode.AccessAccept);
      expect((await patch(id, { secret: 'second-secret-0123456789', require_message_authenticator: true })).status).toBe(200);
      expect(await ask('second-secret-0123456789', false, 500)).toBeUndefined(); // now M-A is required
      expect((await ask('second-secret-0123456789', true))?.[0]).toBe(PacketCode.AccessAccept);
      expect(await ask(secret, true, 500)).toBeUndefined(); // old secret: Message-Authenticator fails
      const before = await metric(w, 'radius_requests_dropped_total', { reason: 'unknown_nas' });
      expect((await patch(id, { enabled: false })).status).toBe(200);
      expect(await ask('second-secret-0123456789', true, 500)).toBeUndefined();
      expect(await metric(w, 'radius_requests_dropped_total', { reason: 'unknown_nas' })).toBe(before + 1);
      expect(await directory.findByAddress('127.0.0.10')).toBeNull();
    } finally {
      await client.close();
    }
    const audit = await (w.server.kernel.db as Kysely<CoreDatabase>)
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'radius.nas.update')
      .where('target_id', '=', id)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.details)).toEqual([{ secret_changed: true, require_message_authenticator: true }, { enabled: false }]);
  });
});
