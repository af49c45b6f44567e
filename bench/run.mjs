#!/usr/bin/env node
// `npm run bench`: every benchmark in turn (each prints its own table; see docs/benchmarks.md).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('.', import.meta.url).pathname;
const only = process.argv[2];
for (const file of readdirSync(dir).filter((f) => /^[a-z0-9-]+\.mjs$/.test(f) && !['run.mjs', 'lib.mjs'].includes(f) && !f.startsWith('peer-'))) {
  if (only && !file.includes(only)) continue;
  console.log(`\n## ${file}`);
  const r = spawnSync(process.execPath, [`${dir}${file}`], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
