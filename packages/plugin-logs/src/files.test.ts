/**
 * Followed files: the server's own JSON log (pino lines with the seed's fields, also inside Docker json-file
 * wrappers), RGZ's `[Auth] …` lines routed to logstash-radius, FreeRADIUS's radius.log (raw, ctime prefix); rotation,
 * truncation, over-long lines, and offsets that survive a restart (no line read twice).
 */
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@rgz/core';
import { waitFor } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, tempDir, type World } from './test-support/world.js';

describe('followed files', () => {
  const dir = tempDir('rgz-files-');
  const dataDir = tempDir('rgz-files-data-');
  const apiLog = join(dir, 'api.log');
  const dockerLog = join(dir, 'container-json.log');
  const radiusLog = join(dir, 'radius.log');
  let w: World;
  const config = {
    files: [
      { path: apiLog, type: 'api', startAt: 'beginning' },
      { path: dockerLog, type: 'api', startAt: 'beginning' },
      { path: radiusLog, type: 'raw', index: 'radius', startAt: 'beginning' },
    ],
    tail: { pollMs: 20, maxLineBytes: 4096 },
  };

  beforeAll(async () => {
    writeFileSync(apiLog, '');
    writeFileSync(dockerLog, '');
    writeFileSync(radiusLog, '');
    w = await startWorld({ dataDir, config });
  });
  afterAll(async () => {
    await w?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const search = async ({ since, ...params }: Record<string, string>, n = 1) =>
    waitFor(
      async () => {
        await w.logs.flush();
        const r = await w.logs.search({ since: since ? new Date(since) : new Date(Date.now() - 3_600_000), limit: 1000, ...params });
        return r.items.length >= n ? r.items : undefined;
      },
      10_000,
      { message: JSON.stringify(params) },
    );

  it("the server's own pino lines (real core logger output) keep the seed's fields", async () => {
    // Core's real logger writing to the followed file, as `rgz start >> api.log` would.
    const lines: string[] = [];
    const log = createLogger({ service: 'rgz-api', level: 'info', destination: { write: (s: string) => lines.push(s) } });
    log.child({ request_id: 'req-123' }).info({ route: '/api/portal/otp', status: 200, duration_ms: 12.3, client_ip: '' }, 'OTP sent to +229xxxxx');
    appendFileSync(apiLog, lines.join(''));
    const [rec] = await search({ requestId: 'req-123' });
    expect(rec).toMatchObject({
      level: 'INFO',
      message: 'OTP sent to +229xxxxx',
      service: 'rgz-api',
      request_id: 'req-123',
      route: '/api/portal/otp',
      status: 200,
    });
    expect(rec?._index).toMatch(/^logstash-api-/);
    expect(rec?.['@timestamp']).toBe(rec?.timestamp);
    // The empty client_ip does not fit the `ip` mapping: moved aside, not a mapping error at the cluster.
    expect(rec?.invalid_fields).toEqual({ client_ip: '' });
    expect(rec?.tags).toEqual(['_typefailure']);
  });

  it("RGZ radius plugin's [Auth] lines go to logstash-radius, parsed", async () => {
    const line = {
      level: 'INFO',
      timestamp: new Date().toISOString(),
      service: 'rgz-api',
      plugin: 'radius',
      event: 'radius_auth',
      result: 'success',
      user: 'RGZ-000123',
      nas_id: 'access_tech_connect',
      calling_station_id: 'AA-BB-CC-00-11-22',
      subscriber_id: '5f0e9a52-0000-4000-8000-000000000123',
      message: '[Auth] [Success] User=RGZ-000123, NAS-ID=access_tech_connect',
    };
    appendFileSync(apiLog, `${JSON.stringify(line)}\n`);
    const [rec] = await search({ subscriber: 'RGZ-000123' });
    expect(rec?._index).toMatch(/^logstash-radius-/);
    expect(rec).toMatchObject({
      kind: 'auth.login_ok',
      parser: 'freeradius',
      nas_id: 'access_tech_connect',
      mac: 'aa:bb:cc:00:11:22',
      subscriber_id: line.subscriber_id,
    });
    const byNas = await search({ nas: 'access_tech_connect', service: 'radius' });
    expect(byNas.length).toBeGreaterThanOrEqual(1);
  });

  it('Docker json-file lines are unwrapped; non-JSON lines are kept raw', async () => {
    const inner = JSON.stringify({ level: 'WARN', timestamp: new Date().toISOString(), service: 'rgz-api', request_id: 'req-docker', message: 'from docker' });
    appendFileSync(dockerLog, `${JSON.stringify({ log: `${inner}\n`, stream: 'stdout', time: new Date().toISOString() })}\nplain text line PLAIN-1\n`);
    const [rec] = await search({ requestId: 'req-docker' });
    expect(rec).toMatchObject({ level: 'WARN', message: 'from docker', service: 'rgz-api' });
    const [raw] = await search({ text: 'PLAIN-1' });
    expect(raw).toMatchObject({ tags: ['_jsonparsefailure'], service: 'api' });
  });

  it('FreeRADIUS radius.log (raw lines, ctime) into logstash-radius; unknown lines kept', async () => {
    appendFileSync(
      radiusLog,
      'Tue Nov 24 23:35:13 2026 : Auth: (0) Login OK: [alice] (from client localhost port 0 cli AA-BB-CC-DD-EE-FF)\nTue Nov 24 23:35:10 2026 : Info: Ready to process requests\n',
    );
    const [ok] = await search({ mac: 'aa:bb:cc:dd:ee:ff', since: '2026-11-24T00:00:00Z' });
    expect(ok).toMatchObject({ kind: 'auth.login_ok', user: 'alice', transport: 'file', syslog_format: 'raw' });
    expect(ok?._index).toBe('logstash-radius-2026.11.24');
    const [info] = await search({ text: 'Ready to process', since: '2026-11-24T00:00:00Z' });
    expect(info?._index).toMatch(/^logstash-radius-/);
    expect(info?.kind).toBeUndefined();
  });

  it('over-long lines are cut and flagged, the next line is intact', async () => {
    appendFileSync(
      apiLog,
      `${JSON.stringify({ message: `LONG ${'y'.repeat(10_000)}`, request_id: 'req-long' })}\n${JSON.stringify({ message: 'after long', request_id: 'req-after' })}\n`,
    );
    const [long] = await search({ text: 'LONG yyyy' });
    expect(long).toMatchObject({ truncated: true, tags: ['_jsonparsefailure'] });
    expect(Number(long?.original_bytes)).toBeGreaterThan(4096);
    const [after] = await search({ requestId: 'req-after' });
    expect(after?.message).toBe('after long');
  });

  it('rotation (rename + new file) and truncation are followed', async () => {
    appendFileSync(apiLog, `${JSON.stringify({ message: 'before rotation', request_id: 'rot-1' })}\n`);
    await search({ requestId: 'rot-1' });
    renameSync(apiLog, `${apiLog}.1`);
    // The last line of the old file, written after the rename, without LF, is still read.
    appendFileSync(`${apiLog}.1`, JSON.stringify({ message: 'late line in old file', request_id: 'rot-2' }));
    writeFileSync(apiLog, `${JSON.stringify({ message: 'first line of new file', request_id: 'rot-3' })}\n`);
    await search({ requestId: 'rot-2' });
    await search({ requestId: 'rot-3' });
    writeFileSync(apiLog, `${JSON.stringify({ message: 'after truncation', request_id: 'rot-4' })}\n`);
    await search({ requestId: 'rot-4' });
  });

  it('a restart resumes where it left off: nothing read twice, nothing missed', async () => {
    appendFileSync(apiLog, `${JSON.stringify({ message: 'before restart', request_id: 'rs-1' })}\n`);
    await search({ requestId: 'rs-1' });
    await w.close();
    appendFileSync(apiLog, `${JSON.stringify({ message: 'while down', request_id: 'rs-2' })}\n`);
    w = await startWorld({ dataDir, config });
    await search({ requestId: 'rs-2' });
    const again = await w.logs.search({ requestId: 'rs-1', limit: 10 });
    expect(again.items).toHaveLength(1);
  });
});
