/**
 * Offline verification of a delivered ARCEP report (`rgz arcep verify PATH [--public-key KEY.pem] [--log FILE.json]`):
 * PATH is the folder of a report (its manifest, the manifest's `.sig` and the files) or a single PDF of it.
 *   - the manifest's signature, then each file listed: present, same size and SHA-256, its signature valid, and for
 *     PDFs the signature embedded in the file;
 *   - with --log (saved from `GET /api/arcep/report-log`): the hash chain, and the entry of this manifest.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadVerifyKey, sha256Hex, type VerifyKey, verifyChain, verifyDigest, verifyDocument } from '@rgz/core';
import { type LogEntryView, type Manifest, toChainEntries } from './service.js';

export interface VerifyOutcome {
  ok: boolean;
  lines: string[];
}

export async function verifyReportPath(path: string, key: VerifyKey, log?: readonly LogEntryView[]): Promise<VerifyOutcome> {
  const lines: string[] = [];
  let ok = true;
  const fail = (line: string) => {
    ok = false;
    lines.push(line);
  };
  if (!(await stat(path)).isDirectory()) {
    const bytes = await readFile(path);
    const check = verifyDocument(bytes, key);
    lines.push(`file SHA-256: ${check.sha256}`);
    if (check.ok) lines.push(`embedded signature: VALID (key ${key.keyId})`);
    else fail(`embedded signature: INVALID — ${check.message}`);
    lines.push(ok ? 'RESULT: OK' : 'RESULT: FAILED');
    return { ok, lines };
  }
  const names = await readdir(path);
  const manifestFile = names.find((n) => n.endsWith('_manifest.json'));
  if (!manifestFile) {
    fail('no *_manifest.json in the folder');
    lines.push('RESULT: FAILED');
    return { ok, lines };
  }
  const manifestBytes = await readFile(join(path, manifestFile));
  const manifestSha = sha256Hex(manifestBytes);
  const sig = (await readFile(join(path, `${manifestFile}.sig`), 'utf8').catch(() => '')).trim();
  if (verifyDigest(key, manifestSha, sig)) lines.push(`manifest ${manifestFile}: signature VALID (SHA-256 ${manifestSha}, key ${key.keyId})`);
  else fail(`manifest ${manifestFile}: signature INVALID or missing (${manifestFile}.sig)`);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  lines.push(`report ${manifest.period.label} (${manifest.exporter}) generated ${manifest.generated_at}`);
  for (const f of manifest.files) {
    const bytes = await readFile(join(path, f.name)).catch(() => null);
    if (!bytes) {
      fail(`${f.name}: MISSING`);
      continue;
    }
    const sha = sha256Hex(bytes);
    if (sha !== f.sha256 || bytes.length !== f.bytes) {
      fail(`${f.name}: MODIFIED (SHA-256 ${sha}, the manifest says ${f.sha256})`);
      continue;
    }
    if (!verifyDigest(key, sha, f.signature)) {
      fail(`${f.name}: signature INVALID`);
      continue;
    }
    if (f.content_type.startsWith('application/pdf')) {
      const inner = verifyDocument(bytes, key);
      if (!inner.ok) {
        fail(`${f.name}: embedded signature INVALID — ${inner.message}`);
        continue;
      }
    }
    lines.push(`${f.name}: OK`);
  }
  const listed = new Set([...manifest.files.map((f) => f.name), manifestFile, `${manifestFile}.sig`]);
  for (const n of names) if (!listed.has(n)) lines.push(`${n}: not in the manifest (ignored)`);
  if (log) {
    const chain = verifyChain(toChainEntries(log));
    if (chain.ok) lines.push(`log: ${chain.entries} entries, hash chain intact`);
    else fail(`log: BROKEN at entry ${chain.seq} — ${chain.message}`);
    const entry = log.find((e) => e.manifest_sha256 === manifestSha);
    if (entry) lines.push(`log: entry ${entry.seq} records this manifest (created ${entry.created_at})`);
    else fail('log: no entry records this manifest');
  }
  lines.push(ok ? 'RESULT: OK — the report is authentic and complete' : 'RESULT: FAILED — do not trust these files');
  return { ok, lines };
}

export async function runVerify(
  argv: readonly string[],
  io: { out(s: string): void; err(s: string): void },
  fallback?: () => VerifyKey | undefined,
): Promise<number> {
  let path: string | undefined;
  let keyFile: string | undefined;
  let logFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--public-key') keyFile = argv[++i];
    else if (a === '--log') logFile = argv[++i];
    else if (!a.startsWith('-') && !path) path = a;
    else {
      io.err(`rgz arcep verify: unexpected ${a}`);
      return 2;
    }
  }
  if (!path) {
    io.err('usage: rgz arcep verify FOLDER|FILE.pdf [--public-key KEY.pem] [--log LOG.json]');
    return 2;
  }
  const key = keyFile ? loadVerifyKey(await readFile(keyFile, 'utf8')) : fallback?.();
  if (!key) {
    io.err('give the operator public key: --public-key KEY.pem (GET /api/arcep/public-key)');
    return 2;
  }
  const log = logFile ? ((JSON.parse(await readFile(logFile, 'utf8')) as { entries: LogEntryView[] }).entries ?? undefined) : undefined;
  const out = await verifyReportPath(path, key, log);
  for (const l of out.lines) io.out(l);
  return out.ok ? 0 : 1;
}
