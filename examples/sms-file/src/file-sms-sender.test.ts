import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmsSendError } from '@rgz/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileSmsRecord, FileSmsSender, readLastMessages } from './file-sms-sender.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rgz-sms-file-'));
  path = join(dir, 'sms.jsonl');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const lines = async (): Promise<FileSmsRecord[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FileSmsRecord);

describe('FileSmsSender', () => {
  it('appends one JSON line per message, with the default sender id when the message has none', async () => {
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ' });
    const first = await sender.send({ to: '+2290197000001', text: 'Code RGZ : 111111', correlationId: 'c1' });
    await sender.send({ to: '+2290197000002', text: 'ligne\nsuivante', correlationId: 'c2', senderId: 'WIFI' });
    const written = await lines();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatchObject({
      sender: 'file',
      to: '+2290197000001',
      text: 'Code RGZ : 111111',
      senderId: 'RGZ',
      correlationId: 'c1',
      providerMessageId: first.providerMessageId,
    });
    expect(written[1]).toMatchObject({ text: 'ligne\nsuivante', senderId: 'WIFI' });
    expect(Number.isNaN(Date.parse(written[0]?.at ?? ''))).toBe(false);
  });

  it('keeps lines whole when many sends run at once', async () => {
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => sender.send({ to: '+2290197000001', text: `m${i} ${'x'.repeat(500)}`, correlationId: `c${i}` })));
    const written = await lines();
    expect(written).toHaveLength(50);
    expect(new Set(written.map((r) => r.correlationId)).size).toBe(50);
  });

  it('refuses the first failFirst sends as retryable without writing, then sends', async () => {
    const outcomes: string[] = [];
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ', failFirst: 2, onOutcome: (o) => outcomes.push(o) });
    const msg = { to: '+2290197000001', text: 'hello', correlationId: 'c' };
    for (let i = 0; i < 2; i++) {
      const error = await sender.send(msg).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SmsSendError);
      expect((error as SmsSendError).kind).toBe('retryable');
    }
    await expect(readFile(path, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(sender.send(msg)).resolves.toMatchObject({ status: 'accepted' });
    expect(await lines()).toHaveLength(1);
    expect(outcomes).toEqual(['retryable', 'retryable', 'accepted']);
  });

  it('reports a missing folder as permanent', async () => {
    const sender = new FileSmsSender({ id: 'file', path: join(dir, 'nope', 'sms.jsonl'), senderId: 'RGZ' });
    const error = await sender.send({ to: '+2290197000001', text: 'x', correlationId: 'c' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent', providerCode: 'ENOENT' });
  });

  it('does not write when the call is already aborted', async () => {
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ' });
    const error = await sender.send({ to: '+2290197000001', text: 'x', correlationId: 'c' }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'retryable' });
    await expect(readFile(path, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('trims the file to the last lines', async () => {
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ' });
    for (let i = 0; i < 5; i++) await sender.send({ to: '+2290197000001', text: `m${i}`, correlationId: `c${i}` });
    expect(await sender.trim(2)).toBe(3);
    expect((await lines()).map((r) => r.text)).toEqual(['m3', 'm4']);
    expect(await sender.trim(2)).toBe(0);
    await rm(path);
    expect(await sender.trim(2)).toBe(0);
  });
});

describe('readLastMessages', () => {
  it('returns nothing when the file does not exist yet', async () => {
    expect(await readLastMessages(path, { limit: 10 })).toEqual([]);
  });

  it('returns the newest first, filtered by destination, and skips broken lines', async () => {
    const sender = new FileSmsSender({ id: 'file', path, senderId: 'RGZ' });
    await sender.send({ to: '+2290197000001', text: 'a1', correlationId: '1' });
    await sender.send({ to: '+2290197000002', text: 'b1', correlationId: '2' });
    await appendFile(path, '{"half a line\n');
    await sender.send({ to: '+2290197000001', text: 'a2', correlationId: '3' });
    expect((await readLastMessages(path, { limit: 10 })).map((r) => r.text)).toEqual(['a2', 'b1', 'a1']);
    expect((await readLastMessages(path, { limit: 10, to: '+2290197000001' })).map((r) => r.text)).toEqual(['a2', 'a1']);
    expect((await readLastMessages(path, { limit: 1 })).map((r) => r.text)).toEqual(['a2']);
  });

  it('reads only the tail of a large file', async () => {
    const record = (i: number) =>
      JSON.stringify({ at: '', sender: 'file', providerMessageId: `p${i}`, correlationId: `${i}`, to: '+2290197000001', senderId: 'RGZ', text: `m${i}` });
    await writeFile(path, Array.from({ length: 1000 }, (_, i) => `${record(i)}\n`).join(''));
    const got = await readLastMessages(path, { limit: 1000, maxBytes: 2000 });
    expect(got.length).toBeGreaterThan(5);
    expect(got.length).toBeLessThan(30);
    expect(got[0]?.text).toBe('m999');
  });
});
