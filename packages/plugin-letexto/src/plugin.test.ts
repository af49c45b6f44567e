/**
 * The sms-letexto plugin inside a real server (startTestServer: the real kernel on PGlite), sending to the Letexto
 * test server: config parsing and errors, the contributed sender, and sms_sent_total.
 */
import { readFileSync } from 'node:fs';
import { createKernel, parseServerConfig, SmsSenders } from '@rgz/core';
import { startTestServer, type TestServer } from '@rgz/core/testing';
import { startLetextoTestServer as fromSubpath } from '@rgz/plugin-letexto/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import letexto, { configSchema } from './index.js';
import { type LetextoTestServer, startLetextoTestServer } from './test-server.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

it("declares package.json's version and its name", () => {
  expect(letexto.version).toBe(pkg.version);
  expect(letexto.name).toBe('sms-letexto');
  expect(pkg.name).toBe('@rgz/plugin-letexto');
});

it('ships the test server as @rgz/plugin-letexto/test-server', () => {
  expect(fromSubpath).toBe(startLetextoTestServer);
});

it('defaults to the real Letexto API and two retries', () => {
  expect(configSchema.parse({ apiKey: 'k', senderId: 'RGZ' })).toMatchObject({
    id: 'letexto',
    baseUrl: 'https://apis.letexto.com',
    retries: 2,
    timeoutMs: 10_000,
    backoffMs: 500,
  });
});

describe('sms-letexto in a server', () => {
  let peer: LetextoTestServer;
  let server: TestServer;

  beforeAll(async () => {
    peer = await startLetextoTestServer({ senders: ['RGZ'] });
    server = await startTestServer({
      plugins: [
        { plugin: letexto, config: { id: 'letexto', baseUrl: peer.url, apiKey: peer.apiKey, senderId: 'RGZ', timeoutMs: 300, retries: 1, backoffMs: 10 } },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await peer?.close();
  });

  it('contributes its sender to SmsSenders under the config id', () => {
    const senders = server.collect(SmsSenders);
    expect([...senders.keys()]).toEqual(['letexto']);
    expect(senders.get('letexto')).toMatchObject({ id: 'letexto', provider: 'letexto', capabilities: { idempotent: false, statusQuery: true } });
    expect(server.kernel.plugins.find((p) => p.name === 'sms-letexto')?.contributions).toEqual(['sms-sender:letexto']);
  });

  it('sends an OTP the test can read back, and counts outcomes in sms_sent_total', async () => {
    const sender = server.collect(SmsSenders).get('letexto');
    if (!sender) throw new Error('no sender');
    await sender.send({ to: '+2290197000003', text: 'Votre code RGZ : 604411', correlationId: 'otp-1' });
    expect(peer.lastMessageTo('+2290197000003')?.content).toMatch(/604411/);

    peer.failNext(2, { status: 503 });
    await expect(sender.send({ to: '+2290197000003', text: 'x', correlationId: 'otp-2' })).rejects.toMatchObject({ kind: 'retryable' });
    peer.failNext(1, { status: 400 });
    await expect(sender.send({ to: '+2290197000003', text: 'x', correlationId: 'otp-3' })).rejects.toMatchObject({ kind: 'permanent' });
    await expect(sender.send({ to: '97000000', text: 'x', correlationId: 'otp-4' })).rejects.toMatchObject({ kind: 'permanent' });
    peer.hangNext(1);
    await expect(sender.send({ to: '+2290197000003', text: 'x', correlationId: 'otp-5' })).rejects.toMatchObject({ kind: 'ambiguous' });

    const metric = await server.kernel.metrics.registry.getSingleMetric('sms_sent_total')?.get();
    const value = (status: string) => metric?.values.find((v) => v.labels.provider === 'letexto' && v.labels.status === status)?.value;
    expect(value('accepted')).toBe(1);
    expect(value('failed')).toBe(3);
    expect(value('ambiguous')).toBe(1);

    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(/^sms_sent_total\{provider="letexto",status="failed"\} 3$/m);
  });
});

describe('sms-letexto config errors', () => {
  it('names plugins.sms-letexto.config.apiKey when the key is missing', async () => {
    const error = await startTestServer({ plugins: [{ plugin: letexto, config: { senderId: 'RGZ' } }] }).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: 'config_invalid', path: 'plugins.sms-letexto.config.apiKey' });
    expect((error as Error).message).toMatch(/plugins\.sms-letexto\.config\.apiKey/);
  });

  it('refuses a sender id longer than 11 characters and a non-http base URL', async () => {
    // The kernel checks plugin config before it opens any storage, so no database is needed to see the error.
    const load = (config: Record<string, unknown>) =>
      createKernel({ config: parseServerConfig({ log: { level: 'silent' } }, {}), plugins: [{ plugin: letexto, config }] });
    await expect(load({ apiKey: 'k', senderId: 'TWELVECHARSX' })).rejects.toThrow(/plugins\.sms-letexto\.config\.senderId/);
    await expect(load({ apiKey: 'k', senderId: 'RGZ', baseUrl: 'ftp://x' })).rejects.toThrow(/plugins\.sms-letexto\.config\.baseUrl/);
    await expect(load({ apiKey: 'k', senderId: 'RGZ', retries: -1 })).rejects.toThrow(/plugins\.sms-letexto\.config\.retries/);
  });
});
