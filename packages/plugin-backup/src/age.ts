/**
 * age encryption of backups with the npm `age-encryption` package (typage, by age's author): the output is the
 * standard age v1 format, so `age -d -i key.txt` (Debian's age 1.1.1) decrypts it. The package streams: it encrypts
 * and decrypts in 64 KiB chunks (ChaCha20-Poly1305 STREAM), so memory stays bounded by a few chunks whatever the
 * dump size; the streams below are pull-based so a slow consumer slows the producer (pg_dump) down.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RgzError } from '@rgz/core';
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';

/** A Node stream as a pull-based web stream (backpressure: one chunk read per `pull`). */
export function nodeToWeb(source: Readable): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await it.next();
          if (done) controller.close();
          else
            controller.enqueue(typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        } catch (err) {
          controller.error(err);
        }
      },
      cancel(reason) {
        source.destroy(reason instanceof Error ? reason : undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A web stream as a Node stream that reads on demand. */
export function webToNode(stream: ReadableStream<Uint8Array>): Readable {
  const reader = stream.getReader();
  return new Readable({
    async read() {
      try {
        const { value, done } = await reader.read();
        this.push(done ? null : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      } catch (err) {
        this.destroy(err as Error);
      }
    },
    destroy(err, callback) {
      reader.cancel(err ?? undefined).then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
}

/** Encrypt `plaintext` to every recipient; the returned stream is the age file. */
export async function encryptStream(plaintext: Readable, recipients: readonly string[]): Promise<Readable> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const out = await e.encrypt(nodeToWeb(plaintext));
  return webToNode(out);
}

/**
 * Decrypt an age file with the identities. Rejects when no identity matches (wrong key) or the header is damaged;
 * a damaged payload makes the returned stream fail (every 64 KiB chunk is authenticated, and so is the end).
 */
export async function decryptStream(ciphertext: Readable, identities: readonly string[]): Promise<Readable> {
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  try {
    const out = await d.decrypt(nodeToWeb(ciphertext));
    return webToNode(out);
  } catch (err) {
    ciphertext.destroy();
    throw new RgzError('backup_decrypt_failed', `cannot decrypt the backup: ${(err as Error).message}`, { cause: err });
  }
}

/** The `AGE-SECRET-KEY-1…` lines of an identity file (comments and blank lines ignored, as age does). */
export function parseIdentities(text: string, source: string): string[] {
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const bad = keys.find((k) => !k.startsWith('AGE-SECRET-KEY-1'));
  if (bad !== undefined || keys.length === 0) {
    throw new RgzError(
      'backup_identity_invalid',
      `${source} holds no age X25519 identity (expected lines "AGE-SECRET-KEY-1…", as \`age-keygen -o key.txt\` writes)`,
    );
  }
  return keys;
}

export async function readIdentityFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RgzError('backup_identity_unreadable', `cannot read the age identity file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseIdentities(text, path);
}

/** Public keys (`age1…`) of identities. */
export async function recipientsOf(identities: readonly string[]): Promise<string[]> {
  return Promise.all(identities.map((i) => identityToRecipient(i)));
}
