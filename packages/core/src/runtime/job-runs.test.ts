/**
 * Long actions through the job API: `POST /api/core/jobs/{id}/run` with `wait: false` answers at once with the run
 * id, `GET /api/core/jobs/runs/{id}` shows it running, then its outcome; a second start while it runs is a 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '../plugin/define-plugin.js';
import { BACKENDS, deferred, startTestServer, type TestServer, waitFor } from '../testing/index.js';

describe.each(BACKENDS)('job runs started without waiting (%s)', (backend) => {
  let server: TestServer;
  let gate = deferred<void>();
  const slow = definePlugin({
    name: 'slow-report',
    version: '0.0.0',
    core: '*',
    setup(ctx) {
      ctx.schedule({
        id: 'produce',
        cron: '0 3 1 1 *',
        async run() {
          await gate.promise;
          return { files: 2 };
        },
      });
    },
  });
  const noc = () => ({ ...server.auth(server.nocToken), 'content-type': 'application/json' });
  const start = (id: string, body: unknown = { wait: false }, headers = noc()) =>
    server.request(`/api/core/jobs/${id}/run`, { method: 'POST', headers, body: JSON.stringify(body) });
  const run = async (id: string) => {
    const res = await server.request(`/api/core/jobs/runs/${id}`, { headers: noc() });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    server = await startTestServer({ backend, plugins: [slow] });
  });
  afterAll(async () => {
    gate.resolve();
    await server?.close();
  });

  it('answers 202 with the run id, shows it running, then its result; a second start meanwhile is a 409', async () => {
    gate = deferred<void>();
    const res = await start('slow-report.produce');
    expect(res.status).toBe(202);
    const started = (await res.json()) as { run_id: string; status: string };
    expect(started).toMatchObject({ ran: true, status: 'running', run_id: expect.stringMatching(/^\d+$/) });
    expect(await run(started.run_id)).toMatchObject({
      status: 200,
      body: { job_id: 'slow-report.produce', trigger: 'manual', status: 'running', finished_at: null },
    });

    const again = await start('slow-report.produce');
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await again.json()) as { code: string }).code).toBe('job_running');

    gate.resolve();
    const done = await waitFor(async () => {
      const r = await run(started.run_id);
      return r.body.status === 'running' ? null : r.body;
    }, 20_000);
    expect(done).toMatchObject({ status: 'succeeded', result: { files: 2 }, error: null });
    expect(done.finished_at).not.toBeNull();
  });

  it('refuses unknown jobs and runs, bad input, and non-NOC callers', async () => {
    expect((await start('nope.job')).status).toBe(404);
    expect((await run('999999999')).status).toBe(404);
    expect((await server.request('/api/core/jobs/runs/abc', { headers: noc() })).status).toBe(400);
    const bad = await start('slow-report.produce', { wait: 'no' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('validation_failed');
    const reseller = await server.kernel.db
      .insertInto('resellers')
      .values({ name: 'jr', slug: `jr-${backend}`, phone: null, email: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = (await server.kernel.tokens.issue({ role: 'reseller', name: 'r', resellerId: reseller.id })).token;
    expect((await start('slow-report.produce', { wait: false }, { ...server.auth(token), 'content-type': 'application/json' })).status).toBe(403);
    expect((await server.request('/api/core/jobs/runs/1', { headers: server.auth(token) })).status).toBe(403);
  });
});
