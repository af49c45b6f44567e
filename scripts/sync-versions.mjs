#!/usr/bin/env node
// Copies each package.json `version` into the source that repeats it after `changeset version` has bumped the
// package.json files: the `version:` of each plugin's definePlugin({...}) in src/index.ts and CORE_VERSION in
// packages/core/src/version.ts (the plugin's value is what the server logs and checks `core` ranges against).
//   node scripts/sync-versions.mjs           rewrite the lines that differ
//   node scripts/sync-versions.mjs --check   only list them; exit 1 if any differs
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { publishablePackages } from './pack-all.mjs';

const check = process.argv.includes('--check');
const root = process.cwd();
// The literal each file repeats; the first match in the file is the package's own (definePlugin comes once).
const patterns = [
  { file: 'src/version.ts', re: /(export const CORE_VERSION = ')([^']+)(')/ },
  { file: 'src/index.ts', re: /(definePlugin\(\{[\s\S]*?\n\s*version: ')([^']+)(')/ },
];

let differing = 0;
for (const { dir, pkg } of publishablePackages(root)) {
  for (const { file, re } of patterns) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const m = re.exec(text);
    if (!m || m[2] === pkg.version) continue;
    differing += 1;
    console.log(`${relative(root, path)}: ${m[2]} → ${pkg.version} (${pkg.name})`);
    if (!check) writeFileSync(path, text.replace(re, `$1${pkg.version}$3`));
  }
}
if (check && differing > 0) {
  console.error(`${differing} file(s) repeat a version that differs from their package.json: run node scripts/sync-versions.mjs`);
  process.exit(1);
}
