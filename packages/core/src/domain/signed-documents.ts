/**
 * Signed documents: what the monthly invoices (`@rgz/plugin-reports`) and the regulator's reports
 * (`@rgz/plugin-arcep`) share so that anyone holding the operator's public key can check them offline.
 *
 * - **Signature**: Ed25519 (node:crypto) over the UTF-8 message `rgz-signed-document/v1 <sha256 hex>`, so a person
 *   can check it with OpenSSL alone (`openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in msg -sigfile sig`).
 * - **Signature slot**: a document can carry its own signature. The producer writes `SIGNATURE_SLOT_PLACEHOLDER`
 *   (`rgzsig1:` + 88 `-`) once in the bytes (a PDF metadata field); `signDocument` hashes the bytes *with the
 *   placeholder* (the content hash), signs that hash and writes the base64 signature (88 characters) over the dashes.
 *   A verifier puts the dashes back, hashes again and checks the signature: any other byte changed breaks it.
 * - **Hash chain**: an append-only log of documents where each entry's hash covers the previous entry's hash and the
 *   entry's own fields in canonical form, so removing, reordering or editing an entry breaks every later hash.
 *
 * Pure functions over bytes: no document format, no storage (each plugin keeps its own log table).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, RgzError } from '../errors/rgz-error.js';

export const SIGNATURE_CONTEXT = 'rgz-signed-document/v1';
/** `prev_hash` of a log's first entry. */
export const GENESIS_HASH = '0'.repeat(64);
export const SIGNATURE_SLOT_PREFIX = 'rgzsig1:';
/** Base64 of a 64-byte Ed25519 signature. */
const SIGNATURE_LENGTH = 88;
export const SIGNATURE_SLOT_PLACEHOLDER = SIGNATURE_SLOT_PREFIX + '-'.repeat(SIGNATURE_LENGTH);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SIGNATURE_B64 = /^[A-Za-z0-9+/]{86}==$/;

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A public key and the ways it is published. */
export interface VerifyKey {
  readonly publicKey: KeyObject;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem: string;
  /** The raw 32-byte key, base64. */
  readonly publicKeyRaw: string;
  /** `ed25519:` + the first 16 hex digits of SHA-256(raw key): names the key in logs and documents. */
  readonly keyId: string;
}

export interface SigningKey extends VerifyKey {
  readonly privateKey: KeyObject;
}

function describe(publicKey: KeyObject): VerifyKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  // An Ed25519 SPKI is a fixed 12-byte header followed by the 32-byte key (RFC 8410).
  const raw = der.subarray(der.length - 32);
  return {
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyRaw: raw.toString('base64'),
    keyId: `ed25519:${sha256Hex(raw).slice(0, 16)}`,
  };
}

/** The operator's signing key from a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`). */
export function loadSigningKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new RgzError('signing_key_invalid', `not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new RgzError(
      'signing_key_invalid',
      `the signing key must be Ed25519, not ${privateKey.asymmetricKeyType ?? 'unknown'} (openssl genpkey -algorithm ed25519)`,
    );
  }
  return { privateKey, ...describe(createPublicKey(privateKey)) };
}

/**
 * The `signing` block of a plugin's config (invoices, ARCEP reports): the operator's Ed25519 private key (PKCS#8
 * PEM) as a file path or as the PEM itself (best written `${file:…}` / `${env:…}`).
 */
export const signingKeyConfigSchema = z
  .object({
    privateKeyFile: z.string().min(1).optional(),
    privateKeyPem: z.string().min(1).optional(),
  })
  .refine(
    (s) => !!s.privateKeyFile !== !!s.privateKeyPem,
    'give exactly one of privateKeyFile or privateKeyPem (openssl genpkey -algorithm ed25519 -out key.pem)',
  );
export type SigningKeyConfig = z.output<typeof signingKeyConfigSchema>;

/** Load the key a `signing` block names; a `ConfigError` naming the key under `where` (e.g. `plugins.reports.config.signing`). */
export function loadConfiguredSigningKey(signing: SigningKeyConfig, where: string): SigningKey {
  let pem: string;
  try {
    pem = signing.privateKeyPem ?? readFileSync(signing.privateKeyFile as string, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where}.privateKeyFile`, `cannot read ${signing.privateKeyFile}: ${(err as Error).message}`);
  }
  try {
    return loadSigningKey(pem);
  } catch (err) {
    throw new ConfigError(where, (err as Error).message);
  }
}

/** A public key from an SPKI PEM, or the raw 32-byte key in base64. */
export function loadVerifyKey(text: string): VerifyKey {
  const trimmed = text.trim();
  let publicKey: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) publicKey = createPublicKey(trimmed);
    else {
      const raw = Buffer.from(trimmed, 'base64');
      if (raw.length !== 32) throw new Error(`a raw Ed25519 key is 32 bytes, this is ${raw.length}`);
      publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
  } catch (err) {
    throw new RgzError('public_key_invalid', `not an Ed25519 public key (PEM or raw base64): ${(err as Error).message}`, { cause: err });
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new RgzError('public_key_invalid', `the public key must be Ed25519, not ${publicKey.asymmetricKeyType}`);
  return describe(publicKey);
}

/** The exact bytes that are signed for a SHA-256. */
export function signatureMessage(sha256: string): Buffer {
  if (!SHA256_HEX.test(sha256)) throw new RgzError('digest_invalid', `"${sha256}" is not a lowercase hex SHA-256`);
  return Buffer.from(`${SIGNATURE_CONTEXT} ${sha256}`, 'utf8');
}

/** Base64 Ed25519 signature of a SHA-256 (deterministic: same key and hash, same signature). */
export function signDigest(key: SigningKey, sha256: string): string {
  return sign(null, signatureMessage(sha256), key.privateKey).toString('base64');
}

export function verifyDigest(key: VerifyKey | KeyObject, sha256: string, signature: string): boolean {
  if (!SHA256_HEX.test(sha256) || !SIGNATURE_B64.test(signature)) return false;
  const publicKey = 'publicKey' in key ? key.publicKey : key;
  return verify(null, signatureMessage(sha256), publicKey, Buffer.from(signature, 'base64'));
}

function indexesOf(haystack: Uint8Array, needle: Uint8Array): number[] {
  const found: number[] = [];
  const buf = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  let at = buf.indexOf(needle);
  while (at !== -1) {
    found.push(at);
    at = buf.indexOf(needle, at + 1);
  }
  return found;
}

const PREFIX_BYTES = Buffer.from(SIGNATURE_SLOT_PREFIX, 'ascii');
const DASHES = Buffer.from('-'.repeat(SIGNATURE_LENGTH), 'ascii');

export interface SignedDocument {
  /** The document with its signature written into the slot. */
  readonly bytes: Uint8Array;
  /** SHA-256 of the final bytes (what `sha256sum FILE` prints). */
  readonly sha256: string;
  /** SHA-256 of the bytes with the placeholder in the slot: what the signature covers. */
  readonly contentSha256: string;
  readonly signature: string;
  readonly keyId: string;
}

/** Sign a document that carries `SIGNATURE_SLOT_PLACEHOLDER` exactly once. */
export function signDocument(bytes: Uint8Array, key: SigningKey): SignedDocument {
  const slots = indexesOf(bytes, Buffer.from(SIGNATURE_SLOT_PLACEHOLDER, 'ascii'));
  if (slots.length !== 1)
    throw new RgzError('signature_slot_missing', `the document must carry the signature placeholder exactly once (found ${slots.length})`);
  const contentSha256 = sha256Hex(bytes);
  const signature = signDigest(key, contentSha256);
  const out = Buffer.from(bytes);
  out.write(signature, (slots[0] as number) + PREFIX_BYTES.length, 'ascii');
  return { bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), sha256: sha256Hex(out), contentSha256, signature, keyId: key.keyId };
}

export type DocumentCheck =
  | { readonly ok: true; readonly sha256: string; readonly contentSha256: string; readonly signature: string }
  | {
      readonly ok: false;
      readonly reason: 'no_signature' | 'several_signatures' | 'bad_signature';
      readonly message: string;
      readonly sha256: string;
      readonly contentSha256?: string;
      readonly signature?: string;
    };

/** Read the embedded signature, restore the placeholder and check the signature of the content hash. */
export function verifyDocument(bytes: Uint8Array, key: VerifyKey | KeyObject): DocumentCheck {
  const sha256 = sha256Hex(bytes);
  const slots = indexesOf(bytes, PREFIX_BYTES);
  if (slots.length === 0) return { ok: false, reason: 'no_signature', message: 'the document carries no RGZ signature', sha256 };
  if (slots.length > 1)
    return { ok: false, reason: 'several_signatures', message: `the document carries ${slots.length} signature fields (expected one)`, sha256 };
  const start = (slots[0] as number) + PREFIX_BYTES.length;
  const signature = Buffer.from(bytes.subarray(start, start + SIGNATURE_LENGTH)).toString('latin1');
  const canonical = Buffer.from(bytes);
  DASHES.copy(canonical, start);
  const contentSha256 = sha256Hex(canonical);
  if (!verifyDigest(key, contentSha256, signature)) {
    return {
      ok: false,
      reason: 'bad_signature',
      message: 'the signature does not match the content: the document was modified, or signed with another key',
      sha256,
      contentSha256,
      signature,
    };
  }
  return { ok: true, sha256, contentSha256, signature };
}

// --- hash chain ---------------------------------------------------------------------------------------------------

/** An entry's own fields: flat, JSON-serialisable scalars (dates as ISO strings). */
export type ChainFields = Readonly<Record<string, string | number | boolean | null>>;

/** The fields as JSON with keys sorted, no spaces: the bytes an entry hash covers. */
export function canonicalJson(fields: ChainFields): string {
  const keys = Object.keys(fields).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(fields[k] ?? null)}`).join(',')}}`;
}

/** `sha256(prev_hash + canonical fields)`, hex. */
export function chainEntryHash(prevHash: string, fields: ChainFields): string {
  return sha256Hex(prevHash + canonicalJson(fields));
}

export interface ChainEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly entryHash: string;
  readonly fields: ChainFields;
}

export type ChainCheck =
  | { readonly ok: true; readonly entries: number; readonly head: string }
  | { readonly ok: false; readonly seq: number; readonly reason: 'gap' | 'prev_hash' | 'entry_hash'; readonly message: string };

/** Check a whole log from its first entry (seq 1): contiguous, each linked to the previous, each hash recomputed. */
export function verifyChain(entries: readonly ChainEntry[]): ChainCheck {
  let prev = GENESIS_HASH;
  let expected = 1;
  for (const e of [...entries].sort((a, b) => a.seq - b.seq)) {
    if (e.seq !== expected) return { ok: false, seq: e.seq, reason: 'gap', message: `entry ${expected} is missing (next entry is ${e.seq})` };
    if (e.prevHash !== prev)
      return { ok: false, seq: e.seq, reason: 'prev_hash', message: `entry ${e.seq} does not follow entry ${e.seq - 1} (prev_hash differs)` };
    const recomputed = chainEntryHash(e.prevHash, e.fields);
    if (recomputed !== e.entryHash)
      return { ok: false, seq: e.seq, reason: 'entry_hash', message: `entry ${e.seq} was modified (its hash does not match its fields)` };
    prev = e.entryHash;
    expected++;
  }
  return { ok: true, entries: entries.length, head: prev };
}
