/**
 * `GET /api/incidents/summary` on both backends: active incidents by priority and state follow the Alertmanager
 * receiver and the acknowledge/resolve actions; NOC only; `summary` is not taken for an incident reference.
 */
import { BACKENDS } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPayload, type Harness, startHarness } from './test-support/harness.js';

describe.each(BACKENDS)('incident summary (%s)', (backend) => {
  let h: Harness;
  const summary = async () => {
    const res = await h.api('/summary');
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };
  const fire = async (alertname: string, severity: string) => {
    expect((await h.post(alertPayload('firing', [{ labels: { alertname, severity } }]))).status).toBe(200);
  };

  beforeAll(async () => {
    h = await startHarness({ backend });
  });
  afterAll(() => h?.close());

  it('is empty on a quiet network', async () => {
    expect(await summary()).toEqual({
      active: { P0: 0, P1: 0, P2: 0 },
      open: { P0: 0, P1: 0, P2: 0 },
      acknowledged: { P0: 0, P1: 0, P2: 0 },
      active_total: 0,
      oldest_open: null,
      resolved_last_24h: 0,
    });
  });

  it('counts active incidents by priority and state as they are opened, acknowledged and resolved', async () => {
    await fire('DatabaseDown', 'critical');
    await fire('ApDown', 'critical');
    await fire('DiskFilling', 'warning');
    await fire('LinkFlapping', 'warning');
    let s = await summary();
    expect(s).toMatchObject({ active: { P0: 1, P1: 1, P2: 2 }, open: { P0: 1, P1: 1, P2: 2 }, active_total: 4, resolved_last_24h: 0 });
    expect(s.oldest_open).toMatchObject({ priority: 'P0', title: expect.any(String) });

    const list = (await (await h.api('?priority=P2')).json()) as { items: Array<{ number: number }> };
    const [first, second] = list.items;
    expect((await h.api(`/${first?.number}/acknowledge`, { method: 'POST', body: JSON.stringify({ comment: 'on it' }) })).status).toBe(200);
    expect((await h.api(`/${second?.number}/resolve`, { method: 'POST', body: JSON.stringify({}) })).status).toBe(200);
    s = await summary();
    expect(s).toMatchObject({
      active: { P0: 1, P1: 1, P2: 1 },
      open: { P0: 1, P1: 1, P2: 0 },
      acknowledged: { P0: 0, P1: 0, P2: 1 },
      active_total: 3,
      resolved_last_24h: 1,
    });
  });

  it('is for NOC tokens only', async () => {
    const reseller = await h.server.kernel.db
      .insertInto('resellers')
      .values({ name: 'inc-res', slug: `inc-res-${backend}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = (await h.server.kernel.tokens.issue({ role: 'reseller', name: 'r', resellerId: reseller.id })).token;
    const forbidden = await h.server.request('/api/incidents/summary', { headers: h.server.auth(token) });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await h.server.request('/api/incidents/summary')).status).toBe(401);
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await (await h.server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/incidents/summary']?.get).toBeDefined();
  });
});
