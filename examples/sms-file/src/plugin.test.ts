/**
 * The plugin inside a real server (startTestServer: PGlite in memory, the real kernel), driven over HTTP.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmsSenders, sendWithFailover } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import smsFile from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version", () => {
  expect(smsFile.version).toBe(pkg.version);
  expect(pkg.name).toBe(`rgz-plugin-${smsFile.name}`);
});

describe('sms-file in a server', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rgz-sms-file-'));
    await mkdir(join(dir, 'out'));
    server = await startTestServer({
      plugins: [
        { plugin: smsFile, config: { id: 'file', path: join(dir, 'out', 'sms.jsonl'), senderId: 'RGZ' } },
        // A second instance of the same package, under another name: the fail-over demo set-up.
        { plugin: smsFile, name: 'sms-flaky', config: { id: 'flaky', path: join(dir, 'flaky.jsonl'), senderId: 'RGZ', failFirst: 1 } },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('contributes one SmsSender per instance, keyed by config id', () => {
    expect([...server.collect(SmsSenders).keys()].sort()).toEqual(['file', 'flaky']);
  });

  it('makes a fail-over demo: the flaky instance refuses its first send, the next sender takes it', async () => {
    const senders = server.collect(SmsSenders);
    const order = [senders.get('flaky'), senders.get('file')].filter((s) => s !== undefined);
    const sms = { to: '+2290197000009', text: 'Votre code RGZ : 000111', correlationId: 'fo-1' };
    const first = await sendWithFailover(order, sms, server.kernel.log);
    expect(first.sender).toBe('file');
    expect(first.attempts.map((a) => [a.sender, a.outcome])).toEqual([
      ['flaky', 'retryable'],
      ['file', 'accepted'],
    ]);
    // failFirst is spent: the next message goes through the first sender.
    expect((await sendWithFailover(order, { ...sms, correlationId: 'fo-2' }, server.kernel.log)).sender).toBe('flaky');
  });

  it('serves the last messages to a NOC token, filtered by number', async () => {
    const sender = server.collect(SmsSenders).get('file');
    await sender?.send({ to: '+2290197000001', text: 'Votre code RGZ : 482913', correlationId: 'otp-1' });
    await sender?.send({ to: '+2290197000002', text: 'autre', correlationId: 'otp-2' });

    const res = await server.request('/api/sms-file/messages?to=%2B2290197000001', { headers: server.auth(server.nocToken) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ to: string; text: string; correlationId: string }> };
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ to: '+2290197000001', text: 'Votre code RGZ : 482913', correlationId: 'otp-1' });

    // `+` typed unencoded arrives as a space; the route accepts it.
    const loose = await server.request('/api/sms-file/messages?to=+2290197000001', { headers: server.auth(server.nocToken) });
    expect(((await loose.json()) as { items: unknown[] }).items).toHaveLength(1);

    const all = await server.request('/api/sms-file/messages?limit=1', { headers: server.auth(server.nocToken) });
    expect(((await all.json()) as { items: Array<{ text: string }> }).items.map((m) => m.text)).toEqual(['autre']);

    // The second instance has its own route under its own name.
    const flaky = await server.request('/api/sms-flaky/messages', { headers: server.auth(server.nocToken) });
    expect(((await flaky.json()) as { items: Array<{ correlationId: string }> }).items.map((m) => m.correlationId)).toEqual(['fo-2']);
  });

  it('answers 401 without a token, 403 to a reseller, 400 to a bad number', async () => {
    const anonymous = await server.request('/api/sms-file/messages');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    expect(await anonymous.json()).toMatchObject({ code: 'unauthorized' });

    const noc = server.auth(server.nocToken);
    const created = await server.request('/api/core/resellers', {
      method: 'POST',
      headers: { ...noc, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cotonou Net', slug: 'cotonou-net' }),
    });
    const reseller = (await created.json()) as { id: string };
    const issued = await server.request('/api/core/tokens', {
      method: 'POST',
      headers: { ...noc, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'res', role: 'reseller', reseller_id: reseller.id }),
    });
    const { token } = (await issued.json()) as { token: string };
    expect((await server.request('/api/sms-file/messages', { headers: server.auth(token) })).status).toBe(403);

    const bad = await server.request('/api/sms-file/messages?to=abc', { headers: noc });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_phone' });
  });

  it('counts sends in sms_sent_total', async () => {
    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(/^sms_sent_total\{provider="file",status="accepted"\} [1-9]/m);
    expect(text).toMatch(/^sms_sent_total\{provider="file",status="failed"\} 1$/m);
  });

  it('documents the route in /openapi.json and registers the trim job', async () => {
    const doc = (await (await server.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { 'x-rgz-access'?: unknown }>> };
    expect(doc.paths['/api/sms-file/messages']?.get?.['x-rgz-access']).toEqual(['noc']);
    expect(
      server.kernel.scheduler
        .list()
        .map((j) => j.id)
        .sort(),
    ).toEqual(['sms-file.trim', 'sms-flaky.trim']);
    const outcome = await server.kernel.scheduler.trigger('sms-file.trim');
    expect(outcome).toMatchObject({ ran: true, status: 'succeeded', result: { dropped: 0 } });
  });
});

describe('sms-file start-up checks', () => {
  it.each([
    ['does not exist', (dir: string) => join(dir, 'missing', 'sms.jsonl'), 'ENOENT'],
    ['is a file', (dir: string) => join(dir, 'file', 'sms.jsonl'), 'ENOTDIR'],
    ['holds a folder at the file path', (dir: string) => join(dir, 'sub'), 'EISDIR'],
  ])('names the config key when the folder %s', async (_case, pathIn, code) => {
    const dir = await mkdtemp(join(tmpdir(), 'rgz-sms-file-'));
    await writeFile(join(dir, 'file'), '');
    await mkdir(join(dir, 'sub'));
    try {
      await expect(startTestServer({ plugins: [{ plugin: smsFile, config: { id: 'file', path: pathIn(dir), senderId: 'RGZ' } }] })).rejects.toThrow(
        new RegExp(`plugins\\.sms-file\\.config\\.path: cannot write .*\\(${code}: .*set another path`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a misspelt key instead of ignoring it', async () => {
    await expect(startTestServer({ plugins: [{ plugin: smsFile, config: { path: '/tmp/sms.jsonl', senderId: 'RGZ', failfirst: 2 } }] })).rejects.toThrow(
      /plugins\.sms-file\.config: Unrecognized key: "failfirst"/,
    );
  });

  it('names the config key when a required option is missing', async () => {
    await expect(startTestServer({ plugins: [{ plugin: smsFile, config: { id: 'file', senderId: 'RGZ' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.sms-file.config.path',
    });
  });
});
