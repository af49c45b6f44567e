/** The ranges a scaffold gets stay those the RGZ repository tests with. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { installedCoreVersion } from './generate.js';
import { CORE_RANGE_FALLBACK, TOOL_RANGES } from './versions.js';

const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string; devDependencies: Record<string, string> };
const root = read('../../../package.json');
const core = read('../../core/package.json');

it("uses the repository's vitest, typescript and @types/node ranges", () => {
  for (const [name, range] of Object.entries(TOOL_RANGES)) expect(range, name).toBe(root.devDependencies[name]);
});

/** `version` in the caret range `range` (`^M.m.p`: same major, and same minor while the major is 0; not lower). */
function inCaret(version: string, range: string): boolean {
  const [v, r] = [version, range.replace(/^\^/, '')].map((s) => s.split('-')[0]!.split('.').map(Number)) as [number[], number[]];
  if (!range.startsWith('^') || v[0] !== r[0] || (r[0] === 0 && v[1] !== r[1])) return false;
  for (let i = 0; i < 3; i++) if ((v[i] ?? 0) !== (r[i] ?? 0)) return (v[i] ?? 0) > (r[i] ?? 0);
  return true;
}

it("falls back to a core range that this repository's @rgz/core satisfies (update it when core's minor changes)", () => {
  expect(inCaret(core.version, CORE_RANGE_FALLBACK), `${core.version} in ${CORE_RANGE_FALLBACK}`).toBe(true);
  expect([inCaret('0.1.5', '^0.1.0'), inCaret('0.2.0', '^0.1.0'), inCaret('1.4.0', '^1.2.0'), inCaret('1.1.0', '^1.2.0')]).toEqual([true, false, true, false]);
});

it("finds the repository's @rgz/core from the generator", () => {
  expect(installedCoreVersion('/')).toBe(core.version);
});
