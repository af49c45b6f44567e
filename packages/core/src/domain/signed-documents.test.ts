import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ChainEntry,
  canonicalJson,
  chainEntryHash,
  GENESIS_HASH,
  loadConfiguredSigningKey,
  loadSigningKey,
  signingKeyConfigSchema,
  loadVerifyKey,
  SIGNATURE_SLOT_PLACEHOLDER,
  sha256Hex,
  signatureMessage,
  signDigest,
  signDocument,
  verifyChain,
  verifyDigest,
  verifyDocument,
} from './signed-documents.js';

const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('signed documents', () => {
  const key = loadSigningKey(pem());

  it('loads an Ed25519 key and publishes it as PEM and raw base64; refuses other key types', () => {
    expect(key.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(Buffer.from(key.publicKeyRaw, 'base64')).toHaveLength(32);
    expect(key.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    expect(loadVerifyKey(key.publicKeyPem).keyId).toBe(key.keyId);
    expect(loadVerifyKey(key.publicKeyRaw).keyId).toBe(key.keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadSigningKey(rsa)).toThrow(/Ed25519/);
    expect(() => loadSigningKey('not a key')).toThrow(/PEM/);
  });

  it('signs a digest deterministically and verifies it; another key or digest fails', () => {
    const h = sha256Hex('hello');
    const s = signDigest(key, h);
    expect(signDigest(key, h)).toBe(s);
    expect(verifyDigest(key, h, s)).toBe(true);
    expect(verifyDigest(key, sha256Hex('hellO'), s)).toBe(false);
    expect(verifyDigest(loadSigningKey(pem()), h, s)).toBe(false);
    expect(verifyDigest(key, h, 'garbage')).toBe(false);
  });

  it('the signature checks with OpenSSL alone (the documented manual path)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgz-sig-'));
    const h = sha256Hex('document');
    writeFileSync(join(dir, 'msg'), signatureMessage(h));
    writeFileSync(join(dir, 'sig'), Buffer.from(signDigest(key, h), 'base64'));
    writeFileSync(join(dir, 'key.pem'), key.publicKeyPem);
    const out = execFileSync(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'key.pem'), '-rawin', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig')],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/Signature Verified Successfully/);
  });

  it('embeds the signature in the slot; any byte changed elsewhere is detected', () => {
    const doc = Buffer.from(`%PDF-1.3 head /RGZSignature (${SIGNATURE_SLOT_PLACEHOLDER}) tail body bytes`);
    const signed = signDocument(doc, key);
    expect(Buffer.from(signed.bytes).toString()).not.toContain(SIGNATURE_SLOT_PLACEHOLDER);
    expect(signed.contentSha256).toBe(sha256Hex(doc));
    const ok = verifyDocument(signed.bytes, key);
    expect(ok).toMatchObject({ ok: true, sha256: signed.sha256, contentSha256: signed.contentSha256, signature: signed.signature });
    const tampered = Buffer.from(signed.bytes);
    tampered[tampered.length - 3] = 'X'.charCodeAt(0);
    expect(verifyDocument(tampered, key)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(verifyDocument(Buffer.from('no slot here'), key)).toMatchObject({ ok: false, reason: 'no_signature' });
    expect(() => signDocument(Buffer.from('no placeholder'), key)).toThrow(/placeholder/);
  });

  it('chains entries; a gap, a relinked or an edited entry is found', () => {
    const entries: ChainEntry[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 4; seq++) {
      const fields = { seq, number: `RGZ-2026-00000${seq}`, pdf_sha256: sha256Hex(String(seq)) };
      const entryHash = chainEntryHash(prev, fields);
      entries.push({ seq, prevHash: prev, entryHash, fields });
      prev = entryHash;
    }
    expect(verifyChain(entries)).toEqual({ ok: true, entries: 4, head: prev });
    expect(canonicalJson({ b: 1, a: 'x' })).toBe('{"a":"x","b":1}');
    expect(verifyChain(entries.filter((e) => e.seq !== 2))).toMatchObject({ ok: false, seq: 3, reason: 'gap' });
    const edited = entries.map((e) => (e.seq === 3 ? { ...e, fields: { ...e.fields, pdf_sha256: sha256Hex('forged') } } : e));
    expect(verifyChain(edited)).toMatchObject({ ok: false, seq: 3, reason: 'entry_hash' });
    // Re-hashing the edited entry does not help: the next one no longer follows it.
    const rehashed = edited.map((e) => (e.seq === 3 ? { ...e, entryHash: chainEntryHash(e.prevHash, e.fields) } : e));
    expect(verifyChain(rehashed)).toMatchObject({ ok: false, seq: 4, reason: 'prev_hash' });
  });

  it('loads the key a plugin config names, and names the config key when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgz-signing-'));
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'key.pem'), pem);
    const where = 'plugins.reports.config.signing';
    expect(loadConfiguredSigningKey({ privateKeyFile: join(dir, 'key.pem') }, where).keyId).toBe(loadSigningKey(pem).keyId);
    expect(() => loadConfiguredSigningKey({ privateKeyFile: join(dir, 'missing.pem') }, where)).toThrow(
      expect.objectContaining({ code: 'config_invalid', path: `${where}.privateKeyFile` }),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadConfiguredSigningKey({ privateKeyPem: rsa }, where)).toThrow(expect.objectContaining({ path: where, message: expect.stringMatching(/Ed25519/) }));
    expect(signingKeyConfigSchema.safeParse({}).success).toBe(false);
    expect(signingKeyConfigSchema.safeParse({ privateKeyFile: 'a', privateKeyPem: 'b' }).success).toBe(false);
  });
});
