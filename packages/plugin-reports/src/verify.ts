/**
 * Offline verification of an invoice or credit note PDF, as a reseller (or an auditor) does it with
 * `rgz invoices verify FILE [--log URL|FILE] [--public-key FILE]`:
 *   1. the SHA-256 of the file;
 *   2. the embedded Ed25519 signature against the operator's public key (the signature covers the whole file except
 *      the signature field itself);
 *   3. with the log: the hash chain from its first entry, every entry's signature, and the entry of this document
 *      (same number, same file hash, same signature).
 * Every step prints one line; the result is ok only when every step passed.
 */
import { readFile } from 'node:fs/promises';
import { loadVerifyKey, type VerifyKey, verifyChain, verifyDigest, verifyDocument } from '@rgz/core';
import { readDocumentNumber } from '@rgz/pdf-documents';
import { type LogEntryView, toChainEntries } from './invoices.js';

export interface VerifyResult {
  ok: boolean;
  lines: string[];
  number: string | null;
}

export function verifyInvoiceBytes(bytes: Uint8Array, key: VerifyKey, log?: readonly LogEntryView[]): VerifyResult {
  const lines: string[] = [];
  let ok = true;
  const number = readDocumentNumber(bytes);
  const check = verifyDocument(bytes, key);
  lines.push(`file SHA-256: ${check.sha256}`);
  lines.push(number ? `document: ${number}` : 'document: no RGZ document number in the PDF metadata');
  if (check.ok) lines.push(`signature: VALID (Ed25519, key ${key.keyId}; content SHA-256 ${check.contentSha256})`);
  else {
    ok = false;
    lines.push(`signature: INVALID — ${check.message}`);
  }
  if (log) {
    const chain = verifyChain(toChainEntries(log));
    if (chain.ok) lines.push(`log: ${chain.entries} entries, hash chain intact (head ${chain.head})`);
    else {
      ok = false;
      lines.push(`log: BROKEN at entry ${chain.seq} — ${chain.message}`);
    }
    const badSignatures = log.filter((e) => !verifyDigest(key, e.content_sha256, e.signature)).map((e) => e.seq);
    if (badSignatures.length) {
      ok = false;
      lines.push(
        `log: ${badSignatures.length} entr${badSignatures.length === 1 ? 'y has' : 'ies have'} a signature the key does not verify (seq ${badSignatures.join(', ')})`,
      );
    }
    const entry = log.find((e) => e.pdf_sha256 === check.sha256) ?? (number ? log.find((e) => e.number === number) : undefined);
    if (!entry) {
      ok = false;
      lines.push(`log: no entry for this file${number ? ` or for ${number}` : ''} — it was not issued by this operator, or it was modified`);
    } else if (entry.pdf_sha256 !== check.sha256) {
      ok = false;
      lines.push(`log: entry ${entry.seq} (${entry.number}, ${entry.created_at}) records SHA-256 ${entry.pdf_sha256}: this file is NOT the document issued`);
    } else if (number && entry.number !== number) {
      ok = false;
      lines.push(`log: entry ${entry.seq} is for ${entry.number}, the PDF says ${number}`);
    } else if (check.ok && entry.signature !== check.signature) {
      ok = false;
      lines.push(`log: entry ${entry.seq} records another signature than the PDF's`);
    } else {
      lines.push(`log: entry ${entry.seq} — ${entry.number} (${entry.kind}) recorded ${entry.created_at}: file hash matches`);
    }
  }
  lines.push(ok ? 'RESULT: OK — this document is authentic and unmodified' : 'RESULT: FAILED — do not trust this document');
  return { ok, lines, number };
}

/** The log from a URL (`GET /api/reports/invoice-log`, with a bearer token) or a JSON file saved from it. */
export async function loadLog(source: string, token?: string): Promise<LogEntryView[]> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    const res = await fetch(source, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (!res.ok) throw new Error(`GET ${source} answered ${res.status}${res.status === 401 ? ' (give --token or RGZ_TOKEN)' : ''}`);
    text = await res.text();
  } else text = await readFile(source, 'utf8');
  const parsed = JSON.parse(text) as { entries?: LogEntryView[] } | LogEntryView[];
  const entries = Array.isArray(parsed) ? parsed : parsed.entries;
  if (!Array.isArray(entries)) throw new Error(`${source} is not an invoice log (expected {"entries": [...]})`);
  return entries;
}

export const VERIFY_USAGE = `Usage: rgz invoices verify FILE.pdf [--public-key KEY.pem] [--log URL|FILE.json] [--token TOKEN]

Checks an RGZ invoice or credit note offline:
  - the Ed25519 signature embedded in the PDF, with the operator's public key
    (--public-key: a PEM file or the raw base64 key, as published at GET /api/reports/public-key;
     without it, the key configured on this server);
  - with --log: the hash chain of the invoice log and this document's entry
    (a file saved from GET /api/reports/invoice-log, or that URL with --token / RGZ_TOKEN).
Exit status 0 when everything checks, 1 otherwise.`;

export interface VerifyArgs {
  file: string;
  publicKey?: string;
  log?: string;
  token?: string;
}

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs | string {
  const out: Partial<VerifyArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--public-key' || a === '-k') out.publicKey = value();
      else if (a === '--log' || a === '-l') out.log = value();
      else if (a === '--token') out.token = value();
      else if (a.startsWith('--public-key=')) out.publicKey = a.slice(13);
      else if (a.startsWith('--log=')) out.log = a.slice(6);
      else if (a.startsWith('--token=')) out.token = a.slice(8);
      else if (a.startsWith('-')) return `unknown option ${a}`;
      else if (!out.file) out.file = a;
      else return `one file at a time (got ${out.file} and ${a})`;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (!out.file) return 'give the PDF to verify';
  return out as VerifyArgs;
}

/** The whole command; `fallbackKey` is the server's own key when no --public-key is given. */
export async function runVerify(
  argv: readonly string[],
  io: { out(s: string): void; err(s: string): void },
  fallbackKey?: () => VerifyKey | undefined,
): Promise<number> {
  const args = parseVerifyArgs(argv);
  if (typeof args === 'string') {
    io.err(`rgz invoices verify: ${args}`);
    io.err(VERIFY_USAGE);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(args.file);
  } catch (err) {
    io.err(`cannot read ${args.file}: ${(err as Error).message}`);
    return 2;
  }
  let key: VerifyKey | undefined;
  try {
    if (args.publicKey) {
      // A file (PEM or raw base64 inside), else the key itself on the command line.
      const text = await readFile(args.publicKey, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && /^[A-Za-z0-9+/]{43}=$/.test(args.publicKey as string)) return args.publicKey as string;
        throw err;
      });
      key = loadVerifyKey(text);
    } else key = fallbackKey?.();
  } catch (err) {
    io.err(`public key: ${(err as Error).message}`);
    return 2;
  }
  if (!key) {
    io.err('give the operator public key: --public-key KEY.pem (from GET /api/reports/public-key)');
    return 2;
  }
  let log: LogEntryView[] | undefined;
  if (args.log) {
    try {
      log = await loadLog(args.log, args.token ?? process.env.RGZ_TOKEN);
    } catch (err) {
      io.err(`log: ${(err as Error).message}`);
      return 2;
    }
  }
  const result = verifyInvoiceBytes(bytes, key, log);
  for (const line of result.lines) io.out(line);
  return result.ok ? 0 : 1;
}
