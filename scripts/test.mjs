#!/usr/bin/env node
// `npm test`: every test of every package in one vitest run, then the totals alone on the last line
// ("N passed, N failed, N skipped") for CI. Extra arguments go to vitest (e.g. a path filter).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, '.ci', 'out');
mkdirSync(outDir, { recursive: true });
const jsonFile = join(outDir, 'vitest.json');
rmSync(jsonFile, { force: true });

const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(jsonFile)) {
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report);
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
} else {
  failed = 1;
}
if (run.status !== 0 && failed === 0) failed = 1;
const totals = `${passed} passed, ${failed} failed, ${skipped} skipped`;
writeFileSync(join(outDir, 'totals.txt'), `${totals}\n`);
console.log(`\n${totals}`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);

// A file that failed to load counts as one failure; a file whose tests failed is already counted by its tests.
function countSuitesWithFailedTests(report) {
  return (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
