/** age streams: round trip in bounded chunks, interoperability with Debian's age, detection of damage and wrong keys. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptStream, encryptStream, parseIdentities } from './age.js';
import { type AgeKey, ageKey, hasAge, tempDir } from './test-support/harness.js';

async function all(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('age', () => {
  let dir: { path: string; remove(): Promise<void> };
  let key: AgeKey;
  let other: AgeKey;
  beforeAll(async () => {
    dir = await tempDir('rgz-age-');
    key = await ageKey(dir.path, 'a');
    other = await ageKey(dir.path, 'b');
  });
  afterAll(() => dir.remove());

  it('round-trips a multi-chunk stream to two recipients', async () => {
    const plain = randomBytes(300 * 1024 + 17);
    const enc = await all(await encryptStream(Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]), [key.recipient, other.recipient]));
    expect(enc.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect((await all(await decryptStream(Readable.from([enc]), [key.identity]))).equals(plain)).toBe(true);
    expect((await all(await decryptStream(Readable.from([enc]), [other.identity]))).equals(plain)).toBe(true);
  });

  it.skipIf(!hasAge)('is the standard format: Debian age decrypts ours and we decrypt Debian age', async () => {
    const plain = randomBytes(200 * 1024);
    await writeFile(join(dir.path, 'ours.age'), await all(await encryptStream(Readable.from([plain]), [key.recipient])));
    const d = spawnSync('age', ['-d', '-i', key.file, join(dir.path, 'ours.age')], { maxBuffer: 1 << 24 });
    expect(d.status).toBe(0);
    expect(Buffer.from(d.stdout).equals(plain)).toBe(true);
    await writeFile(join(dir.path, 'plain'), plain);
    expect(spawnSync('age', ['-r', key.recipient, '-o', join(dir.path, 'theirs.age'), join(dir.path, 'plain')]).status).toBe(0);
    const theirs = await readFile(join(dir.path, 'theirs.age'));
    expect((await all(await decryptStream(Readable.from([theirs]), parseIdentities(await readFile(key.file, 'utf8'), 'key')))).equals(plain)).toBe(true);
  });

  it('refuses a wrong key before any output, and fails on a damaged or truncated payload', async () => {
    const plain = randomBytes(200 * 1024);
    const enc = await all(await encryptStream(Readable.from([plain]), [key.recipient]));
    await expect(decryptStream(Readable.from([enc]), [other.identity])).rejects.toThrow(/no identity matched/);
    const flipped = Buffer.from(enc);
    flipped[enc.length - 5000] = (flipped[enc.length - 5000] as number) ^ 1;
    await expect(all(await decryptStream(Readable.from([flipped]), [key.identity]))).rejects.toThrow();
    const truncated = enc.subarray(0, enc.length - 64 * 1024 - 16);
    await expect(all(await decryptStream(Readable.from([truncated]), [key.identity]))).rejects.toThrow();
  });

  it('reads identity files as age does and rejects other content', () => {
    expect(parseIdentities(`# comment\n\n${key.identity}\n`, 'f')).toEqual([key.identity]);
    expect(() => parseIdentities(key.recipient, 'f')).toThrow(/AGE-SECRET-KEY-1/);
  });
});
