import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmsSenders } from '@rgz/core';
import { smsSenderContract, startTestServer } from '@rgz/core/testing';
import { describe, expect, it } from 'vitest';
import plugin from './index.js';
import { JsonlSmsSender } from './sender.js';
import { recordingSink } from './test-support/recording-sink.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

// The shared SmsSender contract from @rgz/core/testing: the "gateway" is the recording sink.
smsSenderContract('{{NAME}}', async () => {
  const peer = recordingSink();
  return {
    sender: new JsonlSmsSender({ id: 'contract', senderId: 'RGZ', sink: peer.sink }),
    recipient: '+2290197000000',
    received: async () => peer.records.map((r) => ({ to: r.to, text: r.text, senderId: r.senderId, correlationId: r.correlationId })),
    failNext: async (mode) => peer.failNext(mode),
    close: async () => {},
  };
});

it("declares package.json's version and name", () => {
  expect(plugin.version).toBe(pkg.version);
  expect(pkg.name.replace(/^@[^/]+\//, '')).toBe(`rgz-plugin-${plugin.name}`);
});

describe('{{NAME}} in a server', () => {
  it('contributes its sender under the config id, writes the file and serves the last messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rgz-plugin-{{NAME}}-'));
    const server = await startTestServer({ plugins: [{ plugin, config: { id: 'demo', path: join(dir, 'sms.jsonl') } }] });
    try {
      const sender = server.collect(SmsSenders).get('demo');
      expect(sender).toBeDefined();
      await sender?.send({ to: '+2290197000001', text: 'Votre code RGZ : 482913', correlationId: 'otp-1' });
      const line = JSON.parse((await readFile(join(dir, 'sms.jsonl'), 'utf8')).trim()) as { to: string; text: string };
      expect(line).toMatchObject({ to: '+2290197000001', text: 'Votre code RGZ : 482913' });

      const res = await server.request('/api/{{NAME}}/messages?to=%2B2290197000001', { headers: server.auth(server.nocToken) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: Array<{ correlationId: string }> }).items.map((m) => m.correlationId)).toEqual(['otp-1']);
      expect((await server.request('/api/{{NAME}}/messages')).status).toBe(401);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad config, naming the key', async () => {
    await expect(startTestServer({ plugins: [{ plugin, config: { senderId: 'MUCH-TOO-LONG-SENDER' } }] })).rejects.toMatchObject({
      code: 'config_invalid',
      path: 'plugins.{{NAME}}.config.senderId',
    });
  });
});
